/** Size limits of requests: one place, so every endpoint answers an oversized batch the same way. */
import { ApiError } from './errors';

/** Default maximum JSON body (bytes). */
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;

/**
 * Refuses a list longer than `max` with a 413 naming the field. `value` must already be an array
 * (the field's type check comes first).
 */
export function assertBatchSize(field: string, value: readonly unknown[], max: number): void {
  if (value.length > max)
    throw new ApiError(413, `${field}: ${value.length} items, at most ${max} are accepted per request`, {
      code: 'BATCH_TOO_LARGE',
      field,
      hint: `Split the list into requests of at most ${max} items.`,
      details: { count: value.length, max },
    });
}
