/**
 * Batch evaluation of the PMRM_2 model over a whole book of sub-portfolios.
 *
 * `computePmrm2` revalues every option of an account under every scenario. Across a book, the same
 * listed instrument is held by thousands of accounts, so here each distinct instrument is valued
 * once per scenario (`preparePmrm2Market`: an instrument x column table in a Float64Array, per
 * underlying), and an account's margin is a weighted sum of table rows plus the model's few
 * non-linear steps (static discount by the sign of each expiry's value, -|P&L| for skews, worst
 * scenario, contingencies). `evaluatePmrm2Book` runs over struct-of-arrays typed input and writes
 * into preallocated outputs; its inner loops allocate nothing.
 *
 * Results agree with `computePmrm2` on the same sub-portfolio to ~1e-12 relative (summation order
 * differs); `batch.spec.ts` checks 1e-9 on random books.
 */
import { InvalidInputError } from '../../common/errors';
import { black76PricesUnchecked, SECONDS_PER_YEAR } from '../math/black76';
import { sviVolUnchecked } from '../math/svi';
import { requireFinite } from '../math/validate';
import {
  forwardSplit,
  lossFactors,
  skewCapAndKStar,
  skewMultiplier,
  skewVariant,
  staticDiscounts,
  validateParams,
  validatePortfolio,
  volShockMultipliers,
} from './model';
import type { Pmrm2Collateral, Pmrm2ExpiryFeed, Pmrm2Params, Pmrm2Portfolio } from './types';

/** A listed option of a market: an index into `expiryFeeds`, a strike and a type. */
export interface Pmrm2Instrument {
  expiryIndex: number;
  strikeUsd: number;
  isCall: boolean;
}

/** A collateral asset accepted in a market (amount-free). */
export type Pmrm2CollateralAsset = Omit<Pmrm2Collateral, 'amount'>;

/** Everything shared by all accounts holding one underlying: prices, feeds, listed instruments. */
export interface Pmrm2Market {
  params: Pmrm2Params;
  spotUsd: number;
  spotConfidence: number;
  perpPriceUsd: number;
  perpConfidence: number;
  stablePriceUsd: number;
  stableConfidence: number;
  expiryFeeds: readonly Pmrm2ExpiryFeed[];
  instruments: readonly Pmrm2Instrument[];
  collateralAssets: readonly Pmrm2CollateralAsset[];
}

/**
 * A book of sub-portfolios (one per account and underlying) as struct-of-arrays. Positions of
 * sub-portfolio j are `optionInstrument/optionAmount[optionStart[j] .. optionStart[j+1])` and
 * likewise for collaterals.
 */
export interface Pmrm2Book {
  count: number;
  /** Market (underlying) index of each sub-portfolio. */
  market: Int32Array;
  cashUsd: Float64Array;
  perpAmount: Float64Array;
  /** Unrealised perp P&L plus unsettled funding, USD. */
  perpValueUsd: Float64Array;
  optionStart: Int32Array;
  optionInstrument: Int32Array;
  optionAmount: Float64Array;
  collateralStart: Int32Array;
  collateralAsset: Int32Array;
  collateralAmount: Float64Array;
}

export interface Pmrm2BookResult {
  mm: Float64Array;
  im: Float64Array;
  /** Mark-to-market including cash. */
  mtm: Float64Array;
  /** min(basis contingency, scenario P&Ls), before loss factors. */
  worstLoss: Float64Array;
  /** Worst scenario index, `scenarios.length` when the basis contingency is worst. */
  worstScenario: Int32Array;
}

