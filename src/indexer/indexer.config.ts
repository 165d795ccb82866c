/**
 * The indexer worker's configuration: read from environment variables once, at start, into one typed
 * object. Every bad value stops the process with an `InvalidInputError` naming the variable and what to
 * set; nothing else in the worker reads `process.env`.
 *
 * | Variable | Default | Meaning |
 * | --- | --- | --- |
 * | `NETMARGIN_RPC_URLS` | the manifest's `network.rpcUrl` | comma-separated http(s) RPC URLs, best first |
 * | `NETMARGIN_RPC_TIMEOUT_MS` | 10 000 | per-request timeout (a timeout is retried) |
 * | `REDIS_URL` | `redis://127.0.0.1:6379` | the Redis every process of the network shares |
 * | `NETMARGIN_NETWORK` | `local` | the network's Redis namespace (`nm:{network}:`) |
 * | `NETMARGIN_MANIFEST` | `deployments/local.json` | the deployment manifest |
 * | `NETMARGIN_ROLES` | `head,index,refresh` | what this process does (see `INDEXER_ROLES`) |
 * | `NETMARGIN_INDEX_CONCURRENCY` | 2 | `index-range` jobs run at once in this process |
 * | `NETMARGIN_REFRESH_CONCURRENCY` | 4 | `refresh` jobs at once in the one writing process (reads overlap, writes are chained) |
 * | `NETMARGIN_FINALITY_DEPTH` | 6 | blocks a reorg may drop before indexing halts |
 * | `NETMARGIN_POLL_MS` | 2 000 | head polling interval (the OP-stack block time) |
 * | `NETMARGIN_LOCK_DURATION_MS` | BullMQ's (30 000) | a job's lock; a dead worker's job is redelivered after it |
 * | `NETMARGIN_STALLED_INTERVAL_MS` | BullMQ's (30 000) | how often workers look for jobs whose lock expired |
 * | `NETMARGIN_RECONCILE_EVERY_MS` | 300 000 | `reconcile` role: run interval (0 = never scheduled, by hand only) |
 */
import { InvalidInputError } from '../common/errors';
import { DEFAULT_MANIFEST_PATH } from '../config/manifest';

/**
 * - `head`: follows the chain head and queues ranges (one process per network);
 * - `index`: drains `index-range` (log reads; any number of processes);
 * - `refresh`: drains `refresh` (store writes, chained in-process; one process per network);
 * - `risk`: drains `risk` (the risk engine);
 * - `reconcile`: compares the store with the chain on a schedule.
 */
export const INDEXER_ROLES = ['head', 'index', 'refresh', 'risk', 'reconcile'] as const;
export type IndexerRole = (typeof INDEXER_ROLES)[number];

export interface IndexerConfig {
  /** RPC URLs, best first; undefined = the manifest's `network.rpcUrl`. */
  rpcUrls: string[] | undefined;
  rpcTimeoutMs: number;
  redisUrl: string;
  network: string;
  manifestPath: string;
  roles: IndexerRole[];
  indexConcurrency: number;
  /** `refresh` jobs at once in the writing process: chain reads overlap, store writes stay chained. */
  refreshConcurrency: number;
  finalityDepth: number;
  pollMs: number;
  /** BullMQ worker `lockDuration`; undefined = BullMQ's default. */
  lockDurationMs: number | undefined;
  /** BullMQ worker `stalledInterval`; undefined = BullMQ's default. */
  stalledIntervalMs: number | undefined;
  /** `reconcile` role: how often a run is scheduled; 0 = never (runs are queued by hand). */
  reconcileEveryMs: number;
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_ROLES: readonly IndexerRole[] = ['head', 'index', 'refresh'];

type Env = Readonly<Record<string, string | undefined>>;

/** A variable's value, or undefined when unset or blank. */
function read(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function wholeNumber(env: Env, name: string, min: number, fallback: number): number;
function wholeNumber(env: Env, name: string, min: number, fallback: undefined): number | undefined;
function wholeNumber(env: Env, name: string, min: number, fallback: number | undefined): number | undefined {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min)
    throw new InvalidInputError(name, `"${raw}" is not a whole number ≥ ${min}`, {
      hint: `Set ${name} to a whole number of at least ${min}, or unset it for the default${
        fallback === undefined ? '' : ` (${fallback})`
      }.`,
      details: { value: raw },
    });
  return n;
}

function httpUrl(name: string, raw: string): string {
  let u: URL | undefined;
  try {
    u = new URL(raw);
  } catch {
    u = undefined;
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.hostname === '')
    throw new InvalidInputError(name, `"${raw}" is not an http(s) URL`, {
      hint: `Set ${name} to comma-separated RPC URLs, best first, e.g. http://127.0.0.1:8545,https://rpc.example.org.`,
      details: { value: raw },
    });
  return raw;
}

/** Reads the worker's configuration from `env` (usually `process.env`); throws on the first bad variable. */
export function loadIndexerConfig(env: Env): IndexerConfig {
  const urlsRaw = read(env, 'NETMARGIN_RPC_URLS');
  const rpcUrls = urlsRaw
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => httpUrl('NETMARGIN_RPC_URLS', s));
  if (rpcUrls !== undefined && rpcUrls.length === 0)
    throw new InvalidInputError('NETMARGIN_RPC_URLS', 'no URL in the list', {
      hint: 'Set NETMARGIN_RPC_URLS to comma-separated RPC URLs, or unset it to use the manifest’s rpcUrl.',
    });

