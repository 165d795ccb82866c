/**
 * Deterministic synthetic markets and books for the batch evaluator's spec and benchmark.
 * A seeded PRNG (mulberry32) makes every run produce the same book; nothing here is used to
 * compute real margins.
 */
import { DERIVE_DEFAULT_PARAMS } from './params';
import type { Pmrm2Book, Pmrm2CollateralAsset, Pmrm2Instrument, Pmrm2Market } from './batch';
import { mulberry32 } from '../stats/prng';
import type { Pmrm2ExpiryFeed, Pmrm2Params, Pmrm2Scenario } from './types';

export { mulberry32 };

/** Derive's default grid plus spot +-18% with vol none / down: 35 scenarios. */
export const SYNTHETIC_PARAMS: Pmrm2Params = {
  ...DERIVE_DEFAULT_PARAMS,
  scenarios: [
    ...DERIVE_DEFAULT_PARAMS.scenarios,
    ...(
      [
        [1.18, 'none'],
        [1.18, 'down'],
        [0.82, 'none'],
        [0.82, 'down'],
      ] as const
    ).map(([spotShock, volShock]): Pmrm2Scenario => ({ spotShock, volShock, dampeningFactor: 1 })),
  ],
};

export interface SyntheticMarketOptions {
  spotUsd: number;
  atmVol: number;
  expiryDays?: readonly number[];
  strikesPerExpiry?: number;
  params?: Pmrm2Params;
  rand?: () => number;
}

/** One underlying: expiries x strikes (calls and puts), SVI smiles, collateral assets. */
export function syntheticMarket(o: SyntheticMarketOptions): Pmrm2Market {
  const rand = o.rand ?? mulberry32(1);
  const expiryDays = o.expiryDays ?? [7, 30, 90, 180];
  const nStrikes = o.strikesPerExpiry ?? 20;
  const spot = o.spotUsd;
  const expiryFeeds: Pmrm2ExpiryFeed[] = expiryDays.map((days) => {
    const tau = days / 365;
    // The smile is fitted on at least one day so expired / expiring feeds stay valid.
    const tauFit = Math.max(tau, 1 / 365);
    const rate = 0.03 + 0.1 * rand();
    const forwardUsd = spot * Math.exp(rate * tau);
    const vol = o.atmVol * (0.85 + 0.3 * rand());
    const b = 0.2 * Math.sqrt(tauFit);
    const sigma = 0.1;
    const rho = -0.2 - 0.4 * rand();
    const a = vol * vol * tauFit - b * sigma;
    return {
      timeToExpirySec: days * 86_400,
      forwardUsd,
      forwardConfidence: 1,
      rateAnnual: rate,
      rateConfidence: 1,
      svi: { a, b, rho, m: 0, sigma, forwardUsd, tauYears: tauFit },
      volConfidence: 0.95,
    };
  });
  const instruments: Pmrm2Instrument[] = [];
  expiryFeeds.forEach((f, e) => {
    for (let k = 0; k < nStrikes; k++) {
      const strikeUsd = Math.round(f.forwardUsd * (0.6 + (k * 1.0) / (nStrikes - 1)));
      instruments.push(
        { expiryIndex: e, strikeUsd, isCall: true },
        { expiryIndex: e, strikeUsd, isCall: false },
      );
    }
  });
  const collateralAssets: Pmrm2CollateralAsset[] = [
    {
      name: 'underlying',
      priceUsd: spot,
      confidence: 1,
      isRiskCancelling: true,
      mmHaircut: 0.02,
      imHaircut: 0.01,
    },
    {
      name: 'staked',
      priceUsd: spot * 1.03,
      confidence: 0.98,
      isRiskCancelling: false,
      mmHaircut: 0.15,
      imHaircut: 0.05,
    },
    {
      name: 'yield-stable',
      priceUsd: 1.08,
      confidence: 1,
      isRiskCancelling: false,
      mmHaircut: 0.1,
      imHaircut: 0.03,
    },
  ];
  return {
    params: o.params ?? SYNTHETIC_PARAMS,
    spotUsd: spot,
    spotConfidence: 1,
    perpPriceUsd: spot * (1 + 0.002 * (rand() - 0.5)),
    perpConfidence: 1,
    stablePriceUsd: 1.0002,
    stableConfidence: 1,
    expiryFeeds,
    instruments,
    collateralAssets,
  };
}

