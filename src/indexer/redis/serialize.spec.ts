import { deserialize, serialize } from './serialize';

describe('serialize', () => {
  it('round-trips bigints beyond 2^53 exactly, including negatives and zero', () => {
    const value = {
      amount: 2n ** 255n - 1n,
      debt: -(10n ** 30n) - 7n,
      zero: 0n,
      list: [1n, 'x', 3, true, null],
      nested: { s: '12345678901234567890' },
    };
    const text = serialize(value);
    expect(text).toContain('"57896044618658097711785492504343953926634992332820282019728792003956564819967"');
    expect(deserialize(text)).toEqual(value);
  });

  it('keeps decimal-looking strings as strings', () => {
    expect(deserialize(serialize({ s: '42' }))).toEqual({ s: '42' });
  });

  it('refuses values JSON would change silently', () => {
    expect(() => serialize({ a: undefined })).toThrow(/value\.a/);
    expect(() => serialize({ m: new Map() })).toThrow(/plain objects/);
    expect(() => serialize([Number.NaN])).toThrow(/value\[0\]/);
    expect(() => serialize({ $bigint: '1' })).toThrow(/reserved/);
  });

  it('refuses a tagged bigint that is not a decimal', () => {
    expect(() => deserialize('{"$bigint":"1e3"}')).toThrow(/not a decimal bigint/);
  });
});
