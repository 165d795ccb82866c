/**
 * The head runner on the devnet with real Redis and BullMQ workers: a first sync queued in ranges and
 * refreshed at one block, live blocks followed one poll at a time (positions and market), a reorg
 * healed (positions by their writer, market and price history by the runner), a deeper reorg halting
 * with an alert that blocks restarts until cleared, and the leader lease handing the role over.
 * Polls are driven by hand (`runner.poll()`), so every step is deterministic.
 */
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Address, Client, PublicClient } from 'viem';
import { aavePoolAbi } from '../src/contracts/generated';
import type { DeploymentManifest } from '../src/config/manifest';
import { write } from '../src/devnet/chain';
import { getFreePort } from '../src/devnet/anvil';
import { startDevnet, type Devnet } from '../src/devnet/devnet';
import { createAdapters } from '../src/indexer/adapters';
import type { ProtocolAdapter } from '../src/indexer/adapters/types';
import type { RedisReorgStore } from '../src/indexer/redis/redis-store';
import { rpcGetLogs } from '../src/indexer/chain/logs';
import { IdentityIndex, syncIdentity } from '../src/indexer/identity';
import { IndexerService, type OwnerPositions } from '../src/indexer/indexer.service';
import { MarketRecorder, type MarketRecord } from '../src/indexer/market-recorder';
import { IndexRangeProcessor, processorHandlers, RefreshProcessor } from '../src/indexer/processors';
import {
  closeQueues,
  createQueues,
  queueJobSink,
  startWorkers,
  type IndexerQueues,
  type QueueName,
} from '../src/indexer/queues';
import { redisKeys } from '../src/indexer/redis/keys';
import { RedisPriceHistory } from '../src/indexer/redis/price-history';
import { serialize } from '../src/indexer/redis/serialize';
import { connectTestRedis, deleteKeys, redisUrl, testNetwork } from '../src/indexer/redis/test-redis';
import { IndexerRunner } from '../src/indexer/runner';

const FINALITY = 4;

let devnet: Devnet;
let m: DeploymentManifest;
let client: PublicClient;
let adapters: ProtocolAdapter[];
let redis: Redis;
let network: string;
let queues: IndexerQueues;
let workers: Worker[] = [];
let positions: RedisReorgStore<OwnerPositions>;
let marketStore: RedisReorgStore<MarketRecord>;
let history: RedisPriceHistory;
let service: IndexerService;
let runner: IndexerRunner;
const logs: { event: string; fields?: Record<string, unknown> }[] = [];

const head = (): Promise<bigint> => client.getBlockNumber({ cacheTime: 0 });

function makeRunner(): IndexerRunner {
  return new IndexerRunner({
    client,
    service,
    queues,
    redis,
    network,
    positions,
    startBlock: BigInt(m.network.startBlock),
    finalityDepth: FINALITY,
    rangeBlocks: 25n,
    market: new MarketRecorder({
      client: client as unknown as Client,
      manifest: m,
      store: marketStore,
      history,
    }),
    leaseMs: 60_000,
    log: (event, fields) => void logs.push({ event, fields }),
  });
}

beforeAll(async () => {
  redis = await connectTestRedis();
  network = testNetwork();
  devnet = await startDevnet({ port: await getFreePort(), blockTimeSec: 0, manifestPath: null });
  m = devnet.manifest;
  client = devnet.clients.publicClient as unknown as PublicClient;
  adapters = createAdapters(m);
  const connection = { url: redisUrl(), maxRetriesPerRequest: null };
  queues = createQueues(connection, network);
  positions = await IndexerRunner.openPositionsStore(redis, network, client);
  marketStore = await IndexerRunner.openMarketStore(redis, network, client);
  history = new RedisPriceHistory(redis, redisKeys(network).priceHistory);
  service = new IndexerService({
    client,
    adapters,
    store: positions,
    jobs: queueJobSink(queues),
    getLogs: rpcGetLogs(client),
    startBlock: BigInt(m.network.startBlock),
  });
  workers = startWorkers(
    connection,
    network,
    processorHandlers({
      indexRange: new IndexRangeProcessor(service),
      refresh: new RefreshProcessor(service),
    }),
    { queues: ['index-range', 'refresh'], concurrency: { 'index-range': 2 } },
  );
  runner = makeRunner();
}, 120_000);

