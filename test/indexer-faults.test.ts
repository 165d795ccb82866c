/**
 * Fault tests of the indexer worker on the devnet: each scenario backfills the seeded chain through
 * the real queues and must end with every persona's stored positions equal to a direct adapter read at
 * the stored block, no failed job, every expected job id completed and the store's head at the target.
 *
 * Every worker is a child process running `src/worker.ts` (the NestJS module, configured by
 * environment variables, as in production; NestJS ships as ES modules only, which Jest cannot load).
 *
 * - RPC faults: two worker processes (one `index` only, one `index,refresh`) drain the history in
 *   four ranges, reading the chain through a loopback proxy that answers a seeded random share of
 *   HTTP requests with 429 (Retry-After 0 or 1), a JSON-RPC -32005 rate limit, or no answer at all
 *   (past the client's timeout); then a crash path with two liquidations and a live range through
 *   the same proxy; then a graceful stop (SIGTERM).
 * - SIGKILL: the worker process is killed while a refresh job is active; a second worker process gets
 *   the job back once its lock expired (stalled → waiting → completed) and finishes the backfill.
 * - Redis restart: a worker with the default roles (its head runner queues the first sync) runs
 *   against a private `redis-server` with an append-only file synced on every write; Redis is killed
 *   mid-backfill and restarted on the same port and directory, and the worker reconnects by itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Address, PublicClient } from 'viem';
import type { DeploymentManifest } from '../src/config/manifest';
import { getFreePort } from '../src/devnet/anvil';
import { startDevnet, type Devnet } from '../src/devnet/devnet';
import { mulberry32 } from '../src/risk/stats/prng';
import { createAdapters } from '../src/indexer/adapters';
import type { ProtocolAdapter } from '../src/indexer/adapters/types';
import { rpcGetLogs } from '../src/indexer/chain/logs';
import type { BlockRef } from '../src/indexer/chain/store';
import { ReorgBuffer } from '../src/indexer/chain/store';
import { IndexerService, type OwnerPositions } from '../src/indexer/indexer.service';
import { closeQueues, createQueues, enqueueRange, jobIds, type IndexerQueues } from '../src/indexer/queues';
import { redisKeys } from '../src/indexer/redis/keys';
import { RedisReorgStore } from '../src/indexer/redis/redis-store';
import { serialize } from '../src/indexer/redis/serialize';
import { connectTestRedis, deleteKeys, redisUrl, testNetwork } from '../src/indexer/redis/test-redis';
import { FakeRpc, type Reply } from './helpers/fake-rpc';
import {
  crashWithLiquidations,
  drained,
  expectStoredEqualsChain,
  persona,
  type IndexedChain,
} from './helpers/indexer';
import { killWorkerGroup, spawnWorker, type WorkerProcess } from './helpers/worker-process';
import { redisServerBinary, runCleanupsBounded } from './helpers/redis-server';

let devnet: Devnet;
let m: DeploymentManifest;
let client: PublicClient;
let adapters: ProtocolAdapter[];
let redis: Redis;
let tmp: string;
let manifestPath: string;
const networks: string[] = [];
const children: ChildProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  redis = await connectTestRedis();
  devnet = await startDevnet({ port: await getFreePort(), blockTimeSec: 0, manifestPath: null });
  m = devnet.manifest;
  client = devnet.clients.publicClient as unknown as PublicClient;
  adapters = createAdapters(m);
  tmp = mkdtempSync(join(tmpdir(), 'nm-faults-'));
  manifestPath = join(tmp, 'manifest.json');
  writeFileSync(manifestPath, JSON.stringify(m));
}, 120_000);

afterAll(async () => {
  // Child workers first (a whole process group each), whatever state the tests left them in.
  for (const c of children) killWorkerGroup(c);
  await runCleanupsBounded(cleanups);
  if (redis) {
    for (const n of networks) await deleteKeys(redis, redisKeys(n).prefix);
    redis.disconnect();
  }
  await devnet?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** One backfill to check: its network, queues, store and the job ids it must complete. */
