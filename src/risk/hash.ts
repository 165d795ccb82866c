/**
 * Content hashes that pin a margin result to exactly what produced it: `hashParams` over the
 * parameter set and `hashInputs` over the account input. Both are sha256 over one canonical
 * serialization, so two services that agree on the data agree on the hash. The market data is
 * hashed on its own (`hashMarket`, once per block) and the input hash commits to it by that hash,
 * so margining many accounts at one block does not rehash the shared market for each of them:
 *
 * - object keys sorted by UTF-16 code unit, `undefined` members dropped;
 * - bigints as decimal strings (`123n` → `"123"`), numbers in JavaScript's shortest round-trip form,
 *   `-0` as `0`; NaN and ±Infinity are refused rather than silently written as `null`;
 * - typed arrays as plain arrays.
 */
import { createHash } from 'node:crypto';
import { InvalidInputError } from '../common/errors';
import type { RiskParams } from './params';
import type { AccountPositions, AccountRiskInput, MarketData } from './types';

export type Hex32 = `0x${string}`;

/** Thrown by the fast writer on anything it cannot hash; the slow writer then names the path. */
const NOT_HASHABLE = Symbol('not hashable');

/** JSON-quoted object keys: the same few keys recur in every position. */
const QUOTED_KEYS = new Map<string, string>();
function quotedKey(k: string): string {
  let q = QUOTED_KEYS.get(k);
  if (q === undefined) {
    q = JSON.stringify(k);
    if (QUOTED_KEYS.size < 4_096) QUOTED_KEYS.set(k, q);
  }
  return q;
}

/** The canonical text without building paths (the common case, allocation-light). */
function canonicalFast(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'bigint':
      return `"${value.toString()}"`;
    case 'number':
      // For finite numbers JSON.stringify(x) === String(x), and String(-0) is "0".
      if (!Number.isFinite(value)) throw NOT_HASHABLE;
      return String(value);
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
        return canonicalFast(Array.from(value as unknown as ArrayLike<number | bigint>));
      }
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          if (!(i in value)) continue;
          const v: unknown = value[i];
          out += v === undefined ? 'null' : canonicalFast(v);
        }
        return `${out}]`;
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj);
      // Insertion sort by UTF-16 code units, as Array.prototype.sort() orders strings; in place
      // (objects here have a handful of keys, and the built-in sort allocates a work array).
      for (let i = 1; i < keys.length; i++) {
        const k = keys[i]!;
        let j = i;
        while (j > 0 && keys[j - 1]! > k) {
          keys[j] = keys[j - 1]!;
          j--;
        }
        keys[j] = k;
      }
      let out = '{';
      let first = true;
      for (const k of keys) {
        const v = obj[k];
        if (v === undefined) continue;
        if (!first) out += ',';
        first = false;
        out += `${quotedKey(k)}:${canonicalFast(v)}`;
      }
      return `${out}}`;
    }
    default:
      throw NOT_HASHABLE;
  }
}

export function canonicalize(value: unknown, path = '$'): string {
  try {
    return canonicalFast(value);
  } catch (e) {
    if (e !== NOT_HASHABLE) throw e;
  }
  return canonicalizeWithPaths(value, path);
}

/** Reference writer: the same text, building the path of every member to name a bad one. */
function canonicalizeWithPaths(value: unknown, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'bigint':
      return JSON.stringify(value.toString());
    case 'number':
      if (!Number.isFinite(value)) {
        throw new InvalidInputError(path, `${value} cannot be hashed`, {
          hint: 'Replace NaN / Infinity with a finite number before hashing.',
        });
      }
      return JSON.stringify(Object.is(value, -0) ? 0 : value);
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'object': {
      if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
        return canonicalizeWithPaths(Array.from(value as unknown as ArrayLike<number | bigint>), path);
      }
      if (Array.isArray(value)) {
        return `[${value.map((v, i) => canonicalizeWithPaths(v === undefined ? null : v, `${path}[${i}]`)).join(',')}]`;
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalizeWithPaths(obj[k], `${path}.${k}`)}`).join(',')}}`;
    }
    default:
      throw new InvalidInputError(path, `a ${typeof value} cannot be hashed`);
  }
}

export function sha256Hex(text: string): Hex32 {
  return `0x${createHash('sha256').update(text, 'utf8').digest('hex')}`;
}

export function hashParams(params: RiskParams): Hex32 {
  return sha256Hex(canonicalize(params));
}

export function hashMarket(market: MarketData): Hex32 {
  return sha256Hex(canonicalize(market));
}

/**
 * sha256 of canonical `{ account, asOfSec, marketHash, positions }`, `marketHash` = `hashMarket`
 * of the input's market.
 */
export function hashInputs(input: AccountRiskInput): Hex32 {
  return hashAccountInputs(input, input.asOfSec, hashMarket(input.market));
}

/** `hashInputs` with the market hash already computed (see `MarketContext.marketHash`). */
export function hashAccountInputs(account: AccountPositions, asOfSec: number, marketHash: Hex32): Hex32 {
  return sha256Hex(
    canonicalize({ account: account.account, asOfSec, marketHash, positions: account.positions }),
  );
}
