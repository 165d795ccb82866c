/**
 * Parsing of request values into the project's types, with the field named in every refusal:
 * addresses (EIP-55), unsigned and signed decimal amounts (never through `Number`), whole-number
 * query parameters. Pure functions: the NestJS pipes and the handlers call them.
 */
import { getAddress, type Address } from 'viem';
import { parseDecimalUnits, parseUintString, UINT256_MAX } from '../../common/amount';
import { InvalidInputError } from '../../common/errors';

const HEX_ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/**
 * An EIP-55 address. All-lowercase (or all-uppercase) hex is accepted and checksummed; mixed case
 * must be the exact checksum, since a wrong one usually means a mistyped character.
 */
export function parseAddress(field: string, value: unknown): Address {
  if (typeof value !== 'string' || !HEX_ADDRESS.test(value))
    throw new InvalidInputError(
      field,
      `${typeof value === 'string' ? `"${truncate(value)}"` : `a ${typeof value}`} is not an address`,
      {
        code: 'INVALID_ADDRESS',
        hint: 'Send 0x followed by 40 hex digits, e.g. 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed.',
      },
    );
  const body = value.slice(2);
  const checksummed = getAddress(value.toLowerCase());
  if (body === body.toLowerCase() || body === body.toUpperCase()) return checksummed;
  if (value !== checksummed)
    throw new InvalidInputError(field, `"${value}" has a wrong EIP-55 checksum`, {
      code: 'INVALID_ADDRESS_CHECKSUM',
      hint: 'Check the address for a mistyped character, or send it all-lowercase to skip the checksum.',
    });
  return checksummed;
}

/** A plain unsigned integer string (token units): `1e18`, `-1`, `0x10`, `1.0` and > 2^256-1 are refused. */
export function parseUnits(field: string, value: unknown): bigint {
  return parseUintString(field, value);
}

/** A plain unsigned decimal string in human units (`"1.5"`), as token units with `decimals` places. */
export function parseHumanAmount(field: string, value: unknown, decimals: number): bigint {
  if (typeof value !== 'string')
    throw new InvalidInputError(field, `expected a decimal string, got ${describeType(value)}`, {
      code: 'INVALID_AMOUNT',
      hint: 'Send amounts as JSON strings of digits with an optional decimal point, e.g. "1.5".',
    });
  return decimalUnits(field, value, decimals, HUMAN_HINT);
}

/** A signed decimal string (`"-1.5"`, `"2"`) as units with `decimals` places; zero is refused. */
export function parseSignedHumanAmount(field: string, value: unknown, decimals: number): bigint {
  if (typeof value !== 'string')
    throw new InvalidInputError(field, `expected a signed decimal string, got ${describeType(value)}`, {
      code: 'INVALID_AMOUNT',
      hint: 'Send a JSON string such as "1.5" (long / buy) or "-1.5" (short / sell).',
    });
  const negative = value.startsWith('-');
  const n = decimalUnits(field, negative ? value.slice(1) : value, decimals, SIGNED_HINT);
  if (n === 0n)
    throw new InvalidInputError(field, 'is zero', { code: 'INVALID_AMOUNT', hint: 'Send a non-zero size.' });
  return negative ? -n : n;
}

/** An optional whole-number query parameter within [min, max]. */
export function parseIntQuery(
  field: string,
  value: unknown,
  opts: { min: number; max: number; fallback: number },
): number {
  if (value === undefined) return opts.fallback;
  if (typeof value !== 'string' || !/^(0|[1-9][0-9]*)$/.test(value) || value.length > 15)
    throw new InvalidInputError(field, `${JSON.stringify(value)} is not a whole number`, {
      hint: `Send a whole number from ${opts.min} to ${opts.max}.`,
    });
  const n = Number(value);
  if (n < opts.min || n > opts.max)
    throw new InvalidInputError(field, `${n} is outside ${opts.min} … ${opts.max}`, {
      hint: `Send a whole number from ${opts.min} to ${opts.max}.`,
    });
  return n;
}

