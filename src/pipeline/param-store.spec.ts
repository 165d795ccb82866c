import type { Redis } from 'ioredis';
import type { Hex } from 'viem';
import { redisKeys, type RedisKeys } from '../indexer/redis/keys';
import { RedisPriceHistory, type PriceObservation } from '../indexer/redis/price-history';
import { connectTestRedis, deleteKeys, testNetwork } from '../indexer/redis/test-redis';
import { DEFAULT_RISK_PARAMS } from '../risk';
import { defaultLiquidity, ParamEstimator } from './param-estimator';
import { paramSetHash, ParamStore, type ParamDraft } from './param-store';

let redis: Redis;
let keys: RedisKeys;
let logs: { event: string; fields?: Record<string, unknown> }[];
let store: ParamStore;

const draft = (closes: number[] = [100, 101, 99]): ParamDraft => ({
  params: DEFAULT_RISK_PARAMS,
  history: { intervalSec: 60, closesUsdByUnderlying: { ETH: closes, BTC: closes.map((c) => c * 30) } },
  liquidity: { ETH: { openInterestUsd: 1e6, depthUsd: 1e7 } },
  window: { endSec: 600, intervalSec: 60, count: closes.length },
});

beforeAll(async () => {
  redis = await connectTestRedis();
});

beforeEach(() => {
  keys = redisKeys(testNetwork());
  logs = [];
  store = new ParamStore(redis, keys.pipeline.params, (event, fields) => void logs.push({ event, fields }));
});

afterEach(async () => {
  await deleteKeys(redis, keys.prefix);
});

afterAll(() => redis.disconnect());

describe('ParamStore', () => {
  it('hashes the content only: not the reason, the time or the object key order', () => {
    const d = draft();
    const reordered: ParamDraft = {
      window: { count: 3, intervalSec: 60, endSec: 600 },
      liquidity: d.liquidity,
      history: d.history,
      params: d.params,
    };
    expect(paramSetHash(reordered)).toBe(paramSetHash(d));
    expect(paramSetHash(draft([100, 101, 98]))).not.toBe(paramSetHash(d));
    expect(paramSetHash({ ...d, window: { ...d.window, endSec: 660 } })).not.toBe(paramSetHash(d));
  });

  it('publishes version 1, then returns the active set unchanged for identical content', async () => {
    const first = await store.publish(draft(), 'initial', 1_000);
    expect(first.created).toBe(true);
    expect(first.previous).toBe(null);
    expect(first.set).toMatchObject({ version: 1, reason: 'initial', createdAtMs: 1_000 });
    expect(first.set.hash).toBe(paramSetHash(draft()));
    const again = await store.publish(draft(), 'scheduled re-estimation', 2_000);
    expect(again.created).toBe(false);
    expect(again.set).toEqual(first.set);
    expect(await store.versions()).toEqual([1]);
    expect(logs.filter((l) => l.event === 'params.published')).toHaveLength(1);
  });

  it('makes different content version + 1, logs old and new, and keeps every version readable', async () => {
    const v1 = (await store.publish(draft(), 'initial')).set;
    const r = await store.publish(draft([100, 102, 97]), 'scheduled re-estimation');
    expect(r.created).toBe(true);
    expect(r.set.version).toBe(2);
    expect(r.previous).toEqual({ version: 1, hash: v1.hash });
    expect((await store.active()).version).toBe(2);
    expect(await store.byVersion(1)).toEqual(v1);
    expect(await store.byHash(v1.hash)).toEqual(v1);
    expect((await store.byHash(r.set.hash))?.version).toBe(2);
    expect(await store.byVersion(3)).toBeUndefined();
    expect(await store.byHash(`0x${'00'.repeat(32)}` as Hex)).toBeUndefined();
    expect(logs.at(-1)).toEqual({
      event: 'params.published',
      fields: {
        reason: 'scheduled re-estimation',
        oldVersion: 1,
        oldHash: v1.hash,
        newVersion: 2,
        newHash: r.set.hash,
      },
    });
    // Back to the first content: a new version (the active one differs), never a rewrite of v1.
    const back = await store.publish(draft(), 'operator');
    expect(back.set.version).toBe(3);
    expect(back.set.hash).toBe(v1.hash);
    expect(await store.byVersion(1)).toEqual(v1);
  });

  it('refuses bad parameters, a window that does not match the history, and no reason', async () => {
    const bad = { ...draft(), params: { ...DEFAULT_RISK_PARAMS, imToMmMultiplier: Number.NaN } };
    await expect(store.publish(bad, 'operator')).rejects.toThrow(/imToMmMultiplier/);
    await expect(
      store.publish({ ...draft(), window: { endSec: 600, intervalSec: 60, count: 4 } }, 'x'),
    ).rejects.toThrow(/has 3 closes, the window says 4/);
    await expect(store.publish(draft(), ' ')).rejects.toThrow(/reason: is empty/);
    await expect(store.active()).rejects.toThrow(/No risk parameter set/);
  });
});

