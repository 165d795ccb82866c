/**
 * JSON on the wire: every bigint becomes its decimal string, never a `Number` (which would round
 * anything above 2^53). Used as the HTTP layer's JSON replacer, so no handler can forget it.
 */

/** `JSON.stringify` replacer: bigint → decimal string. */
export function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** Serializes `value` with every bigint as a decimal string. */
export function toWireJson(value: unknown): string {
  return JSON.stringify(value, bigintReplacer);
}
