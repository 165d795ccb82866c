import { createHash } from 'node:crypto';
import { InvalidInputError } from '../common/errors';
import { canonicalize, hashInputs, hashParams, sha256Hex } from './hash';
import { DEFAULT_RISK_PARAMS } from './params';

describe('canonicalize', () => {
  it('sorts keys at every depth so member order does not change the bytes', () => {
    expect(canonicalize({ b: 1, a: { d: [1, 2], c: 'x' } })).toBe('{"a":{"c":"x","d":[1,2]},"b":1}');
    expect(canonicalize({ a: { c: 'x', d: [1, 2] }, b: 1 })).toBe(
      canonicalize({ b: 1, a: { d: [1, 2], c: 'x' } }),
    );
  });

  it('writes bigints as decimal strings, -0 as 0 and drops undefined members', () => {
    expect(canonicalize({ raw: 10n ** 30n, z: -0, gone: undefined })).toBe(
      '{"raw":"1000000000000000000000000000000","z":0}',
    );
  });

  it('writes typed arrays as plain arrays', () => {
    expect(canonicalize(new Float64Array([1.5, -2]))).toBe('[1.5,-2]');
  });

  it.each([NaN, Infinity, -Infinity])('refuses %p naming its path', (bad) => {
    expect(() => canonicalize({ a: [1, bad] })).toThrow(InvalidInputError);
    expect(() => canonicalize({ a: [1, bad] })).toThrow(/^\$\.a\[1\]: /);
  });
});

describe('hashes', () => {
  it('is a 0x-prefixed sha256 of the canonical text', () => {
    const expected = createHash('sha256').update('{"a":"1"}').digest('hex');
    expect(sha256Hex(canonicalize({ a: 1n }))).toBe(`0x${expected}`);
    expect(sha256Hex('x')).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it('changes the parameter hash when any parameter changes', () => {
    const base = hashParams(DEFAULT_RISK_PARAMS);
    const changed = hashParams({
      ...DEFAULT_RISK_PARAMS,
      correlation: { ...DEFAULT_RISK_PARAMS.correlation, stressWeight: 0.51 },
    });
    expect(changed).not.toBe(base);
    expect(hashParams(structuredClone(DEFAULT_RISK_PARAMS))).toBe(base);
  });

  it('hashes an input with bigints without losing precision', () => {
    const input = (raw: bigint) => ({
      account: '0x1',
      asOfSec: 1,
      positions: [],
      market: {
        prices: { ETH: { answer: raw, decimals: 8, updatedAtSec: 1 } },
        assets: {},
        volSurfaces: {},
        history: { intervalSec: 3600, closesUsdByUnderlying: {} },
        liquidity: {},
      },
    });
    // 2^53 + 1 and 2^53 are the same Number; the hash must still tell them apart.
    expect(hashInputs(input(2n ** 53n + 1n))).not.toBe(hashInputs(input(2n ** 53n)));
  });
});
