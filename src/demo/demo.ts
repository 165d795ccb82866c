/**
 * `npm run demo`: the whole system on the local world. It makes sure Redis is there, starts the devnet
 * (2 s blocks), the worker (every indexer role and `risk`), the poster, the API (shortfall feed and
 * dashboard) and the reference liquidator as child processes under a fresh Redis namespace, waits for
 * the first sync and the first attestations, then drives the market's crash path and narrates what
 * happens: margins moving, attestations landing, shortfall events, liquidations.
 *
 * `--fast` jumps chain time per step (the instant clock) instead of waiting; `--no-liquidator` leaves
 * the shortfalls for you to handle; `--speed N` runs the ten-minute path N times faster (default 5).
 * Ctrl-C stops every child and cleans up. A child that stops on its own is reported with its last
 * lines and ends the demo (exit code 1).
 */
import { Redis } from 'ioredis';
import { InvalidInputError, NetmarginError } from '../common/errors';
import { MARKET_PATH_DESCRIPTIONS } from '../devnet/market-paths';
import { runMarketPath } from '../devnet/market';
import { startStack, type Stack } from './stack';
import { usd, Watcher, type Observed } from './watch';

export interface DemoOptions {
  fast: boolean;
  liquidator: boolean;
  speed: number;
  /** Market steps (default 30). */
  steps: number;
  /** After the path: how long to wait for the system to settle (no new activity), and at most. */
  quietMs: number;
  maxSettleMs: number;
}

export const DEFAULT_DEMO_OPTIONS: DemoOptions = {
  fast: false,
  liquidator: true,
  speed: 5,
  steps: 30,
  quietMs: 12_000,
  maxSettleMs: 120_000,
};

const USAGE = `Usage: npm run demo -- [--fast] [--no-liquidator] [--speed N] [--steps N]

Starts Redis (the running one at REDIS_URL, default 127.0.0.1:6379, or a private redis-server),
the devnet with 2 s blocks, the indexer and risk worker, the attestation poster, the API with the
shortfall feed and dashboard, and the reference liquidator; then runs the market's crash path
(${MARKET_PATH_DESCRIPTIONS.crash}) and shows margins, attestations, shortfall events and liquidations.

  --fast            jump chain time per market step instead of waiting (about a minute in all)
  --no-liquidator   do not start the reference liquidator
  --speed N         run the ten-minute path N times faster (default 5)
  --steps N         market steps (default 30)
  --help            this text

Ctrl-C stops everything the demo started.`;

export function parseDemoArgs(argv: readonly string[]): DemoOptions | 'help' {
  const o = { ...DEFAULT_DEMO_OPTIONS };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = (name: string, min: number, max: number): number => {
      const raw = argv[++i];
      const n = Number(raw);
      if (raw === undefined || !Number.isFinite(n) || n < min || n > max)
        throw new InvalidInputError(name, `"${raw ?? ''}" is not a number in [${min}, ${max}]`, {
          hint: `Give ${name} a number between ${min} and ${max}, e.g. ${name} ${min * 2}.`,
        });
      return n;
    };
    if (a === '--help' || a === '-h') return 'help';
    else if (a === '--fast') o.fast = true;
    else if (a === '--no-liquidator') o.liquidator = false;
    else if (a === '--speed') o.speed = num('--speed', 0.1, 100);
    else if (a === '--steps') o.steps = Math.round(num('--steps', 2, 600));
    else
      throw new InvalidInputError('arguments', `unknown option "${a}"`, {
        hint: 'Run npm run demo -- --help for the options.',
      });
  }
  return o;
}

export type Say = (line: string) => void;

export interface DemoRun {
  observed: Observed[];
  /** Blocks of the market's price updates, in order. */
  moves: bigint[];
}

