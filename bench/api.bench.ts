/**
 * Partner API benchmark: signed `GET /v1/partners/accounts/{address}/margin` at a fixed rate.
 *
 *   npm run bench:api [-- --rps 2000 --seconds 10 --warmup 3 --sockets 32 --sequential 200]
 *
 * 1. Starts a devnet, stores every persona's positions, the recorded market, a parameter set and one
 *    `RiskRecord` per account computed by the real engine (test/helpers/api-seed.ts), and posts them
 *    on chain with the real poster: the endpoint reads real views, a real attestation and real results.
 * 2. Starts the API as its own process (`src/api.ts`, production configuration) with a partner key
 *    whose rate limit is out of the way.
 * 3. `sequential` requests one at a time (the latency of a request that waits behind no other), then
 *    this process is the load generator: an open loop sending `rps` requests per second (each with a
 *    fresh nonce and its own HMAC signature, cycling through the accounts) over keep-alive sockets for
 *    `seconds`, after `warmup` seconds at the same rate that are not counted. Latency is measured per
 *    request from the moment it was written to the moment its whole answer arrived.
 *
 * The generator, the API, anvil and Redis share this machine's cores: the figures include that
 * contention (the load average is printed). Prints one JSON line: rps (answers per second achieved),
 * targetRps, p50Ms, p90Ms, p99Ms, maxMs (client-side latency), p99ScheduleMs (from the moment each
 * request was due, so generator lag counts too), sequentialP50Ms / sequentialP99Ms (one at a time), requests, errors (non-200 or failed), accounts,
 * seconds, apiCpuSeconds (the API process during the measured window), loadAverage1m.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PublicClient } from 'viem';
import { partnerHeaders } from '../src/api/partners/signing';
import { getFreePort } from '../src/devnet/anvil';
import { startDevnet, type Devnet } from '../src/devnet/devnet';
import { connectTestRedis, deleteKeys, testNetwork } from '../src/indexer/redis/test-redis';
import { Poster } from '../src/pipeline/poster/poster';
import { LocalKeySigner, LocalTransactionSigner } from '../src/pipeline/poster/signer';
import { RedisRiskResultStore } from '../src/pipeline/result-store';
import { startApiProcess, stopApiProcess, type ApiProcess } from '../test/helpers/api-process';
import { seedFromDevnet } from '../test/helpers/api-seed';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) {
    process.stderr.write(`--${name} needs a positive number\n`);
    process.exit(2);
  }
  return v;
}

const progress = (msg: string) => process.stderr.write(`[bench:api] ${msg}\n`);

/** CPU seconds used so far by process `pid` (user + system, from /proc). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

async function main(): Promise<void> {
  const targetRps = arg('rps', 2_000);
  const seconds = arg('seconds', 10);
  const warmup = arg('warmup', 3);
  const sockets = arg('sockets', 32);
  const sequential = arg('sequential', 200);
  const key = { id: 'bench', secret: randomBytes(32).toString('hex') };

  const redis = await connectTestRedis();
  const network = testNetwork();
  let devnet: Devnet | undefined;
  let api: ApiProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'nm-bench-api-'));
  try {
    progress('devnet and seed');
    devnet = await startDevnet({ port: await getFreePort(), blockTimeSec: 0, manifestPath: null });
    const seeded = await seedFromDevnet(devnet, redis, network);
    const m = devnet.manifest;
    const agg = m.aggregator!;
    const head = await devnet.clients.publicClient.getBlock({ blockTag: 'latest' });
    await redis.hset(seeded.keys.indexer.cursor, {
      number: head.number.toString(),
      hash: head.hash,
      parentHash: head.parentHash,
    });
    const poster = new Poster({
      reader: new RedisRiskResultStore(redis, seeded.keys.pipeline.results),
      redis,
      network,
      client: devnet.clients.publicClient as unknown as PublicClient,
      chain: devnet.clients.chain,
      target: { chainId: m.network.chainId, aggregator: agg.address },
      signers: agg.signers.map((s) => new LocalKeySigner(s.privateKey!)),
      threshold: agg.threshold,
      relayer: new LocalTransactionSigner(m.accounts.find((a) => a.persona === 'fresh-wallet')!.privateKey),
      feeds: [
        ...new Map(
          agg.assets.map((a) => [a.feed, { label: a.symbol, address: a.feed, heartbeatSec: a.heartbeatSec }]),
        ).values(),
      ],
      sequencer: { address: agg.sequencerFeed, gracePeriodSec: agg.sequencerGracePeriodSec },
      rules: {
        materiality: { minAbsUsd6: 1_000_000n, minRelBps: 50n, maxAgeSec: 3_000n },
        maxIndexerLagBlocks: 5n,
        deadlineSec: 600n,
        maxBatchRecords: 100,
        maxCalldataBytes: 120_000,
        feeCapPerAccountWei: 10n ** 18n,
        maxHoldMs: 0,
        gasFixed: 60_000n,
        gasPerRecord: 12_000n,
        stuckBlocks: 3n,
        stuckMs: 60_000,
        followPollMs: 50,
      },
    });
    await poster.start();
    const posted = await poster.tick();
    await poster.stop();
    if (!posted.broadcast) throw new Error(`the poster posted nothing: ${JSON.stringify(posted.refusals)}`);

    const manifestPath = join(dir, 'manifest.json');
    writeFileSync(manifestPath, JSON.stringify(m));
    progress('API process');
    api = await startApiProcess(network, {
      NETMARGIN_MANIFEST: manifestPath,
      NETMARGIN_PARTNER_KEYS: JSON.stringify([{ ...key, ratePerWindow: 10_000_000 }]),
    });
    const apiUrl = new URL(api.url);
    const paths = seeded.owners.map((o) => `/v1/partners/accounts/${o}/margin`);
    const agent = new Agent({ keepAlive: true, maxSockets: sockets });

    // One request at a time first: the latency of a request that never waits behind another.
    const one = (path: string) =>
      new Promise<number>((done, fail) => {
        const headers = partnerHeaders(key.id, key.secret, {
          method: 'GET',
          pathAndQuery: path,
          timestampSec: Math.floor(Date.now() / 1000),
          nonce: randomBytes(12).toString('hex'),
          body: '',
        });
        const start = performance.now();
        request({ host: apiUrl.hostname, port: apiUrl.port, path, method: 'GET', headers, agent }, (res) => {
          res.on('data', () => undefined);
          res.on('end', () =>
            res.statusCode === 200
              ? done(performance.now() - start)
              : fail(new Error(`status ${res.statusCode}`)),
          );
        })
          .on('error', fail)
          .end();
      });
    const sequentialMs = new Float64Array(sequential);
    for (let i = 0; i < sequential; i++) sequentialMs[i] = await one(paths[i % paths.length]!);
    sequentialMs.sort();

    const total = Math.round(targetRps * (warmup + seconds));
    const counted = Math.round(targetRps * seconds);
    const latency = new Float64Array(counted);
    const fromSchedule = new Float64Array(counted);
    let done = 0;
    let errors = 0;
    let sent = 0;
    const t0 = performance.now();
    const intervalMs = 1_000 / targetRps;
    let measureStart = 0;
    let measureEnd = 0;
    let cpuStart = 0;

    await new Promise<void>((finish) => {
      const send = (i: number) => {
        const dueMs = t0 + i * intervalMs;
        const path = paths[i % paths.length]!;
        const headers = partnerHeaders(key.id, key.secret, {
          method: 'GET',
          pathAndQuery: path,
          timestampSec: Math.floor(Date.now() / 1000),
          nonce: randomBytes(12).toString('hex'),
          body: '',
        });
        const start = performance.now();
        const idx = i - (total - counted);
        const req = request(
          { host: apiUrl.hostname, port: apiUrl.port, path, method: 'GET', headers, agent },
          (res) => {
            res.on('data', () => undefined);
            res.on('end', () => {
              const end = performance.now();
              if (res.statusCode !== 200) errors++;
              if (idx >= 0) {
                latency[idx] = end - start;
                fromSchedule[idx] = end - dueMs;
                measureEnd = Math.max(measureEnd, end);
              }
              if (++done === total) finish();
            });
          },
        );
        req.on('error', () => {
          errors++;
          if (++done === total) finish();
        });
        req.end();
      };
      const tick = () => {
        const due = Math.min(total, Math.floor((performance.now() - t0) / intervalMs) + 1);
        while (sent < due) {
          if (sent === total - counted) {
            measureStart = performance.now();
            cpuStart = cpuSeconds(api!.child.pid!);
            progress(`measuring ${seconds} s at ${targetRps} rps`);
          }
          send(sent++);
        }
        // A 1 ms timer, not a spin: the generator must leave the cores to the API it measures.
        if (sent < total) setTimeout(tick, 1);
      };
      progress(`warm-up ${warmup} s`);
      tick();
    });
    const apiCpu = cpuSeconds(api.child.pid!) - cpuStart;
    agent.destroy();
    const windowSec = (measureEnd - measureStart) / 1000;
    const sorted = latency.slice().sort();
    const sortedSchedule = fromSchedule.slice().sort();
    const out = {
      rps: round(counted / windowSec),
      targetRps,
      p50Ms: round(percentile(sorted, 50)),
      p90Ms: round(percentile(sorted, 90)),
      p99Ms: round(percentile(sorted, 99)),
      maxMs: round(sorted[sorted.length - 1] ?? NaN),
      p99ScheduleMs: round(percentile(sortedSchedule, 99)),
      sequentialP50Ms: round(percentile(sequentialMs, 50)),
      sequentialP99Ms: round(percentile(sequentialMs, 99)),
      requests: counted,
      errors,
      accounts: paths.length,
      seconds: round(windowSec),
      sockets,
      apiCpuSeconds: round(apiCpu),
      loadAverage1m: round(loadavg()[0]!),
      note: 'load generator, API, anvil and Redis share the machine’s cores',
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    await stopApiProcess(api);
    await deleteKeys(redis, `nm:${network}:`);
    await redis.quit();
    await devnet?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
