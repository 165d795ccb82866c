/**
 * Every Redis key the indexer's stores use, in one place, so `docs/indexer.md` ("Redis keys and
 * storage") can list them and two processes can never disagree on a name.
 *
 * All keys start with `nm:{network}:` so several networks (and test runs, which use a random
 * network name) can share one Redis. Keys are built here and nowhere else.
 */
import { InvalidInputError } from '../../common/errors';

const SEGMENT = /^[A-Za-z0-9_.-]+$/;

function segment(field: string, value: string): string {
  if (!SEGMENT.test(value))
    throw new InvalidInputError(field, `"${value}" may only contain letters, digits, "_", "." and "-"`, {
      hint: 'Pick a name without ":" or spaces; it becomes part of a Redis key.',
    });
  return value;
}

/** Keys of one `RedisReorgStore` (one logical store, e.g. `positions`). */
export interface ReorgStoreKeys {
  /** Hash: store key → serialized `BlockStamped<T>`. */
  values: string;
  /** Sorted set: applied, not yet finalized blocks; score = block number, member = `<number>:<hash>`. */
  blocks: string;
  /** Hash: `<number>:<hash>` → JSON undo log of that block. */
  undo: string;
  /** Hash `{ number, hash }`: the finalized (or initial) block the state rests on. */
  anchor: string;
}

/** Keys of the price-history store. */
export interface PriceHistoryKeys {
  /** Set of asset names that have observations. */
  assets: string;
  /** Sorted set per asset: observations by `timestampSec`. */
  byTime(asset: string): string;
  /** Sorted set per asset: the same observations by block number (for rollback). */
  byBlock(asset: string): string;
  /** Prefix of the per-asset keys, used by the rollback script to build them. */
  assetPrefix: string;
}

/** Keys of the indexer's own bookkeeping (the head runner, reconciliation, metrics). */
export interface IndexerKeys {
  /** Hash `{ number, hash, parentHash }`: the newest block whose range has been queued. */
  cursor: string;
  /** String: JSON of the error that halted indexing (a reorg deeper than the finality depth). */
  halt: string;
  /** Set: owners a reorg undid, to refresh at the next block of the new branch. */
  reorgPending: string;
  /** String with a TTL: the process id holding the head-runner role (one per network). */
  leader: string;
  /** Hash: counters (field = metric name, value = integer), shared by every process. */
  metrics: string;
  /** String: JSON summary of the last reconciliation run. */
  reconcileLast: string;
}

/** Keys of the attestation poster (docs/pipeline.md "Poster"). */
export interface PosterKeys {
  /** String: the id of the last risk change read from the results' change stream. */
  cursor: string;
  /** Hash: owner → JSON of the last posted record (block, IM, MM, MTM, health, batch timestamp). */
  posted: string;
  /** Sorted set: owner → batch timestamp (s) of its last posted attestation (the age sweep reads it). */
  postedAt: string;
  /** Sorted set: owners waiting to be considered; score = ms since epoch they became candidates. */
  candidates: string;
  /** Hash: owner → id of the journaled batch carrying it (no second batch while one is in flight). */
  inFlight: string;
  /** Hash: batch id → JSON journal entry (records, nonce, signed transactions), written before broadcast. */
  journal: string;
  /** Set: ids of the journaled batches not yet posted or released. */
  openBatches: string;
  /** String: the relayer's next nonce. */
  nonce: string;
  /** Hash: counters and gauges (field = metric with labels, e.g. `poster_refusals_total{reason="oracle-stale"}`). */
  metrics: string;
  /** String with a TTL: the process id holding the poster role (one poster per network). */
  leader: string;
}

/** Keys of the shortfall feed (docs/pipeline.md "Shortfall feed"). */
export interface FeedKeys {
  /** Stream: one entry per threshold crossing, field `event` = serialized `ShortfallEvent` (trimmed, MAXLEN ~). */
  shortfalls: string;
}

