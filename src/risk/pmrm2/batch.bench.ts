/**
 * Benchmark of the per-underlying (PMRM_2) batch evaluator over a synthetic book. The account-level
 * engine has its own benchmark, `npm run bench:risk` (bench/risk.bench.ts).
 *
 *   npx tsx src/risk/pmrm2/batch.bench.ts [--accounts 100000 --sample 20000 --runs 3]
 *
 * Book: `accounts` accounts (default 100,000), ~10 positions each across lending (collateral
 * supply, stable borrow), perps and options, over 5 underlyings with 35 scenarios and
 * 4 expiries x 20 strikes (calls and puts) each. Deterministic (seeded mulberry32).
 *
 * - fullBookSeconds: median over `runs` (after one warm-up) of preparing the 5 market tables,
 *   evaluating every sub-portfolio with `evaluatePmrm2Book` and summing per account.
 * - singleP50Ms / singleP99Ms: one account (all its sub-portfolios) evaluated against already
 *   prepared market tables, as after a trade; 10,000 sampled accounts.
 *   referenceSingleP50Ms / referenceSingleP99Ms: the same account through `computePmrm2`, from scratch.
 * - referenceFullBookSeconds: `computePmrm2` account by account (every option revalued under every
 *   scenario) on a deterministic sample of `sample` accounts, scaled to the book by sub-portfolio
 *   count (`referenceScaledFromAccounts` says how many were really run).
 *
 * Prints one JSON line.
 */
import {
  allocatePmrm2BookResult,
  createPmrm2Scratch,
  evaluatePmrm2Book,
  preparePmrm2Market,
  validatePmrm2Book,
  bookEntryToPortfolio,
  type PreparedPmrm2Market,
} from './batch';
import { computePmrm2 } from './model';
import { mulberry32, SYNTHETIC_UNDERLYINGS, syntheticBook, syntheticMarket } from './synthetic';
import type { Pmrm2Portfolio } from './types';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v <= 0) {
    throw new Error(`--${name} must be a positive integer, got ${process.argv[i + 1]}`);
  }
  return v;
}

const ACCOUNTS = arg('accounts', 100_000);
const SAMPLE = Math.min(arg('sample', 20_000), ACCOUNTS);
const RUNS = arg('runs', 3);
const SINGLE_SAMPLES = Math.min(10_000, ACCOUNTS);

