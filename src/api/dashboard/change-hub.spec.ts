import type { Redis } from 'ioredis';
import { getAddress, type Address } from 'viem';
import { redisKeys, type RedisKeys } from '../../indexer/redis/keys';
import { connectTestRedis, deleteKeys, testNetwork } from '../../indexer/redis/test-redis';
import type { RiskChange } from '../../pipeline/types';
import { ChangeHub, compareStreamIds } from './change-hub';

const ALICE = getAddress('0x00000000000000000000000000000000000a11ce');
const BOB = getAddress('0x0000000000000000000000000000000000000b0b');

let redis: Redis;
let keys: RedisKeys;
let hub: ChangeHub;

/** Adds a change entry the way the results store's put does (fields owner, block, health). */
async function change(owner: Address, block: number): Promise<string> {
  return (await redis.xadd(
    keys.pipeline.results.changes,
    '*',
    'owner',
    owner,
    'block',
    String(block),
    'health',
    'healthy',
  ))!;
}

/** Resolves once `check()` holds (polling); fails after 20 s with `what`. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  redis = await connectTestRedis();
});

beforeEach(() => {
  keys = redisKeys(testNetwork());
  hub = new ChangeHub(redis, keys.pipeline.results, { blockMs: 200, batchSize: 2, retryMs: 100 });
});

afterEach(async () => {
  await hub.close();
  await deleteKeys(redis, keys.prefix);
});

afterAll(() => redis.disconnect());

describe('compareStreamIds', () => {
  it('orders by milliseconds, then sequence, as numbers', () => {
    const sorted = ['0', '1-0', '1-1', '1-10', '9-5', '10-0', '1732190000000-0'];
    const shuffled = [sorted[4]!, sorted[6]!, sorted[0]!, sorted[3]!, sorted[1]!, sorted[5]!, sorted[2]!];
    expect([...shuffled].sort(compareStreamIds)).toEqual(sorted);
    expect(compareStreamIds('5-3', '5-3')).toBe(0);
  });
});

describe('ChangeHub', () => {
  it('catches up on one owner’s changes after an id, through the stream’s end', async () => {
    const a1 = await change(ALICE, 1);
    await change(BOB, 1);
    const a2 = await change(ALICE, 2);
    const b2 = await change(BOB, 2);
    const a3 = await change(ALICE, 3);
    const last = await change(BOB, 3);
    const all = await hub.catchUp(ALICE, '0');
    expect({ ids: all.changes.map((c) => c.id), through: all.throughId }).toEqual({
      ids: [a1, a2, a3],
      through: last,
    });
    expect(all.changes.map((c) => [c.owner, c.blockNumber])).toEqual([
      [ALICE, 1n],
      [ALICE, 2n],
      [ALICE, 3n],
    ]);
    const after = await hub.catchUp(ALICE, b2);
    expect(after.changes.map((c) => c.id)).toEqual([a3]);
    expect(await hub.catchUp(ALICE, last)).toEqual({ changes: [], throughId: last });
  });

  it('hands each owner only its own changes stored after subscribing, until unsubscribed', async () => {
    await change(ALICE, 1); // before subscribing: not delivered
    const alice: RiskChange[] = [];
    const bob: RiskChange[] = [];
    const offAlice = await hub.subscribe(ALICE, (c) => alice.push(c));
    await hub.subscribe(BOB, (c) => bob.push(c));
    const a2 = await change(ALICE, 2);
    const b2 = await change(BOB, 2);
    const a3 = await change(ALICE, 3);
    await until(() => alice.length === 2 && bob.length === 1, 'three changes');
    expect(alice.map((c) => c.id)).toEqual([a2, a3]);
    expect(bob.map((c) => c.id)).toEqual([b2]);
    offAlice();
    await change(ALICE, 4);
    const b4 = await change(BOB, 4);
    await until(() => bob.length === 2, 'Bob’s second change');
    expect(bob.map((c) => c.id)).toEqual([b2, b4]);
    expect(alice).toHaveLength(2);
  });

  it('delivers nothing more once closed', async () => {
    const seen: RiskChange[] = [];
    await hub.subscribe(ALICE, (c) => seen.push(c));
    await change(ALICE, 1);
    await until(() => seen.length === 1, 'the first change');
    await hub.close();
    await change(ALICE, 2);
    expect(await hub.catchUp(ALICE, seen[0]!.id)).toMatchObject({ changes: [{ blockNumber: 2n }] });
    expect(seen).toHaveLength(1);
  });
});
