/**
 * Indexer benchmark: backfill of a large protocol history on the devnet, then live lag.
 *
 *   npm run bench:indexer [-- --owners 3000 --chunk 100 --range-concurrency 2 --refresh-concurrency 4
 *                             --live-blocks 20 --block-time 1 --poll-ms 200 --sample 200
 *                             --owners-per-tx 10 --range-processes 1 --cpu-profile backfill.cpuprofile]
 *
 * 1. Starts a devnet (automine) and seeds a history through `HistorySeeder` (src/devnet/history-seeder.ts):
 *    per owner an Aave supply of USDC and WETH, a perps account opened, funded, traded and transferred
 *    to the owner, and an options subaccount funded, traded and transferred likewise. The events the
 *    adapters watch (their `watched` event names and the account tokens' `Transfer`s) are counted
 *    exactly with `eth_getLogs` from the manifest's start block.
 * 2. Backfills it with the pieces production runs (src/indexer/indexer.module.ts): a fresh network
 *    prefix in the local Redis, the `positions` store opened by `IndexerRunner.openPositionsStore`,
 *    `IndexerService`, BullMQ `index-range` and `refresh` workers (`IndexRangeProcessor`,
 *    `RefreshProcessor`), `createChainClient` with JSON-RPC batching, and `IndexerRunner` with its
 *    `MarketRecorder`, whose first poll queues the history as `index-range` jobs of `chunk` blocks,
 *    every owner refreshed at the head block. The clock runs from `runner.start` until both queues
 *    are drained. Defaults are production's (`refresh` concurrency 1) except the range size (100
 *    blocks instead of 2 000) and the `index-range` concurrency (1 instead of 2): see RANGE_CONCURRENCY
 *    and docs/indexer.md, "Benchmark".
 * 3. Checks the result cheaply: every seeded owner is stored, and a sample of owners' stored values
 *    equal `service.readOwner` at the block they are stamped with (Aave balances accrue interest
 *    block by block, so the stamp, not the head, is the block to compare at); a mismatch exits 1.
 * 4. Live: interval mining (`block-time` s), a loop sending Aave supplies through the seeder every
 *    half block, the runner polling the head every `poll-ms`; as soon as a new head is seen the lag
 *    (`runner.status().lagBlocks`: chain head − store head) is sampled, over `live-blocks` blocks;
 *    the maximum is reported.
 *
 * `--range-processes N` drains the `index-range` queue in N separate worker processes (as production
 * may; see docs/indexer.md "Running several processes") instead of this one, which then runs only
 * the `refresh` worker. `--cpu-profile <file>` writes a V8 CPU profile of this process over the
 * backfill window.
 *
 * Prints one JSON line on stdout; progress goes to stderr. Keys: events (watched protocol events),
 * logs (every log the range jobs read), owners, blocks (start block to head), seedSeconds,
 * backfillSeconds, eventsPerSecond, blocksPerSecond, peakRssMb (this process: devnet clients,
 * indexer and workers), indexerCpuSeconds, anvilCpuSeconds and rangeProcessesCpuSeconds (CPU used
 * during the backfill by this process, the devnet node and the range worker processes: on 2 cores,
 * together they say what bounds it), liveLagBlocks, liveBlocks, chunkBlocks, pollMs, indexRangeConcurrency,
 * indexRangeProcesses, refreshConcurrency, refreshes (refresh-queue jobs run, `advance-head`
 * included), verifiedOwners, loadAverage1m (how busy the shared machine was).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import type { Worker } from 'bullmq';
import { toEventSelector, type AbiEvent, type Client, type Hex, type PublicClient } from 'viem';
import { getFreePort } from '../src/devnet/anvil';
import { devnetChain } from '../src/devnet/chain';
import { startDevnet, type Devnet } from '../src/devnet/devnet';
import { benchOwner, seedHistory, sendLiveSupply } from '../src/devnet/history-seeder';
import { createAdapters, type ProtocolAdapter } from '../src/indexer/adapters';
import { createChainClient } from '../src/indexer/chain/client';
import { getLogsChunked, rpcGetLogs } from '../src/indexer/chain/logs';
import { IndexerService, type OwnerPositions } from '../src/indexer/indexer.service';
import { MarketRecorder } from '../src/indexer/market-recorder';
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
import { RedisReorgStore } from '../src/indexer/redis/redis-store';
import { IndexerRunner, type RunnerStatus } from '../src/indexer/runner';
import { serialize } from '../src/indexer/redis/serialize';
import { connectTestRedis, deleteKeys, redisUrl, testNetwork } from '../src/indexer/redis/test-redis';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) {
    process.stderr.write(`--${name} needs a positive number (got ${process.argv[i + 1]})\n`);
    process.exit(2);
  }
  return v;
}

const OWNERS = arg('owners', 3_000);
const CHUNK_BLOCKS = BigInt(arg('chunk', 100));
// The worker's production defaults (NETMARGIN_INDEX_CONCURRENCY 2, NETMARGIN_REFRESH_CONCURRENCY 4).
const RANGE_CONCURRENCY = arg('range-concurrency', 2);
const REFRESH_CONCURRENCY = arg('refresh-concurrency', 4);
const LIVE_BLOCKS = arg('live-blocks', 20);
const BLOCK_TIME_SEC = arg('block-time', 1);
const SAMPLE = arg('sample', 200);
const OWNERS_PER_TX = arg('owners-per-tx', 10);
const POLL_MS = arg('poll-ms', 200);
const FINALITY_DEPTH = 6;
const RANGE_PROCESSES = process.argv.includes('--range-processes') ? arg('range-processes', 1) : 0;

/** `--cpu-profile <file>`: a V8 CPU profile of the backfill window only (open it in Chrome DevTools). */
const CPU_PROFILE = ((): string | undefined => {
  const i = process.argv.indexOf('--cpu-profile');
  return i < 0 ? undefined : process.argv[i + 1];
})();

