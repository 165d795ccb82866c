/**
 * The indexing service end to end on the devnet with real Redis and real BullMQ queues: a backfill
 * from the manifest's start block runs through the `index-range` and `refresh` workers, and for every
 * seeded persona the stored positions equal a direct adapter read at the block they are stamped with;
 * every persona with positions has its `risk` job; a second backfill and re-run refreshes add no risk
 * job and change no stored byte; after a crash path (Aave and perps liquidations) a live range
 * refreshes the changed owners.
 */
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Address, PublicClient } from 'viem';
import type { DeploymentManifest } from '../src/config/manifest';
import { getFreePort } from '../src/devnet/anvil';
import { startDevnet, type Devnet } from '../src/devnet/devnet';
import { createAdapters } from '../src/indexer/adapters';
import type { ProtocolAdapter } from '../src/indexer/adapters/types';
import { rpcGetLogs } from '../src/indexer/chain/logs';
import { IndexerService, type OwnerPositions } from '../src/indexer/indexer.service';
import { IndexRangeProcessor, processorHandlers, RefreshProcessor } from '../src/indexer/processors';
import {
  closeQueues,
  createQueues,
  enqueueRange,
  jobIds,
  queueJobSink,
  startWorkers,
  type IndexerQueues,
} from '../src/indexer/queues';
import { redisKeys } from '../src/indexer/redis/keys';
import { RedisReorgStore } from '../src/indexer/redis/redis-store';
import { serialize } from '../src/indexer/redis/serialize';
import { connectTestRedis, deleteKeys, redisUrl, testNetwork } from '../src/indexer/redis/test-redis';
import {
  crashWithLiquidations,
  persona,
  directRead as directReadOn,
  drained as drainedQueues,
  expectStoredEqualsChain as expectStoredEqualsChainOn,
  riskJobIds as riskJobIdsOn,
  type IndexedChain,
} from './helpers/indexer';

let devnet: Devnet;
let m: DeploymentManifest;
let client: PublicClient;
let adapters: ProtocolAdapter[];
let redis: Redis;
let network: string;
let queues: IndexerQueues;
let workers: Worker[] = [];
let store: RedisReorgStore<OwnerPositions>;
let service: IndexerService;
let startBlock: bigint;
let backfilledTo: bigint;

const head = (): Promise<bigint> => client.getBlockNumber({ cacheTime: 0 });

beforeAll(async () => {
  redis = await connectTestRedis();
  network = testNetwork();
  devnet = await startDevnet({ port: await getFreePort(), blockTimeSec: 0, manifestPath: null });
  m = devnet.manifest;
  client = devnet.clients.publicClient as unknown as PublicClient;
  adapters = createAdapters(m);
  startBlock = BigInt(m.network.startBlock);
  backfilledTo = await head();
  const connection = { url: redisUrl(), maxRetriesPerRequest: null };
  queues = createQueues(connection, network);
  store = await RedisReorgStore.open<OwnerPositions>({
    redis,
    keys: redisKeys(network).reorgStore('positions'),
    anchor: await IndexerService.anchorFor(client, backfilledTo),
  });
  service = new IndexerService({
    client,
    adapters,
    store,
    jobs: queueJobSink(queues),
    getLogs: rpcGetLogs(client),
    startBlock,
  });
  // The `risk` queue is the risk engine's: this process only produces its jobs.
  workers = startWorkers(
    connection,
    network,
    processorHandlers({
      indexRange: new IndexRangeProcessor(service),
      refresh: new RefreshProcessor(service),
    }),
    { queues: ['index-range', 'refresh'] },
  );
}, 120_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  if (queues) await closeQueues(queues);
  if (redis) {
    await deleteKeys(redis, redisKeys(network).prefix);
    redis.disconnect();
  }
  await devnet?.stop();
});

const chain = (): IndexedChain => ({ client, adapters, manifest: m, queues, store });
const drained = (): Promise<void> => drainedQueues(queues);
const directRead = (owner: Address, block: bigint): Promise<OwnerPositions> =>
  directReadOn(chain(), owner, block);
const riskJobIds = (): Promise<string[]> => riskJobIdsOn(queues);
const expectStoredEqualsChain = (): Promise<number> => expectStoredEqualsChainOn(chain(), backfilledTo);

