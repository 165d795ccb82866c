/**
 * Pipeline benchmark: from a price move on chain to the attestation that carries it, under the crash
 * path with at least 1 000 active accounts.
 *
 *   npm run bench:pipeline [-- --owners 1000 --block-time 2 --steps 30 --speed 10 --risk-concurrency 2
 *                              --catch-up-sec 60 --settle-sec 120]
 *
 * 1. A devnet (automine while seeding) with the personas and `owners` more accounts seeded through
 *    `HistorySeeder` (src/devnet/history-seeder.ts): each an Aave supply, a perps position and an
 *    options leg. A parameter set is published first (the engine's defaults and a synthetic daily
 *    window around today's spots: a fresh devnet has minutes of price history, too few to estimate).
 * 2. The real pipeline, each part a process as in production, on a fresh network prefix of the local
 *    Redis: `src/worker.ts` with the indexer roles (`head,index,refresh`), `src/worker.ts` with the
 *    `risk` role (risk jobs, market moves, the shortfall feed's publisher), `src/poster.ts` (the
 *    manifest's signer keys, the `fresh-wallet` persona as relayer) and the shortfall feed's SSE
 *    endpoint (`src/pipeline/feed/serve.ts`), to which this process subscribes.
 * 3. Warm-up: until the indexer's queues are drained, every account with stored positions has a
 *    result and every account with a result an attestation on chain (`MarginUpdated`). Then anvil
 *    mines every `block-time` seconds and the benchmark waits up to `catch-up-sec` for the risk
 *    workers to hold at most one queued job (what is left: `warmupRiskQueued`). The crash path then
 *    runs against the wall clock (`steps` steps over 600 s / `speed`: one price update per block by
 *    default), and the benchmark waits up to `settle-sec` for the market moves to reach the path's
 *    last block and every crossing to be attested.
 * 4. Measured, per account that crosses (the first record of the crash whose health class differs
 *    from the one before it, or the first record the shortfall feed published for it, whichever is
 *    first):
 *    - event block: the newest block at or below the crossing record's block that holds a price
 *      update (a transaction to a Chainlink feed of the manifest; the mock feeds emit no event);
 *    - attestation block: the block of the first `MarginUpdated` for the account with an attested
 *      block at or above the crossing record's;
 *    - latency in blocks (attestation − event) and in ms: between the wall-clock instants at which this
 *      process first saw each block (a 25 ms poll), finer than the blocks' one-second timestamps;
 *    - feed latency: each `ShortfallEvent`'s `publishedAtMs` to its arrival on the SSE stream here;
 *    - accounts recomputed per block by the market-move jobs (`risk_market_recomputed` over
 *      `risk_market_blocks` in the risk metrics hash, during the crash) and the largest block.
 *
 * One JSON line on stdout; progress on stderr. Keys: accounts (accounts with positions, all with a
 * result and an attestation), seededOwners, seededNotStored (seeded owners the indexer never stored),
 * crossings, attestedCrossings, latencyBlocksP50/P95/Max, latencyMsP50/P95/Max, feedEvents,
 * feedLatencyMsP50/P95/Max, accountsRecomputedPerBlock, accountsRecomputedMaxBlock, riskMarketBlocks,
 * riskCpuMsPerAccount, riskLagBlocksMax (head − last market block done, sampled every 250 ms),
 * posterRefusals (by reason), crashBlocks, priceUpdateBlocks, batchesDuringCrash, blockTimeSec,
 * riskConcurrency, seedSeconds, warmupSeconds, warmupRiskQueued, CPU seconds per process from the
 * crash to the end of settling, loadAverage1m.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Queue } from 'bullmq';
import type { Address, Client, PublicClient } from 'viem';
import { parseEventLogs } from 'viem';
import { readSse } from '../examples/liquidator/sse';
import type { DeploymentManifest } from '../src/config/manifest';
import { marginAggregatorAbi } from '../src/contracts/generated';
import { getFreePort } from '../src/devnet/anvil';
import { startDevnet, type Devnet } from '../src/devnet/devnet';
import { seedHistory } from '../src/devnet/history-seeder';
import { runMarketPath } from '../src/devnet/market';
import { readMarketData } from '../src/indexer/market-data';
import type { OwnerPositions } from '../src/indexer/indexer.service';
import { closeQueues, createQueues } from '../src/indexer/queues';
import { redisKeys } from '../src/indexer/redis/keys';
import { RedisReorgStore } from '../src/indexer/redis/redis-store';
import { connectTestRedis, deleteKeys, redisUrl, testNetwork } from '../src/indexer/redis/test-redis';
import { parseWireEvent } from '../src/pipeline/feed/event';
import { defaultLiquidity } from '../src/pipeline/param-estimator';
import { ParamStore } from '../src/pipeline/param-store';
import { closePipelineQueues, createPipelineQueues } from '../src/pipeline/queues';
import { RedisRiskResultStore } from '../src/pipeline/result-store';
import { positionsOf } from '../src/pipeline/risk.service';
import type { HealthClass } from '../src/pipeline/types';
import { DEFAULT_RISK_PARAMS } from '../src/risk';

const ROOT = resolve(__dirname, '..');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) {
    process.stderr.write(`--${name} needs a positive number, got "${process.argv[i + 1]}"\n`);
    process.exit(2);
  }
  return v;
}

const OWNERS = arg('owners', 1_000);
const BLOCK_TIME_SEC = arg('block-time', 2);
const STEPS = arg('steps', 30);
const SPEED = arg('speed', 10);
const RISK_CONCURRENCY = arg('risk-concurrency', 2);
const SETTLE_SEC = arg('settle-sec', 120);
const CATCH_UP_SEC = arg('catch-up-sec', 60);

const log = (line: string): void => void process.stderr.write(`[bench:pipeline] ${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** A pipeline part as a child process (tsx), in its own process group; stdout JSON lines kept. */
interface Part {
  name: string;
  child: ChildProcess;
  events: string[];
  output: () => string;
}