/** An optional block-number query parameter (plain unsigned integer string). */
export function parseBlockQuery(field: string, value: unknown): bigint | undefined {
  if (value === undefined) return undefined;
  return parseUintString(field, value);
}

/** The value as a plain JSON object, or a refusal naming the field. */
export function asObject(field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidInputError(field, `expected a JSON object, got ${describeType(value)}`);
  return value as Record<string, unknown>;
}

/** The value as an array, or a refusal naming the field. */
export function asArray(field: string, value: unknown): unknown[] {
  if (!Array.isArray(value))
    throw new InvalidInputError(field, `expected an array, got ${describeType(value)}`);
  return value;
}

/** One of `allowed`, or a refusal listing them. */
export function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value))
    throw new InvalidInputError(
      field,
      `${describeValue(value)} is not one of ${allowed.map((a) => `"${a}"`).join(', ')}`,
    );
  return value as T;
}

/** A non-empty identifier string (asset or underlying symbol). */
export function symbolString(field: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9._-]{1,32}$/.test(value))
    throw new InvalidInputError(field, `${describeValue(value)} is not a symbol`, {
      hint: 'Send a symbol such as "ETH" or "USDC".',
    });
  return value;
}

/** A whole number of seconds since the epoch (JSON number or digit string). */
export function epochSeconds(field: string, value: unknown): number {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^[0-9]{1,12}$/.test(value)
        ? Number(value)
        : NaN;
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new InvalidInputError(field, `${describeValue(value)} is not a time in seconds since the epoch`, {
      hint: 'Send the expiry as whole seconds, e.g. 1767225600.',
    });
  return n;
}

const HUMAN_HINT =
  'Send a JSON string of digits with an optional decimal point, e.g. "1.5": no sign, exponent, hex prefix or spaces.';
const SIGNED_HINT =
  'Send a JSON string such as "1.5" (long) or "-1.5" (short): no exponent, hex prefix or spaces.';

/** `parseDecimalUnits` with a hint on its refusals (it gives none for a malformed number). */
function decimalUnits(field: string, value: string, decimals: number, hint: string): bigint {
  try {
    return parseDecimalUnits(field, value, decimals);
  } catch (err) {
    if (err instanceof InvalidInputError && err.hint === undefined)
      throw new InvalidInputError(field, err.shortMessage.slice(field.length + 2), {
        code: err.code,
        hint: err.shortMessage.includes('decimal places')
          ? `Send at most ${decimals} decimal places (the asset's precision).`
          : hint,
      });
    throw err;
  }
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function describeValue(value: unknown): string {
  return typeof value === 'string' ? `"${truncate(value)}"` : describeType(value);
}

function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/**
 * Checks that `value` is a plain decimal string (optionally signed) without converting it: the
 * asset's decimals are known later. `1e18`, `0x10`, ` 1`, `-1` (when unsigned) and values above
 * 2^256-1 are refused here.
 */
export function parseDecimalFormat(field: string, value: unknown, signed: boolean): void {
  if (typeof value !== 'string')
    throw new InvalidInputError(field, `expected a decimal string, got ${describeType(value)}`, {
      code: 'INVALID_AMOUNT',
      hint: signed
        ? 'Send a JSON string such as "1.5" (long) or "-1.5" (short).'
        : 'Send amounts as JSON strings of digits with an optional decimal point, e.g. "1.5".',
    });
  const unsigned = signed && value.startsWith('-') ? value.slice(1) : value;
  const frac = unsigned.includes('.') ? unsigned.length - unsigned.indexOf('.') - 1 : 0;
  const scaled = decimalUnits(field, unsigned, frac, signed ? SIGNED_HINT : HUMAN_HINT);
  if (scaled / 10n ** BigInt(frac) > UINT256_MAX)
    throw new InvalidInputError(field, `${value} is above 2^256-1`, { code: 'INVALID_AMOUNT' });
}