/** A market with its instrument x scenario value table and per-expiry constants precomputed. */
export interface PreparedPmrm2Market {
  market: Pmrm2Market;
  scenarioCount: number;
  /** Columns per row: the scenarios, then MtM, basis-up and basis-down values. */
  stride: number;
  /** Unit (one contract) undiscounted value of instrument i in column c at [i * stride + c]. */
  table: Float64Array;
  instrumentExpiry: Int32Array;
  /** Index of (expiry, strike) pair, for naked-short netting (calls and puts net together). */
  instrumentStrikeKey: Int32Array;
  strikeKeyCount: number;
  damp: Float64Array;
  isSkew: Uint8Array;
  /** Per-scenario P&L of one perp contract and of one USD of risk-cancelling collateral. */
  perpUnitPnl: Float64Array;
  riskCancellingUnitPnl: Float64Array;
  staticDiscountPos: Float64Array;
  staticDiscountNeg: Float64Array;
  basisFactor: Float64Array;
  /** min(forward, rate, vol confidence) per expiry. */
  feedMinConfidence: Float64Array;
  collateralPrice: Float64Array;
  collateralMmHaircut: Float64Array;
  collateralImHaircut: Float64Array;
  collateralRiskCancelling: Uint8Array;
  collateralMinConfidence: Float64Array;
  mmFactor: number;
  imFactor: number;
}

/** Value of one contract of an instrument under spot multiplier / vol transform (undiscounted). */
function unitValue(
  timeYears: number,
  forward: number,
  vol: number,
  strike: number,
  discount: number,
  isCall: boolean,
): number {
  const p = black76PricesUnchecked(timeYears, vol, forward, strike, discount);
  return isCall ? p.call : p.put;
}

