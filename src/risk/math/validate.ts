/**
 * Input guards shared by the pricing functions: a non-finite or out-of-range number is rejected with
 * an `InvalidInputError` naming the field, instead of propagating NaN into a margin figure.
 */
import { InvalidInputError } from '../../common/errors';

export function requireFinite(field: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidInputError(field, `must be a finite number, got ${String(value)}`, {
      hint: `Pass a finite float64 for ${field}.`,
    });
  }
}

export function requireNonNegative(field: string, value: number): void {
  requireFinite(field, value);
  if (value < 0) {
    throw new InvalidInputError(field, `must be >= 0, got ${value}`, {
      hint: `Pass a non-negative ${field}.`,
    });
  }
}

export function requirePositive(field: string, value: number): void {
  requireFinite(field, value);
  if (value <= 0) {
    throw new InvalidInputError(field, `must be > 0, got ${value}`, {
      hint: `Pass a strictly positive ${field}.`,
    });
  }
}
