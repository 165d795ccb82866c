/**
 * JSON for values stored in Redis, with bigints kept exact.
 *
 * A bigint is written as `{"$bigint":"<decimal>"}` and read back as a bigint: it never passes
 * through `Number`, so token amounts of any size round-trip exactly. Plain strings stay strings
 * (a bare decimal string would be ambiguous). An object whose only key is `$bigint` would be read
 * back as a bigint, so writing one is refused. Values must be JSON-like: `undefined`, functions,
 * `Map`, `Set` and non-finite numbers are refused rather than silently changed.
 */
import { InvalidInputError } from '../../common/errors';

const TAG = '$bigint';
const DECIMAL = /^-?(0|[1-9][0-9]*)$/;

function check(value: unknown, path: string): void {
  switch (typeof value) {
    case 'bigint':
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value))
        throw new InvalidInputError(path, `${value} cannot be stored (JSON has no such number)`);
      return;
    case 'object': {
      if (value === null) return;
      if (Array.isArray(value)) {
        value.forEach((v, i) => check(v, `${path}[${i}]`));
        return;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null)
        throw new InvalidInputError(
          path,
          'only plain objects, arrays, strings, numbers, booleans and bigints can be stored',
          {
            hint: 'Convert Maps, Sets and class instances to plain objects first.',
          },
        );
      const keys = Object.keys(value);
      if (keys.length === 1 && keys[0] === TAG)
        throw new InvalidInputError(path, `an object whose only key is "${TAG}" is reserved for bigints`);
      for (const k of keys) check((value as Record<string, unknown>)[k], `${path}.${k}`);
      return;
    }
    default:
      throw new InvalidInputError(path, `a ${typeof value} cannot be stored`, {
        hint: 'Store JSON-like values: use null instead of undefined.',
      });
  }
}

export function serialize(value: unknown): string {
  check(value, 'value');
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? { [TAG]: v.toString() } : v));
}

export function deserialize<T>(text: string): T {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === TAG) {
        const digits = (v as Record<string, unknown>)[TAG];
        if (typeof digits !== 'string' || !DECIMAL.test(digits))
          throw new InvalidInputError('stored value', `"${String(digits)}" is not a decimal bigint`, {
            hint: 'The Redis value was not written by serialize(); delete the key and re-index.',
          });
        return BigInt(digits);
      }
    }
    return v;
  }) as T;
}
