/**
 * Reconciliation on the devnet with real Redis, real Aave and real BullMQ: after a backfill through the
 * workers, a run with nothing changed repairs nothing; an hour of interest is classified as accrual
 * (no drift); an aToken `transfer` between two personas (no Pool event, so no indexing) is drift for
 * exactly those two and is repaired; a stored value overwritten with a wrong one is repaired; the
 * Redis counters add up to the runs' summaries; a scheduled run through the `reconcile` worker works.
 */
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { erc20Abi, parseUnits, type Address, type Client, type PublicClient } from 'viem';
import type { DeploymentManifest, SeededAccount } from '../src/config/manifest';
import { write } from '../src/devnet/chain';
import { getFreePort } from '../src/devnet/anvil';
import { startDevnet, type Devnet } from '../src/devnet/devnet';
import { createAdapters } from '../src/indexer/adapters';
import type { ProtocolAdapter } from '../src/indexer/adapters/types';
import type { BlockRef } from '../src/indexer/chain/store';
import { rpcGetLogs } from '../src/indexer/chain/logs';
import { IdentityIndex, syncIdentity } from '../src/indexer/identity';
import { IndexerService, type OwnerPositions } from '../src/indexer/indexer.service';
import {
  IndexRangeProcessor,
  processorHandlers,
  ReconcileProcessor,
  RefreshProcessor,
} from '../src/indexer/processors';
import {
  closeQueues,
  createQueues,
  enqueueRange,
  jobIds,
  queueJobSink,
  scheduleReconcile,
  startWorkers,
  unscheduleReconcile,
  type IndexerQueues,
  type QueueName,
} from '../src/indexer/queues';
import { Reconciler, RECONCILE_METRICS, type ReconcileSummary } from '../src/indexer/reconcile';
import { redisKeys } from '../src/indexer/redis/keys';
import { RedisReorgStore } from '../src/indexer/redis/redis-store';
import { serialize } from '../src/indexer/redis/serialize';
import { connectTestRedis, deleteKeys, redisUrl, testNetwork } from '../src/indexer/redis/test-redis';

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
let reconciler: Reconciler;
let startBlock: bigint;
const connection = { url: redisUrl(), maxRetriesPerRequest: null };
/** Every summary a run returned, to check the counters against. */
const summaries: ReconcileSummary[] = [];
const warnings: string[] = [];

const persona = (name: string): SeededAccount => {
  const a = m.accounts.find((x) => x.persona === name);
  if (!a) throw new Error(`persona ${name} not in manifest`);
  return a;
};
const head = (): Promise<bigint> => client.getBlockNumber({ cacheTime: 0 });

async function run(at?: BlockRef): Promise<ReconcileSummary> {
  const s = await reconciler.run(at);
  summaries.push(s);
  return s;
}