interface Backfill {
  network: string;
  queues: IndexerQueues;
  store: RedisReorgStore<OwnerPositions>;
  target: BlockRef;
  rangeIds: string[];
  refreshIds: string[];
}

/**
 * Prepares a backfill from the start block to the head on `url`'s Redis: anchors the positions store
 * at the parent of the head, computes the job ids it must produce (a dry run of the service's
 * backfill with a recording job sink, straight against anvil) and queues the range.
 */
async function prepareBackfill(
  conn: Redis,
  url: string,
  opts: { enqueue: boolean; ranges?: number },
): Promise<Backfill> {
  const network = testNetwork();
  networks.push(network);
  const queues = createQueues({ url, maxRetriesPerRequest: null }, network);
  // Connection errors while a Redis restarts are expected; the queues reconnect by themselves.
  for (const q of Object.values(queues)) q.on('error', () => undefined);
  cleanups.push(() => closeQueues(queues));
  const head = await client.getBlockNumber({ cacheTime: 0 });
  const startBlock = BigInt(m.network.startBlock);
  const dry = new IndexerService({
    client,
    adapters,
    store: new ReorgBuffer<OwnerPositions>({ number: head - 1n, hash: '0x' }),
    jobs: { refresh: async () => undefined, advance: async () => undefined, risk: async () => undefined },
    getLogs: rpcGetLogs(client),
    startBlock,
  });
  const target = await dry.blockRef(head);
  // The history in `ranges` ranges all refreshed at the head, as the head runner queues a first sync.
  const step = (head - startBlock + 1n + BigInt((opts.ranges ?? 1) - 1)) / BigInt(opts.ranges ?? 1);
  const ranges: [bigint, bigint][] = [];
  for (let from = startBlock; from <= head; from += step)
    ranges.push([from, from + step - 1n < head ? from + step - 1n : head]);
  const owners = new Set<Address>();
  for (const [from, to] of ranges)
    for (const o of (await dry.backfill(from, to, target)).owners) owners.add(o);
  expect(owners.size).toBeGreaterThan(5);
  const store = await RedisReorgStore.open<OwnerPositions>({
    redis: conn,
    keys: redisKeys(network).reorgStore('positions'),
    anchor: await IndexerService.anchorFor(client, head),
  });
  // Without the test's range, a worker with the head role queues the same one (its first sync).
  if (opts.enqueue) for (const [from, to] of ranges) await enqueueRange(queues, from, to, target);
  return {
    network,
    queues,
    store,
    target,
    rangeIds: ranges.map(([from, to]) => jobIds.range(from, to, target)),
    refreshIds: [...[...owners].map((o) => jobIds.refresh(o, target)), jobIds.advance(target)],
  };
}

/** No failed job anywhere, every expected job completed, the head at the target, the state exact. */
async function expectExactAndNothingLost(b: Backfill): Promise<void> {
  for (const q of ['index-range', 'refresh', 'risk'] as const)
    expect(`${q}: ${(await b.queues[q].getJobCounts('failed')).failed} failed`).toBe(`${q}: 0 failed`);
  for (const id of b.rangeIds)
    expect(`${id}: ${await b.queues['index-range'].getJobState(id)}`).toBe(`${id}: completed`);
  for (const id of b.refreshIds)
    expect(`${id}: ${await b.queues.refresh.getJobState(id)}`).toBe(`${id}: completed`);
  expect(await b.store.head()).toEqual(b.target);
  const chain: IndexedChain = { client, adapters, manifest: m, queues: b.queues, store: b.store };
  expect(await expectStoredEqualsChain(chain, b.target.number)).toBeGreaterThanOrEqual(3);
}

/**
 * Starts a worker process configured by `env` (on top of the test's manifest and low lock / stall
 * settings) and waits until its workers run.
 */
async function startWorker(env: Record<string, string>): Promise<WorkerProcess> {
  const w = spawnWorker({
    NETMARGIN_MANIFEST: manifestPath,
    NETMARGIN_ROLES: 'index,refresh',
    NETMARGIN_LOCK_DURATION_MS: '2000',
    NETMARGIN_STALLED_INTERVAL_MS: '500',
    ...env,
  });
  children.push(w.child);
  await w.until('workers-started');
  return w;
}

