import type { Redis } from 'ioredis';
import { getAddress, type Address, type Hex } from 'viem';
import { redisKeys, type RedisKeys } from '../indexer/redis/keys';
import { connectTestRedis, deleteKeys, testNetwork } from '../indexer/redis/test-redis';
import type { AccountRiskResult } from '../risk/types';
import { RedisRiskResultStore } from './result-store';
import type { HealthClass, RiskRecord } from './types';

const OWNER = getAddress('0x00000000000000000000000000000000000a11ce');
const OTHER = getAddress('0x0000000000000000000000000000000000000b0b');
const hash = (n: bigint, branch = 0): Hex =>
  `0x${branch.toString(16)}${n.toString(16).padStart(63, '0')}` as Hex;

function record(over: Partial<RiskRecord> & { blockNumber: bigint }): RiskRecord {
  const im = over.imUsd6 ?? 1_300_000_000n;
  return {
    owner: OWNER,
    blockHash: hash(over.blockNumber),
    asOfSec: 1_000 + Number(over.blockNumber),
    positionsBlockNumber: over.blockNumber,
    paramsVersion: 1,
    paramsHash: `0x${'11'.repeat(32)}`,
    inputHash: `0x${'22'.repeat(32)}`,
    health: 'healthy' as HealthClass,
    imUsd6: im,
    mmUsd6: 1_000_000_000n,
    mtmUsd6: 2_000_000_000n,
    adjustedEquityUsd6: 1_900_000_000n,
    freeCollateralUsd6: 600_000_000n,
    shortfallUsd6: 0n,
    marginRatio: 1.9,
    stale: { oracle: false, sequencer: false, indexer: false, reasons: [] },
    computedAtMs: 42,
    result: { imUsd: 1300.5, mmUsd: 1000.25 } as AccountRiskResult,
    ...over,
  };
}

let redis: Redis;
let keys: RedisKeys;
let store: RedisRiskResultStore;

beforeAll(async () => {
  redis = await connectTestRedis();
});

beforeEach(() => {
  keys = redisKeys(testNetwork());
  store = new RedisRiskResultStore(redis, keys.pipeline.results, { historyCap: 5 });
});

afterEach(async () => {
  await store.close();
  await deleteKeys(redis, keys.prefix);
});

afterAll(() => redis.disconnect());