/** Keys of the risk workers' stores (docs/pipeline.md "Risk workers", "Parameter sets"). */
export interface PipelineKeys {
  params: {
    /** String: the active parameter set's version. */
    active: string;
    /** Hash: version → serialized parameter set. */
    versions: string;
    /** Hash: version → the set's hash. */
    hashes: string;
    /** Hash: set hash → the newest version with that hash. */
    byHash: string;
  };
  results: {
    /** Hash: owner → serialized latest `RiskRecord`. */
    latest: string;
    /** Hash: owner → `<block>|<blockHash>|<positionsBlock>|<paramsVersion>|<digest>` of the latest. */
    meta: string;
    /** Hash: owner → counter ordering an owner's history entries. */
    seq: string;
    /** Sorted set per owner: stored records, score = block number, member = `<seq>|<record>`. */
    history(owner: string): string;
    /** Stream of `RiskChange` entries (fields owner, block, health), capped with MAXLEN ~. */
    changes: string;
    /** Hash: owner → `<digest>|<replaced record>` of a stored latest its listeners have not all heard. */
    unannounced: string;
  };
  /** Sorted set: recorded market snapshots, score = block number, member = `<hash>|<record>`. */
  marketByBlock: string;
  /** Hash: the risk workers' counters (field = metric name, value = integer). */
  metrics: string;
}

/** Keys of the API's partner authentication (`src/api/partners/auth.ts`). */
export interface PartnerKeys {
  /** String with a TTL of twice the allowed clock skew: a (key id, nonce) already used. */
  nonce(keyId: string, nonce: string): string;
  /** Counter with a TTL of one window: requests of a key id in a rate-limit window. */
  rate(keyId: string, window: number): string;
}

export interface RedisKeys {
  prefix: string;
  partners: PartnerKeys;
  reorgStore(name: string): ReorgStoreKeys;
  priceHistory: PriceHistoryKeys;
  indexer: IndexerKeys;
  poster: PosterKeys;
  feed: FeedKeys;
  pipeline: PipelineKeys;
}

/** Keys for `network` (e.g. `local`, `op-sepolia`, or a random `test-…` name in tests). */
export function redisKeys(network: string): RedisKeys {
  const prefix = `nm:${segment('network', network)}:`;
  const assetPrefix = `${prefix}ph:asset:`;
  return {
    prefix,
    // Key ids and nonces are checked by the partner authentication before a key is built.
    partners: {
      nonce: (keyId, nonce) => `${prefix}partners:nonce:${keyId}:${nonce}`,
      rate: (keyId, window) => `${prefix}partners:rate:${keyId}:${window}`,
    },
    reorgStore(name: string): ReorgStoreKeys {
      const base = `${prefix}store:${segment('store name', name)}:`;
      return {
        values: `${base}values`,
        blocks: `${base}blocks`,
        undo: `${base}undo`,
        anchor: `${base}anchor`,
      };
    },
    priceHistory: {
      assets: `${prefix}ph:assets`,
      byTime: (asset) => `${assetPrefix}${segment('asset', asset)}:by-time`,
      byBlock: (asset) => `${assetPrefix}${segment('asset', asset)}:by-block`,
      assetPrefix,
    },
    indexer: {
      cursor: `${prefix}indexer:cursor`,
      halt: `${prefix}indexer:halt`,
      reorgPending: `${prefix}indexer:reorg-pending`,
      leader: `${prefix}indexer:leader`,
      metrics: `${prefix}indexer:metrics`,
      reconcileLast: `${prefix}indexer:reconcile:last`,
    },
    poster: {
      cursor: `${prefix}poster:cursor`,
      posted: `${prefix}poster:posted`,
      postedAt: `${prefix}poster:posted-at`,
      candidates: `${prefix}poster:candidates`,
      inFlight: `${prefix}poster:in-flight`,
      journal: `${prefix}poster:journal`,
      openBatches: `${prefix}poster:open-batches`,
      nonce: `${prefix}poster:nonce`,
      metrics: `${prefix}poster:metrics`,
      leader: `${prefix}poster:leader`,
    },
    feed: {
      shortfalls: `${prefix}feed:shortfalls`,
    },
    pipeline: {
      params: {
        active: `${prefix}params:active`,
        versions: `${prefix}params:versions`,
        hashes: `${prefix}params:hashes`,
        byHash: `${prefix}params:by-hash`,
      },
      results: {
        latest: `${prefix}risk:latest`,
        meta: `${prefix}risk:meta`,
        seq: `${prefix}risk:seq`,
        history: (owner) => `${prefix}risk:history:${segment('owner', owner)}`,
        changes: `${prefix}risk:changes`,
        unannounced: `${prefix}risk:unannounced`,
      },
      marketByBlock: `${prefix}risk:market-by-block`,
      metrics: `${prefix}risk:metrics`,
    },
  };
}