/** Validates a market and builds its instrument x scenario table. Run once per price update. */
export function preparePmrm2Market(market: Pmrm2Market): PreparedPmrm2Market {
  const params = market.params;
  validateParams(params);
  // Reuse the portfolio validator for prices, confidences and feeds.
  validatePortfolio({
    cashUsd: 0,
    collaterals: market.collateralAssets.map((c) => ({ ...c, amount: 0 })),
    spotUsd: market.spotUsd,
    spotConfidence: market.spotConfidence,
    perpAmount: 1,
    perpPriceUsd: market.perpPriceUsd,
    perpConfidence: market.perpConfidence,
    unrealisedPerpPnlUsd: 0,
    unrealisedFundingUsd: 0,
    stablePriceUsd: market.stablePriceUsd,
    stableConfidence: market.stableConfidence,
    options: [],
    expiryFeeds: market.expiryFeeds,
  });
  const scenarios = params.scenarios;
  const nS = scenarios.length;
  const stride = nS + 3;
  const nE = market.expiryFeeds.length;
  const nI = market.instruments.length;

  const timeYears = new Float64Array(nE);
  const discount = new Float64Array(nE);
  const fwdVar = new Float64Array(nE);
  const fwdFixed = new Float64Array(nE);
  const up = new Float64Array(nE);
  const down = new Float64Array(nE);
  const staticDiscountPos = new Float64Array(nE);
  const staticDiscountNeg = new Float64Array(nE);
  const basisFactor = new Float64Array(nE);
  const feedMinConfidence = new Float64Array(nE);
  market.expiryFeeds.forEach((f, e) => {
    const tSec = Math.max(0, f.timeToExpirySec);
    const t = tSec / SECONDS_PER_YEAR;
    const rate = Math.max(f.rateAnnual, 0);
    timeYears[e] = t;
    discount[e] = Math.exp(-rate * t);
    const split = forwardSplit(f.forwardUsd, tSec);
    fwdVar[e] = split.forwardVariableUsd;
    fwdFixed[e] = split.forwardFixedUsd;
    const shocks = volShockMultipliers(tSec, params);
    up[e] = shocks.up;
    down[e] = shocks.down;
    const sd = staticDiscounts(t, rate, discount[e]!, params);
    staticDiscountPos[e] = sd.pos;
    staticDiscountNeg[e] = sd.neg;
    basisFactor[e] = params.basis.addFactor + params.basis.multFactor * t;
    feedMinConfidence[e] = Math.min(f.forwardConfidence, f.rateConfidence, f.volConfidence);
  });

  const table = new Float64Array(nI * stride);
  const instrumentExpiry = new Int32Array(nI);
  const instrumentStrikeKey = new Int32Array(nI);
  const strikeKeys = new Map<string, number>();
  const minVolUp = params.volShock.minVolUpShock;
  market.instruments.forEach((ins, i) => {
    const e = ins.expiryIndex;
    const feed = market.expiryFeeds[e];
    if (!feed || !Number.isInteger(e)) {
      throw new InvalidInputError(`instruments[${i}].expiryIndex`, `no expiry feed at index ${e}`, {
        hint: `Use an index in [0, ${nE}).`,
      });
    }
    requireFinite(`instruments[${i}].strikeUsd`, ins.strikeUsd);
    if (ins.strikeUsd < 0) throw new InvalidInputError(`instruments[${i}].strikeUsd`, 'must be >= 0');
    instrumentExpiry[i] = e;
    const key = `${e}:${ins.strikeUsd}`;
    let sk = strikeKeys.get(key);
    if (sk === undefined) {
      sk = strikeKeys.size;
      strikeKeys.set(key, sk);
    }
    instrumentStrikeKey[i] = sk;
    const vol = sviVolUnchecked(ins.strikeUsd, feed.svi);
    const t = timeYears[e]!;
    const d = discount[e]!;
    const fv = fwdVar[e]!;
    const ff = fwdFixed[e]!;
    const row = i * stride;
    for (let s = 0; s < nS; s++) {
      const sc = scenarios[s]!;
      let v: number;
      if (sc.volShock === 'linear' || sc.volShock === 'abs') {
        const variant = skewVariant(sc.volShock, sc.spotShock);
        const forward = fv + ff;
        const { multCap, kStar } = skewCapAndKStar(t, variant.capFromLinear, params);
        const k = Math.log(ins.strikeUsd / forward);
        const mult = skewMultiplier(variant.signedK ? k : Math.abs(k), multCap, kStar);
        v = unitValue(t, forward, vol * Math.max(mult, 0), ins.strikeUsd, d, ins.isCall);
      } else {
        const forward = fv * sc.spotShock + ff;
        const shockedVol =
          sc.volShock === 'up'
            ? Math.max(minVolUp, vol * up[e]!)
            : sc.volShock === 'down'
              ? vol * down[e]!
              : vol;
        v = unitValue(t, forward, shockedVol, ins.strikeUsd, d, ins.isCall);
      }
      table[row + s] = v;
    }
    table[row + nS] = unitValue(t, fv + ff, vol, ins.strikeUsd, d, ins.isCall);
    table[row + nS + 1] = unitValue(
      t,
      fv * params.basis.scenarioSpotUp + ff,
      vol,
      ins.strikeUsd,
      d,
      ins.isCall,
    );
    table[row + nS + 2] = unitValue(
      t,
      fv * params.basis.scenarioSpotDown + ff,
      vol,
      ins.strikeUsd,
      d,
      ins.isCall,
    );
  });

  const damp = new Float64Array(nS);
  const isSkew = new Uint8Array(nS);
  const perpUnitPnl = new Float64Array(nS);
  const riskCancellingUnitPnl = new Float64Array(nS);
  scenarios.forEach((sc, s) => {
    damp[s] = sc.dampeningFactor;
    const skew = sc.volShock === 'linear' || sc.volShock === 'abs';
    isSkew[s] = skew ? 1 : 0;
    perpUnitPnl[s] = skew ? 0 : (sc.spotShock - 1) * market.perpPriceUsd * sc.dampeningFactor;
    riskCancellingUnitPnl[s] = skew ? 0 : (sc.spotShock - 1) * sc.dampeningFactor;
  });

  const nC = market.collateralAssets.length;
  const collateralPrice = new Float64Array(nC);
  const collateralMmHaircut = new Float64Array(nC);
  const collateralImHaircut = new Float64Array(nC);
  const collateralRiskCancelling = new Uint8Array(nC);
  const collateralMinConfidence = new Float64Array(nC);
  market.collateralAssets.forEach((c, i) => {
    collateralPrice[i] = c.priceUsd / market.stablePriceUsd;
    collateralMmHaircut[i] = c.mmHaircut;
    collateralImHaircut[i] = c.imHaircut;
    collateralRiskCancelling[i] = c.isRiskCancelling ? 1 : 0;
    collateralMinConfidence[i] = Math.min(c.confidence, market.spotConfidence);
  });
  const factors = lossFactors(market.stablePriceUsd, params);

  return {
    market,
    scenarioCount: nS,
    stride,
    table,
    instrumentExpiry,
    instrumentStrikeKey,
    strikeKeyCount: strikeKeys.size,
    damp,
    isSkew,
    perpUnitPnl,
    riskCancellingUnitPnl,
    staticDiscountPos,
    staticDiscountNeg,
    basisFactor,
    feedMinConfidence,
    collateralPrice,
    collateralMmHaircut,
    collateralImHaircut,
    collateralRiskCancelling,
    collateralMinConfidence,
    mmFactor: factors.mm,
    imFactor: factors.im,
  };
}

