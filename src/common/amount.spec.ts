import { formatUnits, parseDecimalUnits, parseUintString, UINT256_MAX } from './amount';
import { InvalidInputError } from './errors';

describe('parseUintString', () => {
  it('accepts plain digit strings up to 2^256-1', () => {
    expect(parseUintString('amount', '0')).toBe(0n);
    expect(parseUintString('amount', '1500000')).toBe(1_500_000n);
    expect(parseUintString('amount', UINT256_MAX.toString())).toBe(UINT256_MAX);
  });

  it.each(['1e18', '-1', '0x10', ' 1', '1.0', '', '01', (UINT256_MAX + 1n).toString()])(
    'rejects %p naming the field',
    (bad) => {
      expect(() => parseUintString('trade.amount', bad)).toThrow(InvalidInputError);
      expect(() => parseUintString('trade.amount', bad)).toThrow(/^trade\.amount: /);
    },
  );

  it('rejects numbers, which may already have lost precision', () => {
    expect(() => parseUintString('amount', 1e18)).toThrow(/expected a decimal string/);
  });
});

describe('parseDecimalUnits / formatUnits', () => {
  it('round-trips 6-, 8- and 18-decimal amounts exactly', () => {
    for (const [text, decimals] of [
      ['1.5', 6],
      ['0.00000001', 8],
      ['123456789.123456789123456789', 18],
    ] as const) {
      expect(formatUnits(parseDecimalUnits('x', text, decimals), decimals)).toBe(text);
    }
  });

  it('rejects more decimal places than the token has', () => {
    expect(() => parseDecimalUnits('x', '1.1234567', 6)).toThrow(/more than 6 decimal places/);
  });

  it('formats negative amounts', () => {
    expect(formatUnits(-1_500_000n, 6)).toBe('-1.5');
  });
});
