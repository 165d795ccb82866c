import type { Redis } from 'ioredis';
import { getAddress, type Address, type Hex } from 'viem';
import { account, AS_OF_SEC, lending } from '../../test/vectors/fixtures';
import { ReorgBuffer } from '../indexer/chain/store';
import type { OwnerPositions } from '../indexer/indexer.service';
import type { MarketRecord } from '../indexer/market-recorder';
import { redisKeys, type RedisKeys } from '../indexer/redis/keys';
import { serialize } from '../indexer/redis/serialize';
import { connectTestRedis, deleteKeys, testNetwork } from '../indexer/redis/test-redis';
import { computeAccountRisk, DEFAULT_RISK_PARAMS } from '../risk';
import type { PriceFeed } from '../risk/types';
import type { StalenessRules } from './classify';
import { RedisMarketHistory } from './market-history';
import { ParamStore } from './param-store';
import { RedisRiskResultStore } from './result-store';
import { positionsOf, RiskService } from './risk.service';
import type { ParamSet, RiskRecord } from './types';

const OWNER = getAddress('0x00000000000000000000000000000000000000a1');
const hash = (n: bigint, branch = 0): Hex =>
  `0x${branch.toString(16)}${n.toString(16).padStart(63, '0')}` as Hex;
const FEED = '0x00000000000000000000000000000000000000f1' as Address;

// An Aave account: 10 WETH against USDC debt, ETH at 3 000.
const base = account({ positions: [lending('collateral', 'aWETH', 10), lending('debt', 'USDC', 24_000)] });

function market(n: bigint, opts: { ethUsd?: number; dtSec?: number; branch?: number } = {}): MarketRecord {
  const prices: Record<string, PriceFeed> = { ...base.market.prices };
  const asOfSec = AS_OF_SEC + (opts.dtSec ?? 0);
  if (opts.ethUsd !== undefined)
    prices.ETH = { answer: BigInt(Math.round(opts.ethUsd * 1e8)), decimals: 8, updatedAtSec: asOfSec };
  const rounds = Object.fromEntries(
    Object.entries(prices).map(([u, p]) => [
      u,
      {
        feed: FEED,
        roundId: 1n,
        answer: p.answer,
        decimals: 8,
        startedAtSec: 0,
        updatedAtSec: p.updatedAtSec,
      },
    ]),
  );
  return {
    blockNumber: n,
    blockHash: hash(n, opts.branch),
    snapshot: { asOfSec, market: { prices, assets: base.market.assets, volSurfaces: {} } },
    rounds,
    sequencer: { feed: FEED, up: true, sinceSec: 0, roundId: 1n },
  };
}

const rules: StalenessRules = {
  heartbeatByFeed: new Map(),
  defaultHeartbeatSec: 1_800,
  sequencerGracePeriodSec: 3_600,
  maxIndexerLagBlocks: 5,
};

let redis: Redis;
let keys: RedisKeys;
let positions: ReorgBuffer<OwnerPositions>;
let markets: RedisMarketHistory;
let results: RedisRiskResultStore;
let service: RiskService;
let set: ParamSet;
let chainHead: bigint;
let heard: [RiskRecord, RiskRecord | undefined][];

const value = (debtUsdc: number): OwnerPositions => ({
  owner: OWNER,
  protocols: [
    {
      protocol: 'aave-v3',
      positions: [lending('collateral', 'aWETH', 10), lending('debt', 'USDC', debtUsdc)],
      attributes: {},
    },
  ],
});

beforeAll(async () => {
  redis = await connectTestRedis();
});

beforeEach(async () => {
  keys = redisKeys(testNetwork());
  positions = new ReorgBuffer<OwnerPositions>({ number: 9n, hash: hash(9n) });
  markets = new RedisMarketHistory(redis, keys.pipeline.marketByBlock);
  results = new RedisRiskResultStore(redis, keys.pipeline.results);
  const params = new ParamStore(redis, keys.pipeline.params);
  set = (
    await params.publish(
      {
        params: DEFAULT_RISK_PARAMS,
        history: base.market.history,
        liquidity: base.market.liquidity,
        window: {
          endSec: 0,
          intervalSec: base.market.history.intervalSec,
          count: base.market.history.closesUsdByUnderlying.ETH!.length,
        },
      },
      'operator',
    )
  ).set;
  chainHead = 10n;
  heard = [];
  service = new RiskService({
    positions,
    markets,
    params,
    results,
    rules,
    chainHead: async () => chainHead,
    metrics: { redis, key: keys.pipeline.metrics },
    nowMs: () => 1,
  });
  service.addListener({ onRecord: async (n, p) => void heard.push([n, p]) });
});

