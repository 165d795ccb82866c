/**
 * Throughput of the Redis stores against the Redis at REDIS_URL, under a throwaway prefix.
 * Run: `npx tsx src/indexer/redis/redis-store.bench.ts [blocks] [writesPerBlock]`.
 * Prints one JSON line: blocks applied per second, writes per second, rollback and finalize time,
 * price observations appended per second and a 1,000-close window read time.
 */
import type { Hex } from 'viem';
import type { BlockRef } from '../chain/store';
import { redisKeys } from './keys';
import { RedisPriceHistory } from './price-history';
import { RedisReorgStore } from './redis-store';
import { connectTestRedis, deleteKeys, testNetwork } from './test-redis';

const ref = (n: bigint): BlockRef => ({ number: n, hash: `0x${n.toString(16).padStart(64, '0')}` as Hex });

async function main(): Promise<void> {
  const blocks = Number(process.argv[2] ?? 2000);
  const writesPerBlock = Number(process.argv[3] ?? 10);
  const redis = await connectTestRedis();
  const keys = redisKeys(testNetwork());
  try {
    const store = await RedisReorgStore.open<{ amount: bigint }>({
      redis,
      keys: keys.reorgStore('bench'),
      anchor: ref(0n),
    });
    let t = performance.now();
    for (let b = 1; b <= blocks; b += 1) {
      const writes = Array.from({ length: writesPerBlock }, (_, i) => ({
        key: `acct${(b * 7 + i) % 5000}`,
        value: { amount: BigInt(b) * 10n ** 18n },
      }));
      await store.applyBlock(ref(BigInt(b)), writes);
    }
    const applySec = (performance.now() - t) / 1000;
    t = performance.now();
    const undone = await store.rollbackTo(ref(BigInt(blocks - 64)));
    const rollback64Ms = performance.now() - t;
    t = performance.now();
    await store.finalize(BigInt(blocks - 64));
    const finalizeMs = performance.now() - t;

    const history = new RedisPriceHistory(redis, keys.priceHistory);
    const observations = 20_000;
    t = performance.now();
    for (let i = 0; i < observations; i += 500)
      await history.append(
        Array.from({ length: 500 }, (_, j) => ({
          asset: 'ETH',
          price: { raw: BigInt(200_000_000_000 + i + j), decimals: 8 },
          timestampSec: (i + j) * 60,
          blockNumber: BigInt(i + j),
          blockHash: ref(BigInt(i + j)).hash,
        })),
      );
    const appendSec = (performance.now() - t) / 1000;
    t = performance.now();
    await history.readWindow('ETH', { endSec: observations * 60, intervalSec: 3600, count: 300 });
    const window300Ms = performance.now() - t;
    console.log(
      JSON.stringify({
        blocks,
        writesPerBlock,
        blocksPerSecond: Math.round(blocks / applySec),
        writesPerSecond: Math.round((blocks * writesPerBlock) / applySec),
        rollback64BlocksMs: Math.round(rollback64Ms * 10) / 10,
        undone,
        finalizeMs: Math.round(finalizeMs * 10) / 10,
        observationsPerSecond: Math.round(observations / appendSec),
        window300ClosesMs: Math.round(window300Ms * 10) / 10,
      }),
    );
  } finally {
    await deleteKeys(redis, keys.prefix);
    redis.disconnect();
  }
}

void main();
