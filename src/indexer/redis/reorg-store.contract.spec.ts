/**
 * One behavioural spec, run against the in-memory `ReorgBuffer` and the Redis `RedisReorgStore`,
 * plus a seeded differential run that drives both with the same random operations (applies on
 * random branches and heights, amends of the head block, redeliveries, rollbacks to random blocks, finalizes) and requires
 * the same state, head and error code after every step. If the two ever drift, this fails.
 */
import type { Redis } from 'ioredis';
import type { Hex } from 'viem';
import { mulberry32 } from '../../risk/stats/prng';
import {
  ReorgBuffer,
  type BlockRef,
  type BlockStamped,
  type KeyWrite,
  type ReorgSafeStore,
} from '../chain/store';
import { redisKeys, type RedisKeys } from './keys';
import { RedisReorgStore } from './redis-store';
import { connectTestRedis, deleteKeys, testNetwork } from './test-redis';

type Factory = (
  anchor?: BlockRef,
  initial?: [string, BlockStamped<bigint>][],
) => Promise<ReorgSafeStore<bigint>>;

const ref = (n: bigint, branch = 0): BlockRef => ({
  number: n,
  hash: `0x${branch.toString(16)}${n.toString(16).padStart(63, '0')}` as Hex,
});

const values = async (s: ReorgSafeStore<bigint>) =>
  Object.fromEntries([...(await s.entries())].map(([k, v]) => [k, v.value]));

let redis: Redis;
let keys: RedisKeys;
let storeCount = 0;

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

const factories: [string, Factory][] = [
  ['ReorgBuffer', async (anchor, initial) => new ReorgBuffer<bigint>(anchor, initial)],
  [
    'RedisReorgStore',
    async (anchor, initial) => {
      storeCount += 1;
      return RedisReorgStore.open<bigint>({
        redis,
        keys: keys.reorgStore(`s${storeCount}`),
        anchor,
        initial,
      });
    },
  ],
];

