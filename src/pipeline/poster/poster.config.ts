/**
 * The poster's configuration: read from environment variables once, at start, into one typed object.
 * Every bad value stops the process with an `InvalidInputError` naming the variable and what to set;
 * a key's value never appears in an error.
 *
 * | Variable | Default | Meaning |
 * | --- | --- | --- |
 * | `REDIS_URL` | `redis://127.0.0.1:6379` | the Redis every process of the network shares |
 * | `NETMARGIN_NETWORK` | `local` | the network's Redis namespace (`nm:{network}:`) |
 * | `NETMARGIN_MANIFEST` | `deployments/local.json` | the deployment manifest (aggregator, feeds, signer set) |
 * | `NETMARGIN_RPC_URLS` | the manifest's `network.rpcUrl` | comma-separated http(s) RPC URLs, best first |
 * | `NETMARGIN_POSTER_SIGNER_KEYS` | the manifest's devnet signer keys | comma-separated attestation signer keys (m of them at least) |
 * | `NETMARGIN_POSTER_RELAYER_KEY` | — (required) | key of the account that sends `postAttestations` and pays gas |
 * | `NETMARGIN_POSTER_POLL_MS` | 1 000 | pause between rounds |
 * | `NETMARGIN_POSTER_MIN_CHANGE_USD6` | 1 000 000 (1 USD) | smallest IM / MM / MTM change that is material |
 * | `NETMARGIN_POSTER_MIN_CHANGE_BPS` | 50 | smallest change, relative to the posted value, that is material |
 * | `NETMARGIN_POSTER_MAX_AGE_SEC` | half the aggregator's `maxAttestationAgeSec` | re-post an attestation older than this |
 * | `NETMARGIN_POSTER_MAX_INDEXER_LAG_BLOCKS` | 5 | refuse to sign when the indexer is further behind |
 * | `NETMARGIN_POSTER_HEARTBEAT_SEC` | each asset's aggregator heartbeat | a stricter price age limit for signing |
 * | `NETMARGIN_POSTER_DEADLINE_SEC` | 600 | batch deadline after signing |
 * | `NETMARGIN_POSTER_MAX_BATCH` | 500 | records per batch at most |
 * | `NETMARGIN_POSTER_MAX_CALLDATA_BYTES` | 120 000 | calldata per transaction at most (OP-stack nodes take ≤ 128 KiB) |
 * | `NETMARGIN_POSTER_FEE_CAP_WEI` | 100 000 000 000 000 (1e14) | (L1 + L2 fee) per account above which a batch waits |
 * | `NETMARGIN_POSTER_MAX_HOLD_MS` | 30 000 | how long a record may wait for a cheaper batch |
 * | `NETMARGIN_POSTER_STUCK_BLOCKS` | 3 | blocks before a transaction is replaced |
 * | `NETMARGIN_POSTER_STUCK_MS` | 20 000 | milliseconds before a transaction is replaced |
 */
import type { Hex } from 'viem';
import { InvalidInputError } from '../../common/errors';
import { DEFAULT_MANIFEST_PATH } from '../../config/manifest';
import { parsePrivateKey } from './signer';

