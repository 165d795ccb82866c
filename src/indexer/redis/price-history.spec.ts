import type { Redis } from 'ioredis';
import type { Hex } from 'viem';
import { redisKeys, type RedisKeys } from './keys';
import { RedisPriceHistory, toPriceHistory, type PriceObservation } from './price-history';
import { connectTestRedis, deleteKeys, testNetwork } from './test-redis';

const hash = (n: bigint, branch = 0): Hex =>
  `0x${branch.toString(16)}${n.toString(16).padStart(63, '0')}` as Hex;

const obs = (
  asset: string,
  timestampSec: number,
  raw: bigint,
  blockNumber: bigint,
  branch = 0,
): PriceObservation => ({
  asset,
  price: { raw, decimals: 8 },
  timestampSec,
  roundId: BigInt(timestampSec),
  blockNumber,
  blockHash: hash(blockNumber, branch),
});

const E8 = 10n ** 8n;

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

afterAll(() => {
  redis?.disconnect();
});

/** ETH: 2000 at t=100 (block 10), 2100 then 2105 at t=170 (blocks 11, 12), 1900 at t=300 (block 13). */
async function seeded(): Promise<RedisPriceHistory> {
  const h = new RedisPriceHistory(redis, keys.priceHistory);
  await h.append([obs('ETH', 100, 2000n * E8, 10n), obs('ETH', 170, 2100n * E8, 11n)]);
  await h.append([obs('ETH', 170, 2105n * E8, 12n), obs('BTC', 150, 60_000n * E8, 12n)]);
  await h.append([obs('ETH', 300, 1900n * E8, 13n)]);
  return h;
}

describe('RedisPriceHistory', () => {
  it('samples the last observation at or before each grid point; the later block wins a tie', async () => {
    const h = await seeded();
    const w = await h.readWindow('ETH', { endSec: 310, intervalSec: 60, count: 4 });
    expect(w.timesSec).toEqual([120, 180, 240, 300]);
    expect(w.closesRaw).toEqual([2000n * E8, 2105n * E8, 2105n * E8, 1900n * E8]);
    expect(w.decimals).toBe(8);
  });

  it('refuses a window that starts before the first observation, saying where history begins', async () => {
    const h = await seeded();
    await expect(h.readWindow('ETH', { endSec: 310, intervalSec: 60, count: 5 })).rejects.toMatchObject({
      code: 'HISTORY_TOO_SHORT',
      details: { firstSec: 60, earliestSec: 100 },
    });
    await expect(h.readWindow('SOL', { endSec: 310, intervalSec: 60, count: 1 })).rejects.toMatchObject({
      code: 'HISTORY_TOO_SHORT',
    });
  });

  it('refuses a close older than maxStalenessSec (a gap in the feed)', async () => {
    const h = await seeded();
    await expect(
      h.readWindow('ETH', { endSec: 310, intervalSec: 60, count: 4, maxStalenessSec: 60 }),
    ).rejects.toMatchObject({ code: 'HISTORY_STALE', details: { atSec: 240, observedSec: 170 } });
    await expect(
      h.readWindow('ETH', { endSec: 310, intervalSec: 60, count: 4, maxStalenessSec: 70 }),
    ).resolves.toBeDefined();
  });

  it('rolls back every asset above a block, then takes the new branch', async () => {
    const h = await seeded();
    expect(await h.rollbackAbove(11n)).toBe(3); // ETH blocks 12 and 13, BTC block 12
    expect(await h.assets()).toEqual(['ETH']);
    expect((await h.readWindow('ETH', { endSec: 310, intervalSec: 60, count: 4 })).closesRaw).toEqual([
      2000n * E8,
      2100n * E8,
      2100n * E8,
      2100n * E8,
    ]);
    await h.append([obs('ETH', 290, 1800n * E8, 12n, 1)]);
    expect((await h.readWindow('ETH', { endSec: 310, intervalSec: 60, count: 1 })).closesRaw).toEqual([
      1800n * E8,
    ]);
  });

  it('ignores an observation appended twice (redelivered job)', async () => {
    const h = await seeded();
    await h.append([obs('ETH', 300, 1900n * E8, 13n)]);
    expect(await h.observations('ETH')).toHaveLength(4);
  });

  it('survives a restart: a new connection reads exactly what the first wrote, bigints beyond 2^53 included', async () => {
    const h = await seeded();
    const huge = 2n ** 70n + 1n;
    await h.append([obs('BIG', 50, huge, 9n)]);
    const other = await connectTestRedis();
    try {
      const again = new RedisPriceHistory(other, redisKeys(keys.prefix.split(':')[1] as string).priceHistory);
      expect(await again.observations('ETH')).toEqual(await h.observations('ETH'));
      expect((await again.observations('BIG'))[0]).toEqual(obs('BIG', 50, huge, 9n));
      expect((await again.readWindow('ETH', { endSec: 310, intervalSec: 60, count: 4 })).closesRaw[1]).toBe(
        2105n * E8,
      );
    } finally {
      other.disconnect();
    }
  });

  it('refuses bad observations and requests, naming the field', async () => {
    const h = new RedisPriceHistory(redis, keys.priceHistory);
    await expect(h.append([{ ...obs('ETH', 1, 1n, 1n), timestampSec: 1.5 }])).rejects.toThrow(
      /observations\[0\]\.timestampSec/,
    );
    await expect(h.readWindow('ETH', { endSec: 10, intervalSec: 0, count: 1 })).rejects.toThrow(
      /intervalSec/,
    );
    expect(await h.assets()).toEqual([]);
  });

  it('refuses a window that mixes feed decimals', async () => {
    const h = new RedisPriceHistory(redis, keys.priceHistory);
    await h.append([
      obs('ETH', 0, 2000n * E8, 1n),
      { ...obs('ETH', 60, 2000n * 10n ** 18n, 2n), price: { raw: 2000n * 10n ** 18n, decimals: 18 } },
    ]);
    await expect(h.readWindow('ETH', { endSec: 60, intervalSec: 60, count: 2 })).rejects.toMatchObject({
      code: 'HISTORY_DECIMALS',
    });
  });

  it("converts windows on one grid into the engine's PriceHistory, and refuses mismatched grids", async () => {
    const h = await seeded();
    const req = { endSec: 310, intervalSec: 60, count: 3 };
    const history = toPriceHistory([await h.readWindow('ETH', req), await h.readWindow('BTC', req)]);
    expect(history).toEqual({
      intervalSec: 60,
      closesUsdByUnderlying: { ETH: [2105, 2105, 1900], BTC: [60_000, 60_000, 60_000] },
    });
    const eth = await h.readWindow('ETH', req);
    const shifted = await h.readWindow('BTC', { ...req, endSec: 370 });
    expect(() => toPriceHistory([eth, shifted])).toThrow(/windows\.BTC/);
  });
});