describe.each(factories)('ReorgSafeStore contract: %s', (_name, make) => {
  it('stamps every value with the block it was written at', async () => {
    const s = await make(ref(10n));
    await s.applyBlock(ref(11n), [{ key: 'a', value: 5n }]);
    expect(await s.get('a')).toEqual({ value: 5n, blockNumber: 11n, blockHash: ref(11n).hash });
    expect(await s.get('missing')).toBeUndefined();
    expect(await s.head()).toEqual(ref(11n));
  });

  it('keeps bigints beyond 2^53 exact', async () => {
    const s = await make(ref(0n));
    const big = 2n ** 200n + 12345n;
    await s.applyBlock(ref(1n), [{ key: 'a', value: big }]);
    expect((await s.get('a'))?.value).toBe(big);
  });

  it('restores exactly the state at the ancestor, including deletions and keys written twice', async () => {
    const s = await make(ref(10n), [['a', { value: 1n, blockNumber: 10n, blockHash: ref(10n).hash }]]);
    await s.applyBlock(ref(11n), [{ key: 'b', value: 2n }]);
    const atAncestor = await s.entries();
    await s.applyBlock(ref(12n), [
      { key: 'a', value: 7n },
      { key: 'a', value: 8n },
      { key: 'b', value: null },
      { key: 'c', value: 3n },
    ]);
    await s.applyBlock(ref(13n), [{ key: 'c', value: 4n }]);
    expect(await values(s)).toEqual({ a: 8n, c: 4n });
    expect(await s.rollbackTo(ref(11n))).toBe(2);
    expect(await s.entries()).toEqual(atAncestor);
    expect(await s.head()).toEqual(ref(11n));
  });

  it('ignores a redelivered block and refuses a different block at an applied height', async () => {
    const s = await make(ref(10n));
    await s.applyBlock(ref(11n), [{ key: 'a', value: 1n }]);
    await s.applyBlock(ref(11n), [{ key: 'a', value: 999n }]);
    expect((await s.get('a'))?.value).toBe(1n);
    await expect(s.applyBlock(ref(11n, 1), [])).rejects.toMatchObject({ code: 'BLOCK_CONFLICT' });
    await s.applyBlock(ref(9n, 3), [{ key: 'a', value: 5n }]); // below the head: already part of the state
    expect((await s.get('a'))?.value).toBe(1n);
  });

  it("refuses a block at the anchor's height with another hash", async () => {
    const s = await make(ref(10n));
    await s.applyBlock(ref(10n), []);
    await expect(s.applyBlock(ref(10n, 1), [])).rejects.toMatchObject({ code: 'BLOCK_CONFLICT' });
  });

  it('refuses a block that skips ahead', async () => {
    const s = await make(ref(10n));
    await expect(s.applyBlock(ref(12n), [])).rejects.toMatchObject({ code: 'BLOCK_GAP' });
  });

  it('accepts any first block when it has no anchor', async () => {
    const s = await make();
    expect(await s.head()).toBeUndefined();
    await s.applyBlock(ref(7n), [{ key: 'a', value: 1n }]);
    expect(await s.head()).toEqual(ref(7n));
  });

  it('amends the head block so a rollback restores the values from before the block', async () => {
    const s = await make(ref(10n), [['a', { value: 1n, blockNumber: 10n, blockHash: ref(10n).hash }]]);
    await s.applyBlock(ref(11n), [{ key: 'b', value: 2n }]);
    const atAncestor = await s.entries();
    await s.applyBlock(ref(12n), [{ key: 'a', value: 5n }]);
    await s.amendHead(ref(12n), [
      { key: 'a', value: 6n },
      { key: 'b', value: null },
      { key: 'c', value: 3n },
    ]);
    await s.amendHead(ref(12n), [
      { key: 'c', value: 4n },
      { key: 'b', value: 9n },
    ]);
    expect(await s.get('a')).toEqual({ value: 6n, blockNumber: 12n, blockHash: ref(12n).hash });
    expect(await values(s)).toEqual({ a: 6n, b: 9n, c: 4n });
    expect(await s.head()).toEqual(ref(12n));
    expect(await s.rollbackTo(ref(11n))).toBe(1);
    // 'a' was written before the amends, 'b' and 'c' only by them: all back to the pre-block values.
    expect(await s.entries()).toEqual(atAncestor);
  });

  it('refuses to amend anything but the pending head block', async () => {
    const s = await make(ref(10n));
    await expect(s.amendHead(ref(10n), [{ key: 'a', value: 1n }])).rejects.toMatchObject({
      code: 'BLOCK_FINALIZED',
    });
    await s.applyBlock(ref(11n), [{ key: 'a', value: 1n }]);
    await expect(s.amendHead(ref(12n), [{ key: 'a', value: 2n }])).rejects.toMatchObject({
      code: 'BLOCK_GAP',
    });
    await expect(s.amendHead(ref(10n), [{ key: 'a', value: 2n }])).rejects.toMatchObject({
      code: 'BLOCK_GAP',
    });
    await expect(s.amendHead(ref(11n, 1), [{ key: 'a', value: 2n }])).rejects.toMatchObject({
      code: 'BLOCK_CONFLICT',
    });
    expect(await values(s)).toEqual({ a: 1n });
    const empty = await make();
    await expect(empty.amendHead(ref(1n), [])).rejects.toMatchObject({ code: 'BLOCK_GAP' });
  });

  it('lists its history: the anchor, then every applied block above it, oldest first', async () => {
    const s = await make(ref(10n));
    expect(await s.history()).toEqual([ref(10n)]);
    for (let n = 11n; n <= 14n; n += 1n) await s.applyBlock(ref(n), [{ key: 'a', value: n }]);
    expect(await s.history()).toEqual([10n, 11n, 12n, 13n, 14n].map((n) => ref(n)));
    await s.finalize(12n);
    expect(await s.history()).toEqual([ref(12n), ref(13n), ref(14n)]);
    await s.rollbackTo(ref(13n));
    await s.applyBlock(ref(14n, 1), []);
    expect(await s.history()).toEqual([ref(12n), ref(13n), ref(14n, 1)]);
    expect(await (await make()).history()).toEqual([]);
  });

  it('cannot roll back below what it finalized', async () => {
    const s = await make(ref(10n));
    for (let n = 11n; n <= 15n; n += 1n) await s.applyBlock(ref(n), [{ key: 'a', value: n }]);
    await s.finalize(13n);
    await expect(s.rollbackTo(ref(12n))).rejects.toMatchObject({ code: 'ROLLBACK_OUT_OF_RANGE' });
    const t = await make(ref(10n));
    for (let n = 11n; n <= 15n; n += 1n) await t.applyBlock(ref(n), [{ key: 'a', value: n }]);
    await t.finalize(13n);
    expect(await t.rollbackTo(ref(13n))).toBe(2);
    expect((await t.get('a'))?.value).toBe(13n);
    expect(await t.head()).toEqual(ref(13n));
  });

  it('equals a replay of the surviving blocks after random apply / rollback sequences', async () => {
    const rnd = mulberry32(42);
    for (let seq = 0; seq < 10; seq += 1) {
      const s = await make(ref(0n));
      const history: { block: BlockRef; writes: KeyWrite<bigint>[] }[] = [];
      let branch = 0;
      for (let step = 0; step < 30; step += 1) {
        if (history.length > 0 && rnd() < 0.2) {
          const depth = 1 + Math.floor(rnd() * Math.min(history.length, 4));
          history.splice(history.length - depth);
          await s.rollbackTo(history[history.length - 1]?.block ?? ref(0n));
          branch += 1;
        } else {
          const block = ref(BigInt(history.length + 1), branch % 15);
          const writes = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => ({
            key: `k${Math.floor(rnd() * 4)}`,
            value: rnd() < 0.2 ? null : BigInt(Math.floor(rnd() * 100)),
          }));
          history.push({ block, writes });
          await s.applyBlock(block, writes);
        }
      }
      const replay = await make(ref(0n));
      for (const h of history) await replay.applyBlock(h.block, h.writes);
      expect(await s.entries()).toEqual(await replay.entries());
    }
  });
});

