/**
 * Partner authentication and rate limiting: the signature (signing.ts) checked in constant time, the
 * timestamp within the allowed skew, the nonce never seen before (Redis `SET NX` with a TTL covering
 * the skew window, so a replay is refused however it is timed) and a fixed-window counter per key —
 * the nonce and the counter in one atomic Lua script, one round trip per request.
 */
import type { ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import { redisKeys, type PartnerKeys } from '../../indexer/redis/keys';
import { ApiError } from '../http/errors';
import type { PartnersConfig } from './partners.config';
import { bodySha256, NONCE_PATTERN, PARTNER_HEADERS, signatureMatches, stringToSign } from './signing';

/** KEYS: nonce, window counter. ARGV: nonce TTL ms, limit, window ms. → {1,0} ok, {-1,0} replay, {0, pttl} limited. */
const ADMIT_LUA = `
if not redis.call('set', KEYS[1], '1', 'PX', ARGV[1], 'NX') then return {-1, 0} end
local n = redis.call('incr', KEYS[2])
if n == 1 then redis.call('pexpire', KEYS[2], ARGV[3]) end
if n > tonumber(ARGV[2]) then return {0, redis.call('pttl', KEYS[2])} end
return {1, 0}`;

export interface PartnerRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  rawBody: Buffer | undefined;
}

type AdmitRedis = Redis & {
  nmPartnerAdmit(
    nonceKey: string,
    rateKey: string,
    ttlMs: number,
    limit: number,
    windowMs: number,
  ): Promise<[number, number]>;
};

function unauthorized(code: string, message: string, hint: string, field?: string): ApiError {
  return new ApiError(401, message, { code, hint, ...(field ? { field } : {}) });
}

function header(req: PartnerRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A 429 from the rate limit carries `Retry-After` (whole seconds); other errors leave `res` alone. */
export function setRetryAfter(res: ServerResponse, err: unknown): void {
  if (err instanceof ApiError && err.status === 429 && !res.headersSent)
    res.setHeader('retry-after', String(err.details.retryAfterSec));
}

export class PartnerAuth {
  private readonly keys: PartnerKeys;
  private readonly redis: AdmitRedis;

  constructor(
    redis: Redis,
    network: string,
    private readonly config: PartnersConfig,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.keys = redisKeys(network).partners;
    if (!('nmPartnerAdmit' in redis))
      redis.defineCommand('nmPartnerAdmit', { numberOfKeys: 2, lua: ADMIT_LUA });
    this.redis = redis as AdmitRedis;
  }

  /** Closes the connection (the module gives the auth its own). */
  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /**
   * Checks a request; returns the key id, or throws a 401 (unknown key, bad signature, stale
   * timestamp, replayed nonce) or a 429 carrying `retryAfterSec`.
   */
  async verify(req: PartnerRequest): Promise<string> {
    const keyId = header(req, PARTNER_HEADERS.key);
    const ts = header(req, PARTNER_HEADERS.timestamp);
    const nonce = header(req, PARTNER_HEADERS.nonce);
    const sig = header(req, PARTNER_HEADERS.signature);
    for (const [name, v] of [
      [PARTNER_HEADERS.key, keyId],
      [PARTNER_HEADERS.timestamp, ts],
      [PARTNER_HEADERS.nonce, nonce],
      [PARTNER_HEADERS.signature, sig],
    ] as const)
      if (v === undefined || v === '')
        throw unauthorized(
          'PARTNER_AUTH_MISSING',
          `${name}: the header is missing`,
          'Sign the request: send x-nm-key, x-nm-timestamp, x-nm-nonce and x-nm-signature (docs/api.md, Partners).',
          name,
        );
    const key = this.config.keys.get(keyId!);
    if (!key)
      throw unauthorized(
        'PARTNER_KEY_UNKNOWN',
        `${PARTNER_HEADERS.key}: unknown API key`,
        'Check the key id; ask the operator for a key if you have none.',
        PARTNER_HEADERS.key,
      );
    if (!/^\d{1,12}$/.test(ts!))
      throw unauthorized(
        'PARTNER_TIMESTAMP_INVALID',
        `${PARTNER_HEADERS.timestamp}: "${ts!.slice(0, 20)}" is not whole seconds since the epoch`,
        'Send the current Unix time in seconds.',
        PARTNER_HEADERS.timestamp,
      );
    const skewSec = Math.abs(Math.floor(this.nowMs() / 1000) - Number(ts));
    if (skewSec > this.config.maxSkewSec)
      throw unauthorized(
        'PARTNER_TIMESTAMP_SKEW',
        `${PARTNER_HEADERS.timestamp}: ${skewSec} s away from the server clock, at most ${this.config.maxSkewSec} s accepted`,
        'Sync your clock (NTP) and sign each request when you send it.',
        PARTNER_HEADERS.timestamp,
      );
    if (!NONCE_PATTERN.test(nonce!))
      throw unauthorized(
        'PARTNER_NONCE_INVALID',
        `${PARTNER_HEADERS.nonce}: must be 16–64 characters of [A-Za-z0-9_-]`,
        'Send a fresh random nonce per request, e.g. 32 hex digits.',
        PARTNER_HEADERS.nonce,
      );
    const expected = key.sign(
      stringToSign(
        { method: req.method, pathAndQuery: req.url, timestampSec: Number(ts), nonce: nonce!, body: '' },
        bodySha256(req.rawBody ?? ''),
      ),
    );
    if (!signatureMatches(expected, sig!))
      throw unauthorized(
        'PARTNER_SIGNATURE_MISMATCH',
        `${PARTNER_HEADERS.signature}: the signature does not match the request`,
        'Sign METHOD, path and query, timestamp, nonce and the body’s SHA-256 exactly as sent (docs/api.md, Partners).',
        PARTNER_HEADERS.signature,
      );
    const windowMs = this.config.rateWindowMs;
    const window = Math.floor(this.nowMs() / windowMs);
    const [admitted, pttl] = await this.redis.nmPartnerAdmit(
      this.keys.nonce(key.id, nonce!),
      this.keys.rate(key.id, window),
      (2 * this.config.maxSkewSec + 1) * 1000,
      key.ratePerWindow,
      windowMs,
    );
    if (admitted === -1)
      throw unauthorized(
        'PARTNER_NONCE_REPLAYED',
        `${PARTNER_HEADERS.nonce}: this nonce was already used`,
        'Send a fresh random nonce with every request.',
        PARTNER_HEADERS.nonce,
      );
    if (admitted === 0) {
      const retryAfterSec = Math.max(1, Math.ceil((pttl > 0 ? pttl : windowMs) / 1000));
      throw new ApiError(
        429,
        `rate limit: more than ${key.ratePerWindow} requests in ${windowMs} ms for this key`,
        {
          code: 'PARTNER_RATE_LIMITED',
          hint: `Retry after ${retryAfterSec} s (Retry-After), or ask the operator for a higher limit.`,
          details: { retryAfterSec },
        },
      );
    }
    return key.id;
  }
}
