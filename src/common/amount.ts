import { InvalidInputError } from './errors';

/** An on-chain amount in its token's smallest unit, with the decimals that give it meaning. */
export interface TokenAmount {
  /** Integer amount in token units (e.g. wei for an 18-decimal token). */
  raw: bigint;
  decimals: number;
}

export const UINT256_MAX = (1n << 256n) - 1n;
const PLAIN_UINT = /^(0|[1-9][0-9]*)$/;
const PLAIN_DECIMAL = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/;

/**
 * Parses a plain unsigned integer string (`"1000000"`) as a uint256 in token units.
 * Rejects what `BigInt()` and `Number()` would silently accept: `1e18`, `-1`, `0x10`, ` 1`, `1.0`.
 */
export function parseUintString(field: string, value: unknown): bigint {
  if (typeof value !== 'string') {
    throw new InvalidInputError(field, `expected a decimal string of token units, got ${typeof value}`, {
      code: 'INVALID_AMOUNT',
      hint: 'Send amounts as strings of digits in the token’s smallest unit, e.g. "1500000" for 1.5 USDC.',
    });
  }
  if (!PLAIN_UINT.test(value)) {
    throw new InvalidInputError(field, `"${value}" is not a plain non-negative integer`, {
      code: 'INVALID_AMOUNT',
      hint: 'Use digits only: no sign, exponent, hex prefix, decimal point or spaces.',
    });
  }
  const n = BigInt(value);
  if (n > UINT256_MAX) {
    throw new InvalidInputError(field, `${value} is above 2^256-1`, { code: 'INVALID_AMOUNT' });
  }
  return n;
}

/** Parses a human decimal (`"1.5"`) into token units with `decimals` places; rejects excess precision. */
export function parseDecimalUnits(field: string, value: string, decimals: number): bigint {
  if (!PLAIN_DECIMAL.test(value)) {
    throw new InvalidInputError(field, `"${value}" is not a plain decimal number`, {
      code: 'INVALID_AMOUNT',
    });
  }
  const [whole = '0', frac = ''] = value.split('.');
  if (frac.length > decimals) {
    throw new InvalidInputError(field, `"${value}" has more than ${decimals} decimal places`, {
      code: 'INVALID_AMOUNT',
    });
  }
  const n = BigInt(whole) * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, '0') || '0');
  if (n > UINT256_MAX)
    throw new InvalidInputError(field, `${value} is above 2^256-1`, { code: 'INVALID_AMOUNT' });
  return n;
}

/** Formats token units as a decimal string without going through `Number`. */
export function formatUnits(raw: bigint, decimals: number): string {
  const neg = raw < 0n;
  const abs = neg ? -raw : raw;
  const base = 10n ** BigInt(decimals);
  const whole = abs / base;
  const frac = (abs % base).toString().padStart(decimals, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}
