/**
 * The partner endpoints' configuration, read from environment variables once, at start. A bad value
 * stops the API with an `InvalidInputError` naming the variable (never showing a secret).
 *
 * | Variable | Default | Meaning |
 * | --- | --- | --- |
 * | `NETMARGIN_PARTNER_KEYS` | none | JSON array `[{ "id": "acme", "secret": "…", "ratePerWindow": 200 }]` |
 * | `NETMARGIN_PARTNER_KEYS_FILE` | none | a file holding the same JSON (instead of the variable) |
 * | `NETMARGIN_PARTNER_RATE` | 100 | requests per window per key (a key's `ratePerWindow` overrides it) |
 * | `NETMARGIN_PARTNER_RATE_WINDOW_MS` | 1 000 | rate-limit window |
 * | `NETMARGIN_PARTNER_MAX_SKEW_SEC` | 300 | largest accepted distance between `x-nm-timestamp` and the server clock |
 * | `NETMARGIN_PARTNER_HEAD_POLL_MS` | 1 000 | how often the chain head is read (on-chain answers are cached per head block) |
 * | `NETMARGIN_RPC_URLS` | the manifest's `network.rpcUrl` | RPC used for the aggregator's views (first URL) |
 *
 * With no key configured every partner request is answered 401.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InvalidInputError } from '../../common/errors';

export type Env = Readonly<Record<string, string | undefined>>;

/** A partner key: its id and limit; the secret stays inside `sign` (never serialized or logged). */
export interface PartnerKey {
  id: string;
  ratePerWindow: number;
  /** HMAC-SHA256 of `data` under the key's secret, lower-case hex. */
  sign(data: string): string;
}

export interface PartnersConfig {
  keys: ReadonlyMap<string, PartnerKey>;
  rateWindowMs: number;
  maxSkewSec: number;
  headPollMs: number;
  /** First of NETMARGIN_RPC_URLS; undefined = the manifest's. */
  rpcUrl: string | undefined;
}

const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;

function read(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

export function wholeEnv(env: Env, name: string, min: number, max: number, fallback: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new InvalidInputError(name, `"${raw}" is not a whole number from ${min} to ${max}`, {
      hint: `Set ${name} to a whole number from ${min} to ${max}, or unset it for the default (${fallback}).`,
    });
  return n;
}

/** The RPC URL the API reads the chain with: the first of NETMARGIN_RPC_URLS, if set. */
export function rpcUrlFromEnv(env: Env): string | undefined {
  const raw = read(env, 'NETMARGIN_RPC_URLS');
  if (raw === undefined) return undefined;
  const first = raw.split(',')[0]!.trim();
  if (!/^https?:\/\/[^\s]+$/.test(first))
    throw new InvalidInputError('NETMARGIN_RPC_URLS', `"${first}" is not an http(s) URL`, {
      hint: 'Set NETMARGIN_RPC_URLS to comma-separated http(s) RPC URLs, best first, or unset it for the manifest’s.',
    });
  return first;
}

function keysFrom(name: string, json: string, defaultRate: number): Map<string, PartnerKey> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new InvalidInputError(name, 'is not valid JSON', {
      hint: 'Give a JSON array such as [{"id":"acme","secret":"<32+ random characters>"}].',
    });
  }
  if (!Array.isArray(parsed))
    throw new InvalidInputError(name, 'is not a JSON array of keys', {
      hint: 'Give a JSON array such as [{"id":"acme","secret":"<32+ random characters>"}].',
    });
  const keys = new Map<string, PartnerKey>();
  parsed.forEach((entry: unknown, i) => {
    const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const id = e.id;
    if (typeof id !== 'string' || !KEY_ID.test(id))
      throw new InvalidInputError(name, `key ${i}: "id" must be 1–64 characters [A-Za-z0-9_.-]`, {
        hint: 'Give every key an id such as "acme-prod".',
      });
    if (keys.has(id))
      throw new InvalidInputError(name, `key ${i}: the id "${id}" is used twice`, {
        hint: 'Give every key its own id.',
      });
    const secret = e.secret;
    if (typeof secret !== 'string' || secret.length < 32)
      throw new InvalidInputError(name, `key "${id}": "secret" must be a string of at least 32 characters`, {
        hint: 'Generate one with `openssl rand -hex 32`.',
      });
    const rate = e.ratePerWindow ?? defaultRate;
    if (typeof rate !== 'number' || !Number.isSafeInteger(rate) || rate < 1)
      throw new InvalidInputError(name, `key "${id}": "ratePerWindow" must be a whole number ≥ 1`, {
        hint: 'Leave it out for NETMARGIN_PARTNER_RATE, or give the key its own limit per window.',
      });
    keys.set(id, {
      id,
      ratePerWindow: rate,
      sign: (data) => createHmac('sha256', secret).update(data).digest('hex'),
    });
  });
  return keys;
}

export function loadPartnersConfig(env: Env): PartnersConfig {
  const defaultRate = wholeEnv(env, 'NETMARGIN_PARTNER_RATE', 1, 10_000_000, 100);
  const inline = read(env, 'NETMARGIN_PARTNER_KEYS');
  const file = read(env, 'NETMARGIN_PARTNER_KEYS_FILE');
  if (inline !== undefined && file !== undefined)
    throw new InvalidInputError(
      'NETMARGIN_PARTNER_KEYS_FILE',
      'is set together with NETMARGIN_PARTNER_KEYS',
      {
        hint: 'Set one of the two.',
      },
    );
  let keys = new Map<string, PartnerKey>();
  if (inline !== undefined) keys = keysFrom('NETMARGIN_PARTNER_KEYS', inline, defaultRate);
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new InvalidInputError('NETMARGIN_PARTNER_KEYS_FILE', `"${file}" cannot be read`, {
        hint: 'Point NETMARGIN_PARTNER_KEYS_FILE at a readable JSON file of keys.',
      });
    }
    keys = keysFrom('NETMARGIN_PARTNER_KEYS_FILE', text, defaultRate);
  }
  return {
    keys,
    rateWindowMs: wholeEnv(env, 'NETMARGIN_PARTNER_RATE_WINDOW_MS', 100, 3_600_000, 1_000),
    maxSkewSec: wholeEnv(env, 'NETMARGIN_PARTNER_MAX_SKEW_SEC', 1, 3_600, 300),
    headPollMs: wholeEnv(env, 'NETMARGIN_PARTNER_HEAD_POLL_MS', 50, 60_000, 1_000),
    rpcUrl: rpcUrlFromEnv(env),
  };
}
