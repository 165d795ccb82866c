/**
 * The API's configuration: read from environment variables once, at start, into one typed object.
 * A bad value stops the process with an `InvalidInputError` naming the variable and what to set.
 *
 * | Variable | Default | Meaning |
 * | --- | --- | --- |
 * | `API_HOST` | `127.0.0.1` | interface to listen on (`0.0.0.0` in a container) |
 * | `API_PORT` | 8787 | port (0 = any free port, printed at start) |
 * | `REDIS_URL` | `redis://127.0.0.1:6379` | the Redis the workers write |
 * | `NETMARGIN_NETWORK` | `local` | the network's Redis namespace (`nm:{network}:`) |
 * | `NETMARGIN_MANIFEST` | `deployments/local.json` if present | oracle heartbeats and grace period for a what-if's staleness flags |
 * | `API_BODY_LIMIT_BYTES` | 65 536 | largest JSON body; larger is answered 413 |
 * | `API_MAX_TRADES` | 50 | trades in one what-if; more is answered 413 |
 * | `API_MAX_BATCH` | 100 | accounts in one batch request; more is answered 413 |
 * | `NETMARGIN_RISK_WARNING_BPS` | 1 000 | warning buffer above IM (as the risk workers) |
 * | `NETMARGIN_RISK_DEFAULT_HEARTBEAT_SEC` | 3 600 | heartbeat of a feed the manifest does not list |
 * | `NETMARGIN_RISK_DEFAULT_GRACE_SEC` | 3 600 | sequencer grace period when the manifest has no aggregator |
 */
import { existsSync } from 'node:fs';
import { InvalidInputError } from '../common/errors';
import { DEFAULT_MANIFEST_PATH } from '../config/manifest';
import { DEFAULT_REDIS_URL } from '../indexer/indexer.config';
import { DEFAULT_BODY_LIMIT_BYTES } from './http/limits';

export interface ApiConfig {
  host: string;
  port: number;
  redisUrl: string;
  network: string;
  /** Manifest for the staleness rules; undefined = defaults only. */
  manifestPath: string | undefined;
  bodyLimitBytes: number;
  maxTrades: number;
  maxBatch: number;
  warningBufferBps: number;
  defaultHeartbeatSec: number;
  defaultGracePeriodSec: number;
}

type Env = Readonly<Record<string, string | undefined>>;

function read(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function whole(env: Env, name: string, min: number, max: number, fallback: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new InvalidInputError(name, `"${raw}" is not a whole number from ${min} to ${max}`, {
      hint: `Set ${name} to a whole number from ${min} to ${max}, or unset it for the default (${fallback}).`,
      details: { value: raw },
    });
  return n;
}

/** Reads the API's configuration from `env` (usually `process.env`); throws on the first bad variable. */
export function loadApiConfig(env: Env): ApiConfig {
  const redisUrl = read(env, 'REDIS_URL') ?? DEFAULT_REDIS_URL;
  if (!/^rediss?:\/\/[^/\s]+/.test(redisUrl))
    throw new InvalidInputError('REDIS_URL', `"${redisUrl}" is not a redis:// or rediss:// URL`, {
      hint: `Set REDIS_URL like ${DEFAULT_REDIS_URL}, or unset it.`,
    });
  const network = read(env, 'NETMARGIN_NETWORK') ?? 'local';
  if (!/^[A-Za-z0-9_.-]+$/.test(network))
    throw new InvalidInputError(
      'NETMARGIN_NETWORK',
      `"${network}" may only contain letters, digits, "_", "." and "-"`,
      {
        hint: 'Set NETMARGIN_NETWORK to the name the workers use, such as local or op-sepolia.',
      },
    );
  const host = read(env, 'API_HOST') ?? '127.0.0.1';
  if (!/^[A-Za-z0-9.:-]+$/.test(host))
    throw new InvalidInputError('API_HOST', `"${host}" is not a host name or IP address`, {
      hint: 'Set API_HOST to 127.0.0.1 (this machine only) or 0.0.0.0 (every interface).',
    });
  const manifestRaw = read(env, 'NETMARGIN_MANIFEST');
  if (manifestRaw !== undefined && !existsSync(manifestRaw))
    throw new InvalidInputError('NETMARGIN_MANIFEST', `"${manifestRaw}" does not exist`, {
      hint: 'Point NETMARGIN_MANIFEST at the deployment manifest (npm run devnet writes deployments/local.json), or unset it.',
    });
  return {
    host,
    port: whole(env, 'API_PORT', 0, 65_535, 8_787),
    redisUrl,
    network,
    manifestPath: manifestRaw ?? (existsSync(DEFAULT_MANIFEST_PATH) ? DEFAULT_MANIFEST_PATH : undefined),
    bodyLimitBytes: whole(env, 'API_BODY_LIMIT_BYTES', 256, 64 * 1024 * 1024, DEFAULT_BODY_LIMIT_BYTES),
    maxTrades: whole(env, 'API_MAX_TRADES', 1, 10_000, 50),
    maxBatch: whole(env, 'API_MAX_BATCH', 1, 100_000, 100),
    warningBufferBps: whole(env, 'NETMARGIN_RISK_WARNING_BPS', 0, 1_000_000, 1_000),
    defaultHeartbeatSec: whole(env, 'NETMARGIN_RISK_DEFAULT_HEARTBEAT_SEC', 1, 365 * 86_400, 3_600),
    defaultGracePeriodSec: whole(env, 'NETMARGIN_RISK_DEFAULT_GRACE_SEC', 0, 365 * 86_400, 3_600),
  };
}