export const SYNTHETIC_UNDERLYINGS: readonly { spotUsd: number; atmVol: number }[] = [
  { spotUsd: 95_000, atmVol: 0.55 },
  { spotUsd: 2_700, atmVol: 0.7 },
  { spotUsd: 180, atmVol: 0.9 },
  { spotUsd: 600, atmVol: 0.65 },
  { spotUsd: 0.35, atmVol: 1.1 },
];

export interface SyntheticBook {
  book: Pmrm2Book;
  /** Sub-portfolios of account a are [accountStart[a], accountStart[a + 1]). */
  accountStart: Int32Array;
  accounts: number;
  positions: number;
}

/**
 * A book of `accounts` accounts, ~`positionsPerAccount` positions each across lending (collateral
 * supply, stable borrow as negative cash), perps and options, spread over 1-3 of the markets.
 */
export function syntheticBook(
  markets: readonly Pmrm2Market[],
  accounts: number,
  positionsPerAccount: number,
  seed: number,
): SyntheticBook {
  const rand = mulberry32(seed);
  const pick = (n: number): number => Math.floor(rand() * n);
  const market: number[] = [];
  const cash: number[] = [];
  const perp: number[] = [];
  const perpValue: number[] = [];
  const optionStart: number[] = [0];
  const optionInstrument: number[] = [];
  const optionAmount: number[] = [];
  const collateralStart: number[] = [0];
  const collateralAsset: number[] = [];
  const collateralAmount: number[] = [];
  const accountStart = new Int32Array(accounts + 1);
  let positions = 0;
  for (let a = 0; a < accounts; a++) {
    accountStart[a] = market.length;
    const nUnderlyings = 1 + pick(3);
    const first = pick(markets.length);
    const nPositions = Math.max(2, positionsPerAccount - 3 + pick(7));
    for (let u = 0; u < nUnderlyings; u++) {
      const m = (first + u) % markets.length;
      const mk = markets[m]!;
      const spot = mk.spotUsd;
      const notionalUnits = (20_000 + 200_000 * rand()) / spot;
      const share = Math.floor(nPositions / nUnderlyings) + (u === 0 ? nPositions % nUnderlyings : 0);
      let p = 0;
      let perpAmt = 0;
      let perpVal = 0;
      // lending: supply some collateral of this market
      if (p < share && rand() < 0.8) {
        collateralAsset.push(pick(mk.collateralAssets.length));
        collateralAmount.push(
          ((0.2 + rand()) * notionalUnits * spot) /
            mk.collateralAssets[collateralAsset[collateralAsset.length - 1]!]!.priceUsd,
        );
        p++;
      }
      if (p < share && rand() < 0.6) {
        perpAmt = (rand() - 0.5) * 2 * notionalUnits;
        perpVal = (rand() - 0.5) * 0.02 * Math.abs(perpAmt) * spot;
        p++;
      }
      for (; p < share; p++) {
        optionInstrument.push(pick(mk.instruments.length));
        optionAmount.push(Math.round((rand() - 0.55) * 4 * notionalUnits * 100) / 100 || 0.01);
      }
      market.push(m);
      // stable: supplied or borrowed cash, on the account's first sub-portfolio only
      cash.push(u === 0 ? (rand() - 0.3) * 100_000 : 0);
      perp.push(perpAmt);
      perpValue.push(perpVal);
      optionStart.push(optionInstrument.length);
      collateralStart.push(collateralAsset.length);
      positions += share;
    }
  }
  accountStart[accounts] = market.length;
  return {
    book: {
      count: market.length,
      market: Int32Array.from(market),
      cashUsd: Float64Array.from(cash),
      perpAmount: Float64Array.from(perp),
      perpValueUsd: Float64Array.from(perpValue),
      optionStart: Int32Array.from(optionStart),
      optionInstrument: Int32Array.from(optionInstrument),
      optionAmount: Float64Array.from(optionAmount),
      collateralStart: Int32Array.from(collateralStart),
      collateralAsset: Int32Array.from(collateralAsset),
      collateralAmount: Float64Array.from(collateralAmount),
    },
    accountStart,
    accounts,
    positions,
  };
}