async function startProfile(): Promise<Session | undefined> {
  if (!CPU_PROFILE) return undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return session;
}

async function stopProfile(session: Session | undefined): Promise<void> {
  if (!session || !CPU_PROFILE) return;
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(CPU_PROFILE, JSON.stringify(profile));
  session.disconnect();
  log(`backfill CPU profile written to ${CPU_PROFILE}`);
}

/** CPU seconds (user + system) used so far by this process's child processes named `name` (Linux). */
function childCpuSeconds(name: string): number {
  const tick = 100; // USER_HZ on Linux
  let total = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    if (comm !== name || Number(fields[1]) !== process.pid) continue; // fields[1] = ppid
    total += (Number(fields[11]) + Number(fields[12])) / tick; // utime, stime
  }
  return total;
}

const log = (line: string): void => {
  process.stderr.write(`[bench:indexer] ${line}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const peakRssMb = (): number => Math.round(process.resourceUsage().maxRSS / 1024);

/** `(address, topic0)` of every event the adapters watch, and the account tokens' `Transfer`. */
function watchedEventKeys(adapters: readonly ProtocolAdapter[]): Set<string> {
  const keys = new Set<string>();
  const transfer = toEventSelector('Transfer(address,address,uint256)');
  for (const a of adapters) {
    for (const w of a.watched) {
      for (const item of w.abi) {
        if (item.type === 'event' && w.eventNames.includes(item.name))
          keys.add(`${w.address.toLowerCase()}:${toEventSelector(item as AbiEvent)}`);
      }
    }
    if (a.ownership) keys.add(`${a.ownership.token.toLowerCase()}:${transfer}`);
  }
  return keys;
}

/** Exact count of watched protocol events between two blocks (`eth_getLogs` over the watched contracts). */
async function countWatchedEvents(
  client: PublicClient,
  adapters: readonly ProtocolAdapter[],
  fromBlock: bigint,
  toBlock: bigint,
): Promise<number> {
  const keys = watchedEventKeys(adapters);
  const addresses = [...new Set([...keys].map((k) => k.split(':')[0] as Hex))];
  // Small chunks: viem refuses an HTTP answer over 10 MB, and a seeded block holds ~50 kB of logs.
  const logs = await getLogsChunked(rpcGetLogs(client), {
    fromBlock,
    toBlock,
    address: addresses,
    chunkSize: 20n,
  });
  return logs.filter((l) => keys.has(`${l.address.toLowerCase()}:${l.topics[0] ?? ''}`)).length;
}

/** Pending jobs of the queues this process drains; a failed job stops the benchmark with its reason. */
async function pendingJobs(queues: IndexerQueues): Promise<number> {
  let pending = 0;
  for (const q of ['index-range', 'refresh'] as QueueName[]) {
    const c = await queues[q].getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed');
    if ((c.failed ?? 0) > 0) {
      const [job] = await queues[q].getFailed(0, 0);
      throw new Error(`a ${q} job failed: ${job?.failedReason}`);
    }
    pending += (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0);
  }
  return pending;
}

async function drained(queues: IndexerQueues, onTick?: (pending: number) => void): Promise<void> {
  let last = Date.now();
  for (;;) {
    const pending = await pendingJobs(queues);
    if (pending === 0) return;
    if (onTick && Date.now() - last > 2_000) {
      onTick(pending);
      last = Date.now();
    }
    await sleep(20);
  }
}

/**
 * Live lag as the issue defines it: the chain's head minus the positions store's head (the runner's
 * `status().lagBlocks`), sampled as soon as a new head is seen, so 1 means every block before the new
 * one is indexed.
 */
function liveLagBlocks(status: RunnerStatus): number {
  if (status.lagBlocks === null) throw new Error('the positions store has no head while following');
  return status.lagBlocks;
}

/** What a range-worker process needs (sent as its argv JSON). */
interface RangeWorkerSpec {
  network: string;
  rpcUrl: string;
  manifestPath: string;
  concurrency: number;
}

/**
 * `--range-worker <spec>`: a separate process draining only the `index-range` queue, as production
 * may run them (see "Running several processes"); its own service and identity index, the same
 * Redis queues and store.
 */
async function rangeWorker(spec: RangeWorkerSpec): Promise<void> {
  const m = JSON.parse(readFileSync(spec.manifestPath, 'utf8')) as Devnet['manifest'];
  const redis = await connectTestRedis();
  const client = createChainClient({
    urls: [spec.rpcUrl],
    chain: devnetChain(spec.rpcUrl),
    batch: { batchSize: 100, waitMs: 0 },
    timeoutMs: 30_000,
  });
  const connection = { url: redisUrl(), maxRetriesPerRequest: null };
  const queues = createQueues(connection, spec.network);
  const store = await RedisReorgStore.open<OwnerPositions>({
    redis,
    keys: redisKeys(spec.network).reorgStore('positions'),
  });
  const service = new IndexerService({
    client,
    adapters: createAdapters(m),
    store,
    jobs: queueJobSink(queues),
    getLogs: rpcGetLogs(client),
    startBlock: BigInt(m.network.startBlock),
  });
  const workers = startWorkers(
    connection,
    spec.network,
    processorHandlers({ indexRange: new IndexRangeProcessor(service) }),
    { queues: ['index-range'], concurrency: { 'index-range': spec.concurrency } },
  );
  process.on('message', () => {
    void (async (): Promise<void> => {
      await Promise.all(workers.map((w) => w.close()));
      await closeQueues(queues);
      redis.disconnect();
      process.exit(0);
    })();
  });
  process.send?.('ready');
}

function startRangeProcesses(spec: RangeWorkerSpec, count: number): Promise<ChildProcess[]> {
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ChildProcess>((resolve, reject) => {
          const child = fork(__filename, ['--range-worker', JSON.stringify(spec)], {
            execArgv: process.execArgv,
          });
          child.once('message', () => resolve(child));
          child.once('error', reject);
          child.once('exit', (code) => reject(new Error(`range worker exited with code ${code}`)));
        }),
    ),
  );
}

async function main(): Promise<void> {
  const redis = await connectTestRedis();
  const network = testNetwork();
  let devnet: Devnet | undefined;
  let queues: IndexerQueues | undefined;
  let workers: Worker[] = [];
  let children: ChildProcess[] = [];
  let stopRunner = (): Promise<void> => Promise.resolve();
  const tmp = mkdtempSync(join(tmpdir(), 'bench-indexer-'));
  try {
    const t0 = Date.now();
    devnet = await startDevnet({ port: await getFreePort(), blockTimeSec: 0, manifestPath: null });
    const m = devnet.manifest;
    log(`devnet up in ${((Date.now() - t0) / 1000).toFixed(1)} s at ${devnet.rpcUrl}`);
    const tSeed = Date.now();
    const seeded = await seedHistory(devnet.clients, m, { owners: OWNERS, ownersPerTx: OWNERS_PER_TX, log });
    const seedSeconds = (Date.now() - tSeed) / 1000;

    const client = createChainClient({
      urls: [devnet.rpcUrl],
      chain: devnetChain(devnet.rpcUrl),
      batch: { batchSize: 100, waitMs: 0 },
      timeoutMs: 30_000,
    });
    const adapters = createAdapters(m);
    const startBlock = BigInt(m.network.startBlock);
    const connection = { url: redisUrl(), maxRetriesPerRequest: null };
    queues = createQueues(connection, network);
    // As production opens it: anchored at the head's parent, so the first sync writes at the head.
    const store = await IndexerRunner.openPositionsStore(redis, network, client);
    const head = ((await store.head())?.number ?? 0n) + 1n;
    const events = await countWatchedEvents(client, adapters, startBlock, head);
    log(`seeded ${events} watched events, ${seeded.owners.length} owners, blocks ${startBlock}..${head}`);
    const service = new IndexerService({
      client,
      adapters,
      store,
      jobs: queueJobSink(queues),
      getLogs: rpcGetLogs(client),
      startBlock,
    });
    let refreshes = 0;
    const indexRange = new IndexRangeProcessor(service);
    const refresh = new RefreshProcessor(service);
    const handlers = processorHandlers({ indexRange, refresh });
    const manifestPath = join(tmp, 'manifest.json');
    writeFileSync(manifestPath, JSON.stringify(m));
    if (RANGE_PROCESSES > 0) {
      children = await startRangeProcesses(
        { network, rpcUrl: devnet.rpcUrl, manifestPath, concurrency: RANGE_CONCURRENCY },
        RANGE_PROCESSES,
      );
      log(`${children.length} index-range worker processes started`);
    }
    workers = startWorkers(
      connection,
      network,
      {
        'index-range': handlers['index-range']!,
        refresh: async (data, job) => {
          refreshes += 1;
          return handlers.refresh!(data, job);
        },
      },
      {
        queues: RANGE_PROCESSES > 0 ? ['refresh'] : ['index-range', 'refresh'],
        concurrency: { 'index-range': RANGE_CONCURRENCY, refresh: REFRESH_CONCURRENCY },
      },
    );

    // The head role as production runs it (market recorded at every block), ranges of CHUNK_BLOCKS.
    const runner = new IndexerRunner({
      client,
      service,
      queues,
      redis,
      network,
      positions: store,
      startBlock,
      finalityDepth: FINALITY_DEPTH,
      rangeBlocks: CHUNK_BLOCKS,
      market: new MarketRecorder({
        client: client as unknown as Client,
        manifest: m,
        store: await IndexerRunner.openMarketStore(redis, network, client),
        history: new RedisPriceHistory(redis, redisKeys(network).priceHistory),
      }),
      log: (event, fields) => {
        if (event !== 'runner.following') log(`${event} ${JSON.stringify(fields ?? {})}`);
      },
    });
    stopRunner = () => runner.stop();

    // Backfill: the runner's first poll queues the history, every owner refreshed once, at the head.
    const profiler = await startProfile();
    const cpu0 = process.cpuUsage();
    const anvilCpu0 = childCpuSeconds('anvil');
    const rangeCpu0 = childCpuSeconds('node');
    const tBackfill = Date.now();
    await runner.start(POLL_MS);
    while ((await runner.status()).cursor === null) await sleep(10);
    await drained(queues, (pending) => log(`backfill: ${pending} jobs pending, ${refreshes} refreshes run`));
    const backfillSeconds = (Date.now() - tBackfill) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const indexerCpuSeconds = (cpu.user + cpu.system) / 1e6;
    const anvilCpuSeconds = childCpuSeconds('anvil') - anvilCpu0;
    const rangeProcessesCpuSeconds = childCpuSeconds('node') - rangeCpu0;
    const rangeJobs = await queues['index-range'].getJobs(['completed']);
    const logsRead = rangeJobs.reduce((n, j) => n + ((j.returnvalue as { logs?: number }).logs ?? 0), 0);
    await stopProfile(profiler);
    const storeHead = (await store.head())?.number;
    log(`backfill done in ${backfillSeconds.toFixed(2)} s; store head ${storeHead}`);
    if (storeHead !== head) throw new Error(`store head ${storeHead} is not the chain head ${head}`);

    // Correctness: every seeded owner stored; a sample equal to a direct read at its stamp.
    const stored = await store.entries();
    const missing = seeded.owners.filter((o) => !stored.has(o));
    if (missing.length > 0)
      throw new Error(`${missing.length} seeded owners not stored (first ${missing[0]})`);
    const step = Math.max(1, Math.floor(seeded.owners.length / SAMPLE));
    let verifiedOwners = 0;
    for (let i = 0; i < seeded.owners.length; i += step) {
      const owner = seeded.owners[i]!;
      const s = stored.get(owner)!;
      const direct = await service.readOwner(owner, s.blockNumber);
      if (serialize(s.value) !== serialize(direct))
        throw new Error(`stored positions of ${owner} differ from a direct read at block ${s.blockNumber}`);
      verifiedOwners += 1;
    }
    log(`verified ${verifiedOwners} owners against direct reads; all ${seeded.owners.length} stored`);

    // Live: interval mining, protocol transactions every half block; the runner follows the head.
    const c = devnet.clients;
    await c.testClient.setAutomine(false);
    await c.testClient.setIntervalMining({ interval: BLOCK_TIME_SEC });
    let stop = false;
    const traffic = (async (): Promise<void> => {
      for (let k = 0; !stop; k += 1) {
        const owners = [0, 1, 2, 3, 4].map((j) => benchOwner((k * 5 + j) % OWNERS));
        await sendLiveSupply(c, m, seeded.seeder, owners);
        await sleep((BLOCK_TIME_SEC * 1000) / 2);
      }
    })();
    const lags: number[] = [];
    let chainHead = head;
    while (lags.length < LIVE_BLOCKS) {
      const h = await client.getBlockNumber({ cacheTime: 0 });
      if (h > chainHead) {
        lags.push(liveLagBlocks(await runner.status()));
        chainHead = h;
      }
      await pendingJobs(queues); // surfaces a failed job
      await sleep(50);
    }
    stop = true;
    await traffic;
    await drained(queues);
    const liveLag = Math.max(...lags);
    log(`live lag per block: ${lags.join(' ')}`);

    const blocks = Number(head - startBlock + 1n);
    const out = {
      events,
      logs: logsRead,
      owners: seeded.owners.length,
      blocks,
      seedSeconds: Number(seedSeconds.toFixed(2)),
      backfillSeconds: Number(backfillSeconds.toFixed(2)),
      eventsPerSecond: Math.round(events / backfillSeconds),
      blocksPerSecond: Math.round(blocks / backfillSeconds),
      peakRssMb: peakRssMb(),
      indexerCpuSeconds: Number(indexerCpuSeconds.toFixed(2)),
      anvilCpuSeconds: Number(anvilCpuSeconds.toFixed(2)),
      rangeProcessesCpuSeconds: Number(rangeProcessesCpuSeconds.toFixed(2)),
      liveLagBlocks: liveLag,
      liveBlocks: lags.length,
      chunkBlocks: Number(CHUNK_BLOCKS),
      pollMs: POLL_MS,
      indexRangeConcurrency: RANGE_CONCURRENCY,
      indexRangeProcesses: RANGE_PROCESSES,
      refreshConcurrency: REFRESH_CONCURRENCY,
      refreshes,
      verifiedOwners,
      loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    await stopRunner();
    await Promise.all(
      children.map((c) => new Promise((resolve) => (c.once('exit', resolve), c.send('stop')))),
    );
    rmSync(tmp, { recursive: true, force: true });
    await Promise.all(workers.map((w) => w.close()));
    if (queues) await closeQueues(queues);
    await deleteKeys(redis, redisKeys(network).prefix);
    redis.disconnect();
    await devnet?.stop();
  }
}

const workerArg = process.argv.indexOf('--range-worker');
(workerArg >= 0 ? rangeWorker(JSON.parse(process.argv[workerArg + 1]!) as RangeWorkerSpec) : main()).catch(
  (e: unknown) => {
    process.stderr.write(
      `[bench:indexer] failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    process.exit(1);
  },
);