function startPart(name: string, script: string, env: Record<string, string>): Part {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  running.push(child);
  const events: string[] = [];
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (lines.length < 2_000) lines.push(line);
    try {
      events.push(String((JSON.parse(line) as { event?: unknown }).event));
    } catch {
      // not a JSON line
    }
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr = (stderr + String(d)).slice(-20_000)));
  child.on('exit', (code, signal) => {
    if (!stopping)
      log(`${name} exited early (${code ?? signal}):\n${lines.slice(-20).join('\n')}\n${stderr}`);
  });
  return { name, child, events, output: () => `${lines.slice(-30).join('\n')}\n${stderr}` };
}

async function until(part: Part, event: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!part.events.includes(event)) {
    if (part.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`${part.name} did not log ${event}:\n${part.output()}`);
    await sleep(50);
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

let stopping = false;
let signalled = false;
/** Children to stop when the benchmark is interrupted (each is its own process group). */
const running: ChildProcess[] = [];
/** What an interrupted run still has to release: the network's Redis keys and the devnet. */
const interrupted: (() => Promise<unknown>)[] = [];
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    signalled = true;
    stopping = true;
    for (const c of running)
      if (c.exitCode === null && c.signalCode === null && c.pid !== undefined)
        process.kill(-c.pid, 'SIGKILL');
    const bounded = Promise.race([
      Promise.allSettled(interrupted.map((f) => f())),
      new Promise((r) => setTimeout(r, 10_000)),
    ]);
    void bounded.then(() => process.exit(130));
  });

