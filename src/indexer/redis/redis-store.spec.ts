/**
 * What only the Redis store has to prove (the shared behaviour is in reorg-store.contract.spec.ts):
 * its state outlives the connection that wrote it, a block is written all-or-nothing, and two
 * writers racing on one height cannot both win.
 */
import type { Redis } from 'ioredis';
import type { Hex } from 'viem';
import type { BlockRef } from '../chain/store';
import { redisKeys, type RedisKeys } from './keys';
import { RedisReorgStore } from './redis-store';
import { connectTestRedis, deleteKeys, testNetwork } from './test-redis';

const ref = (n: bigint, branch = 0): BlockRef => ({
  number: n,
  hash: `0x${branch.toString(16)}${n.toString(16).padStart(63, '0')}` as Hex,
});

let redis: Redis;
let keys: RedisKeys;

beforeAll(async () => {
  redis = await connectTestRedis();
  keys = redisKeys(testNetwork());
});

afterAll(async () => {
  if (redis) {
    await deleteKeys(redis, keys.prefix);
    redis.disconnect();
  }
});

describe('RedisReorgStore', () => {
  it('survives a restart: a new connection reads the state, head and undo logs the first wrote', async () => {
    const storeKeys = keys.reorgStore('restart');
    const first = await RedisReorgStore.open<{ amount: bigint }>({
      redis,
      keys: storeKeys,
      anchor: ref(100n),
    });
    await first.applyBlock(ref(101n), [{ key: 'alice', value: { amount: 10n ** 24n } }]);
    await first.applyBlock(ref(102n), [{ key: 'alice', value: { amount: 1n } }]);

    const other = await connectTestRedis();
    try {
      // Seeding arguments are ignored: the store already has state.
      const second = await RedisReorgStore.open<{ amount: bigint }>({
        redis: other,
        keys: storeKeys,
        anchor: ref(5n),
      });
      expect(await second.head()).toEqual(ref(102n));
      expect(await second.pendingBlocks()).toBe(2);
      expect(await second.rollbackTo(ref(101n))).toBe(1);
      expect(await second.get('alice')).toEqual({
        value: { amount: 10n ** 24n },
        blockNumber: 101n,
        blockHash: ref(101n).hash,
      });
    } finally {
      other.disconnect();
    }
    expect((await first.get('alice'))?.value.amount).toBe(10n ** 24n);
  });

  it('writes nothing when one value of a block cannot be stored', async () => {
    const s = await RedisReorgStore.open<unknown>({
      redis,
      keys: keys.reorgStore('atomic'),
      anchor: ref(1n),
    });
    await s.applyBlock(ref(2n), [{ key: 'a', value: 1n }]);
    const before = await s.entries();
    await expect(
      s.applyBlock(ref(3n), [
        { key: 'a', value: 2n },
        { key: 'b', value: { bad: undefined } },
      ]),
    ).rejects.toThrow(/value\.value\.bad/);
    expect(await s.entries()).toEqual(before);
    expect(await s.head()).toEqual(ref(2n));
    expect(await s.pendingBlocks()).toBe(1);
  });

  it('lets exactly one of two racing writers apply a height; the loser is refused, not merged', async () => {
    const other = await connectTestRedis();
    try {
      for (let i = 0; i < 20; i += 1) {
        const storeKeys = keys.reorgStore(`race${i}`);
        const a = await RedisReorgStore.open<bigint>({ redis, keys: storeKeys, anchor: ref(0n) });
        const b = await RedisReorgStore.open<bigint>({ redis: other, keys: storeKeys });
        const results = await Promise.allSettled([
          a.applyBlock(ref(1n, 1), [
            { key: 'x', value: 1n },
            { key: 'y', value: 1n },
          ]),
          b.applyBlock(ref(1n, 2), [
            { key: 'x', value: 2n },
            { key: 'y', value: 2n },
          ]),
        ]);
        const won = results.findIndex((r) => r.status === 'fulfilled');
        expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
        const winner = BigInt(won + 1);
        expect(await a.head()).toEqual(ref(1n, won + 1));
        expect((await a.get('x'))?.value).toBe(winner);
        expect((await a.get('y'))?.value).toBe(winner);
      }
    } finally {
      other.disconnect();
    }
  });

  it('leaves the state before a block or after it, never half, when the writer dies mid-call', async () => {
    const keysInBlock = Array.from({ length: 2000 }, (_, i) => `acct${i}`);
    for (let i = 0; i < 8; i += 1) {
      const storeKeys = keys.reorgStore(`crash${i}`);
      const writer = await connectTestRedis();
      const s = await RedisReorgStore.open<bigint>({ redis: writer, keys: storeKeys, anchor: ref(0n) });
      await s.applyBlock(
        ref(1n),
        keysInBlock.map((key) => ({ key, value: 1n })),
      );
      // The connection goes away while the next block (and, on even rounds, a rollback) is in flight.
      const inFlight = Promise.allSettled([
        s.applyBlock(
          ref(2n),
          keysInBlock.map((key) => ({ key, value: 2n })),
        ),
        ...(i % 2 === 0 ? [s.rollbackTo(ref(1n))] : []),
      ]);
      await new Promise((resolve) => setTimeout(resolve, i));
      writer.disconnect();
      await inFlight;

      const after = await RedisReorgStore.open<bigint>({ redis, keys: storeKeys });
      const head = await after.head();
      const seen = new Set([...(await after.entries()).values()].map((v) => `${v.value}@${v.blockNumber}`));
      expect(head).toBeDefined();
      expect(seen).toEqual(new Set([`${head?.number}@${head?.number}`]));
      expect((await after.entries()).size).toBe(keysInBlock.length);
    }
  });

  it('amends the head block all-or-nothing when the writer dies mid-call, undo log included', async () => {
    const keysInBlock = Array.from({ length: 2000 }, (_, i) => `acct${i}`);
    const firstHalf = keysInBlock.slice(0, 1000);
    for (let i = 0; i < 8; i += 1) {
      const storeKeys = keys.reorgStore(`amendCrash${i}`);
      const writer = await connectTestRedis();
      const s = await RedisReorgStore.open<bigint>({ redis: writer, keys: storeKeys, anchor: ref(0n) });
      await s.applyBlock(
        ref(1n),
        firstHalf.map((key) => ({ key, value: 1n })),
      );
      const inFlight = s.amendHead(
        ref(1n),
        keysInBlock.map((key) => ({ key, value: 2n })),
      );
      await new Promise((resolve) => setTimeout(resolve, i));
      writer.disconnect();
      await inFlight.catch(() => undefined);

      const after = await RedisReorgStore.open<bigint>({ redis, keys: storeKeys });
      const entries = await after.entries();
      const seen = new Set([...entries.values()].map((v) => `${v.value}@${v.blockNumber}`));
      // Before the amend: the first half at 1. After it: every key at 2. Never a mix.
      if (entries.size === firstHalf.length) expect(seen).toEqual(new Set(['1@1']));
      else {
        expect(entries.size).toBe(keysInBlock.length);
        expect(seen).toEqual(new Set(['2@1']));
      }
      expect(await after.head()).toEqual(ref(1n));
      // Either way the block's undo log is whole: rolling it back restores the anchor's (empty) state.
      expect(await after.rollbackTo(ref(0n))).toBe(1);
      expect((await after.entries()).size).toBe(0);
    }
  });

  it('refuses block numbers a Redis score cannot hold exactly', async () => {
    const s = await RedisReorgStore.open<bigint>({ redis, keys: keys.reorgStore('limits') });
    await expect(s.applyBlock(ref(2n ** 53n), [])).rejects.toThrow(/block\.number/);
    expect(await s.head()).toBeUndefined();
  });

  it('destroy deletes every key of the store', async () => {
    const storeKeys = keys.reorgStore('destroy');
    const s = await RedisReorgStore.open<bigint>({ redis, keys: storeKeys, anchor: ref(0n) });
    await s.applyBlock(ref(1n), [{ key: 'a', value: 1n }]);
    expect(await redis.exists(...Object.values(storeKeys))).toBe(4);
    await s.destroy();
    expect(await redis.exists(...Object.values(storeKeys))).toBe(0);
  });
});
