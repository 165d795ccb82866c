/**
 * The running system as the demo (and the end-to-end test) starts it: Redis, the devnet, and the
 * processes of production (`src/worker.ts` with every indexer role plus `risk`, `src/poster.ts`,
 * `src/api.ts` with the feed and the dashboard, the reference liquidator) as children under tsx,
 * each in its own process group so that stopping the demo stops everything it started.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { NetmarginError } from '../common/errors';
import { getFreePort } from '../devnet/anvil';
import { startDevnet, type Devnet } from '../devnet/devnet';
import { DEFAULT_REDIS_URL } from '../indexer/indexer.config';
import { redisKeys } from '../indexer/redis/keys';
import { publishDemoParams } from './params';

export const ROOT = resolve(__dirname, '..', '..');
const LAST_LINES = 40;

// ------------------------------------------------------------------------------------------- Redis

export interface RedisHandle {
  url: string;
  /** True when the demo started a private redis-server (stopped by `stop`). */
  started: boolean;
  stop(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  const r = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

/**
 * The Redis at `REDIS_URL` (default 127.0.0.1:6379) when one answers; otherwise what
 * `scripts/ensure-redis.sh` does (a redis-server when the binary exists, else the exact ways to get
 * one), run for a free loopback port in `dir` (or at `REDIS_URL` when it was set explicitly).
 */
export async function ensureRedis(env: NodeJS.ProcessEnv, dir: string): Promise<RedisHandle> {
  const given = env.REDIS_URL?.trim() || undefined;
  const first = given ?? DEFAULT_REDIS_URL;
  if (await answers(first)) return { url: first, started: false, stop: async () => undefined };
  const url = given ?? `redis://127.0.0.1:${await getFreePort()}`;
  const run = spawnSync('bash', [join(ROOT, 'scripts', 'ensure-redis.sh')], {
    cwd: dir,
    env: { ...env, REDIS_URL: url },
    encoding: 'utf8',
  });
  if (run.status !== 0)
    throw new NetmarginError(`No Redis: ${(run.stderr || run.stdout).trim()}`, {
      code: 'NO_REDIS',
      hint: 'Install redis-server or start a Redis, then run the demo again (REDIS_URL picks another one).',
    });
  const started = /started redis-server/.test(run.stdout);
  return {
    url,
    started,
    stop: async () => {
      if (!started) return;
      const r = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
      r.on('error', () => undefined);
      await r.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
      r.disconnect();
    },
  };
}

// ---------------------------------------------------------------------------------------- children

export interface ChildLine {
  /** The JSON line parsed, or null for a line that is not JSON. */
  json: Record<string, unknown> | null;
  line: string;
}

/** One process of the system, run under tsx in a process group of its own. */
export class ManagedChild {
  readonly child: ChildProcess;
  /** The last lines of stdout and stderr (most recent last). */
  readonly last: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly listeners: ((l: ChildLine) => void)[] = [];
  private stopping = false;

  constructor(
    readonly name: string,
    script: string,
    env: Record<string, string>,
    onUnexpectedExit: (child: ManagedChild, code: number | null, signal: string | null) => void,
  ) {
    this.child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    const keep = (line: string) => {
      this.last.push(line);
      if (this.last.length > LAST_LINES) this.last.shift();
    };
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      keep(line);
      let json: Record<string, unknown> | null = null;
      try {
        const v = JSON.parse(line) as unknown;
        if (v !== null && typeof v === 'object') json = v as Record<string, unknown>;
      } catch {
        // not a JSON line
      }
      for (const l of this.listeners) l({ json, line });
    });
    createInterface({ input: this.child.stderr! }).on('line', keep);
    this.exited = new Promise((r) =>
      this.child.on('exit', (code, signal) => {
        r({ code, signal });
        if (!this.stopping) onUnexpectedExit(this, code, signal);
      }),
    );
  }

  onLine(l: (line: ChildLine) => void): void {
    this.listeners.push(l);
  }

  /** Resolves with the first JSON line `match` accepts; rejects if the process exits or time runs out. */
  waitFor(
    what: string,
    match: (j: Record<string, unknown>) => boolean,
    timeoutMs: number,
  ): Promise<Record<string, unknown>> {
    return new Promise((ok, fail) => {
      let done = false;
      const timer = setTimeout(() => {
        done = true;
        fail(this.failure(`did not report ${what} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.onLine(({ json }) => {
        if (done || !json || !match(json)) return;
        done = true;
        clearTimeout(timer);
        ok(json);
      });
      void this.exited.then(({ code, signal }) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        fail(this.failure(`exited (${signal ?? `code ${code}`}) before reporting ${what}`));
      });
    });
  }

  failure(what: string): NetmarginError {
    return new NetmarginError(`The ${this.name} ${what}. Its last lines:\n${this.last.join('\n')}`, {
      code: 'CHILD_FAILED',
      hint: `Run it alone to see more (npx tsx ${this.child.spawnargs.at(-1)}).`,
    });
  }

  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once it exited. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    const pid = this.child.pid;
    if (pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return;
    const signal = (s: NodeJS.Signals) => {
      try {
        process.kill(-pid, s);
      } catch {
        // already gone
      }
    };
    signal('SIGTERM');
    const timer = setTimeout(() => signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    signal('SIGKILL'); // anything the process left in its group
  }
}

// ------------------------------------------------------------------------------------------- stack

export interface StackOptions {
  /** Seconds between blocks (2, the OP-stack block time). */
  blockTimeSec: number;
  liquidator: boolean;
  /** One line per completed step, with its duration. */
  progress: (step: string, ms: number) => void;
  /** A child exited on its own: the stack is no longer whole. */
  onChildFailed: (error: NetmarginError) => void;
  /** Every line a child writes (NETMARGIN_DEMO_VERBOSE=1). */
  echo?: (child: string, line: string) => void;
  /** Checked after each step: a non-null error stops the start (e.g. Ctrl-C). */
  aborted?: () => NetmarginError | null;
  env?: NodeJS.ProcessEnv;
}

export interface Stack {
  dir: string;
  redis: RedisHandle;
  /** The stack's own Redis namespace (`nm:{network}:`), fresh for each run. */
  network: string;
  devnet: Devnet;
  /** The head once the devnet was set up (before any process of the system ran). */
  readyBlock: bigint;
  manifestPath: string;
  worker: ManagedChild;
  poster: ManagedChild;
  api: ManagedChild;
  apiUrl: string;
  liquidator: ManagedChild | null;
  stop(): Promise<void>;
}

const personaKey = (devnet: Devnet, name: string): string => {
  const a = devnet.manifest.accounts.find((x) => x.persona === name);
  if (!a?.privateKey)
    throw new NetmarginError(`The devnet manifest has no key for persona ${name}`, { code: 'NO_PERSONA' });
  return a.privateKey;
};

/** Starts everything, in order, reporting each step; on a failure, stops what was started. */
export async function startStack(opts: StackOptions): Promise<Stack> {
  const env = opts.env ?? process.env;
  const dir = mkdtempSync(join(tmpdir(), 'netmargin-demo-'));
  const children: ManagedChild[] = [];
  let redis: RedisHandle | undefined;
  let devnet: Devnet | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const c of [...children].reverse()) await c.stop();
    await devnet?.stop();
    if (redis) {
      const r = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
      r.on('error', () => undefined);
      await deleteNamespace(r, redisKeys(network).prefix).catch(() => undefined);
      r.disconnect();
      await redis.stop();
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const network = `demo-${randomBytes(4).toString('hex')}`;
  const timed = async <T>(step: string, f: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    const v = await f();
    const abort = opts.aborted?.();
    if (abort) throw abort;
    opts.progress(step, Date.now() - t0);
    return v;
  };
  const child = (name: string, script: string, childEnv: Record<string, string>) => {
    const c = new ManagedChild(name, script, childEnv, (me, code, signal) =>
      opts.onChildFailed(me.failure(`stopped on its own (${signal ?? `exit code ${code}`})`)),
    );
    const echo = opts.echo;
    if (echo) c.onLine(({ line }) => echo(name, line));
    children.push(c);
    return c;
  };
  try {
    redis = await timed('Redis', () => ensureRedis(env, dir));
    const manifestPath = join(dir, 'local.json');
    const port = await getFreePort();
    devnet = await timed(
      `devnet (anvil, Aave, perps, options, aggregator; ${opts.blockTimeSec} s blocks)`,
      () => startDevnet({ port, blockTimeSec: opts.blockTimeSec, manifestPath }),
    );
    const readyBlock = await devnet.clients.publicClient.getBlockNumber();
    const common = { REDIS_URL: redis.url, NETMARGIN_NETWORK: network, NETMARGIN_MANIFEST: manifestPath };
    const d = devnet;
    await timed('risk parameter set (defaults, 61 daily closes around the spots)', async () => {
      const r = new Redis(redis!.url, { maxRetriesPerRequest: 3 });
      try {
        await publishDemoParams(r, network, d);
      } finally {
        r.disconnect();
      }
    });
    const worker = child('worker', 'src/worker.ts', {
      ...common,
      NETMARGIN_ROLES: 'head,index,refresh,reconcile,risk',
      NETMARGIN_POLL_MS: '500',
      // The first parameter set is the operator's (publishDemoParams); the devnet's minutes of history
      // are too short for the scheduled re-estimation's window.
      NETMARGIN_PARAMS_EVERY_MS: '0',
    });
    await timed(`worker (indexer roles + risk), pid ${worker.child.pid}`, () =>
      Promise.all([
        worker.waitFor('the risk role', (j) => j.event === 'risk-started', 120_000),
        worker.waitFor('its first sync', (j) => j.event === 'runner.following', 120_000),
      ]),
    );
    const poster = child('poster', 'src/poster.ts', {
      ...common,
      NETMARGIN_POSTER_RELAYER_KEY: personaKey(d, 'fresh-wallet'),
      NETMARGIN_POSTER_POLL_MS: '500',
    });
    await timed(`poster, pid ${poster.child.pid}`, () =>
      poster.waitFor('its start', (j) => j.event === 'poster.started', 60_000),
    );
    const api = child('API', 'src/api.ts', { ...common, API_HOST: '127.0.0.1', API_PORT: '0' });
    const listening = await timed(`API (feed, dashboard), pid ${api.child.pid}`, () =>
      api.waitFor('listening', (j) => j.event === 'api-listening', 60_000),
    );
    const apiUrl = String(listening.url);
    let liquidator: ManagedChild | null = null;
    if (opts.liquidator) {
      liquidator = child('liquidator', 'examples/liquidator/liquidator.ts', {
        LIQUIDATOR_RPC_URL: d.rpcUrl,
        LIQUIDATOR_FEED_URL: `${apiUrl}/v1/feed/shortfalls`,
        LIQUIDATOR_AGGREGATOR: d.manifest.aggregator!.address,
        LIQUIDATOR_AAVE_POOL: d.manifest.aave.pool,
        LIQUIDATOR_PRIVATE_KEY: personaKey(d, 'liquidator-bot'),
        LIQUIDATOR_STATE_FILE: join(dir, 'liquidator-state.json'),
        LIQUIDATOR_ETH_USD_FEED: d.manifest.feeds.prices.WETH.address,
        LIQUIDATOR_START_FROM: '0',
      });
      const l = liquidator;
      await timed(`reference liquidator, pid ${l.child.pid}`, () =>
        l.waitFor(
          'its connection to the feed',
          (j) => j.event === 'caught-up' || j.event === 'connecting',
          60_000,
        ),
      );
    }
    return {
      dir,
      redis,
      network,
      devnet: d,
      readyBlock,
      manifestPath,
      worker,
      poster,
      api,
      apiUrl,
      liquidator,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function deleteNamespace(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}
