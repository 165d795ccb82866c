import { getAddress } from 'viem';
import { InvalidInputError } from '../../common/errors';
import { errorResponse } from './errors';
import {
  parseAddress,
  parseBlockQuery,
  parseDecimalFormat,
  parseHumanAmount,
  parseIntQuery,
  parseSignedHumanAmount,
} from './input';
import { assertBatchSize } from './limits';
import { toWireJson } from './wire';

const CHECKSUMMED = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';

function refusal(fn: () => unknown): InvalidInputError {
  try {
    fn();
  } catch (err) {
    if (err instanceof InvalidInputError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('parseAddress', () => {
  it('checksums an all-lowercase address', () => {
    expect(parseAddress('address', CHECKSUMMED.toLowerCase())).toBe(CHECKSUMMED);
  });

  it('accepts the exact checksum', () => {
    expect(parseAddress('owner', CHECKSUMMED)).toBe(getAddress(CHECKSUMMED));
  });

  it('refuses mixed case with a wrong checksum, naming the field', () => {
    const wrong = CHECKSUMMED.slice(0, -1) + 'D';
    const e = refusal(() => parseAddress('owner', wrong));
    expect(e.field).toBe('owner');
    expect(e.code).toBe('INVALID_ADDRESS_CHECKSUM');
  });

  it.each([
    '0x12',
    '5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
    `${CHECKSUMMED}00`,
    ` ${CHECKSUMMED}`,
    42,
    null,
  ])('refuses %p as malformed', (v) => {
    const e = refusal(() => parseAddress('address', v));
    expect(e.code).toBe('INVALID_ADDRESS');
    expect(e.field).toBe('address');
  });
});

describe('amounts', () => {
  it('converts human decimals exactly, beyond 2^53', () => {
    expect(parseHumanAmount('amount', '123456789012345678.123456789012345678', 18)).toBe(
      123456789012345678123456789012345678n,
    );
    expect(parseSignedHumanAmount('size', '-1.5', 18)).toBe(-1_500_000_000_000_000_000n);
  });

  it.each(['1e18', '-1', '0x10', '1.', '.5', ' 1', '+1', '1,5', ''])('refuses %p with a hint', (v) => {
    const e = refusal(() => parseHumanAmount('trades[0].amount', v, 18));
    expect(e.field).toBe('trades[0].amount');
    expect(e.code).toBe('INVALID_AMOUNT');
    expect(e.hint).toBeDefined();
  });

  it('refuses a JSON number (it would already have lost precision)', () => {
    expect(refusal(() => parseHumanAmount('amount', 1.5, 18)).message).toMatch(
      /expected a decimal string, got a number/,
    );
  });

  it('refuses more decimals than the asset has', () => {
    expect(refusal(() => parseHumanAmount('amount', '1.0000001', 6)).hint).toMatch(
      /at most 6 decimal places/,
    );
  });

  it('checks the format of a signed size but refuses a sign where none is allowed', () => {
    expect(() => parseDecimalFormat('size', '-2.5', true)).not.toThrow();
    expect(refusal(() => parseDecimalFormat('amount', '-2.5', false)).field).toBe('amount');
  });

  it('refuses 2^256 and accepts 2^256-1', () => {
    const max = ((1n << 256n) - 1n).toString();
    expect(() => parseDecimalFormat('amount', max, false)).not.toThrow();
    expect(refusal(() => parseDecimalFormat('amount', (1n << 256n).toString(), false)).message).toMatch(
      /above 2\^256-1/,
    );
    expect(refusal(() => parseBlockQuery('before', (1n << 256n).toString())).field).toBe('before');
  });

  it('refuses a zero size', () => {
    expect(refusal(() => parseSignedHumanAmount('size', '-0.0', 18)).message).toMatch(/is zero/);
  });
});

describe('query parameters', () => {
  it('reads a whole number within bounds, or the fallback', () => {
    expect(parseIntQuery('limit', undefined, { min: 1, max: 10, fallback: 5 })).toBe(5);
    expect(parseIntQuery('limit', '7', { min: 1, max: 10, fallback: 5 })).toBe(7);
  });

  it.each(['0', '11', '1.5', '-1', '1e1', 'x'])('refuses limit=%p', (v) => {
    expect(refusal(() => parseIntQuery('limit', v, { min: 1, max: 10, fallback: 5 })).field).toBe('limit');
  });

  it('reads a block number exactly', () => {
    expect(parseBlockQuery('before', '9007199254740993')).toBe(9_007_199_254_740_993n);
    expect(refusal(() => parseBlockQuery('before', '0x10')).field).toBe('before');
  });
});

describe('error answers', () => {
  it('maps a refusal to 400 with code, message, field and hint', () => {
    const { status, body } = errorResponse(refusal(() => parseAddress('address', '0x1')));
    expect(status).toBe(400);
    expect(body.error).toEqual({
      code: 'INVALID_ADDRESS',
      message: 'address: "0x1" is not an address',
      field: 'address',
      hint: expect.stringContaining('40 hex digits'),
    });
  });

  it('maps an oversized batch to 413 naming the field and the limit', () => {
    let err: unknown;
    try {
      assertBatchSize('trades', new Array(3).fill(0), 2);
    } catch (e) {
      err = e;
    }
    const { status, body } = errorResponse(err);
    expect(status).toBe(413);
    expect(body.error.field).toBe('trades');
    expect(body.error.message).toMatch(/3 items, at most 2/);
  });

  it('maps body-parser’s too-large error to 413 naming the limit', () => {
    const { status, body } = errorResponse({
      type: 'entity.too.large',
      limit: 1024,
      length: 2048,
      status: 413,
    });
    expect(status).toBe(413);
    expect(body.error).toMatchObject({ code: 'BODY_TOO_LARGE', field: 'body' });
    expect(body.error.message).toMatch(/limit of 1024 bytes/);
  });

  it('answers 503 when Redis is unavailable', () => {
    const err = new Error('Reached the max retries per request limit (which is 2).');
    err.name = 'MaxRetriesPerRequestError';
    const { status, body } = errorResponse(err);
    expect(status).toBe(503);
    expect(body.error.code).toBe('STORE_UNAVAILABLE');
    expect(errorResponse(new Error('connect ECONNREFUSED 127.0.0.1:6379')).status).toBe(503);
  });

  it('hides an unknown error behind a 500', () => {
    const { status, body } = errorResponse(new Error('secret detail'));
    expect(status).toBe(500);
    expect(JSON.stringify(body)).not.toMatch(/secret/);
  });
});

describe('toWireJson', () => {
  it('writes bigints as exact decimal strings', () => {
    const big = (1n << 200n) + 1n;
    expect(JSON.parse(toWireJson({ a: big, b: [-(2n ** 53n) - 1n] }))).toEqual({
      a: big.toString(),
      b: ['-9007199254740993'],
    });
  });
});
