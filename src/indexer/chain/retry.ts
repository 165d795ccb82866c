/**
 * The retry policy for every JSON-RPC call the indexer makes, as pure functions.
 *
 * Public RPCs fail in two very different ways. Some failures are about the moment (rate limits, a
 * busy or restarting node, a dropped connection, a slow answer): waiting and asking again works.
 * Others are about the request itself (a revert, a method the node does not serve, bad parameters, a
 * log range too wide to answer): asking again returns the same error, so retrying only burns rate
 * limit and delays the real error. `classifyRpcError` sorts an error (viem's, walking its cause chain)
 * into `'retry'` or `'fatal'`; `backoffMs` spaces retries out (capped exponential with jitter, the
 * random source injectable so tests are exact). The transport in `client.ts` applies both.
 */
import { HttpRequestError, TimeoutError } from 'viem';

export type RpcErrorClass = 'retry' | 'fatal';

/** JSON-RPC / EIP-1474 codes that say "the request itself is wrong": never retried. */
const FATAL_CODES = new Set<number>([
  3, // execution reverted (geth, anvil)
  -32700, // parse error
  -32600, // invalid request
  -32601, // method not found
  -32602, // invalid params
  -32006, // JSON-RPC version not supported
  4001, // user rejected (wallets)
  4100, // unauthorized
  4200, // unsupported method (EIP-1193)
]);

/** Codes that say "not now": worth another try after a pause. */
const RETRY_CODES = new Set<number>([
  -1, // unknown (viem wraps network failures this way)
  -32603, // internal error (node busy / restarting)
  -32005, // limit exceeded (rate limit), unless the message says the range is too large
  -32007, // QuickNode's per-second request limit
  -32000, // generic server error (header not found, busy) — unless the message says revert
  429, // rate limit sent as a JSON-RPC code inside an HTTP 200 (Alchemy batches)
]);

/** HTTP statuses worth retrying: timeouts, rate limits, server and gateway errors. */
const RETRY_STATUSES = new Set<number>([408, 425, 429, 500, 502, 503, 504]);

/**
 * Messages providers send when an `eth_getLogs` range is too wide. Retrying the same range never
 * helps; the caller must split it (`getLogsChunked`), so these classify as fatal.
 */
const RANGE_TOO_LARGE = [
  /query returned more than \d+ results/i,
  /block range (is )?too (large|wide)/i,
  /log response size exceeded/i,
  /range (is )?too large/i,
  /exceed(s|ed)? (the )?(max(imum)? )?block range/i,
  /limited to (a )?[\d,]+k? ?(block )?range/i,
  /too many (results|logs)/i,
  // viem's own refusal of a response over its HTTP body limit (10 MB): a smaller range answers.
  /HTTP response body exceeded the size limit/i,
];

const REVERT = /execution reverted|revert(ed)?\b|invalid opcode|out of gas/i;

/** Server errors (often -32000) that are about the request, not the moment. */
const REQUEST_PROBLEM =
  /nonce too low|insufficient funds|already known|unknown block|invalid (block )?range|invalid argument/i;

function chain(err: unknown): unknown[] {
  const out: unknown[] = [];
  let cur: unknown = err;
  for (let i = 0; i < 16 && cur !== undefined && cur !== null; i += 1) {
    out.push(cur);
    cur = (cur as { cause?: unknown }).cause;
  }
  return out;
}

function messageOf(e: unknown): string {
  if (typeof e !== 'object' || e === null) return String(e);
  const m = e as { details?: unknown; shortMessage?: unknown; message?: unknown };
  return [m.details, m.shortMessage, m.message].filter((x) => typeof x === 'string').join(' | ');
}

/** True when an RPC error says the `eth_getLogs` range must be split (any known provider wording). */
export function isRangeTooLargeError(err: unknown): boolean {
  return chain(err).some((e) => {
    const msg = messageOf(e);
    return RANGE_TOO_LARGE.some((re) => re.test(msg));
  });
}

/**
 * `'retry'` for rate limits (HTTP 429, code 429 / -32005 / -32007), timeouts, 5xx and network
 * failures; `'fatal'` for reverts, method-not-found, invalid params, ranges too large and anything
 * unrecognised (an unknown error is more likely a bug than a busy node; failing loudly is safer).
 */
export function classifyRpcError(err: unknown): RpcErrorClass {
  if (isRangeTooLargeError(err)) return 'fatal';
  const links = chain(err);
  // A revert anywhere in the chain wins: nodes wrap reverts in generic -32000 / -32603 errors.
  if (links.some((e) => REVERT.test(messageOf(e)) || REQUEST_PROBLEM.test(messageOf(e)))) return 'fatal';
  for (const e of links) {
    if (typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'AbortError')
      return 'fatal';
    const code = (e as { code?: unknown } | null)?.code;
    if (typeof code === 'number') {
      if (FATAL_CODES.has(code)) return 'fatal';
      if (RETRY_CODES.has(code)) return 'retry';
    }
    if (e instanceof TimeoutError) return 'retry';
    if (e instanceof HttpRequestError) {
      if (e.status === undefined) return 'retry'; // connection refused / reset: no HTTP answer at all
      return RETRY_STATUSES.has(e.status) ? 'retry' : 'fatal';
    }
  }
  return 'fatal';
}

export interface BackoffOptions {
  /** Delay before the first retry, before jitter (ms). */
  baseMs: number;
  /** No single wait exceeds this (ms). */
  capMs: number;
  /** Random source in [0, 1); inject a seeded one in tests. */
  random: () => number;
}

export const DEFAULT_BACKOFF: Omit<BackoffOptions, 'random'> = { baseMs: 200, capMs: 10_000 };

/**
 * Wait before retry number `attempt` (0 = first retry): "equal jitter" — half of
 * min(cap, base·2^attempt) fixed plus up to the same half at random, so waits grow exponentially,
 * never exceed `capMs`, and many clients that failed together do not retry together.
 */
export function backoffMs(attempt: number, opts: BackoffOptions): number {
  if (!Number.isInteger(attempt) || attempt < 0)
    throw new RangeError(`attempt: ${attempt} is not a whole number ≥ 0`);
  const ceiling = Math.min(opts.capMs, opts.baseMs * 2 ** Math.min(attempt, 30));
  const half = ceiling / 2;
  return Math.floor(half + half * opts.random());
}

/**
 * The wait a server asked for with `Retry-After` (seconds, or an HTTP date), capped at `capMs`;
 * undefined when the error carries none. The transport waits max(this, backoff).
 */
export function retryAfterMs(err: unknown, capMs: number, nowMs = Date.now()): number | undefined {
  for (const e of chain(err)) {
    if (!(e instanceof HttpRequestError)) continue;
    const raw = e.headers?.get('retry-after');
    if (!raw) return undefined;
    const ms = /^\s*\d+\s*$/.test(raw) ? Number(raw) * 1_000 : Date.parse(raw) - nowMs;
    if (!Number.isFinite(ms)) return undefined;
    return Math.min(capMs, Math.max(0, ms));
  }
  return undefined;
}
