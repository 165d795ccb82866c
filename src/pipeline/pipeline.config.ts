/**
 * The risk role's settings, from environment variables, validated once at start (each refusal
 * names the variable). The connection, network, manifest and RPC settings are the indexer's
 * (`loadIndexerConfig`).
 *
 * | Variable | Default | Meaning |
 * |---|---|---|
 * | `NETMARGIN_RISK_WARNING_BPS` | 1 000 | warning buffer above IM (basis points) |
 * | `NETMARGIN_RISK_MAX_LAG_BLOCKS` | 5 | a result more blocks than this behind the head is `indexer`-stale |
 * | `NETMARGIN_RISK_DEFAULT_HEARTBEAT_SEC` | 3 600 | heartbeat of a feed the manifest's aggregator does not list |
 * | `NETMARGIN_RISK_DEFAULT_GRACE_SEC` | 3 600 | sequencer grace period when the manifest has no aggregator |
 * | `NETMARGIN_RISK_CONCURRENCY` | 2 | `risk` jobs run at once |
 * | `NETMARGIN_PARAMS_EVERY_MS` | 3 600 000 | re-estimation interval (0 = never scheduled) |
 * | `NETMARGIN_PARAMS_INTERVAL_SEC` | 3 600 | spacing of the history window's closes |
 * | `NETMARGIN_PARAMS_WINDOW` | 25 | closes in the window (≥ 2) |
 */
import { InvalidInputError } from '../common/errors';

type Env = Record<string, string | undefined>;

export interface PipelineConfig {
  warningBufferBps: number;
  maxIndexerLagBlocks: number;
  defaultHeartbeatSec: number;
  defaultGracePeriodSec: number;
  riskConcurrency: number;
  paramsEveryMs: number;
  window: { intervalSec: number; count: number };
}

function whole(env: Env, name: string, min: number, fallback: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min)
    throw new InvalidInputError(name, `"${raw}" is not a whole number ≥ ${min}`, {
      hint: `Set ${name} to a whole number of at least ${min}, or unset it for the default (${fallback}).`,
      details: { value: raw },
    });
  return n;
}

export function loadPipelineConfig(env: Env): PipelineConfig {
  const paramsEveryMs = whole(env, 'NETMARGIN_PARAMS_EVERY_MS', 0, 3_600_000);
  if (paramsEveryMs > 0 && paramsEveryMs < 1_000)
    throw new InvalidInputError('NETMARGIN_PARAMS_EVERY_MS', `${paramsEveryMs} ms is below one second`, {
      hint: 'Set it to 0 (never scheduled) or at least 1000; hourly is typical.',
    });
  return {
    warningBufferBps: whole(env, 'NETMARGIN_RISK_WARNING_BPS', 0, 1_000),
    maxIndexerLagBlocks: whole(env, 'NETMARGIN_RISK_MAX_LAG_BLOCKS', 0, 5),
    defaultHeartbeatSec: whole(env, 'NETMARGIN_RISK_DEFAULT_HEARTBEAT_SEC', 1, 3_600),
    defaultGracePeriodSec: whole(env, 'NETMARGIN_RISK_DEFAULT_GRACE_SEC', 0, 3_600),
    riskConcurrency: whole(env, 'NETMARGIN_RISK_CONCURRENCY', 1, 2),
    paramsEveryMs,
    window: {
      intervalSec: whole(env, 'NETMARGIN_PARAMS_INTERVAL_SEC', 1, 3_600),
      count: whole(env, 'NETMARGIN_PARAMS_WINDOW', 2, 25),
    },
  };
}