const seconds = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function main(): void {
  const rand = mulberry32(20_26);
  const markets = SYNTHETIC_UNDERLYINGS.map((u) => syntheticMarket({ ...u, rand }));
  const { book, accountStart, positions } = syntheticBook(markets, ACCOUNTS, 10, 42);
  const accountMm = new Float64Array(ACCOUNTS);
  const accountIm = new Float64Array(ACCOUNTS);
  const out = allocatePmrm2BookResult(book.count);

  let prepared: PreparedPmrm2Market[] = markets.map(preparePmrm2Market);
  validatePmrm2Book(book, prepared);
  const scratch = createPmrm2Scratch(prepared);

  const fullBook = (): number => {
    const t0 = process.hrtime.bigint();
    prepared = markets.map(preparePmrm2Market);
    evaluatePmrm2Book(book, prepared, out, scratch);
    for (let a = 0; a < ACCOUNTS; a++) {
      let mm = 0;
      let im = 0;
      for (let j = accountStart[a]!; j < accountStart[a + 1]!; j++) {
        mm += out.mm[j]!;
        im += out.im[j]!;
      }
      accountMm[a] = mm;
      accountIm[a] = im;
    }
    return seconds(t0);
  };
  fullBook(); // warm-up
  const runs = Array.from({ length: RUNS }, fullBook).sort((x, y) => x - y);
  const fullBookSeconds = runs[Math.floor(runs.length / 2)]!;

  // Single-account latency against prepared tables.
  const pick = mulberry32(7);
  const single = new Float64Array(SINGLE_SAMPLES);
  for (let i = 0; i < 2_000; i++) {
    const a = Math.floor(pick() * ACCOUNTS);
    evaluatePmrm2Book(book, prepared, out, scratch, accountStart[a]!, accountStart[a + 1]!);
  }
  for (let i = 0; i < SINGLE_SAMPLES; i++) {
    const a = Math.floor(pick() * ACCOUNTS);
    const t0 = process.hrtime.bigint();
    evaluatePmrm2Book(book, prepared, out, scratch, accountStart[a]!, accountStart[a + 1]!);
    single[i] = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  single.sort();

  // Reference: computePmrm2 per sub-portfolio on a deterministic sample of accounts.
  const stepAccounts = ACCOUNTS / SAMPLE;
  const refAccounts: { portfolio: Pmrm2Portfolio; j: number }[][] = [];
  let refSubPortfolios = 0;
  for (let s = 0; s < SAMPLE; s++) {
    const a = Math.floor(s * stepAccounts);
    const subs: { portfolio: Pmrm2Portfolio; j: number }[] = [];
    for (let j = accountStart[a]!; j < accountStart[a + 1]!; j++) {
      subs.push({ portfolio: bookEntryToPortfolio(book, prepared, j), j });
    }
    refSubPortfolios += subs.length;
    refAccounts.push(subs);
  }
  evaluatePmrm2Book(book, prepared, out, scratch);
  // Warm the reference path up too, so the sample is not dominated by JIT compilation.
  for (const subs of refAccounts.slice(0, 1_000)) {
    for (const { portfolio, j } of subs) computePmrm2(portfolio, markets[book.market[j]!]!.params);
  }
  let maxRelDiff = 0;
  const refSingle = new Float64Array(SAMPLE);
  const t0 = process.hrtime.bigint();
  refAccounts.forEach((subs, i) => {
    const ta = process.hrtime.bigint();
    for (const { portfolio, j } of subs) {
      const r = computePmrm2(portfolio, markets[book.market[j]!]!.params);
      const d = Math.abs(r.mm - out.mm[j]!) / Math.max(Math.abs(r.mm), 1);
      if (d > maxRelDiff) maxRelDiff = d;
    }
    refSingle[i] = Number(process.hrtime.bigint() - ta) / 1e6;
  });
  const refSampleSeconds = seconds(t0);
  refSingle.sort();
  const referenceFullBookSeconds = refSampleSeconds * (book.count / refSubPortfolios);

  let healthy = 0;
  for (let a = 0; a < ACCOUNTS; a++) if (accountMm[a]! >= 0) healthy++;

  const result = {
    fullBookSeconds: Number(fullBookSeconds.toFixed(4)),
    accountsPerSecond: Math.round(ACCOUNTS / fullBookSeconds),
    singleP50Ms: Number(percentile(single, 0.5).toFixed(5)),
    singleP99Ms: Number(percentile(single, 0.99).toFixed(5)),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    referenceFullBookSeconds: Number(referenceFullBookSeconds.toFixed(3)),
    speedup: Number((referenceFullBookSeconds / fullBookSeconds).toFixed(1)),
    referenceScaledFromAccounts: SAMPLE,
    referenceSingleP50Ms: Number(percentile(refSingle, 0.5).toFixed(4)),
    referenceSingleP99Ms: Number(percentile(refSingle, 0.99).toFixed(4)),
    referenceSampleSeconds: Number(refSampleSeconds.toFixed(3)),
    maxRelDiffVsReference: maxRelDiff,
    accounts: ACCOUNTS,
    subPortfolios: book.count,
    positions,
    underlyings: markets.length,
    scenariosPerUnderlying: markets[0]!.params.scenarios.length,
    instrumentsPerUnderlying: markets[0]!.instruments.length,
    fullBookRunsSeconds: runs.map((r) => Number(r.toFixed(4))),
    accountsWithMmAtLeastZero: healthy,
    node: process.version,
  };
  console.log(JSON.stringify(result));
}

main();