export interface PosterConfig {
  redisUrl: string;
  network: string;
  manifestPath: string;
  rpcUrls: string[] | undefined;
  /** Undefined = the manifest's devnet signer keys. */
  signerKeys: Hex[] | undefined;
  relayerKey: Hex;
  pollMs: number;
  minChangeUsd6: bigint;
  minChangeBps: bigint;
  /** Undefined = half the aggregator's `maxAttestationAgeSec`. */
  maxAgeSec: bigint | undefined;
  maxIndexerLagBlocks: bigint;
  /** Undefined = each asset's heartbeat as listed on the aggregator. */
  heartbeatSec: number | undefined;
  deadlineSec: bigint;
  maxBatchRecords: number;
  maxCalldataBytes: number;
  feeCapPerAccountWei: bigint;
  maxHoldMs: number;
  stuckBlocks: bigint;
  stuckMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;

function read(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function whole(env: Env, name: string, min: bigint, fallback: bigint): bigint;
function whole(env: Env, name: string, min: bigint, fallback: undefined): bigint | undefined;
function whole(env: Env, name: string, min: bigint, fallback: bigint | undefined): bigint | undefined {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || BigInt(raw) < min)
    throw new InvalidInputError(name, `"${raw}" is not a whole number ≥ ${min}`, {
      hint: `Set ${name} to a whole number of at least ${min}, or unset it for the default${
        fallback === undefined ? '' : ` (${fallback})`
      }.`,
      details: { value: raw },
    });
  return BigInt(raw);
}

const small = (v: bigint, name: string): number => {
  if (v > BigInt(Number.MAX_SAFE_INTEGER))
    throw new InvalidInputError(name, `${v} is too large`, { hint: `Set ${name} to a smaller number.` });
  return Number(v);
};

function keys(env: Env, name: string): Hex[] | undefined {
  const raw = read(env, name);
  if (raw === undefined) return undefined;
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (list.length === 0)
    throw new InvalidInputError(name, 'no key in the list', {
      hint: `Set ${name} to comma-separated 0x-prefixed private keys, or unset it.`,
    });
  return list.map((k) => parsePrivateKey(k, name));
}

/** Reads the poster's configuration from `env` (usually `process.env`); throws on the first bad variable. */
export function loadPosterConfig(env: Env): PosterConfig {
  const redisUrl = read(env, 'REDIS_URL') ?? 'redis://127.0.0.1:6379';
  if (!/^rediss?:\/\/[^/\s]+/.test(redisUrl))
    throw new InvalidInputError('REDIS_URL', `"${redisUrl}" is not a redis:// or rediss:// URL`, {
      hint: 'Set REDIS_URL like redis://127.0.0.1:6379, or unset it.',
      details: { value: redisUrl },
    });
  const network = read(env, 'NETMARGIN_NETWORK') ?? 'local';
  if (!/^[A-Za-z0-9_.-]+$/.test(network))
    throw new InvalidInputError(
      'NETMARGIN_NETWORK',
      `"${network}" may only contain letters, digits, "_", "." and "-"`,
      {
        hint: 'Set NETMARGIN_NETWORK to the name the indexer and the risk workers use (e.g. local).',
      },
    );
  const rpcRaw = read(env, 'NETMARGIN_RPC_URLS');
  const rpcUrls = rpcRaw
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const u of rpcUrls ?? [])
    if (!/^https?:\/\/[^/\s]+/.test(u))
      throw new InvalidInputError('NETMARGIN_RPC_URLS', `"${u}" is not an http(s) URL`, {
        hint: 'Set NETMARGIN_RPC_URLS to comma-separated RPC URLs, best first, or unset it for the manifest’s.',
      });
  const relayer = keys(env, 'NETMARGIN_POSTER_RELAYER_KEY');
  if (!relayer)
    throw new InvalidInputError('NETMARGIN_POSTER_RELAYER_KEY', 'is not set', {
      hint: 'Set NETMARGIN_POSTER_RELAYER_KEY to the private key of a funded account that sends the batches (on the devnet: any seeded account’s key from the manifest).',
    });
  if (relayer.length !== 1)
    throw new InvalidInputError('NETMARGIN_POSTER_RELAYER_KEY', `holds ${relayer.length} keys`, {
      hint: 'Set exactly one relayer key; one account sends every batch so its nonces stay in order.',
    });
  const maxAgeSec = whole(env, 'NETMARGIN_POSTER_MAX_AGE_SEC', 1n, undefined);
  const heartbeat = whole(env, 'NETMARGIN_POSTER_HEARTBEAT_SEC', 1n, undefined);
  return {
    redisUrl,
    network,
    manifestPath: read(env, 'NETMARGIN_MANIFEST') ?? DEFAULT_MANIFEST_PATH,
    rpcUrls: rpcUrls && rpcUrls.length > 0 ? rpcUrls : undefined,
    signerKeys: keys(env, 'NETMARGIN_POSTER_SIGNER_KEYS'),
    relayerKey: relayer[0]!,
    pollMs: small(whole(env, 'NETMARGIN_POSTER_POLL_MS', 10n, 1_000n), 'NETMARGIN_POSTER_POLL_MS'),
    minChangeUsd6: whole(env, 'NETMARGIN_POSTER_MIN_CHANGE_USD6', 0n, 1_000_000n),
    minChangeBps: whole(env, 'NETMARGIN_POSTER_MIN_CHANGE_BPS', 0n, 50n),
    maxAgeSec,
    maxIndexerLagBlocks: whole(env, 'NETMARGIN_POSTER_MAX_INDEXER_LAG_BLOCKS', 0n, 5n),
    heartbeatSec: heartbeat === undefined ? undefined : small(heartbeat, 'NETMARGIN_POSTER_HEARTBEAT_SEC'),
    deadlineSec: whole(env, 'NETMARGIN_POSTER_DEADLINE_SEC', 10n, 600n),
    maxBatchRecords: small(whole(env, 'NETMARGIN_POSTER_MAX_BATCH', 1n, 500n), 'NETMARGIN_POSTER_MAX_BATCH'),
    maxCalldataBytes: small(
      whole(env, 'NETMARGIN_POSTER_MAX_CALLDATA_BYTES', 1_000n, 120_000n),
      'NETMARGIN_POSTER_MAX_CALLDATA_BYTES',
    ),
    feeCapPerAccountWei: whole(env, 'NETMARGIN_POSTER_FEE_CAP_WEI', 0n, 100_000_000_000_000n),
    maxHoldMs: small(whole(env, 'NETMARGIN_POSTER_MAX_HOLD_MS', 0n, 30_000n), 'NETMARGIN_POSTER_MAX_HOLD_MS'),
    stuckBlocks: whole(env, 'NETMARGIN_POSTER_STUCK_BLOCKS', 1n, 3n),
    stuckMs: small(whole(env, 'NETMARGIN_POSTER_STUCK_MS', 100n, 20_000n), 'NETMARGIN_POSTER_STUCK_MS'),
  };
}