describe('RedisRiskResultStore', () => {
  it('stores a record bigint-exact and re-putting it (even at another wall-clock time) is a no-op', async () => {
    const r = record({ blockNumber: 10n, imUsd6: 2n ** 70n });
    expect(await store.put(r)).toEqual({ outcome: 'stored', previous: undefined });
    expect(await store.latest(OWNER)).toEqual(r);
    await store.announced(r);
    expect(await store.put({ ...r, computedAtMs: 99 })).toEqual({ outcome: 'unchanged', previous: r });
    expect(await store.history(OWNER)).toEqual([r]);
    expect(await store.changes('0')).toHaveLength(1);
    expect(await store.owners()).toEqual([OWNER]);
  });

  it('returns the replaced record, and a newer block replaces the latest', async () => {
    const a = record({ blockNumber: 10n });
    const b = record({ blockNumber: 11n, health: 'warning' });
    await store.put(a);
    expect(await store.put(b)).toEqual({ outcome: 'stored', previous: a });
    expect(await store.latest(OWNER)).toEqual(b);
  });

  it('never lets an older block replace the latest, but keeps it in the history once', async () => {
    const newer = record({ blockNumber: 12n });
    const older = record({ blockNumber: 11n, health: 'below-im' });
    await store.put(newer);
    expect((await store.put(older)).outcome).toBe('older');
    expect((await store.put(older)).outcome).toBe('older');
    expect(await store.latest(OWNER)).toEqual(newer);
    expect(await store.history(OWNER)).toEqual([newer, older]);
    expect((await store.changes('0')).map((c) => c.blockNumber)).toEqual([12n]);
  });

  it('at one block: newer positions or parameters replace, older ones are superseded', async () => {
    const base = record({ blockNumber: 20n, positionsBlockNumber: 15n, paramsVersion: 2 });
    await store.put(base);
    const olderPositions = { ...base, positionsBlockNumber: 14n, health: 'warning' as const };
    expect((await store.put(olderPositions)).outcome).toBe('superseded');
    const olderParams = { ...base, paramsVersion: 1, health: 'warning' as const };
    expect((await store.put(olderParams)).outcome).toBe('superseded');
    const newerPositions = { ...base, positionsBlockNumber: 20n, health: 'below-mm' as const };
    expect((await store.put(newerPositions)).outcome).toBe('stored');
    expect(await store.latest(OWNER)).toEqual(newerPositions);
  });

  it('takes the other hash at the same height (a reorg) as a new result', async () => {
    const a = record({ blockNumber: 30n });
    const b = record({ blockNumber: 30n, blockHash: hash(30n, 1), health: 'liquidatable' });
    await store.put(a);
    expect(await store.put(b)).toEqual({ outcome: 'stored', previous: a });
    expect((await store.changes('0')).map((c) => c.health)).toEqual(['healthy', 'liquidatable']);
  });

  it('serves history newest first, capped, with limit and beforeBlock', async () => {
    for (let n = 1n; n <= 8n; n++) await store.put(record({ blockNumber: n }));
    const all = await store.history(OWNER);
    expect(all.map((r) => r.blockNumber)).toEqual([8n, 7n, 6n, 5n, 4n]);
    expect((await store.history(OWNER, { limit: 2 })).map((r) => r.blockNumber)).toEqual([8n, 7n]);
    expect((await store.history(OWNER, { beforeBlock: 7n })).map((r) => r.blockNumber)).toEqual([6n, 5n, 4n]);
    // Two records of one block: the later one first.
    await store.put(record({ blockNumber: 9n }));
    await store.put(record({ blockNumber: 9n, positionsBlockNumber: 9n, paramsVersion: 2 }));
    expect((await store.history(OWNER, { limit: 2 })).map((r) => r.paramsVersion)).toEqual([2, 1]);
    await expect(store.history(OWNER, { limit: 0 })).rejects.toThrow(/limit/);
  });

  it('streams one change per stored record, resumable from an id, and waits for the next', async () => {
    await store.put(record({ blockNumber: 1n }));
    await store.put(record({ blockNumber: 1n, owner: OTHER, health: 'warning' }));
    const first = await store.changes('0');
    expect(first.map((c) => [c.owner, c.blockNumber, c.health])).toEqual([
      [OWNER, 1n, 'healthy'],
      [OTHER, 1n, 'warning'],
    ]);
    expect(await store.changes(first[1]!.id)).toEqual([]);
    expect(await store.changes('0', { count: 1 })).toEqual([first[0]]);
    const waiting = store.changes(first[1]!.id, { blockMs: 5_000 });
    await store.put(record({ blockNumber: 2n, health: 'below-mm' }));
    const next = await waiting;
    expect(next.map((c) => [c.owner, c.blockNumber, c.health])).toEqual([[OWNER, 2n, 'below-mm']]);
  });

  it('hands an unannounced record back on an identical put, until it is marked announced', async () => {
    const a = record({ blockNumber: 1n });
    const b = record({ blockNumber: 2n, health: 'below-mm' });
    await store.put(a);
    await store.announced(a);
    expect(await store.put(b)).toEqual({ outcome: 'stored', previous: a });
    // The process died before announcing b: the retried put tells what b replaced.
    expect(await store.put(b)).toEqual({ outcome: 'unchanged', previous: b, unannounced: { previous: a } });
    await store.announced(a); // an older record's mark does not clear b's
    expect((await store.put(b)).unannounced).toEqual({ previous: a });
    await store.announced(b);
    expect(await store.put(b)).toEqual({ outcome: 'unchanged', previous: b });
  });

  it('caps the changes stream approximately', async () => {
    const small = new RedisRiskResultStore(redis, keys.pipeline.results, { changesMaxLen: 10 });
    for (let n = 1n; n <= 400n; n++) await small.put(record({ blockNumber: n }));
    const len = await redis.xlen(keys.pipeline.results.changes);
    expect(len).toBeLessThan(400);
    expect(len).toBeGreaterThanOrEqual(10);
  });

  it('refuses an owner that is not checksummed', async () => {
    await expect(
      store.put(record({ blockNumber: 1n, owner: OWNER.toLowerCase() as Address })),
    ).rejects.toThrow(/not checksummed/);
  });
});