describe('indexing service on the devnet', () => {
  it('backfills from the start block through the workers: stored positions equal the chain', async () => {
    await enqueueRange(queues, startBlock, backfilledTo, await service.blockRef(backfilledTo));
    await drained();
    const withPositions = await expectStoredEqualsChain();
    expect(withPositions).toBeGreaterThanOrEqual(3);
    expect((await store.head())?.number).toBe(backfilledTo);
  }, 60_000);

  it('adds no risk job and changes no stored byte when the backfill and the refreshes run again', async () => {
    const riskBefore = await riskJobIds();
    const before = serialize([...(await store.entries())].sort());
    // The same range again (deduplicated by job id), then every refresh re-run directly.
    await enqueueRange(queues, startBlock, backfilledTo, await service.blockRef(backfilledTo));
    const again = await service.backfill(startBlock, backfilledTo);
    expect(again.owners.length).toBeGreaterThan(0);
    await drained();
    for (const owner of again.owners)
      expect(await service.handleRefresh(owner, backfilledTo)).toBe('unchanged');
    expect(await riskJobIds()).toEqual(riskBefore);
    expect(serialize([...(await store.entries())].sort())).toBe(before);
  }, 60_000);

  it('after a crash path with liquidations, a live range refreshes the changed owners', async () => {
    const from = backfilledTo + 1n;
    const nearLiqAddress = persona(m, 'aave-near-liquidation').address;
    const highLevAddress = persona(m, 'perps-high-leverage').address;
    const beforeNearLiq = await store.get(nearLiqAddress);
    const beforeHighLev = await store.get(highLevAddress);
    const { nearLiq, highLev } = await crashWithLiquidations(devnet);
    const to = await head();
    const touched = await service.backfill(from, to);
    await drained();
    // The liquidated owners are named by the logs, re-read at the live block, changed, and sent to risk.
    expect(touched.owners).toEqual(expect.arrayContaining([nearLiq.address, highLev.address]));
    const risk = new Set(await riskJobIds());
    for (const [who, before] of [
      [nearLiq, beforeNearLiq],
      [highLev, beforeHighLev],
    ] as const) {
      const stored = await store.get(who.address);
      expect(stored?.blockNumber).toBe(to);
      expect(serialize(stored?.value)).not.toBe(serialize(before?.value));
      expect(risk.has(jobIds.risk(who.address, await service.blockRef(to)))).toBe(true);
    }
    backfilledTo = to;
    await expectStoredEqualsChain();
  }, 60_000);
});

describe('indexing service across a reorg on the devnet', () => {
  it('heals a store holding dropped blocks: the next advance rolls back to the ancestor and re-reads the undone owners', async () => {
    const tc = devnet.clients.testClient;
    const ancestorBlock = await client.getBlock({ blockNumber: backfilledTo });
    const ancestor = { number: ancestorBlock.number, hash: ancestorBlock.hash };
    expect(await store.head()).toEqual(ancestor);
    const snapshot = await tc.snapshot();
    // An hour of interest on the old branch: Aave balances move without an event (feeds stay fresh).
    await tc.increaseTime({ seconds: 3_600 });
    await tc.mine({ blocks: 3 });
    const oldTip = await head();
    const owners = m.accounts.map((a) => a.address);
    const changed: Address[] = [];
    for (const o of owners) if ((await service.handleRefresh(o, oldTip)) === 'changed') changed.push(o);
    expect(changed.length).toBeGreaterThan(0);
    expect((await store.head())?.number).toBe(oldTip);

    // The new branch: same heights, other timestamps, so other hashes.
    await tc.revert({ id: snapshot });
    await tc.increaseTime({ seconds: 60 });
    await tc.mine({ blocks: 3 });
    const newTip = await service.blockRef(await head());
    expect(newTip.number).toBe(oldTip);
    // What the live path queues for the new tip: its range (no logs) and the advance that follows.
    await enqueueRange(queues, newTip.number, newTip.number, newTip);
    await drained();
    expect(await store.head()).toEqual(newTip);
    for (const o of changed) {
      const stored = await store.get(o);
      expect(stored?.blockNumber).toBe(newTip.number);
      expect(stored?.blockHash).toBe(newTip.hash);
      expect(serialize(stored?.value)).toBe(serialize(await directRead(o, newTip.number)));
    }
    await expectStoredEqualsChain();
    backfilledTo = newTip.number;
  }, 60_000);

  it('onReorg rolls back to a given ancestor and asks refreshes of the owners it undid', async () => {
    const tc = devnet.clients.testClient;
    const ancestor = await service.blockRef(backfilledTo);
    await tc.increaseTime({ seconds: 3_600 });
    await tc.mine({ blocks: 1 });
    const tip = await service.blockRef(await head());
    const changed: Address[] = [];
    for (const o of m.accounts.map((a) => a.address))
      if ((await service.handleRefresh(o, tip)) === 'changed') changed.push(o);
    expect(changed.length).toBeGreaterThan(0);
    const undone = await service.onReorg(ancestor, tip);
    expect(undone).toEqual([...changed].sort());
    await drained();
    expect(await store.head()).toEqual(tip);
    await expectStoredEqualsChain();
  }, 60_000);
});