describe('indexer faults', () => {
  it('RPC 429s, -32005 rate limits and hangs: two worker processes retry and end with the exact state', async () => {
    const fake = new FakeRpc(devnet.rpcUrl);
    await fake.start();
    cleanups.push(() => fake.stop());
    // One fate per HTTP request (a batch fails as a whole), drawn from a seeded generator.
    const random = mulberry32(4);
    const fates = new Map<number, Reply>();
    const injected = { http429: 0, rpc32005: 0, hang: 0 };
    fake.behave = (_call, n) => {
      let fate = fates.get(n);
      if (fate === undefined) {
        const r = random();
        if (r < 0.08) {
          fate = { httpStatus: 429, retryAfter: r < 0.04 ? '0' : '1' };
          injected.http429 += 1;
        } else if (r < 0.14) {
          fate = { rpcError: { code: -32005, message: 'request rate limit exceeded' } };
          injected.rpc32005 += 1;
        } else if (r < 0.17) {
          fate = 'hang';
          injected.hang += 1;
        } else fate = 'proxy';
        fates.set(n, fate);
      }
      return fate;
    };

    // The history in four ranges, drained by two processes: one reads logs only, the other also writes.
    const b = await prepareBackfill(redis, redisUrl(), { enqueue: true, ranges: 4 });
    const env = {
      NETMARGIN_NETWORK: b.network,
      NETMARGIN_RPC_URLS: fake.url,
      NETMARGIN_RPC_TIMEOUT_MS: '1000',
    };
    const [reader, w] = await Promise.all([
      startWorker({ ...env, NETMARGIN_ROLES: 'index' }),
      startWorker({ ...env, NETMARGIN_ROLES: 'index,refresh' }),
    ]);
    await drained(b.queues, ['index-range', 'refresh'], 90_000);
    await expectExactAndNothingLost(b);

    // The crash path with liquidations, then a live range through the same faulty proxy.
    const nearLiqBefore = await b.store.get(persona(m, 'aave-near-liquidation').address);
    const { nearLiq, highLev } = await crashWithLiquidations(devnet);
    const to = await client.getBlockNumber({ cacheTime: 0 });
    const live = await client.getBlock({ blockNumber: to });
    const liveRef = { number: to, hash: live.hash };
    await enqueueRange(b.queues, b.target.number + 1n, to, liveRef);
    await drained(b.queues, ['index-range', 'refresh'], 60_000);
    for (const who of [nearLiq, highLev]) {
      const stored = await b.store.get(who.address);
      expect(stored?.blockNumber).toBe(to);
      expect(stored?.blockHash).toBe(live.hash);
    }
    expect(serialize((await b.store.get(nearLiq.address))?.value)).not.toBe(serialize(nearLiqBefore?.value));
    await expectExactAndNothingLost({
      ...b,
      target: liveRef,
      rangeIds: [jobIds.range(b.target.number + 1n, to, liveRef)],
      refreshIds: [jobIds.refresh(nearLiq.address, liveRef), jobIds.refresh(highLev.address, liveRef)],
    });
    // A graceful stop: the shutdown hooks close workers, queues and Redis, then NestJS re-raises the signal.
    for (const p of [reader, w]) {
      p.child.kill('SIGTERM');
      expect(await p.exited).toEqual({ code: null, signal: 'SIGTERM' });
      expect(p.lines.map((l) => l.event)).toEqual(expect.arrayContaining(['shutting-down', 'stopped']));
    }

    expect(injected.http429).toBeGreaterThan(0);
    expect(injected.rpc32005).toBeGreaterThan(0);
    expect(injected.hang).toBeGreaterThan(0);
  }, 150_000);

  it('a worker SIGKILLed mid-job: a second worker process gets the job back and ends with the exact state', async () => {
    const fake = new FakeRpc(devnet.rpcUrl);
    await fake.start();
    cleanups.push(() => fake.stop());
    fake.behave = (call) => (call.method === 'eth_call' ? { delayMs: 60 } : 'proxy'); // slow jobs
    const b = await prepareBackfill(redis, redisUrl(), { enqueue: true });
    const env = { NETMARGIN_NETWORK: b.network, NETMARGIN_RPC_URLS: fake.url };
    const first = await startWorker(env);
    await waitFor('a refresh job in progress after two completed', async () => {
      const c = await b.queues.refresh.getJobCounts('completed', 'active');
      return (c.completed ?? 0) >= 2 && (c.active ?? 0) > 0;
    });
    process.kill(first.child.pid!, 'SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    // The dead worker's jobs (NETMARGIN_REFRESH_CONCURRENCY of them at most) stay active, their locks
    // unrenewed, until a live worker's stall check finds them.
    const killed = (await b.queues.refresh.getActive()).map((j) => j.id ?? '');
    expect(killed.length).toBeGreaterThanOrEqual(1);

    const second = await startWorker(env);
    await drained(b.queues, ['index-range', 'refresh'], 90_000);
    for (const killedId of killed) {
      const job = await b.queues.refresh.getJob(killedId);
      expect(await b.queues.refresh.getJobState(killedId)).toBe('completed');
      expect(job?.stalledCounter).toBe(1); // moved back to waiting once, after the lock expired
      expect(second.lines.filter((l) => l.event === 'job-stalled' && l.line.includes(killedId))).toHaveLength(
        1,
      );
    }
    await expectExactAndNothingLost(b);
    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(second.lines.filter((l) => l.event === 'job-failed')).toEqual([]);
  }, 150_000);

  it('Redis killed and restarted mid-backfill (AOF): the workers reconnect by themselves and finish exactly', async () => {
    const bin = redisServerBinary();
    const port = await getFreePort();
    const dir = mkdtempSync(join(tmp, 'redis-'));
    const url = `redis://127.0.0.1:${port}`;
    const startRedis = (): ChildProcess => {
      // prettier-ignore
      const args = [
        '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
        '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--maxmemory-policy', 'noeviction',
      ];
      const p = spawn(bin, args, { detached: true, stdio: 'ignore' });
      children.push(p);
      return p;
    };
    let server = startRedis();
    const conn = new Redis(url, { maxRetriesPerRequest: null });
    conn.on('error', () => undefined); // reconnects by itself during the outage
    cleanups.push(async () => conn.disconnect());
    expect(await conn.ping()).toBe('PONG');

    const fake = new FakeRpc(devnet.rpcUrl);
    await fake.start();
    cleanups.push(() => fake.stop());
    fake.behave = (call) => (call.method === 'eth_call' ? { delayMs: 40 } : 'proxy');
    const b = await prepareBackfill(conn, url, { enqueue: false });
    // The default roles: this worker's head runner queues the first sync itself.
    const w = await startWorker({
      NETMARGIN_NETWORK: b.network,
      NETMARGIN_RPC_URLS: fake.url,
      REDIS_URL: url,
      NETMARGIN_ROLES: 'head,index,refresh',
      NETMARGIN_POLL_MS: '200',
    });
    await waitFor('three refresh jobs completed and more waiting', async () => {
      const c = await b.queues.refresh.getJobCounts('completed', 'waiting');
      return (c.completed ?? 0) >= 3 && (c.waiting ?? 0) > 0;
    });
    const exited = new Promise((r) => server.once('exit', r));
    process.kill(server.pid!, 'SIGKILL'); // a crash: no shutdown, no final save
    await exited;
    await sleep(1_000);
    server = startRedis();

    await drained(b.queues, ['index-range', 'refresh'], 90_000);
    await expectExactAndNothingLost(b);
    expect(w.lines.filter((l) => l.event === 'runner.first-sync-queued')).toHaveLength(1);
    // The outage was seen by the worker, and survived without a failed job.
    expect(w.lines.some((l) => l.event === 'redis-error' || l.event === 'worker-error')).toBe(true);
    expect(w.lines.filter((l) => l.event === 'job-failed')).toEqual([]);
    w.child.kill('SIGTERM');
    expect(await w.exited).toEqual({ code: null, signal: 'SIGTERM' });
    await closeQueues(b.queues);
    await conn.quit();
    process.kill(server.pid!, 'SIGKILL');
  }, 150_000);
});
