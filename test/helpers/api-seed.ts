/**
 * Stored data for the API's tests, produced the way production produces it: every persona's
 * positions read from the devnet by the real adapters (`directRead`) into the Redis positions store,
 * the market read by `readMarketData` into the recorded-market history, a published parameter set,
 * and each account's `RiskRecord` computed by the real engine (`computeAccountRisk`) on that market
 * and set, stored through `RedisRiskResultStore`. `seedBlock` can be called again after the market
 * moved: positions stay as stored, a new record per account is added (the market-move recompute).
 */
import type { Redis } from 'ioredis';
import type { Address, Client, PublicClient } from 'viem';
import { getAddress } from 'viem';
import type { DeploymentManifest } from '../../src/config/manifest';
import type { Devnet } from '../../src/devnet/devnet';
import { createAdapters } from '../../src/indexer/adapters';
import type { OwnerPositions } from '../../src/indexer/indexer.service';
import { readMarketData } from '../../src/indexer/market-data';
import type { MarketRecord } from '../../src/indexer/market-recorder';
import { redisKeys, type RedisKeys } from '../../src/indexer/redis/keys';
import { RedisReorgStore } from '../../src/indexer/redis/redis-store';
import {
  classify,
  stalenessFlags,
  stalenessRulesFromManifest,
  underlyingsOf,
  usd6Figures,
  type StalenessRules,
} from '../../src/pipeline/classify';
import { RedisMarketHistory } from '../../src/pipeline/market-history';
import { ParamStore } from '../../src/pipeline/param-store';
import { RedisRiskResultStore } from '../../src/pipeline/result-store';
import type { ParamSet, RiskRecord } from '../../src/pipeline/types';
import { computeAccountRisk, DEFAULT_RISK_PARAMS, type RiskParams } from '../../src/risk';
import type { MarketSnapshot, Position } from '../../src/risk/types';
import { directRead, hasPositions } from './indexer';
import { publishOperatorSet } from './operator-params';

/** Fewer Monte Carlo paths than production: the engine's figures are just as exact, faster to prepare. */
export const SEED_PARAMS: RiskParams = {
  ...DEFAULT_RISK_PARAMS,
  valueAtRisk: { ...DEFAULT_RISK_PARAMS.valueAtRisk, monteCarloPaths: 500 },
  oracle: { ...DEFAULT_RISK_PARAMS.oracle, maxAgeSec: 7_200 },
};

/** The staleness rules the API uses by default with this manifest. */
export function seedRules(m: DeploymentManifest): StalenessRules {
  return stalenessRulesFromManifest(m, {
    defaultHeartbeatSec: 3_600,
    defaultGracePeriodSec: 3_600,
    maxIndexerLagBlocks: 5,
  });
}

export interface Seeded {
  network: string;
  keys: RedisKeys;
  set: ParamSet;
  /** Owners with positions, checksummed. */
  owners: Address[];
  positions: Map<Address, OwnerPositions>;
  /** The stored positions' block. */
  positionsBlock: bigint;
  /** Records stored per block seeded, in order. */
  records: Map<bigint, Map<Address, RiskRecord>>;
  markets: Map<bigint, MarketRecord>;
}

/** The engine's market input of a recorded market under a set (what the risk workers margin with). */
export function seedSnapshot(market: MarketRecord, set: ParamSet): MarketSnapshot {
  return {
    asOfSec: market.snapshot.asOfSec,
    market: { ...market.snapshot.market, history: set.history, liquidity: set.liquidity },
  };
}

export const positionsOf = (v: OwnerPositions): Position[] => v.protocols.flatMap((p) => p.positions);

async function recordMarket(
  client: PublicClient,
  m: DeploymentManifest,
  block: bigint,
): Promise<MarketRecord> {
  const read = await readMarketData(client as unknown as Client, m, block, {
    history: { intervalSec: 86_400, closesUsdByUnderlying: {} },
    liquidity: {},
  });
  const { history: _h, liquidity: _l, ...market } = read.snapshot.market;
  return { ...read, snapshot: { ...read.snapshot, market } };
}

/** Reads every persona at the head, stores positions, market, the parameter set and one record per account. */
export async function seedFromDevnet(devnet: Devnet, redis: Redis, network: string): Promise<Seeded> {
  const m = devnet.manifest;
  const client = devnet.clients.publicClient as unknown as PublicClient;
  const keys = redisKeys(network);
  const adapters = createAdapters(m);
  const head = await client.getBlock({ blockTag: 'latest' });
  const positions = new Map<Address, OwnerPositions>();
  for (const a of m.accounts) {
    const owner = getAddress(a.address);
    const read = await directRead({ client, adapters, manifest: m }, owner, head.number);
    if (hasPositions(read)) positions.set(owner, read);
  }
  const store = await RedisReorgStore.open<OwnerPositions>({
    redis,
    keys: keys.reorgStore('positions'),
    anchor: { number: head.number - 1n, hash: head.parentHash },
  });
  await store.applyBlock(
    { number: head.number, hash: head.hash },
    [...positions].map(([owner, value]) => ({ key: owner, value })),
  );
  const market = await recordMarket(client, m, head.number);
  const set = await publishOperatorSet(
    new ParamStore(redis, keys.pipeline.params),
    SEED_PARAMS,
    market.snapshot.market.prices,
  );
  const seeded: Seeded = {
    network,
    keys,
    set,
    owners: [...positions.keys()].sort(),
    positions,
    positionsBlock: head.number,
    records: new Map(),
    markets: new Map(),
  };
  await seedBlock(seeded, devnet, redis, market);
  return seeded;
}

/** Records the market at the head (or `market`) and stores every owner's record computed on it. */
export async function seedBlock(
  seeded: Seeded,
  devnet: Devnet,
  redis: Redis,
  market?: MarketRecord,
): Promise<bigint> {
  const client = devnet.clients.publicClient as unknown as PublicClient;
  const rec =
    market ?? (await recordMarket(client, devnet.manifest, await client.getBlockNumber({ cacheTime: 0 })));
  await new RedisMarketHistory(redis, seeded.keys.pipeline.marketByBlock).record(rec);
  const results = new RedisRiskResultStore(redis, seeded.keys.pipeline.results);
  const rules = seedRules(devnet.manifest);
  const snapshot = seedSnapshot(rec, seeded.set);
  const stored = new Map<Address, RiskRecord>();
  for (const owner of seeded.owners) {
    const positions = positionsOf(seeded.positions.get(owner)!);
    const result = computeAccountRisk({ account: owner, positions, ...snapshot }, seeded.set.params);
    const stale = stalenessFlags(
      rec,
      underlyingsOf(positions, rec.snapshot.market.assets),
      rec.blockNumber,
      rules,
    );
    const figures = usd6Figures(result);
    const record: RiskRecord = {
      owner,
      blockNumber: rec.blockNumber,
      blockHash: rec.blockHash,
      asOfSec: rec.snapshot.asOfSec,
      positionsBlockNumber: seeded.positionsBlock,
      paramsVersion: seeded.set.version,
      paramsHash: seeded.set.hash,
      inputHash: result.inputHash,
      health: classify(figures, stale, { warningBufferBps: 1_000 }),
      ...figures,
      stale,
      computedAtMs: Date.now(),
      result,
    };
    const { outcome } = await results.put(record);
    if (outcome !== 'stored')
      throw new Error(`record of ${owner} at ${rec.blockNumber} not stored: ${outcome}`);
    stored.set(owner, record);
  }
  seeded.records.set(rec.blockNumber, stored);
  seeded.markets.set(rec.blockNumber, rec);
  return rec.blockNumber;
}