/** Accounts named per attestation line (the rest are counted). */
const ATTESTED_SHOWN = 4;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Prints what `o` holds; returns true when it held any activity (not counting the margin table). */
export function narrate(o: Observed, watcher: Watcher, say: Say): boolean {
  if (o.margins) {
    const t = watcher.table(o.margins);
    if (t.length > 0) {
      say(`margins at block ${o.head}:`);
      t.forEach((l) => say(l));
    }
  }
  for (const a of o.attestations) {
    const shown = a.accounts
      .slice(0, ATTESTED_SHOWN)
      .map((x) => `${x.persona} (MM ${usd(x.mmUsd6)} @${x.attestedBlock})`);
    const more = a.accounts.length - shown.length;
    say(
      `attestation: tx ${a.tx} in block ${a.block}, ${a.accounts.length} account(s): ${shown.join(', ')}${
        more > 0 ? `, +${more} more` : ''
      }`,
    );
  }
  for (const e of o.feed)
    say(
      `shortfall event ${e.id}: ${watcher.persona(e.owner)} ${e.previousHealth ?? 'new'} → ${e.health} (${e.reason}), shortfall ${usd(e.shortfallUsd6)} at block ${e.blockNumber}`,
    );
  for (const f of o.flagged)
    say(
      `auction opened: ${f.persona} flagged, shortfall ${usd(f.shortfallUsd6)}, tx ${f.tx} in block ${f.block}`,
    );
  for (const l of o.liquidations)
    say(
      `liquidation (${l.venue}): ${l.persona} by ${l.liquidator.slice(0, 10)}…, ${l.what}, tx ${l.tx} in block ${l.block}`,
    );
  return o.attestations.length + o.feed.length + o.flagged.length + o.liquidations.length > 0;
}

/**
 * With the stack running: waits for the first attestations, runs the crash path while narrating, then
 * narrates until the system is quiet. Returns what it observed.
 */