afterAll(async () => {
  await runner?.stop();
  await Promise.all(workers.map((w) => w.close()));
  if (queues) await closeQueues(queues);
  if (redis) {
    await deleteKeys(redis, redisKeys(network).prefix);
    redis.disconnect();
  }
  await devnet?.stop();
});

async function drained(timeoutMs = 40_000): Promise<void> {
  const names: QueueName[] = ['index-range', 'refresh'];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let pending = 0;
    for (const q of names) {
      const c = await queues[q].getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed');
      if ((c.failed ?? 0) > 0) {
        const [job] = await queues[q].getFailed(0, 0);
        throw new Error(`a ${q} job failed: ${job?.failedReason}`);
      }
      pending += (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0);
    }
    if (pending === 0) return;
    if (Date.now() > deadline) throw new Error(`queues not drained after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every persona's stored value equals an independent read at the stored block, on the canonical chain. */
async function expectIndexedEqualsChain(): Promise<void> {
  const identity = IdentityIndex.forAdapters(adapters);
  const at = await head();
  await syncIdentity(client as unknown as Client, identity, BigInt(m.network.startBlock), at);
  for (const p of m.accounts) {
    const stored = await positions.get(p.address);
    if (!stored) continue;
    expect(stored.blockHash).toBe((await client.getBlock({ blockNumber: stored.blockNumber })).hash);
    const reads = await Promise.all(
      adapters.map((a) =>
        a.readPositions(
          client as unknown as Client,
          identity.holderFor(p.address, a.protocol),
          stored.blockNumber,
        ),
      ),
    );
    const direct: OwnerPositions = {
      owner: p.address,
      protocols: reads.map((r) => ({
        protocol: r.protocol,
        positions: r.positions,
        attributes: r.attributes,
      })),
    };
    expect(serialize(stored.value)).toBe(serialize(direct));
  }
}

/** Polls until the store's head is the chain head (each poll queues what it saw; workers drain it). */
async function catchUp(): Promise<void> {
  await runner.poll();
  await drained();
  const s = await runner.status();
  expect(s.storeHead).toBe(s.chainHead);
  expect(s.lagBlocks).toBe(0);
}

const saver = (): Address => m.accounts.find((a) => a.persona === 'aave-usdc-saver')!.address;

async function withdrawUsdc(amount: bigint): Promise<void> {
  await write(devnet.clients, saver(), m.aave.pool, aavePoolAbi, 'withdraw', [
    m.tokens.USDC.address,
    amount,
    saver(),
  ]);
}

describe('head runner on the devnet', () => {
  it('queues the first sync in ranges refreshed at one block; the store reaches the head, equal to the chain', async () => {
    const target = (await positions.head())!.number + 1n;
    await runner.poll();
    const first = logs.find((l) => l.event === 'runner.first-sync-queued');
    expect(first?.fields?.toBlock).toBe(target.toString());
    expect(Number(first?.fields?.rangeJobs)).toBeGreaterThan(1);
    await drained();
    expect((await positions.head())?.number).toBeGreaterThanOrEqual(target);
    await catchUp();
    await expectIndexedEqualsChain();
    const owners = [...(await positions.entries()).keys()];
    expect(owners.length).toBeGreaterThanOrEqual(10);
    expect((await runner.status()).leader).toBe(true);
  }, 90_000);

  it('follows live blocks: a withdrawal is indexed at its block, the market is recorded at every block', async () => {
    await withdrawUsdc(1_000n * 10n ** 6n);
    const block = await head();
    await devnet.clients.testClient.mine({ blocks: 2 });
    await catchUp();
    const stored = await positions.get(saver());
    expect(stored?.blockNumber).toBe(block);
    await expectIndexedEqualsChain();
    const market = await marketStore.get('latest');
    expect(market?.blockNumber).toBe(await head());
    expect(market?.value.snapshot.market.prices.ETH?.answer).toBeGreaterThan(0n);
    expect((await history.assets()).length).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it('heals a reorg: positions and market equal the new branch, no observation of a dropped block is left', async () => {
    const tc = devnet.clients.testClient;
    await tc.mine({ blocks: 1 });
    await catchUp();
    const snapshot = await tc.snapshot();
    // Old branch: a withdrawal and an hour of interest, indexed.
    await withdrawUsdc(500n * 10n ** 6n);
    await tc.increaseTime({ seconds: 3_600 });
    await tc.mine({ blocks: 2 });
    await catchUp();
    const dropped = await client.getBlock({ blockTag: 'latest' });
    // New branch from the snapshot: no withdrawal, one more block than the old one.
    await tc.revert({ id: snapshot });
    await tc.increaseTime({ seconds: 60 });
    await tc.mine({ blocks: 4 });
    const events = await runner.poll();
    expect(events.some((e) => e.type === 'reorg')).toBe(true);
    await drained();
    await catchUp();
    await expectIndexedEqualsChain();
    const canonical = await client.getBlock({ blockTag: 'latest' });
    expect((await marketStore.get('latest'))?.blockHash).toBe(canonical.hash);
    for (const asset of await history.assets())
      for (const o of await history.observations(asset)) expect(o.blockHash).not.toBe(dropped.hash);
  }, 60_000);

  it('does not finalize the positions store onto a dropped branch the refresh workers have not healed yet', async () => {
    const tc = devnet.clients.testClient;
    await tc.mine({ blocks: 1 });
    await catchUp();
    const snapshot = await tc.snapshot();
    await withdrawUsdc(100n * 10n ** 6n);
    await tc.mine({ blocks: 2 });
    await catchUp();
    const storeHead = (await positions.history()).at(-1)!;
    // The workers stop; the chain forks below the store's head and runs past the finality line.
    await Promise.all(workers.map((w) => w.pause()));
    try {
      await tc.revert({ id: snapshot });
      await tc.mine({ blocks: FINALITY + 4 });
      const events = await runner.poll();
      expect(events.some((e) => e.type === 'reorg')).toBe(true);
      // The store still holds the old branch: its anchor must not have moved onto it.
      const anchor = (await positions.history())[0]!;
      expect(anchor.number).toBeLessThan(storeHead.number);
      expect((await client.getBlock({ blockNumber: anchor.number })).hash).toBe(anchor.hash);
    } finally {
      await Promise.all(workers.map((w) => w.resume()));
    }
    await drained();
    await catchUp();
    await expectIndexedEqualsChain();
  }, 60_000);

  it('hands the role over: a second runner stands by while the lease is held, then resumes from the cursor', async () => {
    const standby = makeRunner();
    expect(await standby.poll()).toEqual([]);
    expect((await standby.status()).leader).toBe(false);
    await runner.stop();
    await withdrawUsdc(10n * 10n ** 6n);
    const block = await head();
    runner = standby;
    await catchUp();
    expect((await positions.get(saver()))?.blockNumber).toBe(block);
    expect(logs.filter((l) => l.event === 'runner.first-sync-queued')).toHaveLength(1);
  }, 60_000);

  it('halts on a reorg deeper than the finality depth, with an alert; start refuses until the halt is cleared', async () => {
    const tc = devnet.clients.testClient;
    await tc.mine({ blocks: 1 });
    await catchUp();
    const snapshot = await tc.snapshot();
    await tc.mine({ blocks: FINALITY + 2 });
    await catchUp();
    const indexed = await positions.head();
    await tc.revert({ id: snapshot });
    await tc.increaseTime({ seconds: 30 });
    await tc.mine({ blocks: FINALITY + 4 });
    const events = await runner.poll();
    expect(events.map((e) => e.type)).toEqual(['halt']);
    const alert = logs.find((l) => l.event === 'runner.halted');
    expect(alert?.fields).toMatchObject({ alert: true, code: 'REORG_TOO_DEEP' });
    expect((await runner.status()).halted?.code).toBe('REORG_TOO_DEEP');
    expect(await positions.head()).toEqual(indexed);
    const restarted = makeRunner();
    await expect(restarted.start(1_000)).rejects.toMatchObject({ code: 'INDEXER_HALTED' });
    await IndexerRunner.clearHalt(redis, network);
    expect((await runner.status()).halted).toBeNull();
  }, 60_000);
});