afterEach(async () => {
  await results.close();
  await deleteKeys(redis, keys.prefix);
});

afterAll(() => redis.disconnect());

describe('RiskService.recompute', () => {
  it('margins the stored positions against the market at the block, equal to computeAccountRisk', async () => {
    await positions.applyBlock({ number: 10n, hash: hash(10n) }, [{ key: OWNER, value: value(24_000) }]);
    await markets.record(market(10n));
    expect(await service.recompute(OWNER, { number: 10n, hash: hash(10n) })).toMatchObject({
      status: 'stored',
    });
    const r = (await results.latest(OWNER))!;
    const direct = computeAccountRisk(
      { account: OWNER, positions: positionsOf(value(24_000)), ...RiskService.snapshotOf(market(10n), set) },
      set.params,
    );
    expect(serialize(r.result)).toBe(serialize(direct));
    expect(r).toMatchObject({
      blockNumber: 10n,
      positionsBlockNumber: 10n,
      paramsVersion: set.version,
      paramsHash: set.hash,
      inputHash: direct.inputHash,
      stale: { oracle: false, sequencer: false, indexer: false, reasons: [] },
    });
    expect(heard).toHaveLength(1);
    // The same job again: nothing stored, nobody notified.
    expect((await service.recompute(OWNER, { number: 10n, hash: hash(10n) })).status).toBe('unchanged');
    expect(heard).toHaveLength(1);
  });

  it('tells the listeners of a record stored by an attempt that died before telling them', async () => {
    await positions.applyBlock({ number: 10n, hash: hash(10n) }, [{ key: OWNER, value: value(24_000) }]);
    await markets.record(market(10n));
    const silent = new RiskService({
      positions,
      markets,
      params: new ParamStore(redis, keys.pipeline.params),
      results: {
        put: (r: RiskRecord) => results.put(r),
        announced: async () => {
          throw new Error('killed before the mark');
        },
      } as unknown as RedisRiskResultStore,
      rules,
      chainHead: async () => chainHead,
      nowMs: () => 1,
    });
    await expect(silent.recompute(OWNER, { number: 10n, hash: hash(10n) })).rejects.toThrow(/killed/);
    expect(heard).toHaveLength(0);
    expect((await service.recompute(OWNER, { number: 10n, hash: hash(10n) })).status).toBe('unchanged');
    expect(heard).toHaveLength(1);
    expect(heard[0]![1]).toBeUndefined();
    expect((await service.recompute(OWNER, { number: 10n, hash: hash(10n) })).status).toBe('unchanged');
    expect(heard).toHaveLength(1);
  });

  it('waits (throws to be retried) while the positions write is still coming', async () => {
    await markets.record(market(10n));
    await expect(service.recompute(OWNER, { number: 10n, hash: hash(10n) })).rejects.toMatchObject({
      code: 'POSITIONS_NOT_STORED',
    });
    // Another owner written at the block moves the head to it: still coming.
    await positions.applyBlock({ number: 10n, hash: hash(10n) }, [
      { key: getAddress('0x00000000000000000000000000000000000000b2'), value: value(1) },
    ]);
    await expect(service.recompute(OWNER, { number: 10n, hash: hash(10n) })).rejects.toMatchObject({
      code: 'POSITIONS_NOT_STORED',
    });
    // The store passed the block without this owner: nothing to margin.
    await positions.applyBlock({ number: 11n, hash: hash(11n) }, []);
    expect((await service.recompute(OWNER, { number: 10n, hash: hash(10n) })).status).toBe('stale');
  });

  it('skips a job superseded by newer positions or from a dropped branch', async () => {
    await positions.applyBlock({ number: 10n, hash: hash(10n) }, []);
    await positions.applyBlock({ number: 11n, hash: hash(11n) }, [{ key: OWNER, value: value(24_000) }]);
    await markets.record(market(10n));
    await markets.record(market(11n));
    expect((await service.recompute(OWNER, { number: 10n, hash: hash(10n) })).status).toBe('superseded');
    expect((await service.recompute(OWNER, { number: 11n, hash: hash(11n, 1) })).status).toBe('stale');
    expect(await results.latest(OWNER)).toBeUndefined();
  });

  it('uses the newest market at or below the block, and refuses one older than the positions', async () => {
    await positions.applyBlock({ number: 10n, hash: hash(10n) }, []);
    await positions.applyBlock({ number: 11n, hash: hash(11n) }, [{ key: OWNER, value: value(24_000) }]);
    await markets.record(market(10n));
    await expect(service.recompute(OWNER, { number: 11n, hash: hash(11n) })).rejects.toMatchObject({
      code: 'MARKET_NOT_RECORDED',
    });
    await markets.record(market(11n));
    await positions.applyBlock({ number: 12n, hash: hash(12n) }, []);
    await positions.applyBlock({ number: 13n, hash: hash(13n) }, []);
    expect((await service.recompute(OWNER, { number: 12n, hash: hash(12n) })).status).toBe('stored');
    expect(await results.latest(OWNER)).toMatchObject({ blockNumber: 11n, positionsBlockNumber: 11n });
  });
});

