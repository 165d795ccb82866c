/**
 * Benchmark of one account through the account-level engine: one mixed account (Aave collateral
 * and debt, perps on two underlyings, 20 options on ETH and BTC), default parameters (4,000 Monte
 * Carlo paths), three ways: the straightforward reference (`computeAccountRiskReference`), the
 * one-shot fast path (`computeAccountRisk`: prepare the market, then the account step) and the
 * account step alone against an already prepared market (`computeAccountRiskIn`). Prints one JSON
 * line. Run: `npx tsx src/risk/stats/account-risk.bench.ts`. The whole-book benchmark is
 * `npm run bench:risk`.
 */
import { completeMarket, computeAccountRisk, computeAccountRiskIn, prepareMarket } from '../engine';
import { computeAccountRiskReference } from '../reference';
import type { AccountRiskInput, Position } from '../types';
import { Prng } from './prng';

const AS_OF_SEC = 1_767_225_600;
const E1 = AS_OF_SEC + 7 * 86_400;
const E2 = AS_OF_SEC + 30 * 86_400;
const SPOTS: Record<string, number> = { BTC: 60_000, ETH: 3_000, OP: 2, USDC: 1 };
const VOLS: Record<string, number> = { BTC: 0.55, ETH: 0.7, OP: 1.1, USDC: 0.02 };

const units = (x: number, decimals = 18) => ({
  raw: BigInt(Math.round(x * 1e6)) * 10n ** BigInt(decimals - 6),
  decimals,
});

function benchInput(): AccountRiskInput {
  const rng = new Prng(42);
  const names = Object.keys(SPOTS).sort();
  const closes: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, [SPOTS[n]!]]));
  for (let t = 0; t < 500; t++) {
    const common = rng.normal();
    for (const n of names) {
      const r = VOLS[n]! * Math.sqrt(1 / 8_760) * (0.7 * common + 0.71 * rng.normal());
      closes[n]!.push(closes[n]![closes[n]!.length - 1]! * Math.exp(r));
    }
  }
  const positions: Position[] = [
    { kind: 'lending', protocol: 'aave-v3', side: 'collateral', asset: 'aWETH', amount: units(10) },
    { kind: 'lending', protocol: 'aave-v3', side: 'debt', asset: 'USDC', amount: units(12_000, 6) },
    { kind: 'spot', protocol: 'wallet', asset: 'OP', amount: units(5_000) },
  ];
  for (const [u, size] of [
    ['BTC', -0.5],
    ['ETH', 3],
  ] as const) {
    const p = units(closes[u]![closes[u]!.length - 1]!);
    positions.push({
      kind: 'perp',
      protocol: 'perps',
      underlying: u,
      size: units(size),
      entryPriceUsd: p,
      lastPriceUsd: p,
      accruedFundingUsd: units(0),
      venueMarginUsd: units(5_000),
    });
  }
  for (let k = 0; k < 20; k++) {
    const u = k < 10 ? 'ETH' : 'BTC';
    positions.push({
      kind: 'option',
      protocol: 'options',
      underlying: u,
      optionType: k % 2 ? 'call' : 'put',
      strikeUsd: units(SPOTS[u]! * (0.85 + 0.03 * (k % 10))),
      expirySec: k % 3 ? E1 : E2,
      amount: units(((k % 7) - 3 || 1) * (u === 'ETH' ? 1 : 0.05)),
    });
  }
  const slice = (u: string, expirySec: number) => {
    const tau = (expirySec - AS_OF_SEC) / (365 * 86_400);
    const f = closes[u]![closes[u]!.length - 1]!;
    return {
      expirySec,
      forwardUsd: f,
      rateAnnual: 0.03,
      svi: { a: 0.8 * VOLS[u]! ** 2 * tau, b: 0.1 * Math.sqrt(tau), rho: -0.3, m: 0, sigma: 0.2 },
    };
  };
  return {
    account: '0xbench',
    asOfSec: AS_OF_SEC,
    positions,
    market: {
      prices: Object.fromEntries(
        names.map((n) => [
          n,
          {
            answer: BigInt(Math.round(closes[n]![closes[n]!.length - 1]! * 1e8)),
            decimals: 8,
            updatedAtSec: AS_OF_SEC - 30,
          },
        ]),
      ),
      assets: {
        aWETH: { underlying: 'ETH', decimals: 18, isAToken: true },
        USDC: { underlying: 'USDC', decimals: 6, isAToken: false },
        OP: { underlying: 'OP', decimals: 18, isAToken: false },
      },
      volSurfaces: { ETH: [slice('ETH', E1), slice('ETH', E2)], BTC: [slice('BTC', E1), slice('BTC', E2)] },
      history: { intervalSec: 3_600, closesUsdByUnderlying: closes },
      liquidity: Object.fromEntries(names.map((n) => [n, { openInterestUsd: 1e9, depthUsd: 1e8 }])),
    },
  };
}

const input = benchInput();
function timeMs(f: () => unknown, runs: number): { p50Ms: number; p90Ms: number } {
  for (let i = 0; i < 5; i++) f();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    f();
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  ms.sort((a, b) => a - b);
  const at = (p: number) => Number(ms[Math.floor(p * runs)]!.toFixed(3));
  return { p50Ms: at(0.5), p90Ms: at(0.9) };
}
const ctx = prepareMarket(input);
completeMarket(ctx);
const reference = timeMs(() => computeAccountRiskReference(input), 50);
const oneShot = timeMs(() => computeAccountRisk(input), 50);
const prepared = timeMs(() => computeAccountRiskIn(ctx, input), 1_000);
const r = computeAccountRisk(input);
console.log(
  JSON.stringify({
    positions: input.positions.length,
    underlyings: r.byUnderlying.length,
    historyReturns: 500,
    monteCarloPaths: 4_000,
    reference,
    oneShot,
    prepared,
    identicalToReference: JSON.stringify(r) === JSON.stringify(computeAccountRiskReference(input)),
    mmUsd: Number(r.mmUsd.toFixed(2)),
    offsetUsd: Number(r.components.offsetUsd.toFixed(2)),
  }),
);