beforeAll(async () => {
  redis = await connectTestRedis();
  network = testNetwork();
  devnet = await startDevnet({ port: await getFreePort(), blockTimeSec: 0, manifestPath: null });
  m = devnet.manifest;
  client = devnet.clients.publicClient as unknown as PublicClient;
  adapters = createAdapters(m);
  startBlock = BigInt(m.network.startBlock);
  const to = await head();
  queues = createQueues(connection, network);
  store = await RedisReorgStore.open<OwnerPositions>({
    redis,
    keys: redisKeys(network).reorgStore('positions'),
    anchor: await IndexerService.anchorFor(client, to),
  });
  service = new IndexerService({
    client,
    adapters,
    store,
    jobs: queueJobSink(queues),
    getLogs: rpcGetLogs(client),
    startBlock,
  });
  reconciler = new Reconciler({
    client: client as unknown as Client,
    service,
    store,
    adapters,
    redis,
    network,
    logger: { warn: (line) => void warnings.push(line) },
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
  await enqueueRange(queues, startBlock, to, await service.blockRef(to));
  await drained();
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

/** Waits until the index-range and refresh queues are empty; a failed job fails the test. */
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

/** An independent read: identity rebuilt from the start block, every adapter read at `block`. */
async function directRead(owner: Address, block: bigint): Promise<OwnerPositions> {
  const identity = IdentityIndex.forAdapters(adapters);
  await syncIdentity(client as unknown as Client, identity, startBlock, block);
  const reads = await Promise.all(
    adapters.map((a) =>
      a.readPositions(client as unknown as Client, identity.holderFor(owner, a.protocol), block),
    ),
  );
  return {
    owner,
    protocols: reads.map((r) => ({ protocol: r.protocol, positions: r.positions, attributes: r.attributes })),
  };
}

async function snapshot(): Promise<Map<string, string>> {
  return new Map([...(await store.entries())].map(([k, v]) => [k, serialize(v.value)]));
}

const hasAaveDebt = (v: string | undefined): boolean => v !== undefined && v.includes('"side":"debt"');

describe('reconciliation on the devnet', () => {
  it('repairs nothing right after the backfill', async () => {
    const owners = (await store.entries()).size;
    expect(owners).toBeGreaterThanOrEqual(10);
    const s = await run();
    expect(s).toMatchObject({
      blockNumber: (await store.head())!.number.toString(),
      checked: owners,
      unchanged: owners,
      accrualRefreshed: 0,
      driftRepaired: 0,
      drifted: [],
      superseded: [],
    });
  }, 60_000);

  it('classifies an hour of interest and funding as accrual, with no drift', async () => {
    const before = await snapshot();
    await devnet.clients.testClient.increaseTime({ seconds: 3_600 });
    await devnet.clients.testClient.mine({ blocks: 2 });
    const at = await service.blockRef(await head());
    const s = await run(at);
    const after = await snapshot();
    const changed = [...after].filter(([k, v]) => before.get(k) !== v).map(([k]) => k);
    expect(s.driftRepaired).toBe(0);
    expect(warnings).toEqual([]);
    expect(s.accrualRefreshed).toBe(changed.length);
    expect(s.unchanged).toBe(s.checked - changed.length);
    // Every owner with Aave debt pays interest: each of them changed, as accrual.
    const borrowers = [...before].filter(([, v]) => hasAaveDebt(v)).map(([k]) => k);
    expect(borrowers.length).toBeGreaterThanOrEqual(4);
    expect(changed).toEqual(expect.arrayContaining(borrowers));
    // Funding moves an open perp with no event: accrual too, not drift.
    expect(changed).toContain(persona('perps-op-long').address);
    for (const o of changed) {
      const stored = await store.get(o);
      expect(stored?.blockNumber).toBe(at.number);
      expect(await queues.risk.getJob(jobIds.risk(stored!.value.owner, at))).toBeDefined();
    }
  }, 60_000);

  it('reports an aToken transfer between two personas as drift of exactly those two, and repairs them', async () => {
    const saver = persona('aave-usdc-saver');
    const whale = persona('aave-liquidity-whale');
    expect(await store.get(saver.address)).toBeDefined();
    expect(await store.get(whale.address)).toBeDefined();
    // aToken.transfer emits no Pool event: event-driven indexing does not see it.
    await write(devnet.clients, saver.address, m.aave.reserves.USDC.aToken, erc20Abi, 'transfer', [
      whale.address,
      parseUnits('1000', 6),
    ]);
    await devnet.clients.testClient.mine({ blocks: 1 });
    const at = await service.blockRef(await head());
    const s = await run(at);
    expect(s.drifted.map((d) => d.owner).sort()).toEqual([saver.address, whale.address].sort());
    expect(s.driftRepaired).toBe(2);
    for (const d of s.drifted) expect(d.differences.join()).toContain('aave-v3 aUSDC');
    expect(warnings).toHaveLength(2);
    for (const who of [saver, whale]) {
      const stored = await store.get(who.address);
      expect(stored?.blockNumber).toBe(at.number);
      expect(serialize(stored?.value)).toBe(serialize(await directRead(who.address, at.number)));
      expect(await queues.risk.getJob(jobIds.risk(who.address, at))).toBeDefined();
    }
  }, 60_000);

  it('repairs a stored value overwritten with a wrong one', async () => {
    const victim = persona('aave-btc-borrower');
    const h = (await store.head())!;
    const stored = (await store.get(victim.address))!;
    const aave = stored.value.protocols.find((p) => p.protocol === 'aave-v3')!;
    const tampered: OwnerPositions = {
      ...stored.value,
      protocols: stored.value.protocols.map((p) =>
        p === aave
          ? {
              ...p,
              positions: p.positions.map((x) =>
                x.kind === 'lending' && x.side === 'collateral'
                  ? { ...x, amount: { ...x.amount, raw: x.amount.raw / 2n } }
                  : x,
              ),
            }
          : p,
      ),
    };
    expect(serialize(tampered)).not.toBe(serialize(stored.value));
    await store.amendHead(h, [{ key: victim.address, value: tampered }]);
    const s = await run();
    expect(s.blockNumber).toBe(h.number.toString());
    expect(s.drifted.map((d) => d.owner)).toEqual([victim.address]);
    expect(s.drifted[0]!.differences.join()).toContain('aWBTC');
    expect(s.accrualRefreshed).toBe(0);
    const repaired = await store.get(victim.address);
    expect(serialize(repaired?.value)).toBe(serialize(await directRead(victim.address, h.number)));
    expect(serialize(repaired?.value)).toBe(serialize(stored.value));
  }, 60_000);

  it('runs on schedule through the reconcile worker, and the Redis counters add up to the runs', async () => {
    const worker = startWorkers(
      connection,
      network,
      processorHandlers({ reconcile: new ReconcileProcessor(reconciler) }),
      { queues: ['reconcile'] },
    );
    try {
      await scheduleReconcile(queues, 60_000);
      const deadline = Date.now() + 30_000;
      let completed = await queues.reconcile.getCompleted();
      while (completed.length === 0) {
        const [failed] = await queues.reconcile.getFailed(0, 0);
        if (failed) throw new Error(`the reconcile job failed: ${failed.failedReason}`);
        if (Date.now() > deadline) throw new Error('no scheduled reconcile run within 30 s');
        await new Promise((r) => setTimeout(r, 100));
        completed = await queues.reconcile.getCompleted();
      }
      expect(await unscheduleReconcile(queues)).toBe(true);
      const scheduled = completed[0]!.returnvalue as ReconcileSummary;
      // Nothing changed since the last run's block: nothing to repair.
      expect(scheduled).toMatchObject({ accrualRefreshed: 0, driftRepaired: 0, drifted: [] });
      expect(scheduled.unchanged).toBe(scheduled.checked);
      summaries.push(scheduled);
    } finally {
      await Promise.all(worker.map((w) => w.close()));
    }

    const metrics = await redis.hgetall(redisKeys(network).indexer.metrics);
    const sum = (f: (s: ReconcileSummary) => number): string => `${summaries.reduce((a, s) => a + f(s), 0)}`;
    expect(summaries).toHaveLength(5);
    expect(metrics).toEqual({
      [RECONCILE_METRICS.runs]: '5',
      [RECONCILE_METRICS.ownersChecked]: sum((s) => s.checked),
      [RECONCILE_METRICS.accrualRefreshed]: sum((s) => s.accrualRefreshed),
      [RECONCILE_METRICS.driftRepaired]: '3',
    });
    expect(JSON.parse((await redis.get(redisKeys(network).indexer.reconcileLast))!)).toEqual(summaries[4]);
  }, 60_000);
});