describe('ReorgBuffer and RedisReorgStore under the same random operations', () => {
  /** Runs `op` and returns the error code (or 'ok') so both stores' outcomes can be compared. */
  const outcome = async (op: () => Promise<unknown>): Promise<string> => {
    try {
      const r = await op();
      return `ok:${String(r)}`;
    } catch (e) {
      return (e as { code?: string }).code ?? String(e);
    }
  };

  it('agree on state, head and every outcome, step by step (seeded)', async () => {
    const rnd = mulberry32(20261121);
    const pick = (n: number) => Math.floor(rnd() * n);
    const codes = new Set<string>();
    for (let seq = 0; seq < 12; seq += 1) {
      const anchor = rnd() < 0.8 ? ref(BigInt(pick(3))) : undefined;
      const mem = new ReorgBuffer<bigint>(anchor);
      storeCount += 1;
      const red = await RedisReorgStore.open<bigint>({
        redis,
        keys: keys.reorgStore(`diff${storeCount}`),
        anchor,
      });
      const seen = new Map<bigint, BlockRef>();
      for (let step = 0; step < 60; step += 1) {
        const head = (await mem.head())?.number ?? 0n;
        const r = rnd();
        let op: (s: ReorgSafeStore<bigint>) => Promise<unknown>;
        if (r < 0.15) {
          // Amend: mostly the head itself, sometimes another height or branch.
          const n = head + BigInt([0, 0, 0, 1, -1][pick(5)] as number);
          const block = rnd() < 0.8 ? ((await mem.head()) ?? ref(n)) : ref(n < 0n ? 0n : n, pick(3));
          const writes = Array.from({ length: pick(4) }, () => ({
            key: `k${pick(5)}`,
            value: rnd() < 0.25 ? null : BigInt(pick(1000)) * 10n ** 20n,
          }));
          op = (s) => s.amendHead(block, writes);
        } else if (r < 0.6) {
          // Mostly the next block, sometimes a redelivery, a conflict, a gap or an old block.
          const n = head + BigInt([1, 1, 1, 1, 0, 2, -1, -3][pick(8)] as number);
          const block = ref(n < 0n ? 0n : n, pick(3));
          const writes = Array.from({ length: pick(4) }, () => ({
            key: `k${pick(5)}`,
            value: rnd() < 0.25 ? null : BigInt(pick(1000)) * 10n ** 20n,
          }));
          op = (s) => s.applyBlock(block, writes);
        } else if (r < 0.85) {
          const n = head - BigInt(pick(4));
          const height = n < 0n ? 0n : n;
          // Usually a block the store has seen at that height, sometimes another branch's.
          const target = (rnd() < 0.8 ? seen.get(height) : undefined) ?? ref(height, pick(3));
          op = (s) => s.rollbackTo(target);
        } else {
          const n = head - BigInt(pick(5));
          op = (s) => s.finalize(n < 0n ? 0n : n);
        }
        const a = await outcome(() => op(mem));
        const b = await outcome(() => op(red));
        codes.add(a.startsWith('ok') ? 'ok' : a);
        expect(b).toBe(a);
        expect(await red.head()).toEqual(await mem.head());
        expect(await red.entries()).toEqual(await mem.entries());
        const now = await mem.head();
        if (now) seen.set(now.number, now);
      }
    }
    // The run exercised the refusals, not only the happy path.
    expect([...codes].sort()).toEqual([
      'BLOCK_CONFLICT',
      'BLOCK_FINALIZED',
      'BLOCK_GAP',
      'ROLLBACK_OUT_OF_RANGE',
      'ok',
    ]);
  });
});
