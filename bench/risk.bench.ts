/**
 * Benchmark of the account-level risk engine over a synthetic book, against the straightforward
 * reference implementation in the same process.
 *
 *   npm run bench:risk [-- --accounts 100000 --sample 200 --runs 3 --single 10000]
 *
 * Book (seeded): `accounts` accounts (default 100,000), ~10 positions each across Aave (collateral
 * and debt), perps and options, over 5 underlyings (BTC, DAI, ETH, OP, USDC). Options are listed
 * on ETH, BTC and OP: 4 expiries x 20 strikes, calls and puts. The scenario grid has 11 spot points
 * x 3 vol shocks + 2 skew shocks = 35 scenarios per underlying; 500 hourly returns of history;
 * 4,000 Monte Carlo paths (the default parameters otherwise).
 *
 * - marketPrepareSeconds: `prepareMarket` with the option listing (EWMA, correlations, Monte Carlo
 *   paths, every listed option valued under every scenario) — once per block.
 * - fullBookSeconds: `computeBookRisk` over every account (median of `runs` after one warm-up):
 *   MM, IM, MTM, haircut, adjusted equity, free collateral, shortfall, scenario margin, core margin
 *   and worst scenario per account, into typed arrays. Full result objects (breakdowns, Greeks,
 *   stress replays, liquidation distance, hashes) are materialized on demand, not in this figure.
 * - marketCompleteSeconds: `completeMarket` (the Monte Carlo, historical and liquidation-scan rows
 *   of every listed option, which the book figures mostly do not need), before single accounts.
 * - singleP50Ms / singleP99Ms: `computeAccountRiskIn` (validation of the bigint input + every output
 *   + hashes) against the completed context, `single` calls on random accounts among the book's
 *   first `single` + 1,000, measured before the rest of the book is generated, after 5,000 warm-up
 *   calls and one full GC to settle the heap; wall clock, young-generation GC included. singleWithBookInHeap*: the same over all accounts once the whole
 *   book's inputs (~1 GB of small objects) are alive in the process, which lengthens young-
 *   generation GC pauses. loadAverage1m says how loaded the shared machine was.
 * - referenceFullBookSeconds: `computeAccountRiskReference` on a deterministic sample of `sample`
 *   accounts (every accounts/sample-th), scaled to the book (`referenceScaledFromAccounts`).
 * - maxRelDiffVsReference: largest relative difference, over every number of every result of the
 *   sample, between the reference and both the materialized fast result and the compact figures.
 *
 * Prints one JSON line on stdout; progress goes to stderr.
 */
import { loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  allocateBookRiskResult,
  completeMarket,
  computeAccountRiskIn,
  computeBookRisk,
  materializeAccountRisk,
  prepareBook,
  prepareMarket,
} from '../src/risk/engine';
import { DEFAULT_RISK_PARAMS, type RiskParams } from '../src/risk/params';
import { computeAccountRiskReference } from '../src/risk/reference';
import { Prng } from '../src/risk/stats/prng';
import type { MarketContext } from '../src/risk/market';
import type {
  AccountPositions,
  AccountRiskResult,
  ExpirySlice,
  FixedPoint,
  MarketData,
  OptionPosition,
  Position,
} from '../src/risk/types';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v <= 0) {
    throw new Error(`--${name} must be a positive integer, got ${process.argv[i + 1]}`);
  }
  return v;
}

const ACCOUNTS = arg('accounts', 100_000);
const SAMPLE = Math.min(arg('sample', 200), ACCOUNTS);
const RUNS = arg('runs', 3);
const SINGLE = Math.min(arg('single', 10_000), ACCOUNTS);

