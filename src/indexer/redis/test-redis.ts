/**
 * Test support: a connection to the real Redis at `REDIS_URL` that fails fast with the command to
 * run when none answers (never a silent skip), and a random network name so each test file run
 * writes under its own `nm:test-<random>:` prefix and can delete exactly its keys afterwards.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { NetmarginError } from '../../common/errors';

export const redisUrl = (): string => process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export function testNetwork(): string {
  return `test-${randomBytes(6).toString('hex')}`;
}

/** Connects (at most ~3 s); throws with the fix when Redis is unreachable. */
export async function connectTestRedis(): Promise<Redis> {
  const url = redisUrl();
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (cause) {
    redis.disconnect();
    throw new NetmarginError(`Redis is unreachable at ${url}`, {
      code: 'REDIS_UNREACHABLE',
      hint: 'Run `bash scripts/ensure-redis.sh` (or set REDIS_URL to a running Redis), then re-run the tests.',
      cause,
    });
  }
  return redis;
}

/** Deletes every key under `prefix` (SCAN, not KEYS, so a shared Redis is not blocked). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}