describe('ParamEstimator', () => {
  const E8 = 10n ** 8n;
  const obs = (asset: string, t: number, usd: bigint, block: bigint): PriceObservation => ({
    asset,
    price: { raw: usd * E8, decimals: 8 },
    timestampSec: t,
    roundId: BigInt(t),
    blockNumber: block,
    blockHash: `0x${block.toString(16).padStart(64, '0')}` as Hex,
  });

  it('publishes the initial set from the window, and a new version only when the window moved', async () => {
    const history = new RedisPriceHistory(redis, keys.priceHistory);
    await history.append([obs('ETH', 0, 2_000n, 1n), obs('BTC', 0, 60_000n, 1n)]);
    await history.append([obs('ETH', 60, 2_100n, 2n), obs('BTC', 60, 61_000n, 2n)]);
    await history.append([obs('ETH', 120, 1_900n, 3n), obs('BTC', 120, 59_000n, 3n)]);
    let now = 130;
    const estimator = new ParamEstimator({
      store,
      history,
      window: { intervalSec: 60, count: 3 },
      nowSec: async () => now,
      initial: { params: DEFAULT_RISK_PARAMS, liquidity: defaultLiquidity(DEFAULT_RISK_PARAMS) },
    });
    const first = await estimator.reestimate();
    expect(first.set.reason).toBe('initial');
    expect(first.set.history).toEqual({
      intervalSec: 60,
      closesUsdByUnderlying: { BTC: [60_000, 61_000, 59_000], ETH: [2_000, 2_100, 1_900] },
    });
    expect(first.set.window).toEqual({ endSec: 120, intervalSec: 60, count: 3 });
    now = 170; // same grid: same estimate
    expect((await estimator.reestimate()).created).toBe(false);
    await history.append([obs('ETH', 180, 1_800n, 4n), obs('BTC', 180, 58_000n, 4n)]);
    now = 185;
    const next = await estimator.reestimate();
    expect(next.created).toBe(true);
    expect(next.set).toMatchObject({ version: 2, reason: 'scheduled re-estimation' });
    expect(next.set.history.closesUsdByUnderlying.ETH).toEqual([2_100, 1_900, 1_800]);
    expect(next.set.liquidity).toEqual(first.set.liquidity);
  });

  it('refuses when the history is too short, naming the asset', async () => {
    const history = new RedisPriceHistory(redis, keys.priceHistory);
    await history.append([obs('ETH', 100, 2_000n, 1n)]);
    const estimator = new ParamEstimator({
      store,
      history,
      window: { intervalSec: 60, count: 3 },
      nowSec: async () => 130,
      initial: { params: DEFAULT_RISK_PARAMS, liquidity: {} },
    });
    await expect(estimator.reestimate()).rejects.toThrow(/Not enough price history for ETH/);
    expect(await store.versions()).toEqual([]);
  });
});