/** Reusable scratch space sized for the largest market of a book. */
export interface Pmrm2Scratch {
  pnl: Float64Array;
  expiryRows: Float64Array;
  expiryStamp: Int32Array;
  expiryNet: Float64Array;
  touchedExpiries: Int32Array;
  strikeNet: Float64Array;
  strikeStamp: Int32Array;
  touchedStrikes: Int32Array;
  stamp: number;
}

export function createPmrm2Scratch(markets: readonly PreparedPmrm2Market[]): Pmrm2Scratch {
  let maxS = 1;
  let maxE = 1;
  let maxK = 1;
  let maxStride = 4;
  for (const m of markets) {
    maxS = Math.max(maxS, m.scenarioCount);
    maxE = Math.max(maxE, m.market.expiryFeeds.length);
    maxK = Math.max(maxK, m.strikeKeyCount);
    maxStride = Math.max(maxStride, m.stride);
  }
  return {
    pnl: new Float64Array(maxS),
    expiryRows: new Float64Array(maxE * maxStride),
    expiryStamp: new Int32Array(maxE).fill(-1),
    expiryNet: new Float64Array(maxE),
    touchedExpiries: new Int32Array(maxE),
    strikeNet: new Float64Array(maxK),
    strikeStamp: new Int32Array(maxK).fill(-1),
    touchedStrikes: new Int32Array(maxK),
    stamp: 0,
  };
}

export function allocatePmrm2BookResult(count: number): Pmrm2BookResult {
  return {
    mm: new Float64Array(count),
    im: new Float64Array(count),
    mtm: new Float64Array(count),
    worstLoss: new Float64Array(count),
    worstScenario: new Int32Array(count),
  };
}

/**
 * Evaluates sub-portfolios [from, to) of a book into `out` (same indices). No allocation: all
 * working memory is in `scratch`. Positions must reference valid instrument / collateral indices
 * of their market (see `validatePmrm2Book`).
 */
