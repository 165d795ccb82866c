/**
 * The indexer's chain client: several RPC URLs behind one viem `PublicClient`.
 *
 * Layers, inside out:
 * 1. one viem `http` transport per URL, JSON-RPC batching on, viem's own retries off (retryCount 0);
 * 2. viem's `fallback` over them in the given order (optionally re-ranked by latency): a failing URL
 *    hands the request to the next; a revert or invalid-params error is not passed along (every
 *    node would give the same answer);
 * 3. `retryingTransport`: when every URL failed with a retryable error (`classifyRpcError`), wait
 *    `backoffMs(attempt)` (or the server's `Retry-After`, if longer, up to the cap) and go round
 *    again, up to `maxRetries`; a fatal error is thrown at once.
 *
 * The policy lives in `retry.ts` as pure functions; this file only wires it into viem.
 */
import {
  createPublicClient,
  createTransport,
  fallback,
  http,
  type Chain,
  type EIP1193RequestFn,
  type PublicClient,
  type Transport,
} from 'viem';
import { InvalidInputError } from '../../common/errors';
import { mulberry32 } from '../../risk/stats/prng';
import { backoffMs, classifyRpcError, DEFAULT_BACKOFF, retryAfterMs, type BackoffOptions } from './retry';

export interface RetryPolicy extends BackoffOptions {
  /** Retries after the first attempt (0 = never retry). */
  maxRetries: number;
  /** How to wait; injectable so tests need not sleep. */
  sleep: (ms: number) => Promise<void>;
  /** Called before each wait (metrics, logs). */
  onRetry?: (info: { attempt: number; delayMs: number; method: string; error: unknown }) => void;
}

export interface ChainClientOptions {
  /** RPC URLs, best first. */
  urls: string[];
  chain?: Chain;
  /** Per-request timeout (ms); a timeout counts as retryable. */
  timeoutMs?: number;
  /** JSON-RPC batching: false, or the largest batch and the wait to gather one (ms). */
  batch?: false | { batchSize: number; waitMs: number };
  /** Re-rank URLs by measured latency and stability (viem `fallback` rank). Default false. */
  rank?: boolean;
  retry?: Partial<RetryPolicy>;
  pollingIntervalMs?: number;
}

const sleepReal = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function defaultRetryPolicy(seed = Date.now()): RetryPolicy {
  return { ...DEFAULT_BACKOFF, maxRetries: 5, random: mulberry32(seed), sleep: sleepReal };
}

/** Wraps any viem transport with the project's retry policy (`classifyRpcError` + `backoffMs`). */
export function retryingTransport(inner: Transport, policy: RetryPolicy): Transport {
  return (params) => {
    const t = inner({ ...params, retryCount: 0 });
    const request = (async (args: Parameters<EIP1193RequestFn>[0]) => {
      for (let attempt = 0; ; attempt += 1) {
        try {
          return await t.request(args);
        } catch (error) {
          if (attempt >= policy.maxRetries || classifyRpcError(error) === 'fatal') throw error;
          const delayMs = Math.max(backoffMs(attempt, policy), retryAfterMs(error, policy.capMs) ?? 0);
          policy.onRetry?.({ attempt, delayMs, method: args.method, error });
          await policy.sleep(delayMs);
        }
      }
    }) as EIP1193RequestFn;
    return createTransport(
      {
        key: 'retrying',
        name: 'Retrying',
        type: 'retrying',
        request,
        retryCount: 0,
        timeout: t.config.timeout,
      },
      t.value,
    );
  };
}

/** The fallback-over-URLs transport with batching and the retry policy (see the module header). */
export function resilientTransport(opts: ChainClientOptions): Transport {
  if (opts.urls.length === 0)
    throw new InvalidInputError('urls', 'no RPC URL given', {
      hint: 'Pass at least one http(s) RPC URL, best first.',
    });
  for (const [i, u] of opts.urls.entries()) {
    if (!/^https?:\/\//.test(u))
      throw new InvalidInputError(`urls[${i}]`, `"${u}" is not an http(s) URL`, {
        hint: 'Use a URL such as http://127.0.0.1:8545.',
      });
  }
  const batch = opts.batch ?? { batchSize: 100, waitMs: 0 };
  const httpTransports = opts.urls.map((u) =>
    http(u, {
      retryCount: 0,
      timeout: opts.timeoutMs ?? 10_000,
      batch: batch === false ? false : { batchSize: batch.batchSize, wait: batch.waitMs },
    }),
  );
  const inner = fallback(httpTransports, {
    rank: opts.rank ?? false,
    retryCount: 0,
    // Pass to the next URL unless the request itself is wrong (a revert, bad params, method missing
    // everywhere is still worth one more URL: providers differ in what they serve).
    shouldThrow: (err) => classifyRpcError(err) === 'fatal' && !isMethodNotFound(err),
  });
  return retryingTransport(inner, { ...defaultRetryPolicy(), ...opts.retry });
}

function isMethodNotFound(err: unknown): boolean {
  for (let e: unknown = err, i = 0; e && i < 16; e = (e as { cause?: unknown }).cause, i += 1) {
    if ((e as { code?: unknown }).code === -32601) return true;
  }
  return false;
}

export function createChainClient(opts: ChainClientOptions): PublicClient {
  return createPublicClient({
    ...(opts.chain ? { chain: opts.chain } : {}),
    transport: resilientTransport(opts),
    pollingInterval: opts.pollingIntervalMs ?? 1_000,
  }) as PublicClient;
}