export async function runScenario(
  stack: Stack,
  opts: DemoOptions,
  say: Say,
  failed: () => NetmarginError | null,
  hooks: { afterPath?: () => Promise<void> } = {},
): Promise<DemoRun> {
  const redis = new Redis(stack.redis.url, { maxRetriesPerRequest: 3 });
  redis.on('error', () => undefined);
  const watcher = new Watcher(stack.devnet, redis, stack.network, stack.readyBlock + 1n);
  const observed: Observed[] = [];
  const moves: bigint[] = [];
  let stopLoop = false;
  let activityAt = Date.now();
  let loopError: NetmarginError | null = null;
  const loop = (async () => {
    while (!stopLoop) {
      const o = await watcher.poll();
      observed.push(o);
      if (narrate(o, watcher, say)) activityAt = Date.now();
      await sleep(300);
    }
  })().catch((err: unknown) => {
    loopError = new NetmarginError(
      `Reading the system's state failed: ${err instanceof Error ? err.message : String(err)}`,
      {
        code: 'DEMO_WATCH_FAILED',
      },
    );
  });
  const check = () => {
    const err = failed() ?? loopError;
    if (err) throw err;
  };
  /** `p`, or the first failure (a child stopped, Ctrl-C) while it runs. */
  const unlessFailed = async <T>(p: Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const watch = new Promise<never>((_, fail) => {
      timer = setInterval(() => {
        try {
          check();
        } catch (e) {
          fail(e);
        }
      }, 200);
    });
    try {
      return await Promise.race([p, watch]);
    } finally {
      clearInterval(timer);
    }
  };
  try {
    // The first attestations: every account margined and posted once.
    const t0 = Date.now();
    while (!observed.some((o) => o.attestations.length > 0)) {
      check();
      if (Date.now() - t0 > 180_000)
        throw new NetmarginError(
          `No attestation was posted within 3 minutes of the start. The poster's last lines:\n${stack.poster.last.slice(-10).join('\n')}`,
          {
            code: 'DEMO_NO_ATTESTATION',
            hint: 'Look at the poster’s log lines (poster.refused tells why it does not sign).',
          },
        );
      await sleep(200);
    }
    say(`✓ first attestations on chain (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    say('');
    say(`market: crash path — ${MARKET_PATH_DESCRIPTIONS.crash}`);
    say(
      opts.fast
        ? 'market: instant clock (chain time jumps per step)'
        : `market: real time, ${opts.speed}× faster`,
    );
    const pc = stack.devnet.clients.publicClient;
    const path = runMarketPath(stack.devnet.clients, stack.devnet.manifest, 'crash', {
      clock: opts.fast ? 'instant' : 'realtime',
      speed: opts.speed,
      steps: opts.steps,
      onStep: (step, prices, total) => {
        const p = (v: bigint) => `$${(Number(v) / 1e8).toFixed(v > 100_000_000_00n ? 0 : 2)}`;
        say(
          `market step ${step.index}/${total}: ETH ${p(prices.WETH)} BTC ${p(prices.WBTC)} OP ${p(prices.OP)} USDC ${p(prices.USDC)}, vols ×${step.volMultiplier.toFixed(2)}`,
        );
        activityAt = Date.now();
        void pc.getBlockNumber().then((b) => moves.push(b));
      },
    });
    path.catch(() => undefined); // reported through unlessFailed
    await unlessFailed(path);
    await hooks.afterPath?.();
    say('market: path done; waiting for the system to settle');
    const settleStart = Date.now();
    while (Date.now() - activityAt < opts.quietMs && Date.now() - settleStart < opts.maxSettleMs) {
      check();
      await sleep(250);
    }
  } finally {
    stopLoop = true;
    await loop;
    redis.disconnect();
  }
  return { observed, moves };
}

/** The closing summary. */
export function summary(run: DemoRun, say: Say): void {
  const atts = run.observed.flatMap((o) => o.attestations);
  const feed = run.observed.flatMap((o) => o.feed);
  const liq = run.observed.flatMap((o) => o.liquidations);
  say('');
  say('summary:');
  say(
    `  attestations: ${atts.length} transaction(s), ${atts.reduce((s, a) => s + a.accounts.length, 0)} account record(s)`,
  );
  say(`  shortfall events: ${feed.length} (${[...new Set(feed.map((e) => e.health))].join(', ') || 'none'})`);
  say(
    `  liquidations: ${liq.length} (aggregator ${liq.filter((l) => l.venue === 'aggregator').length}, Aave ${liq.filter((l) => l.venue === 'aave').length})`,
  );
}

export async function main(argv: readonly string[], say: Say = (l) => console.log(l)): Promise<number> {
  let opts: DemoOptions | 'help';
  try {
    opts = parseDemoArgs(argv);
  } catch (err) {
    say((err as Error).message);
    return 2;
  }
  if (opts === 'help') {
    say(USAGE);
    return 0;
  }
  const o = opts;
  let failure: NetmarginError | null = null;
  let stack: Stack | undefined;
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    say('\nstopping: every child, the devnet, the demo’s Redis keys');
    failure = new NetmarginError('Interrupted', { code: 'INTERRUPTED' });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  say('netmargin demo: starting the local world');
  try {
    stack = await startStack({
      blockTimeSec: 2,
      liquidator: o.liquidator,
      progress: (step, ms) => say(`✓ ${step} (${(ms / 1000).toFixed(1)} s)`),
      onChildFailed: (e) => (failure ??= e),
      aborted: () => failure,
      echo: process.env.NETMARGIN_DEMO_VERBOSE ? (name, line) => say(`  [${name}] ${line}`) : undefined,
    });
    say(
      `  Redis ${stack.redis.url}${stack.redis.started ? ' (private, stopped at the end)' : ''}, namespace nm:{${stack.network}}:`,
    );
    say(`  RPC ${stack.devnet.rpcUrl}`);
    say(`  dashboard ${stack.apiUrl}/dashboard`);
    say(`  shortfall feed ${stack.apiUrl}/v1/feed/shortfalls`);
    say('');
    const run = await runScenario(stack, o, say, () => failure);
    summary(run, say);
    return 0;
  } catch (err) {
    const e = err instanceof NetmarginError ? err : null;
    if (!interrupted) {
      say(`demo failed: ${e?.message ?? String(err)}`);
    }
    return interrupted ? 130 : 1;
  } finally {
    await stack?.stop();
    say('stopped');
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => process.exit(code));