export function evaluatePmrm2Book(
  book: Pmrm2Book,
  markets: readonly PreparedPmrm2Market[],
  out: Pmrm2BookResult,
  scratch: Pmrm2Scratch,
  from = 0,
  to = book.count,
): void {
  const { pnl, expiryRows, expiryStamp, expiryNet, touchedExpiries, strikeNet, strikeStamp, touchedStrikes } =
    scratch;
  for (let j = from; j < to; j++) {
    const M = markets[book.market[j]!]!;
    const mk = M.market;
    const other = mk.params.other;
    const nS = M.scenarioCount;
    const stride = M.stride;
    const table = M.table;
    const damp = M.damp;
    const isSkew = M.isSkew;
    const stamp = ++scratch.stamp;
    const spot = mk.spotUsd;

    // Perp and collateral: linear in spot.
    const perp = book.perpAmount[j]!;
    let portfolioMinConf = mk.spotConfidence;
    let mmCont = 0;
    let imCont = 0;
    let mtm = book.perpValueUsd[j]!;
    if (perp !== 0) {
      if (mk.perpConfidence < portfolioMinConf) portfolioMinConf = mk.perpConfidence;
      const notional = Math.abs(perp) * spot;
      mmCont += notional * other.mmPerpPercent;
      imCont += notional * other.imPerpPercent;
      if (portfolioMinConf < other.confThreshold)
        imCont += (1 - portfolioMinConf) * other.confMargin * notional;
    }
    let riskCancellingValue = 0;
    for (let c = book.collateralStart[j]!, cEnd = book.collateralStart[j + 1]!; c < cEnd; c++) {
      const a = book.collateralAsset[c]!;
      const value = book.collateralAmount[c]! * M.collateralPrice[a]!;
      mtm += value;
      mmCont += value * M.collateralMmHaircut[a]!;
      imCont += value * M.collateralImHaircut[a]!;
      const conf = M.collateralMinConfidence[a]!;
      if (conf < other.confThreshold) imCont += (1 - conf) * other.confMargin * value;
      if (M.collateralRiskCancelling[a] === 1) riskCancellingValue += value;
    }
    const perpUnit = M.perpUnitPnl;
    const rcUnit = M.riskCancellingUnitPnl;
    for (let s = 0; s < nS; s++) pnl[s] = perp * perpUnit[s]! + riskCancellingValue * rcUnit[s]!;

    // Options: sum unit rows per expiry.
    let nTouchedE = 0;
    let nTouchedK = 0;
    for (let o = book.optionStart[j]!, oEnd = book.optionStart[j + 1]!; o < oEnd; o++) {
      const ins = book.optionInstrument[o]!;
      const amt = book.optionAmount[o]!;
      const e = M.instrumentExpiry[ins]!;
      const rowE = e * stride;
      if (expiryStamp[e] !== stamp) {
        expiryStamp[e] = stamp;
        touchedExpiries[nTouchedE++] = e;
        expiryNet[e] = 0;
        for (let c = 0; c < stride; c++) expiryRows[rowE + c] = 0;
      }
      expiryNet[e] = expiryNet[e]! + Math.abs(amt);
      const rowI = ins * stride;
      for (let c = 0; c < stride; c++) expiryRows[rowE + c] = expiryRows[rowE + c]! + amt * table[rowI + c]!;
      const sk = M.instrumentStrikeKey[ins]!;
      if (strikeStamp[sk] !== stamp) {
        strikeStamp[sk] = stamp;
        touchedStrikes[nTouchedK++] = sk;
        strikeNet[sk] = 0;
      }
      strikeNet[sk] = strikeNet[sk]! + amt;
    }

    let basis = 0;
    for (let t = 0; t < nTouchedE; t++) {
      const e = touchedExpiries[t]!;
      const rowE = e * stride;
      const expMtm = expiryRows[rowE + nS]!;
      mtm += expMtm;
      const pos = M.staticDiscountPos[e]!;
      const neg = M.staticDiscountNeg[e]!;
      for (let s = 0; s < nS; s++) {
        const v = expiryRows[rowE + s]!;
        let x = (v * (v >= 0 ? pos : neg) - expMtm) * damp[s]!;
        if (isSkew[s] === 1 && x > 0) x = -x;
        pnl[s] = pnl[s]! + x;
      }
      const bUp = expiryRows[rowE + nS + 1]! - expMtm;
      const bDown = expiryRows[rowE + nS + 2]! - expMtm;
      const bLoss = bUp < bDown ? (bUp < 0 ? bUp : 0) : bDown < 0 ? bDown : 0;
      basis += bLoss * M.basisFactor[e]!;
      const conf = M.feedMinConfidence[e]! < portfolioMinConf ? M.feedMinConfidence[e]! : portfolioMinConf;
      if (conf < other.confThreshold) imCont += (1 - conf) * other.confMargin * expiryNet[e]! * spot;
    }
    let naked = 0;
    for (let t = 0; t < nTouchedK; t++) {
      const net = strikeNet[touchedStrikes[t]!]!;
      if (net < 0) naked -= net;
    }
    mmCont += naked * spot * other.mmOptionPercent;
    imCont += naked * spot * other.imOptionPercent;

    let worst = basis;
    let worstIdx = nS;
    for (let s = 0; s < nS; s++) {
      if (pnl[s]! < worst) {
        worst = pnl[s]!;
        worstIdx = s;
      }
    }
    const base = mtm + book.cashUsd[j]!;
    out.mm[j] = worst * M.mmFactor - mmCont + base;
    out.im[j] = worst * M.imFactor - imCont - mmCont + base;
    out.mtm[j] = base;
    out.worstLoss[j] = worst;
    out.worstScenario[j] = worstIdx;
  }
}