const AS_OF_SEC = 1_767_225_600;
const DAY = 86_400;
const EXPIRIES = [7, 14, 30, 90].map((d) => AS_OF_SEC + d * DAY);
const STRIKES = 20;
const SPOTS: Record<string, number> = { BTC: 60_000, DAI: 1, ETH: 3_000, OP: 2, USDC: 1 };
const VOLS: Record<string, number> = { BTC: 0.55, DAI: 0.02, ETH: 0.7, OP: 1.1, USDC: 0.015 };
const OPTION_UNDERLYINGS = ['BTC', 'ETH', 'OP'];
const ASSETS = {
  WETH: { underlying: 'ETH', decimals: 18, isAToken: false },
  aWETH: { underlying: 'ETH', decimals: 18, isAToken: true },
  WBTC: { underlying: 'BTC', decimals: 8, isAToken: false },
  aWBTC: { underlying: 'BTC', decimals: 8, isAToken: true },
  OP: { underlying: 'OP', decimals: 18, isAToken: false },
  USDC: { underlying: 'USDC', decimals: 6, isAToken: false },
  aUSDC: { underlying: 'USDC', decimals: 6, isAToken: true },
  DAI: { underlying: 'DAI', decimals: 18, isAToken: false },
  aDAI: { underlying: 'DAI', decimals: 18, isAToken: true },
} as const;
type Asset = keyof typeof ASSETS;

export const BENCH_PARAMS: RiskParams = {
  ...DEFAULT_RISK_PARAMS,
  version: `${DEFAULT_RISK_PARAMS.version}+bench-35-scenarios`,
  scenario: {
    ...DEFAULT_RISK_PARAMS.scenario,
    spotShockFractions: [-1, -0.8, -0.6, -0.4, -0.2, 0, 0.2, 0.4, 0.6, 0.8, 1],
  },
};

const seconds = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;
const log = (msg: string) => process.stderr.write(`[bench:risk] ${msg}\n`);

/** A decimal amount as token units (6 significant decimals, then zeros). */
function units(x: number, decimals: number): FixedPoint {
  const micro = BigInt(Math.round(x * 1e6));
  return {
    raw: decimals >= 6 ? micro * 10n ** BigInt(decimals - 6) : micro / 10n ** BigInt(6 - decimals),
    decimals,
  };
}

function syntheticMarket(rng: Prng): MarketData {
  const names = Object.keys(SPOTS).sort();
  const closes: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, [1]]));
  const betas: Record<string, number> = { BTC: 0.8, DAI: 0.05, ETH: 0.85, OP: 0.7, USDC: 0.05 };
  for (let t = 0; t < 500; t++) {
    const common = rng.normal();
    for (const n of names) {
      const b = betas[n]!;
      const r = VOLS[n]! * Math.sqrt(1 / 8_760) * (b * common + Math.sqrt(1 - b * b) * rng.normal());
      closes[n]!.push(closes[n]![closes[n]!.length - 1]! * Math.exp(r));
    }
  }
  for (const n of names) {
    const scale = SPOTS[n]! / closes[n]![closes[n]!.length - 1]!;
    closes[n] = closes[n]!.map((c) => c * scale);
  }
  const slice = (u: string, expirySec: number): ExpirySlice => {
    const tau = (expirySec - AS_OF_SEC) / (365 * DAY);
    return {
      expirySec,
      forwardUsd: SPOTS[u]! * Math.exp(0.03 * tau),
      rateAnnual: 0.03,
      svi: { a: 0.8 * VOLS[u]! ** 2 * tau, b: 0.1 * Math.sqrt(tau), rho: -0.3, m: 0, sigma: 0.2 },
    };
  };
  return {
    prices: Object.fromEntries(
      names.map((n) => [
        n,
        { answer: BigInt(Math.round(SPOTS[n]! * 1e8)), decimals: 8, updatedAtSec: AS_OF_SEC - 30 },
      ]),
    ),
    assets: ASSETS,
    volSurfaces: Object.fromEntries(OPTION_UNDERLYINGS.map((u) => [u, EXPIRIES.map((e) => slice(u, e))])),
    history: { intervalSec: 3_600, closesUsdByUnderlying: closes },
    liquidity: Object.fromEntries(names.map((n) => [n, { openInterestUsd: 5e8, depthUsd: 1e8 }])),
  };
}