  const redisUrl = read(env, 'REDIS_URL') ?? DEFAULT_REDIS_URL;
  if (!/^rediss?:\/\/[^/\s]+/.test(redisUrl))
    throw new InvalidInputError('REDIS_URL', `"${redisUrl}" is not a redis:// or rediss:// URL`, {
      hint: `Set REDIS_URL like ${DEFAULT_REDIS_URL} (or redis://:password@host:6379/0), or unset it.`,
      details: { value: redisUrl },
    });

  const network = read(env, 'NETMARGIN_NETWORK') ?? 'local';
  if (!/^[A-Za-z0-9_.-]+$/.test(network))
    throw new InvalidInputError(
      'NETMARGIN_NETWORK',
      `"${network}" may only contain letters, digits, "_", "." and "-"`,
      {
        hint: 'Set NETMARGIN_NETWORK to a short name such as local or op-sepolia; it becomes part of Redis keys.',
        details: { value: network },
      },
    );

  const rolesRaw = read(env, 'NETMARGIN_ROLES');
  const roles: IndexerRole[] = [];
  for (const r of rolesRaw === undefined ? DEFAULT_ROLES : rolesRaw.split(',').map((s) => s.trim())) {
    if (r === '') continue;
    if (!(INDEXER_ROLES as readonly string[]).includes(r))
      throw new InvalidInputError('NETMARGIN_ROLES', `unknown role "${r}"`, {
        hint: `Set NETMARGIN_ROLES to a comma-separated subset of ${INDEXER_ROLES.join(',')}.`,
        details: { value: rolesRaw },
      });
    if (!roles.includes(r as IndexerRole)) roles.push(r as IndexerRole);
  }
  if (roles.length === 0)
    throw new InvalidInputError('NETMARGIN_ROLES', 'no role given', {
      hint: `Set NETMARGIN_ROLES to a comma-separated subset of ${INDEXER_ROLES.join(',')}, or unset it for ${DEFAULT_ROLES.join(',')}.`,
    });

  const lockDurationMs = wholeNumber(env, 'NETMARGIN_LOCK_DURATION_MS', 100, undefined);
  const stalledIntervalMs = wholeNumber(env, 'NETMARGIN_STALLED_INTERVAL_MS', 100, undefined);
  const reconcileEveryMs = wholeNumber(env, 'NETMARGIN_RECONCILE_EVERY_MS', 0, 300_000);
  if (reconcileEveryMs > 0 && reconcileEveryMs < 1_000)
    throw new InvalidInputError(
      'NETMARGIN_RECONCILE_EVERY_MS',
      `${reconcileEveryMs} ms is below one second`,
      {
        hint: 'Set NETMARGIN_RECONCILE_EVERY_MS to 0 (never scheduled) or at least 1000; every few minutes is typical.',
        details: { value: reconcileEveryMs },
      },
    );

  return {
    rpcUrls,
    rpcTimeoutMs: wholeNumber(env, 'NETMARGIN_RPC_TIMEOUT_MS', 1, 10_000),
    redisUrl,
    network,
    manifestPath: read(env, 'NETMARGIN_MANIFEST') ?? DEFAULT_MANIFEST_PATH,
    roles,
    indexConcurrency: wholeNumber(env, 'NETMARGIN_INDEX_CONCURRENCY', 1, 2),
    refreshConcurrency: wholeNumber(env, 'NETMARGIN_REFRESH_CONCURRENCY', 1, 4),
    finalityDepth: wholeNumber(env, 'NETMARGIN_FINALITY_DEPTH', 1, 6),
    pollMs: wholeNumber(env, 'NETMARGIN_POLL_MS', 1, 2_000),
    lockDurationMs,
    stalledIntervalMs,
    reconcileEveryMs,
  };
}
