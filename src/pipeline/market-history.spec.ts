import type { Redis } from 'ioredis';
import type { Hex } from 'viem';
import type { MarketRecord } from '../indexer/market-recorder';
import { redisKeys, type RedisKeys } from '../indexer/redis/keys';
import { connectTestRedis, deleteKeys, testNetwork } from '../indexer/redis/test-redis';
import { RedisMarketHistory } from './market-history';

const hash = (n: bigint, branch = 0): Hex =>
  `0x${branch.toString(16)}${n.toString(16).padStart(63, '0')}` as Hex;

function record(n: bigint, branch = 0, ethUsd8 = 2_000n * 10n ** 8n): MarketRecord {
  return {
    blockNumber: n,
    blockHash: hash(n, branch),
    snapshot: {
      asOfSec: 1_000 + Number(n),
      market: {
        prices: { ETH: { answer: ethUsd8, decimals: 8, updatedAtSec: 1_000 } },
        assets: {},
        volSurfaces: {},
      },
    },
    rounds: {},
    sequencer: { feed: hash(0n).slice(0, 42) as Hex, up: true, sinceSec: 0, roundId: 1n },
  };
}

let redis: Redis;
let keys: RedisKeys;

beforeAll(async () => {
  redis = await connectTestRedis();
});
beforeEach(() => {
  keys = redisKeys(testNetwork());
});
afterEach(async () => {
  await deleteKeys(redis, keys.prefix);
});
afterAll(() => redis.disconnect());

describe('RedisMarketHistory', () => {
  it('serves the record at a block, the newest at or below one, and bigints exactly', async () => {
    const h = new RedisMarketHistory(redis, keys.pipeline.marketByBlock);
    for (const n of [10n, 11n, 13n]) expect(await h.record(record(n))).toBe(true);
    expect(await h.at(11n)).toEqual(record(11n));
    expect(await h.at(12n)).toBeUndefined();
    expect((await h.atOrBefore(12n))?.blockNumber).toBe(11n);
    expect(await h.atOrBefore(9n)).toBeUndefined();
    expect((await h.newest())?.blockNumber).toBe(13n);
    expect(await h.holds(13n, hash(13n))).toBe(true);
    expect(await h.holds(13n, hash(13n, 1))).toBe(false);
  });

  it('re-recording a held block is a no-op; another hash replaces that height and drops those above', async () => {
    const h = new RedisMarketHistory(redis, keys.pipeline.marketByBlock);
    for (const n of [10n, 11n, 12n]) await h.record(record(n));
    expect(await h.record(record(11n))).toBe(false);
    expect((await h.newest())?.blockNumber).toBe(12n);
    expect(await h.record(record(11n, 1, 1_500n * 10n ** 8n))).toBe(true);
    expect((await h.at(11n))?.blockHash).toBe(hash(11n, 1));
    expect(await h.at(12n)).toBeUndefined();
    expect((await h.at(10n))?.blockHash).toBe(hash(10n));
  });

  it('keeps the newest capBlocks blocks', async () => {
    const h = new RedisMarketHistory(redis, keys.pipeline.marketByBlock, 3);
    for (let n = 1n; n <= 6n; n++) await h.record(record(n));
    expect(await h.at(3n)).toBeUndefined();
    expect((await h.atOrBefore(100n))?.blockNumber).toBe(6n);
    expect(await redis.zcard(keys.pipeline.marketByBlock)).toBe(3);
  });
});
