/**
 * Fault test of the risk workers on the devnet: Redis restart → no lost risk job.
 *
 * A devnet with the personas and 120 owners seeded through `HistorySeeder` (Aave, perps and options
 * positions each). An indexer worker process (`head,index,refresh`) backfills them against a private
 * `redis-server` with an append-only file synced on every write, which queues one `risk` job per
 * owner whose positions changed; nothing drains that queue until the indexer has stopped. Then a
 * worker process with the `risk` role alone (one job at a time) starts; while risk jobs are active
 * and waiting, Redis is SIGKILLed and restarted on the same port and directory. The risk worker must
 * reconnect by itself and every owner must end with exactly one result, at the block of its job, with
 * every expected job completed and none failed.
 *
 * Every worker is a child process running `src/worker.ts` (NestJS ships as ES modules only, which
 * Jest cannot load).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Address, Client, PublicClient } from 'viem';
import type { DeploymentManifest } from '../src/config/manifest';
import { getFreePort } from '../src/devnet/anvil';
import { startDevnet, type Devnet } from '../src/devnet/devnet';
import { seedHistory } from '../src/devnet/history-seeder';
import type { OwnerPositions } from '../src/indexer/indexer.service';
import { readMarketData } from '../src/indexer/market-data';
import { closeQueues, createQueues, jobIds, type IndexerQueues } from '../src/indexer/queues';
import { redisKeys } from '../src/indexer/redis/keys';
import { RedisReorgStore } from '../src/indexer/redis/redis-store';
import { testNetwork } from '../src/indexer/redis/test-redis';
import { defaultLiquidity } from '../src/pipeline/param-estimator';
import { ParamStore } from '../src/pipeline/param-store';
import { closePipelineQueues, createPipelineQueues, type PipelineQueues } from '../src/pipeline/queues';
import { RedisRiskResultStore } from '../src/pipeline/result-store';
import { positionsOf } from '../src/pipeline/risk.service';
import { DEFAULT_RISK_PARAMS } from '../src/risk';
import { drained } from './helpers/indexer';
import { killWorkerGroup, spawnWorker, type WorkerProcess } from './helpers/worker-process';
import { redisServerBinary, runCleanupsBounded } from './helpers/redis-server';

const SEEDED_OWNERS = 120;

let devnet: Devnet;
let m: DeploymentManifest;
let client: PublicClient;
let tmp: string;
let manifestPath: string;
const children: ChildProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  devnet = await startDevnet({ port: await getFreePort(), blockTimeSec: 0, manifestPath: null });
  m = devnet.manifest;
  client = devnet.clients.publicClient as unknown as PublicClient;
  await seedHistory(devnet.clients, m, { owners: SEEDED_OWNERS });
  tmp = mkdtempSync(join(tmpdir(), 'nm-pipeline-faults-'));
  manifestPath = join(tmp, 'manifest.json');
  writeFileSync(manifestPath, JSON.stringify(m));
}, 180_000);

afterAll(async () => {
  for (const c of children) killWorkerGroup(c);
  await runCleanupsBounded(cleanups);
  await devnet?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A private redis-server on `port` in `dir`, append-only and synced on every write. */
function startPrivateRedis(port: number, dir: string): ChildProcess {
  // prettier-ignore
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
    '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--maxmemory-policy', 'noeviction',
  ];
  const p = spawn(redisServerBinary(), args, { detached: true, stdio: 'ignore' });
  children.push(p);
  return p;
}

/**
 * The operator's parameter set, published before the risk worker starts (its own first estimate
 * needs a price history a fresh devnet does not have): the engine's defaults, a synthetic daily
 * window around today's spots (a parameter-set input, not chain data).
 */