/** Checks every index and number of a book once, before evaluation; names the bad entry. */
export function validatePmrm2Book(book: Pmrm2Book, markets: readonly PreparedPmrm2Market[]): void {
  const n = book.count;
  const lens: [string, { length: number }, number][] = [
    ['market', book.market, n],
    ['cashUsd', book.cashUsd, n],
    ['perpAmount', book.perpAmount, n],
    ['perpValueUsd', book.perpValueUsd, n],
    ['optionStart', book.optionStart, n + 1],
    ['collateralStart', book.collateralStart, n + 1],
  ];
  for (const [field, a, want] of lens) {
    if (a.length < want)
      throw new InvalidInputError(`book.${field}`, `has ${a.length} entries, needs ${want}`);
  }
  for (let j = 0; j < n; j++) {
    const m = markets[book.market[j]!];
    if (!m) throw new InvalidInputError(`book.market[${j}]`, `no prepared market ${book.market[j]}`);
    requireFinite(`book.cashUsd[${j}]`, book.cashUsd[j]!);
    requireFinite(`book.perpAmount[${j}]`, book.perpAmount[j]!);
    requireFinite(`book.perpValueUsd[${j}]`, book.perpValueUsd[j]!);
    for (let o = book.optionStart[j]!; o < book.optionStart[j + 1]!; o++) {
      const ins = book.optionInstrument[o]!;
      if (!(ins >= 0 && ins < m.market.instruments.length)) {
        throw new InvalidInputError(
          `book.optionInstrument[${o}]`,
          `not an instrument of market ${book.market[j]}`,
        );
      }
      requireFinite(`book.optionAmount[${o}]`, book.optionAmount[o]!);
    }
    for (let c = book.collateralStart[j]!; c < book.collateralStart[j + 1]!; c++) {
      const a = book.collateralAsset[c]!;
      if (!(a >= 0 && a < m.market.collateralAssets.length)) {
        throw new InvalidInputError(
          `book.collateralAsset[${c}]`,
          `not a collateral asset of market ${book.market[j]}`,
        );
      }
      const amt = book.collateralAmount[c]!;
      requireFinite(`book.collateralAmount[${c}]`, amt);
      if (amt < 0) throw new InvalidInputError(`book.collateralAmount[${c}]`, 'must be >= 0');
    }
  }
}

/** Expands sub-portfolio j of a book into the single-account `Pmrm2Portfolio` form. */
export function bookEntryToPortfolio(
  book: Pmrm2Book,
  markets: readonly PreparedPmrm2Market[],
  j: number,
): Pmrm2Portfolio {
  const m = markets[book.market[j]!]!.market;
  const options = [];
  for (let o = book.optionStart[j]!; o < book.optionStart[j + 1]!; o++) {
    const ins = m.instruments[book.optionInstrument[o]!]!;
    options.push({
      timeToExpirySec: m.expiryFeeds[ins.expiryIndex]!.timeToExpirySec,
      strikeUsd: ins.strikeUsd,
      isCall: ins.isCall,
      amount: book.optionAmount[o]!,
    });
  }
  const collaterals = [];
  for (let c = book.collateralStart[j]!; c < book.collateralStart[j + 1]!; c++) {
    collaterals.push({ ...m.collateralAssets[book.collateralAsset[c]!]!, amount: book.collateralAmount[c]! });
  }
  return {
    cashUsd: book.cashUsd[j]!,
    collaterals,
    spotUsd: m.spotUsd,
    spotConfidence: m.spotConfidence,
    perpAmount: book.perpAmount[j]!,
    perpPriceUsd: m.perpPriceUsd,
    perpConfidence: m.perpConfidence,
    unrealisedPerpPnlUsd: book.perpValueUsd[j]!,
    unrealisedFundingUsd: 0,
    stablePriceUsd: m.stablePriceUsd,
    stableConfidence: m.stableConfidence,
    options,
    expiryFeeds: m.expiryFeeds,
  };
}
