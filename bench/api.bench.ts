/**
 * Partner API benchmark: signed `GET /v1/partners/accounts/{address}/margin` at a fixed rate.
 *
 *   npm run bench:api [-- --rps 2000 --seconds 10 --warmup 3 --sockets 32 --sequential 200 --baseline 1]
 *
 * 1. Starts a devnet, stores every persona's positions, the recorded market, a parameter set and one
 *    `RiskRecord` per account computed by the real engine (test/helpers/api-seed.ts), and posts them
 *    on chain with the real poster: the endpoint reads real views, a real attestation and real results.
 * 2. Starts the API as its own process (`src/api.ts`, production configuration) with a partner key
 *    whose rate limit is out of the way.
 * 3. One request per account (the first answer of an account reads the chain; reported as
 *    `coldMaxMs`), then `sequential` requests one at a time (the latency of a request that waits
 *    behind no other), then an open loop sending `rps` requests per second over `sockets` keep-alive
 *    connections for `seconds`, after `warmup` seconds at the same rate that are not counted. Every
 *    request has its own nonce and HMAC signature, cycling through the accounts; all are signed
 *    before the run, so the generator (bench/http-load.ts) only writes bytes while it measures.
 *    Latency is per request, from its write to the last byte of its answer.
 * 4. Baseline, in the same run (`--baseline 0` skips it): the same load sent with a trailing slash
 *    on the path, which the API's margin route leaves to the NestJS router
 *    (src/api/partners/margin-route.ts) — what the endpoint costs through the framework.
 *
 * The generator, the API, anvil and Redis share this machine's cores: the figures include that
 * contention (the load average is printed). Prints one JSON line: rps (answers per second achieved),
 * targetRps, p50Ms, p90Ms, p99Ms, maxMs, p99ScheduleMs (from the moment each request was due, so
 * waiting for a free connection counts too), sequentialP50Ms / sequentialP99Ms, coldMaxMs, requests,
 * errors (non-200 answers, all phases), accounts, seconds, sockets, apiCpuMsPerRequest (the API
 * process's CPU during the measured window, per request), the baseline's frameworkP50Ms /
 * frameworkP99Ms / frameworkApiCpuMsPerRequest and the ratios p99VsFramework and cpuVsFramework,
 * loadAverage1m.
 *
 * Profiling: `API_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench:api` passes flags
 * to the API process (test/helpers/api-process.ts); `--trace-gc` lines land in its log.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { partnerHeaders } from '../src/api/partners/signing';
import { getFreePort } from '../src/devnet/anvil';
import { startDevnet, type Devnet } from '../src/devnet/devnet';
import { connectTestRedis, deleteKeys, testNetwork } from '../src/indexer/redis/test-redis';
import { startApiProcess, stopApiProcess, type ApiProcess } from '../test/helpers/api-process';
import { seedFromDevnet } from '../test/helpers/api-seed';
import { postSeededRecords } from '../test/helpers/post-seeded';
import { openLoop, rawGet, type LoadResult } from './http-load';

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

function flag(name: string, fallback: boolean): boolean {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = process.argv[i + 1];
  if (v !== '0' && v !== '1') {
    process.stderr.write(`--${name} needs 0 or 1\n`);
    process.exit(2);
  }
  return v === '1';
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
  const baseline = flag('baseline', true);
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
    await postSeededRecords(devnet, redis, network, seeded);

    const manifestPath = join(dir, 'manifest.json');
    writeFileSync(manifestPath, JSON.stringify(devnet.manifest));
    progress('API process');
    api = await startApiProcess(network, {
      NETMARGIN_MANIFEST: manifestPath,
      NETMARGIN_PARTNER_KEYS: JSON.stringify([{ ...key, ratePerWindow: 10_000_000 }]),
    });
    const apiUrl = new URL(api.url);
    const host = apiUrl.hostname;
    const port = Number(apiUrl.port);
    const child = api.child;
    // Every request is signed before its run (a fresh nonce each, the timestamp well inside the
    // allowed skew): during the run the generator only writes bytes.
    const signed = (paths: readonly string[], count: number) =>
      Array.from({ length: count }, (_, i) => {
        const path = paths[i % paths.length]!;
        return rawGet(
          apiUrl.host,
          path,
          partnerHeaders(key.id, key.secret, {
            method: 'GET',
            pathAndQuery: path,
            timestampSec: Math.floor(Date.now() / 1000),
            nonce: randomBytes(12).toString('hex'),
            body: '',
          }),
        );
      });
    let errors = 0;
    const counting = (r: LoadResult) => {
      for (const code of r.status) if (code !== 200) errors++;
      return r;
    };
    const oneAtATime = async (paths: readonly string[], count: number) =>
      counting(await openLoop({ host, port, requests: signed(paths, count), rps: 1e6, sockets: 1 }));

    /** The open loop at `targetRps`: latencies of the measured window and the API's CPU in it. */
    const load = async (label: string, paths: readonly string[]) => {
      const total = Math.round(targetRps * (warmup + seconds));
      const skip = total - Math.round(targetRps * seconds);
      const requests = signed(paths, total);
      let measureStart = 0;
      let cpuStart = 0;
      progress(`${label}: warm-up ${warmup} s`);
      const run = counting(
        await openLoop({
          host,
          port,
          requests,
          rps: targetRps,
          sockets,
          onSend: (i) => {
            if (i !== skip) return;
            measureStart = performance.now();
            cpuStart = cpuSeconds(child.pid!);
            progress(`${label}: measuring ${seconds} s at ${targetRps} rps`);
          },
        }),
      );
      const cpu = cpuSeconds(child.pid!) - cpuStart;
      const counted = total - skip;
      return {
        counted,
        windowSec: (run.endMs - measureStart) / 1000,
        latency: run.latencyMs.subarray(skip).slice().sort(),
        fromSchedule: run.fromScheduleMs.subarray(skip).slice().sort(),
        cpuMsPerRequest: (cpu * 1000) / counted,
      };
    };

    const paths = seeded.owners.map((o) => `/v1/partners/accounts/${o}/margin`);
    progress('one request per account, then one at a time');
    const cold = await oneAtATime(paths, paths.length);
    const sequentialMs = (await oneAtATime(paths, sequential)).latencyMs.slice().sort();
    const main = await load('margin route', paths);
    const framework = baseline
      ? await load(
          'baseline, through the framework',
          paths.map((p) => `${p}/`),
        )
      : undefined;

    const p99 = percentile(main.latency, 99);
    const out = {
      rps: round(main.counted / main.windowSec),
      targetRps,
      p50Ms: round(percentile(main.latency, 50)),
      p90Ms: round(percentile(main.latency, 90)),
      p99Ms: round(p99),
      maxMs: round(main.latency[main.latency.length - 1] ?? NaN),
      p99ScheduleMs: round(percentile(main.fromSchedule, 99)),
      sequentialP50Ms: round(percentile(sequentialMs, 50)),
      sequentialP99Ms: round(percentile(sequentialMs, 99)),
      coldMaxMs: round(Math.max(...cold.latencyMs)),
      requests: main.counted,
      errors,
      accounts: paths.length,
      seconds: round(main.windowSec),
      sockets,
      apiCpuMsPerRequest: round(main.cpuMsPerRequest),
      ...(framework
        ? {
            frameworkP50Ms: round(percentile(framework.latency, 50)),
            frameworkP99Ms: round(percentile(framework.latency, 99)),
            frameworkApiCpuMsPerRequest: round(framework.cpuMsPerRequest),
            p99VsFramework: round(p99 / percentile(framework.latency, 99)),
            cpuVsFramework: round(main.cpuMsPerRequest / framework.cpuMsPerRequest),
          }
        : {}),
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