async function publishParams(redis: Redis, network: string): Promise<string> {
  const head = await client.getBlockNumber({ cacheTime: 0 });
  const now = await readMarketData(client as unknown as Client, m, head, {
    history: { intervalSec: 86_400, closesUsdByUnderlying: {} },
    liquidity: {},
  });
  const closesUsdByUnderlying: Record<string, number[]> = {};
  for (const [u, f] of Object.entries(now.snapshot.market.prices)) {
    if (!(u in DEFAULT_RISK_PARAMS.underlyings)) continue;
    const spot = Number(f.answer) / 10 ** f.decimals;
    closesUsdByUnderlying[u] = Array.from({ length: 61 }, (_, i) => spot * (1 + 0.015 * Math.cos(i * 1.3)));
  }
  const params = new ParamStore(redis, redisKeys(network).pipeline.params);
  const { set } = await params.publish(
    {
      params: DEFAULT_RISK_PARAMS,
      history: { intervalSec: 86_400, closesUsdByUnderlying },
      liquidity: defaultLiquidity(DEFAULT_RISK_PARAMS),
      window: { endSec: 0, intervalSec: 86_400, count: 61 },
    },
    'operator',
  );
  return set.hash;
}

describe('risk workers under faults', () => {
  it('Redis killed and restarted (AOF) while risk jobs are active and waiting: no risk job lost, none failed, no duplicate result', async () => {
    const port = await getFreePort();
    const dir = mkdtempSync(join(tmp, 'redis-'));
    const url = `redis://127.0.0.1:${port}`;
    let server = startPrivateRedis(port, dir);
    const conn = new Redis(url, { maxRetriesPerRequest: null });
    conn.on('error', () => undefined); // reconnects by itself during the outage
    cleanups.push(async () => conn.disconnect());
    await waitFor('the private Redis', async () => (await conn.ping().catch(() => '')) === 'PONG', 10_000);

    const network = testNetwork();
    const connection = { url, maxRetriesPerRequest: null };
    const queues: IndexerQueues = createQueues(connection, network);
    const pipelineQueues: PipelineQueues = createPipelineQueues(connection, network);
    // Connection errors while Redis restarts are expected; the queues reconnect by themselves.
    for (const q of [...Object.values(queues), ...Object.values(pipelineQueues)] as Queue[])
      q.on('error', () => undefined);
    cleanups.push(async () => {
      await closeQueues(queues);
      await closePipelineQueues(pipelineQueues);
    });
    const paramsHash = await publishParams(conn, network);
    const env = {
      NETMARGIN_MANIFEST: manifestPath,
      NETMARGIN_NETWORK: network,
      REDIS_URL: url,
      NETMARGIN_LOCK_DURATION_MS: '2000',
      NETMARGIN_STALLED_INTERVAL_MS: '500',
    };
    const start = async (extra: Record<string, string>, ready: string): Promise<WorkerProcess> => {
      const w = spawnWorker({ ...env, ...extra });
      children.push(w.child);
      await w.until(ready);
      return w;
    };

    // 1. The indexer backfills the history; its refreshes queue the risk jobs, which nobody drains yet.
    const indexer = await start(
      { NETMARGIN_ROLES: 'head,index,refresh', NETMARGIN_POLL_MS: '200' },
      'workers-started',
    );
    await waitFor('the first sync queued', async () =>
      indexer.lines.some((l) => l.event === 'runner.first-sync-queued'),
    );
    await drained(queues, ['index-range', 'refresh'], 120_000);
    indexer.child.kill('SIGTERM');
    expect(await indexer.exited).toEqual({ code: null, signal: 'SIGTERM' });

    // The risk job each owner with positions must complete: at the block its positions are stamped with.
    const positions = await RedisReorgStore.open<OwnerPositions>({
      redis: conn,
      keys: redisKeys(network).reorgStore('positions'),
    });
    const expected = new Map<Address, { id: string; block: bigint }>();
    for (const [owner, stamped] of await positions.entries()) {
      if (positionsOf(stamped.value).length === 0) continue;
      const block = { number: stamped.blockNumber, hash: stamped.blockHash };
      expected.set(owner as Address, { id: jobIds.risk(owner as Address, block), block: block.number });
    }
    expect(expected.size).toBeGreaterThanOrEqual(SEEDED_OWNERS);
    const waitingIds = new Set((await queues.risk.getWaiting()).map((j) => j.id));
    for (const { id } of expected.values()) expect(waitingIds.has(id) ? id : `not waiting: ${id}`).toBe(id);

    // 2. The risk worker, one job at a time; Redis is killed while jobs are active and waiting.
    const risk = await start(
      { NETMARGIN_ROLES: 'risk', NETMARGIN_RISK_CONCURRENCY: '1', NETMARGIN_PARAMS_EVERY_MS: '0' },
      'risk-started',
    );
    let atCrash = { completed: 0, active: 0, waiting: 0 };
    await waitFor('risk jobs completed, one active and more waiting', async () => {
      const c = await queues.risk.getJobCounts('completed', 'active', 'waiting');
      atCrash = { completed: c.completed ?? 0, active: c.active ?? 0, waiting: c.waiting ?? 0 };
      return atCrash.completed >= 3 && atCrash.active + atCrash.waiting > 0 && atCrash.waiting > 0;
    });
    const exited = new Promise((r) => server.once('exit', r));
    process.kill(server.pid!, 'SIGKILL'); // a crash: no shutdown, no final save
    await exited;
    await sleep(1_000);
    server = startPrivateRedis(port, dir);

    await drained(queues, ['risk'], 120_000);
    await waitFor('the market-move jobs done', async () => {
      const c = await pipelineQueues['risk-market'].getJobCounts('waiting', 'active', 'delayed');
      return (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) === 0;
    });

    // 3. Nothing lost, nothing failed, nothing stored twice.
    expect(atCrash.waiting).toBeGreaterThan(0);
    expect(atCrash.completed).toBeLessThan(expected.size);
    expect((await queues.risk.getJobCounts('failed')).failed).toBe(0);
    expect((await pipelineQueues['risk-market'].getJobCounts('failed')).failed).toBe(0);
    const results = new RedisRiskResultStore(conn, redisKeys(network).pipeline.results);
    cleanups.push(() => results.close());
    const changes = await results.changes('0', { count: 100_000 });
    const changesByOwner = new Map<string, number>();
    for (const c of changes) changesByOwner.set(c.owner, (changesByOwner.get(c.owner) ?? 0) + 1);
    for (const [owner, { id, block }] of expected) {
      expect(`${id}: ${await queues.risk.getJobState(id)}`).toBe(`${id}: completed`);
      const latest = await results.latest(owner);
      expect(latest ? `${owner} at ${latest.blockNumber}` : `${owner}: no result`).toBe(
        `${owner} at ${block}`,
      );
      expect(latest!.paramsHash).toBe(paramsHash);
      expect(`${owner}: ${(await results.history(owner)).length} stored`).toBe(`${owner}: 1 stored`);
      expect(`${owner}: ${changesByOwner.get(owner) ?? 0} changes`).toBe(`${owner}: 1 changes`);
    }
    expect(changes).toHaveLength(expected.size);
    // The outage was seen by the risk worker, and survived without a failed job.
    expect(risk.lines.some((l) => l.event === 'redis-error' || l.event === 'worker-error')).toBe(true);
    expect(risk.lines.filter((l) => l.event === 'job-failed')).toEqual([]);
    expect(Number((await conn.hget(redisKeys(network).pipeline.metrics, 'risk_failed')) ?? '0')).toBe(0);
    risk.child.kill('SIGTERM');
    expect(await risk.exited).toEqual({ code: null, signal: 'SIGTERM' });
    // Every connection closed while Redis still answers, then the server.
    await closeQueues(queues);
    await closePipelineQueues(pipelineQueues);
    await results.close();
    await conn.quit();
    process.kill(server.pid!, 'SIGKILL');
  }, 300_000);
});