describe('RiskService.recomputeMarket', () => {
  it('recomputes an owner whose underlying moved, at the block, and counts it', async () => {
    await positions.applyBlock({ number: 10n, hash: hash(10n) }, [{ key: OWNER, value: value(20_000) }]);
    await markets.record(market(10n));
    await service.recompute(OWNER, { number: 10n, hash: hash(10n) });
    expect((await results.latest(OWNER))!.health).toBe('healthy');
    // Block 11: nothing moved (same prices, 12 s later, fresh feeds): nobody recomputed.
    await markets.record(market(11n, { dtSec: 12 }));
    expect(await service.recomputeMarket({ number: 11n, hash: hash(11n) })).toMatchObject({
      status: 'done',
      recomputed: 0,
    });
    // Block 12: ETH −30 %: recomputed, now short, with no position change.
    await markets.record(market(12n, { dtSec: 24, ethUsd: 2_100 }));
    chainHead = 12n;
    expect(await service.recomputeMarket({ number: 12n, hash: hash(12n) })).toMatchObject({
      recomputed: 1,
      stored: 1,
    });
    const r = (await results.latest(OWNER))!;
    expect(r).toMatchObject({ blockNumber: 12n, positionsBlockNumber: 10n, health: 'liquidatable' });
    expect(r.shortfallUsd6).toBeGreaterThan(0n);
    expect(heard.at(-1)?.[1]?.blockNumber).toBe(10n);
    expect(await redis.hget(keys.pipeline.metrics, 'risk_market_recomputed')).toBe('1');
    expect(await redis.hget(keys.pipeline.metrics, 'risk_market_last_block')).toBe('12');
    // The same block again: the owner's latest is at it already.
    expect((await service.recomputeMarket({ number: 12n, hash: hash(12n) })).recomputed).toBe(0);
    // A block from another branch is stale.
    expect((await service.recomputeMarket({ number: 12n, hash: hash(12n, 1) })).status).toBe('stale');
  });

  it('leaves a block a newer recorded market supersedes to the newer block’s job, which carries its move', async () => {
    await positions.applyBlock({ number: 10n, hash: hash(10n) }, [{ key: OWNER, value: value(20_000) }]);
    await markets.record(market(10n));
    await service.recompute(OWNER, { number: 10n, hash: hash(10n) });
    // ETH falls at block 11; block 12 (nothing new) is recorded before block 11's job runs.
    await markets.record(market(11n, { dtSec: 12, ethUsd: 2_100 }));
    await markets.record(market(12n, { dtSec: 24, ethUsd: 2_100 }));
    chainHead = 12n;
    expect(await service.recomputeMarket({ number: 11n, hash: hash(11n) })).toMatchObject({
      status: 'superseded',
      recomputed: 0,
    });
    expect((await results.latest(OWNER))!.blockNumber).toBe(10n);
    expect(await redis.hget(keys.pipeline.metrics, 'risk_market_superseded')).toBe('1');
    // Block 12 compares with the market of the owner's latest result (block 10): the fall is in it.
    expect(await service.recomputeMarket({ number: 12n, hash: hash(12n) })).toMatchObject({
      status: 'done',
      recomputed: 1,
      stored: 1,
    });
    expect(await results.latest(OWNER)).toMatchObject({ blockNumber: 12n, health: 'liquidatable' });
  });

  it('recomputes when a feed passes its heartbeat with no new price', async () => {
    await positions.applyBlock({ number: 10n, hash: hash(10n) }, [{ key: OWNER, value: value(1_000) }]);
    await markets.record(market(10n));
    await service.recompute(OWNER, { number: 10n, hash: hash(10n) });
    await markets.record(market(11n, { dtSec: 1_801 }));
    chainHead = 11n;
    expect((await service.recomputeMarket({ number: 11n, hash: hash(11n) })).recomputed).toBe(1);
    const r = (await results.latest(OWNER))!;
    expect(r.stale.oracle).toBe(true);
    expect(r.stale.reasons).toContain('ETH/USD updated 1801 s ago, heartbeat 1800 s');
  });
});