async function main(): Promise<void> {
  const redis = await connectTestRedis();
  const network = testNetwork();
  const keys = redisKeys(network);
  const parts: Part[] = [];
  let devnet: Devnet | undefined;
  const tmp = mkdtempSync(join(tmpdir(), 'nm-bench-pipeline-'));
  const abort = new AbortController();
  interrupted.push(
    () => deleteKeys(redis, keys.prefix),
    async () => devnet?.stop(),
  );
  try {
    devnet = await startDevnet({ port: await getFreePort(), blockTimeSec: 0, manifestPath: null });
    const m: DeploymentManifest = devnet.manifest;
    const c = devnet.clients;
    const client = c.publicClient as unknown as PublicClient;
    const aggregator = m.aggregator!.address;

    const tSeed = Date.now();
    const seeded = await seedHistory(c, m, { owners: OWNERS, log });
    const seedSeconds = (Date.now() - tSeed) / 1000;
    log(`seeded ${seeded.owners.length} owners in ${seedSeconds.toFixed(1)} s`);
    const manifestPath = join(tmp, 'manifest.json');
    writeFileSync(manifestPath, JSON.stringify(m));
    await publishParams(redis, network, client, m);

    // The pipeline, each part its own process.
    const tWarm = Date.now();
    const env = { NETMARGIN_MANIFEST: manifestPath, NETMARGIN_NETWORK: network, REDIS_URL: redisUrl() };
    const relayer = m.accounts.find((a) => a.persona === 'fresh-wallet')!;
    const indexer = startPart('indexer', 'src/worker.ts', {
      ...env,
      NETMARGIN_ROLES: 'head,index,refresh',
      NETMARGIN_POLL_MS: '200',
    });
    const risk = startPart('risk', 'src/worker.ts', {
      ...env,
      NETMARGIN_ROLES: 'risk',
      NETMARGIN_RISK_CONCURRENCY: String(RISK_CONCURRENCY),
      NETMARGIN_PARAMS_EVERY_MS: '0',
    });
    const poster = startPart('poster', 'src/poster.ts', {
      ...env,
      NETMARGIN_POSTER_RELAYER_KEY: relayer.privateKey,
      NETMARGIN_POSTER_POLL_MS: '200',
    });
    const feed = startPart('feed', 'src/pipeline/feed/serve.ts', {
      ...env,
      FEED_PORT: '0',
      FEED_HEARTBEAT_MS: '1000',
    });
    parts.push(indexer, risk, poster, feed);
    await Promise.all([
      until(indexer, 'workers-started'),
      until(risk, 'risk-started'),
      until(poster, 'poster.started'),
      until(feed, 'feed-listening'),
    ]);
    log('pipeline started: indexer, risk, poster, feed');

    // Warm-up: every account with positions has a result and an attestation.
    const results = new RedisRiskResultStore(redis, keys.pipeline.results);
    const attested = new Set<string>();
    let attestFrom = 0n;
    const readAttestations = async (): Promise<void> => {
      const to = await client.getBlockNumber({ cacheTime: 0 });
      if (to < attestFrom) return;
      const logs = await client.getContractEvents({
        address: aggregator,
        abi: marginAggregatorAbi,
        eventName: 'MarginUpdated',
        fromBlock: attestFrom,
        toBlock: to,
      });
      for (const l of logs) attested.add((l.args as { account: Address }).account.toLowerCase());
      attestFrom = to + 1n;
    };
    // Done when the indexer's queues are drained, every owner with stored positions has a result and
    // every owner with a result has an attestation.
    const positions = await RedisReorgStore.open<OwnerPositions>({
      redis,
      keys: keys.reorgStore('positions'),
    });
    const queues = createQueues({ url: redisUrl(), maxRetriesPerRequest: null }, network);
    const pipelineQueues = createPipelineQueues({ url: redisUrl(), maxRetriesPerRequest: null }, network);
    let owners: Address[] = [];
    let seededNotStored = 0;
    for (let last = ''; ;) {
      const indexing = await Promise.all(
        (['index-range', 'refresh'] as const).map((q) =>
          queues[q].getJobCounts('waiting', 'active', 'delayed', 'prioritized'),
        ),
      );
      const queued = indexing.reduce((n, c) => n + Object.values(c).reduce((a, b) => a + b, 0), 0);
      const riskCounts = await Promise.all(
        [queues.risk as Queue, pipelineQueues['risk-market'] as Queue].map((q) =>
          q.getJobCounts('waiting', 'active', 'delayed', 'prioritized'),
        ),
      );
      const riskQueued = riskCounts.reduce((n, c) => n + Object.values(c).reduce((a, b) => a + b, 0), 0);
      const stored = await positions.entries();
      const withPositions = [...stored].filter(([, v]) => positionsOf(v.value).length > 0).map(([o]) => o);
      const withResult = new Set((await results.owners()).map((o) => o.toLowerCase()));
      await readAttestations();
      const noResult = withPositions.filter((o) => !withResult.has(o.toLowerCase())).length;
      const pending = [...withResult].filter((o) => !attested.has(o)).length;
      seededNotStored = seeded.owners.filter((o) => !stored.has(o)).length;
      const line =
        `warm-up: ${queued} indexer and ${riskQueued} risk jobs queued, ${withPositions.length} accounts with positions ` +
        `(${seeded.owners.length - seededNotStored}/${seeded.owners.length} seeded), ${noResult} without a result, ` +
        `${pending} not attested`;
      if (line !== last) log(line);
      last = line;
      if (queued === 0 && withPositions.length > 0 && noResult === 0 && pending === 0) {
        owners = withPositions as Address[];
        break;
      }
      if (Date.now() - tWarm > 900_000) throw new Error(`warm-up did not finish in 15 min: ${line}`);
      await sleep(1_000);
    }
    // From here anvil mines every `block-time` seconds (the poster's transactions no longer make blocks
    // of their own); the crash starts once the risk workers keep pace: at most one market block queued,
    // three checks in a row (or after `catch-up-sec`, reported as `warmupRiskQueued`).
    await c.testClient.setAutomine(false);
    await c.testClient.setIntervalMining({ interval: BLOCK_TIME_SEC });
    let warmupRiskQueued = 0;
    for (let calm = 0, t0 = Date.now(); calm < 3 && Date.now() - t0 < CATCH_UP_SEC * 1000;) {
      const counts = await Promise.all(
        [queues.risk as Queue, pipelineQueues['risk-market'] as Queue].map((q) =>
          q.getJobCounts('waiting', 'active', 'delayed', 'prioritized'),
        ),
      );
      warmupRiskQueued = counts.reduce((n, c) => n + Object.values(c).reduce((a, b) => a + b, 0), 0);
      calm = warmupRiskQueued <= 1 ? calm + 1 : 0;
      log(`warm-up: ${warmupRiskQueued} risk jobs queued with ${BLOCK_TIME_SEC} s blocks`);
      await sleep(1_000);
    }
    await closeQueues(queues);
    await closePipelineQueues(pipelineQueues);
    const warmupSeconds = (Date.now() - tWarm) / 1000;
    const before = new Map<Address, HealthClass>();
    for (const o of owners) before.set(o, (await results.latest(o))!.health);
    log(`warm-up done in ${warmupSeconds.toFixed(1)} s: ${owners.length} accounts attested`);

    // The SSE subscriber and the block watcher.
    const feedUrl = feed.output().match(/"url":"([^"]+)"/)?.[1];
    if (!feedUrl) throw new Error(`no feed URL in ${feed.output()}`);
    const feedLatencies: number[] = [];
    /** Owner → record block of the first shortfall event heard (events start with the crash). */
    const feedFirst = new Map<string, bigint>();
    const subscriber = (async () => {
      for await (const item of readSse(feedUrl, { signal: abort.signal })) {
        if (item.kind !== 'message' || item.event !== 'shortfall') continue;
        const e = parseWireEvent(item.data);
        feedLatencies.push(Date.now() - e.publishedAtMs);
        const k = e.owner.toLowerCase();
        if (!feedFirst.has(k)) feedFirst.set(k, e.blockNumber);
      }
    })().catch((err: unknown) => {
      if (!abort.signal.aborted) log(`feed subscriber failed: ${String(err)}`);
    });
    const seenAt = new Map<bigint, number>();
    let watching = true;
    const watcher = (async () => {
      let last = await client.getBlockNumber({ cacheTime: 0 });
      seenAt.set(last, Date.now());
      let missed = 0;
      while (watching) {
        try {
          const n = await client.getBlockNumber({ cacheTime: 0 });
          const now = Date.now();
          for (let b = last + 1n; b <= n; b++) seenAt.set(b, now);
          if (n > last) last = n;
        } catch (err) {
          // A refused or reset poll (anvil under the pipeline's load) is retried; the next answer
          // stamps every block it missed, so a block's time is late by at most the gap.
          if (missed++ === 0) log(`block watch: a poll failed, retrying (${String(err).split('\n')[0]})`);
        }
        await sleep(25);
      }
      if (missed > 0) log(`block watch: ${missed} polls failed and were retried`);
    })();

    const metric = async (field: string): Promise<number> =>
      Number((await redis.hget(keys.pipeline.metrics, field)) ?? '0');
    const m0 = {
      recomputed: await metric('risk_market_recomputed'),
      blocks: await metric('risk_market_blocks'),
    };
    let maxPerBlock = 0;
    let riskLagBlocksMax = 0;
    const gaugeSampler = setInterval(() => {
      void (async () => {
        maxPerBlock = Math.max(maxPerBlock, await metric('risk_market_last_count'));
        const [head, done] = [
          await client.getBlockNumber({ cacheTime: 0 }),
          await metric('risk_market_last_block'),
        ];
        riskLagBlocksMax = Math.max(riskLagBlocksMax, Number(head) - done);
      })().catch(() => undefined);
    }, 250);

    // The crash path with a real clock: one price update per block by default.
    const crashFrom = (await client.getBlockNumber({ cacheTime: 0 })) + 1n;
    const [lastChange] = await redis.xrevrange(keys.pipeline.results.changes, '+', '-', 'COUNT', 1);
    let changesCursor = lastChange?.[0] ?? '0';
    const cpu0 = parts.map((p) => cpuSeconds(p.child.pid));
    log(
      `crash path: ${STEPS} steps over ${600 / SPEED} s, ${BLOCK_TIME_SEC} s blocks, from block ${crashFrom}`,
    );
    await runMarketPath(c, m, 'crash', {
      clock: 'realtime',
      speed: SPEED,
      steps: STEPS,
      onStep: (step, _p, total) => {
        if (step.index % 10 === 0 || step.index === total) log(`step ${step.index}/${total}`);
      },
    });
    const crashTo = await client.getBlockNumber({ cacheTime: 0 });
    log(`crash path done at block ${crashTo}; settling up to ${SETTLE_SEC} s`);

    // Crossings: per account, the first record of the crash whose class differs from the one before
    // it, or the first record the shortfall feed published (a threshold crossing), whichever is first.
    // Class changes come from the results' change stream (owner, block, class per stored record).
    const changed = new Map<string, bigint>();
    const readChanges = async (): Promise<void> => {
      for (;;) {
        const batch = await results.changes(changesCursor, { count: 10_000 });
        for (const ch of batch) {
          const k = ch.owner.toLowerCase();
          if (ch.blockNumber >= crashFrom && !changed.has(k) && ch.health !== before.get(ch.owner))
            changed.set(k, ch.blockNumber);
        }
        if (batch.length === 0) return;
        changesCursor = batch.at(-1)!.id;
      }
    };
    const crossings = async (): Promise<{ owner: Address; block: bigint }[]> => {
      await readChanges();
      const out: { owner: Address; block: bigint }[] = [];
      for (const o of owners) {
        const c = changed.get(o.toLowerCase());
        const fed = feedFirst.get(o.toLowerCase());
        const first = c === undefined ? fed : fed === undefined || c < fed ? c : fed;
        if (first !== undefined && first >= crashFrom) out.push({ owner: o, block: first });
      }
      return out;
    };
    // Attestations during the crash: account → [(attested block, tx block)], in chain order.
    const attestations = new Map<string, { attested: bigint; txBlock: bigint }[]>();
    let readFrom = crashFrom;
    let batchesDuringCrash = 0;
    const readCrashAttestations = async (): Promise<void> => {
      const to = await client.getBlockNumber({ cacheTime: 0 });
      if (to < readFrom) return;
      // A few blocks per call: a crash block can hold thousands of `MarginUpdated` (an RPC answer
      // is capped at 10 MB).
      for (let from = readFrom; from <= to; from += 4n) {
        const upTo = from + 3n < to ? from + 3n : to;
        const raw = await client.getLogs({ address: aggregator, fromBlock: from, toBlock: upTo });
        for (const l of parseEventLogs({ abi: marginAggregatorAbi, logs: raw })) {
          if (l.eventName === 'BatchPosted') batchesDuringCrash += 1;
          if (l.eventName !== 'MarginUpdated') continue;
          const a = l.args as { account: Address; blockNumber: bigint };
          const k = a.account.toLowerCase();
          const list = attestations.get(k) ?? [];
          list.push({ attested: a.blockNumber, txBlock: l.blockNumber! });
          attestations.set(k, list);
        }
        readFrom = upTo + 1n;
      }
    };
    const attestationOf = (x: { owner: Address; block: bigint }): bigint | undefined =>
      attestations.get(x.owner.toLowerCase())?.find((a) => a.attested >= x.block)?.txBlock;
    let crossed: { owner: Address; block: bigint }[] = [];
    const settleUntil = Date.now() + SETTLE_SEC * 1000;
    for (;;) {
      await readCrashAttestations();
      crossed = await crossings();
      const missing = crossed.filter((x) => attestationOf(x) === undefined).length;
      const riskAt = BigInt(await metric('risk_market_last_block'));
      if ((riskAt >= crashTo && missing === 0) || Date.now() > settleUntil) {
        log(`${crossed.length} crossings, ${missing} not attested; market moves done up to block ${riskAt}`);
        break;
      }
      log(
        `settling: market moves done up to block ${riskAt} of ${crashTo}, ${crossed.length} crossings, ${missing} not attested`,
      );
      await sleep(1_000);
    }
    clearInterval(gaugeSampler);
    const cpu1 = parts.map((p) => cpuSeconds(p.child.pid));
    const m1 = {
      recomputed: await metric('risk_market_recomputed'),
      blocks: await metric('risk_market_blocks'),
    };

    // Price-update blocks of the crash: blocks with a transaction to a Chainlink feed of the manifest
    // (the mock feeds emit no event).
    const feedAddresses = new Set(Object.values(m.feeds.prices).map((f) => f.address.toLowerCase()));
    const updateBlocks: bigint[] = [];
    for (let b = crashFrom; b <= crashTo; b++) {
      const block = await client.getBlock({ blockNumber: b, includeTransactions: true });
      if (block.transactions.some((t) => t.to !== null && feedAddresses.has(t.to.toLowerCase())))
        updateBlocks.push(b);
    }

    const blocks: number[] = [];
    const ms: number[] = [];
    for (const x of crossed) {
      const att = attestationOf(x);
      const event = [...updateBlocks].reverse().find((b) => b <= x.block);
      if (att === undefined || event === undefined) continue;
      blocks.push(Number(att - event));
      const a = seenAt.get(att);
      const e = seenAt.get(event);
      if (a !== undefined && e !== undefined) ms.push(a - e);
    }
    blocks.sort((a, b) => a - b);
    ms.sort((a, b) => a - b);
    feedLatencies.sort((a, b) => a - b);
    watching = false;
    await watcher;
    abort.abort();
    await subscriber;

    const cpu = Object.fromEntries(
      parts.map((p, i) => [
        `${p.name}CpuSeconds`,
        cpu0[i] !== null && cpu1[i] !== null ? Number((cpu1[i]! - cpu0[i]!).toFixed(2)) : null,
      ]),
    );
    const posterMetrics = await redis.hgetall(keys.poster.metrics);
    const posterRefusals = Object.fromEntries(
      Object.entries(posterMetrics)
        .filter(([k]) => k.startsWith('poster_refusals_total'))
        .map(([k, v]) => [k.replace(/^poster_refusals_total\{reason="(.*)"\}$/, '$1'), Number(v)]),
    );
    const out = {
      accounts: owners.length,
      seededOwners: seeded.owners.length,
      seededNotStored,
      crossings: crossed.length,
      attestedCrossings: blocks.length,
      latencyBlocksP50: percentile(blocks, 50),
      latencyBlocksP95: percentile(blocks, 95),
      latencyBlocksMax: blocks.at(-1) ?? null,
      latencyMsP50: percentile(ms, 50),
      latencyMsP95: percentile(ms, 95),
      latencyMsMax: ms.at(-1) ?? null,
      feedEvents: feedLatencies.length,
      feedLatencyMsP50: percentile(feedLatencies, 50),
      feedLatencyMsP95: percentile(feedLatencies, 95),
      feedLatencyMsMax: feedLatencies.at(-1) ?? null,
      accountsRecomputedPerBlock:
        m1.blocks > m0.blocks
          ? Number(((m1.recomputed - m0.recomputed) / (m1.blocks - m0.blocks)).toFixed(1))
          : 0,
      accountsRecomputedMaxBlock: maxPerBlock,
      riskMarketBlocks: m1.blocks - m0.blocks,
      riskCpuMsPerAccount:
        m1.recomputed > m0.recomputed && cpu0[1] !== null && cpu1[1] !== null
          ? Number(((1000 * (cpu1[1]! - cpu0[1]!)) / (m1.recomputed - m0.recomputed)).toFixed(3))
          : null,
      riskLagBlocksMax,
      posterRefusals,
      crashBlocks: Number(crashTo - crashFrom + 1n),
      priceUpdateBlocks: updateBlocks.length,
      batchesDuringCrash,
      blockTimeSec: BLOCK_TIME_SEC,
      riskConcurrency: RISK_CONCURRENCY,
      seedSeconds: Number(seedSeconds.toFixed(1)),
      warmupSeconds: Number(warmupSeconds.toFixed(1)),
      warmupRiskQueued,
      ...cpu,
      loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    stopping = true;
    abort.abort();
    for (const p of parts) {
      if (p.child.exitCode !== null || p.child.signalCode !== null) continue;
      const exited = new Promise((r) => p.child.once('exit', r));
      p.child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (p.child.exitCode === null && p.child.signalCode === null) process.kill(-p.child.pid!, 'SIGKILL');
    }
    await deleteKeys(redis, keys.prefix);
    redis.disconnect();
    await devnet?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * The operator's parameter set: the engine's defaults and a synthetic daily window around today's
 * spots (a parameter-set input, not chain data), published before the risk role starts.
 */
async function publishParams(
  redis: import('ioredis').Redis,
  network: string,
  client: PublicClient,
  m: DeploymentManifest,
): Promise<void> {
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
  await new ParamStore(redis, redisKeys(network).pipeline.params).publish(
    {
      params: DEFAULT_RISK_PARAMS,
      history: { intervalSec: 86_400, closesUsdByUnderlying },
      liquidity: defaultLiquidity(DEFAULT_RISK_PARAMS),
      window: { endSec: 0, intervalSec: 86_400, count: 61 },
    },
    'operator',
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    if (signalled) return; // interrupted: the signal handler cleans up and exits
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