function listing(): OptionPosition[] {
  const out: OptionPosition[] = [];
  for (const u of OPTION_UNDERLYINGS) {
    for (const expirySec of EXPIRIES) {
      for (let k = 0; k < STRIKES; k++) {
        const strike = Number((SPOTS[u]! * (0.7 + 0.03 * k)).toPrecision(6));
        for (const optionType of ['call', 'put'] as const) {
          out.push({
            kind: 'option',
            protocol: 'options',
            underlying: u,
            optionType,
            strikeUsd: units(strike, 18),
            expirySec,
            amount: units(1, 18),
          });
        }
      }
    }
  }
  return out;
}

/** ~10 positions: 2-3 Aave lines, 1-3 perps, 4-6 listed options, sometimes wallet spot. */
function syntheticAccount(rng: Prng, i: number, listed: readonly OptionPosition[]): AccountPositions {
  const positions: Position[] = [];
  const collateral: Asset[] = ['aWETH', 'aWBTC', 'aUSDC', 'aDAI'];
  const debt: Asset[] = ['USDC', 'DAI', 'WETH'];
  const scale = Math.exp(rng.uniform(Math.log(2e3), Math.log(5e5)));
  let collateralUsd = 0;
  const nCollateral = 1 + rng.int(2);
  for (let k = 0; k < nCollateral; k++) {
    const asset = collateral[rng.int(collateral.length)]!;
    const usd = scale * rng.uniform(0.3, 1);
    collateralUsd += usd;
    const info = ASSETS[asset];
    positions.push({
      kind: 'lending',
      protocol: 'aave-v3',
      side: 'collateral',
      asset,
      amount: units(usd / SPOTS[info.underlying]!, info.decimals),
    });
  }
  const borrowed = debt[rng.int(debt.length)]!;
  const debtInfo = ASSETS[borrowed];
  positions.push({
    kind: 'lending',
    protocol: 'aave-v3',
    side: 'debt',
    asset: borrowed,
    amount: units((collateralUsd * rng.uniform(0.1, 0.6)) / SPOTS[debtInfo.underlying]!, debtInfo.decimals),
  });
  if (rng.nextFloat() < 0.3) {
    positions.push({
      kind: 'spot',
      protocol: 'wallet',
      asset: 'OP',
      amount: units((scale * 0.1) / SPOTS.OP!, 18),
    });
  }
  const nPerps = 1 + rng.int(3);
  for (let k = 0; k < nPerps; k++) {
    const u = OPTION_UNDERLYINGS[rng.int(3)]!;
    const last = SPOTS[u]! * rng.uniform(0.995, 1.005);
    positions.push({
      kind: 'perp',
      protocol: 'perps',
      underlying: u,
      size: units((scale * rng.uniform(-1, 1)) / SPOTS[u]!, 18),
      entryPriceUsd: units(SPOTS[u]! * rng.uniform(0.9, 1.1), 18),
      lastPriceUsd: units(last, 18),
      accruedFundingUsd: units(rng.uniform(-20, 20), 18),
      venueMarginUsd: units(scale * rng.uniform(0.05, 0.3), 18),
    });
  }
  const nOptions = 4 + rng.int(3);
  for (let k = 0; k < nOptions; k++) {
    const o = listed[rng.int(listed.length)]!;
    const contracts = (scale * rng.uniform(-0.5, 0.5)) / SPOTS[o.underlying]!;
    positions.push({ ...o, amount: units(contracts, 18) });
  }
  return { account: `0x${i.toString(16).padStart(40, '0')}`, positions };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** Largest relative difference between two results, over every number (same shape required). */
function maxRelDiff(a: unknown, b: unknown, path = '$'): number {
  if (typeof a === 'number' && typeof b === 'number') {
    if (a === b) return 0;
    return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-300);
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') {
    if (a !== b) throw new Error(`results differ at ${path}: ${String(a)} vs ${String(b)}`);
    return 0;
  }
  let m = 0;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    m = Math.max(
      m,
      maxRelDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`),
    );
  }
  return m;
}

/**
 * A full garbage collection before a latency measurement, so that a major GC started by the
 * preceding phase (market rows, book generation) does not run during it.
 */
function settleHeap(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  if (typeof gc === 'function') gc();
}

/** p50 / p99 of `computeAccountRiskIn` over `samples` accounts drawn from `pool` (after 5,000 warm-up calls). */
function singleLatency(ctx: MarketContext, pool: readonly AccountPositions[], samples: number, seed: number) {
  settleHeap();
  const pick = new Prng(seed);
  for (let i = 0; i < 5_000; i++) computeAccountRiskIn(ctx, pool[pick.int(pool.length)]!);
  const ms = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const account = pool[pick.int(pool.length)]!;
    const ts = process.hrtime.bigint();
    computeAccountRiskIn(ctx, account);
    ms[i] = Number(process.hrtime.bigint() - ts) / 1e6;
  }
  ms.sort();
  return { p50: percentile(ms, 0.5), p99: percentile(ms, 0.99) };
}

function main(): void {
  const rng = new Prng(2026);
  let t0 = process.hrtime.bigint();
  const market = syntheticMarket(rng);
  const listed = listing();
  // The first accounts of the book (same generator stream), for the single-account figures.
  const first = Array.from({ length: Math.min(ACCOUNTS, SINGLE + 1_000) }, (_, i) =>
    syntheticAccount(rng, i, listed),
  );

  const snapshot = { asOfSec: AS_OF_SEC, market };
  const prepares: number[] = [];
  let ctx = prepareMarket(snapshot, BENCH_PARAMS, listed);
  for (let r = 0; r < RUNS; r++) {
    t0 = process.hrtime.bigint();
    ctx = prepareMarket(snapshot, BENCH_PARAMS, listed);
    prepares.push(seconds(t0));
  }
  prepares.sort((x, y) => x - y);
  const marketPrepareSeconds = prepares[Math.floor(prepares.length / 2)]!;
  log(`market context: ${ctx.options.length} options valued, ${marketPrepareSeconds.toFixed(3)} s`);
  t0 = process.hrtime.bigint();
  completeMarket(ctx);
  const marketCompleteSeconds = seconds(t0);

  // Single-account latency against the completed context, the process holding the context and
  // the sampled inputs.
  const single = singleLatency(ctx, first, SINGLE, 7);
  log(`single account p50 ${single.p50.toFixed(4)} ms, p99 ${single.p99.toFixed(4)} ms`);

  t0 = process.hrtime.bigint();
  const accounts = first.concat(
    Array.from({ length: ACCOUNTS - first.length }, (_, i) =>
      syntheticAccount(rng, first.length + i, listed),
    ),
  );
  const positions = accounts.reduce((n, a) => n + a.positions.length, 0);
  log(`generated ${ACCOUNTS} accounts, ${positions} positions in ${seconds(t0).toFixed(2)} s`);

  t0 = process.hrtime.bigint();
  const book = prepareBook(ctx, accounts);
  const bookPrepareSeconds = seconds(t0);
  log(`book prepared (validation, bigint -> float64) in ${bookPrepareSeconds.toFixed(2)} s`);

  const out = allocateBookRiskResult(book.count);
  computeBookRisk(ctx, book, out); // warm-up
  const runs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    t0 = process.hrtime.bigint();
    computeBookRisk(ctx, book, out);
    runs.push(seconds(t0));
    log(`full book run ${r + 1}: ${runs[r]!.toFixed(3)} s`);
  }
  const sortedRuns = [...runs].sort((x, y) => x - y);
  const fullBookSeconds = sortedRuns[Math.floor(sortedRuns.length / 2)]!;
  let floorsComputed = 0;
  let underMm = 0;
  for (let a = 0; a < book.count; a++) {
    floorsComputed += out.floorsComputed[a]!;
    if (out.shortfallUsd[a]! > 0) underMm++;
  }

  // The same with every input of the book alive in the heap (~1 GB of small objects), which
  // lengthens young-generation GC pauses.
  const singleWithBook = singleLatency(ctx, accounts, SINGLE, 8);
  log(
    `single account, book in heap: p50 ${singleWithBook.p50.toFixed(4)} ms, p99 ${singleWithBook.p99.toFixed(4)} ms`,
  );

  // Reference on a deterministic sample, in the same process.
  const step = ACCOUNTS / SAMPLE;
  const sample = Array.from({ length: SAMPLE }, (_, s) => Math.floor(s * step));
  const inputOf = (a: number) => ({ ...accounts[a]!, asOfSec: AS_OF_SEC, market });
  for (const a of sample.slice(0, Math.min(10, SAMPLE)))
    computeAccountRiskReference(inputOf(a), BENCH_PARAMS);
  const refs: AccountRiskResult[] = [];
  t0 = process.hrtime.bigint();
  for (const a of sample) refs.push(computeAccountRiskReference(inputOf(a), BENCH_PARAMS));
  const referenceSampleSeconds = seconds(t0);
  const referenceFullBookSeconds = referenceSampleSeconds * (ACCOUNTS / SAMPLE);
  let maxRel = 0;
  sample.forEach((a, s) => {
    const ref = refs[s]!;
    maxRel = Math.max(maxRel, maxRelDiff(materializeAccountRisk(ctx, book, a), ref));
    maxRel = Math.max(
      maxRel,
      maxRelDiff(
        [
          out.mmUsd[a],
          out.imUsd[a],
          out.mtmUsd[a],
          out.adjustedEquityUsd[a],
          out.freeCollateralUsd[a],
          out.shortfallUsd[a],
          out.worstPnlUsd[a],
        ],
        [
          ref.mmUsd,
          ref.imUsd,
          ref.mtmUsd,
          ref.adjustedEquityUsd,
          ref.freeCollateralUsd,
          ref.shortfallUsd,
          ref.worstScenario?.pnlUsd ?? 0,
        ],
      ),
    );
  });
  log(`reference: ${SAMPLE} accounts in ${referenceSampleSeconds.toFixed(2)} s`);

  const result = {
    fullBookSeconds: Number(fullBookSeconds.toFixed(4)),
    accountsPerSecond: Math.round(ACCOUNTS / fullBookSeconds),
    singleP50Ms: Number(single.p50.toFixed(4)),
    singleP99Ms: Number(single.p99.toFixed(4)),
    singleWithBookInHeapP50Ms: Number(singleWithBook.p50.toFixed(4)),
    singleWithBookInHeapP99Ms: Number(singleWithBook.p99.toFixed(4)),
    loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    referenceFullBookSeconds: Number(referenceFullBookSeconds.toFixed(1)),
    speedup: Math.round(referenceFullBookSeconds / fullBookSeconds),
    marketPrepareSeconds: Number(marketPrepareSeconds.toFixed(4)),
    blockSeconds: Number((marketPrepareSeconds + fullBookSeconds).toFixed(4)),
    marketCompleteSeconds: Number(marketCompleteSeconds.toFixed(4)),
    bookPrepareSeconds: Number(bookPrepareSeconds.toFixed(2)),
    fullBookIncludes:
      'typed arrays per account: MM, IM, MTM, haircut, adjusted equity, free collateral, shortfall, scenario margin, core margin, worst scenario; full result objects on demand',
    floorsComputedFraction: Number((floorsComputed / ACCOUNTS).toFixed(4)),
    referenceScaledFromAccounts: SAMPLE,
    referenceSampleSeconds: Number(referenceSampleSeconds.toFixed(2)),
    referenceSingleMeanMs: Number(((referenceSampleSeconds / SAMPLE) * 1e3).toFixed(2)),
    maxRelDiffVsReference: maxRel,
    accounts: ACCOUNTS,
    positions,
    underlyings: ctx.underlyings.length,
    scenariosPerUnderlying: ctx.underlyings[0]!.scenarioSpotShock.length,
    listedOptions: ctx.options.length,
    monteCarloPaths: ctx.mcPaths,
    historicalScenarios: ctx.histScenarios,
    fullBookRunsSeconds: runs.map((r) => Number(r.toFixed(4))),
    accountsBelowMm: underMm,
    node: process.version,
  };
  console.log(JSON.stringify(result));
}

main();
