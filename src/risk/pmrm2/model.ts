/**
 * The per-underlying scenario margin model, compatible with Derive's PMRM_2.
 *
 * Gather first, then compute: `arrangePmrm2` validates a portfolio once and precomputes everything
 * that does not depend on the scenario (per-option vols, per-expiry forward split, discount, vol
 * shock multipliers, static discounts, mark-to-market, contingencies). `scenarioPnl` then revalues
 * the book under one scenario, and `computePmrm2` takes the worst scenario and applies the loss
 * factors and contingencies:
 *
 *   MM = min(basisContingency, scenario P&Ls) * mmFactor - mmContingency + MtM + cash
 *   IM = min(basisContingency, scenario P&Ls) * imFactor' - mmContingency - imContingency + MtM + cash
 *
 * where imFactor' adds a stable peg-loss term. Scenario P&L = (shocked value, statically discounted)
 * minus mark-to-market, times the dampening factor; skew scenarios take -|P&L| per expiry.
 */
import { InvalidInputError } from '../../common/errors';
import { black76PricesUnchecked, SECONDS_PER_YEAR } from '../math/black76';
import { requireFinite, requireNonNegative } from '../math/validate';
import { sviVolUnchecked, validateSviParams } from '../math/svi';
import type {
  Pmrm2ExpiryResult,
  Pmrm2Params,
  Pmrm2Portfolio,
  Pmrm2Result,
  Pmrm2Scenario,
  VolShockDirection,
} from './types';

const SECONDS_PER_DAY = 86_400;
const THIRTY_DAYS_SEC = 30 * SECONDS_PER_DAY;
/** Within this window before expiry the forward is partly fixed by settlement averaging. */
export const SETTLEMENT_AVERAGING_SEC = 30 * 60;

/** One expiry of the arranged portfolio, with every scenario-independent quantity precomputed. */
export interface ArrangedExpiry {
  timeToExpirySec: number;
  timeYears: number;
  forwardVariableUsd: number;
  forwardFixedUsd: number;
  /** Annualised rate used in discounting (floored at 0). */
  rateAnnual: number;
  discount: number;
  strikes: Float64Array;
  vols: Float64Array;
  amounts: Float64Array;
  isCall: Uint8Array;
  mtm: number;
  volShockUp: number;
  volShockDown: number;
  staticDiscountPos: number;
  staticDiscountNeg: number;
  basisUpMtm: number;
  basisDownMtm: number;
  basisLoss: number;
  nakedShorts: number;
  netContracts: number;
  minConfidence: number;
}

export interface ArrangedCollateral {
  valueUsd: number;
  isRiskCancelling: boolean;
  mmHaircut: number;
  imHaircut: number;
  minConfidence: number;
}

export interface ArrangedPortfolio {
  cashUsd: number;
  spotUsd: number;
  stablePriceUsd: number;
  perpAmount: number;
  perpPriceUsd: number;
  perpValueUsd: number;
  minConfidence: number;
  expiries: ArrangedExpiry[];
  collaterals: ArrangedCollateral[];
}

function confidenceContingency(minConfidence: number, notionalUsd: number, params: Pmrm2Params): number {
  if (minConfidence < params.other.confThreshold) {
    return (1 - minConfidence) * params.other.confMargin * notionalUsd;
  }
  return 0;
}

function requireUnit(field: string, value: number): void {
  requireFinite(field, value);
  if (value < 0 || value > 1) throw new InvalidInputError(field, `must be in [0, 1], got ${value}`);
}

/** Value of the expiry's options with forward = variable * spotShock + fixed and vol = f(vol). */
function expiryValue(e: ArrangedExpiry, spotShock: number, volMultiplier: number, minVol: number): number {
  const forward = e.forwardVariableUsd * spotShock + e.forwardFixedUsd;
  let total = 0;
  const n = e.strikes.length;
  for (let i = 0; i < n; i++) {
    const vol = Math.max(minVol, e.vols[i]! * volMultiplier);
    const p = black76PricesUnchecked(e.timeYears, vol, forward, e.strikes[i]!, e.discount);
    total += (e.isCall[i] === 1 ? p.call : p.put) * e.amounts[i]!;
  }
  return total;
}

/** Skew multiplier of one option: vol is raised/lowered with log-moneyness, capped at +-cap beyond k*. */
export function skewMultiplier(logMoneyness: number, multCap: number, kStar: number): number {
  const scaled = (logMoneyness * multCap) / kStar;
  return 1 + (logMoneyness >= 0 ? Math.min(multCap, scaled) : Math.max(-multCap, scaled));
}

export function skewCapAndKStar(
  timeYears: number,
  isLinear: boolean,
  params: Pmrm2Params,
): { multCap: number; kStar: number } {
  const s = params.skewShock;
  const sqrtTau = Math.sqrt(timeYears);
  const multCap = isLinear ? s.linearCBase * sqrtTau + s.linearBaseCap : s.absCBase * sqrtTau + s.absBaseCap;
  const volParam = s.volParamStatic + sqrtTau * s.volParamScale;
  const kStar = Math.max(s.minKStar, sqrtTau * s.widthScale * volParam);
  return { multCap, kStar };
}

/**
 * Value of the expiry's options under a skew shock. Skew scenarios never move spot (Derive's
 * on-chain scenario setter requires spotShock = 1 for them).
 *
 * `capFromLinear` selects the linear or the absolute cap parameters, `signedK` whether k keeps its
 * sign (linear) or is taken in absolute value (abs). A linear scenario declared with a spot shock
 * other than 1 is the reference engine's "LINEAR_SPOT_SHOCK" variant: spot still does not move,
 * k keeps its sign, but the cap comes from the ABS parameters (see `skewVariant`).
 */
function expirySkewValue(
  e: ArrangedExpiry,
  capFromLinear: boolean,
  signedK: boolean,
  params: Pmrm2Params,
): number {
  const forward = e.forwardVariableUsd + e.forwardFixedUsd;
  const { multCap, kStar } = skewCapAndKStar(e.timeYears, capFromLinear, params);
  let total = 0;
  const n = e.strikes.length;
  for (let i = 0; i < n; i++) {
    const strike = e.strikes[i]!;
    const k = Math.log(strike / forward);
    const mult = skewMultiplier(signedK ? k : Math.abs(k), multCap, kStar);
    const vol = e.vols[i]! * Math.max(mult, 0);
    const p = black76PricesUnchecked(e.timeYears, vol, forward, strike, e.discount);
    total += (e.isCall[i] === 1 ? p.call : p.put) * e.amounts[i]!;
  }
  return total;
}

/** Which cap parameters and k sign a skew scenario uses (see `expirySkewValue`). */
export function skewVariant(
  volShock: 'linear' | 'abs',
  spotShock: number,
): { capFromLinear: boolean; signedK: boolean } {
  if (volShock === 'abs') return { capFromLinear: false, signedK: false };
  return spotShock === 1 ? { capFromLinear: true, signedK: true } : { capFromLinear: false, signedK: true };
}

/** Shocked (undiscounted) value of one expiry under a scenario. */
export function shockedExpiryValue(
  e: ArrangedExpiry,
  spotShock: number,
  volShock: VolShockDirection,
  params: Pmrm2Params,
): number {
  switch (volShock) {
    case 'none':
      return spotShock === 1 ? e.mtm : expiryValue(e, spotShock, 1, 0);
    case 'up':
      return expiryValue(e, spotShock, e.volShockUp, params.volShock.minVolUpShock);
    case 'down':
      return expiryValue(e, spotShock, e.volShockDown, 0);
    case 'linear':
    case 'abs': {
      const v = skewVariant(volShock, spotShock);
      return expirySkewValue(e, v.capFromLinear, v.signedK, params);
    }
  }
}

/**
 * P&L of one expiry in a scenario from its shocked value: static discount (long or short side),
 * minus mark-to-market, dampened; skew scenarios count every expiry as a loss (-|P&L|).
 */
export function expiryScenarioPnl(e: ArrangedExpiry, shocked: number, scenario: Pmrm2Scenario): number {
  const discounted = shocked * (shocked >= 0 ? e.staticDiscountPos : e.staticDiscountNeg);
  const pnl = (discounted - e.mtm) * scenario.dampeningFactor;
  if (scenario.volShock === 'linear' || scenario.volShock === 'abs') return pnl > 0 ? -pnl : pnl;
  return pnl;
}

/**
 * Scenario P&L of the non-option parts: perp and risk-cancelling collateral move with spot.
 * Skew scenarios do not move spot.
 */
export function linearScenarioPnl(p: ArrangedPortfolio, scenario: Pmrm2Scenario): number {
  if (scenario.volShock === 'linear' || scenario.volShock === 'abs') return 0;
  let pnl = 0;
  if (p.perpAmount !== 0) {
    pnl += p.perpAmount * ((scenario.spotShock - 1) * p.perpPriceUsd) * scenario.dampeningFactor;
  }
  for (const c of p.collaterals) {
    if (c.isRiskCancelling) pnl += c.valueUsd * (scenario.spotShock - 1) * scenario.dampeningFactor;
  }
  return pnl;
}

/** Portfolio P&L under one scenario relative to mark-to-market (negative = loss). */
export function scenarioPnl(p: ArrangedPortfolio, scenario: Pmrm2Scenario, params: Pmrm2Params): number {
  let pnl = linearScenarioPnl(p, scenario);
  for (const e of p.expiries) {
    pnl += expiryScenarioPnl(
      e,
      shockedExpiryValue(e, scenario.spotShock, scenario.volShock, params),
      scenario,
    );
  }
  return pnl;
}

/**
 * Naked short contracts of one expiry: per strike, max(0, -(sum of amounts)); a long at a strike
 * (call or put) covers a short at the same strike.
 */
function nakedShortContracts(strikes: Float64Array, amounts: Float64Array): number {
  const byStrike = new Map<number, number>();
  for (let i = 0; i < strikes.length; i++) {
    byStrike.set(strikes[i]!, (byStrike.get(strikes[i]!) ?? 0) + amounts[i]!);
  }
  let naked = 0;
  for (const net of byStrike.values()) if (net < 0) naked -= net;
  return naked;
}

export function volShockMultipliers(
  timeToExpirySec: number,
  params: Pmrm2Params,
): { up: number; down: number } {
  const v = params.volShock;
  const ratio = THIRTY_DAYS_SEC / Math.max(timeToExpirySec, v.dteFloorDays * SECONDS_PER_DAY);
  const scale = Math.pow(ratio, timeToExpirySec <= THIRTY_DAYS_SEC ? v.shortTermPower : v.longTermPower);
  return { up: 1 + v.volRangeUp * scale, down: Math.max(0, 1 - v.volRangeDown * scale) };
}

export function staticDiscounts(
  timeYears: number,
  rateAnnual: number,
  discount: number,
  params: Pmrm2Params,
): { pos: number; neg: number } {
  const m = params.margin;
  const pos =
    m.longBaseStaticDiscount * Math.exp(-timeYears * (rateAnnual * m.longRateMultScale + m.longRateAddScale));
  const negRaw =
    m.shortBaseStaticDiscount /
    Math.exp(-timeYears * (rateAnnual * m.shortRateMultScale + m.shortRateAddScale));
  return { pos, neg: Math.min(1 / discount, negRaw) };
}

/**
 * Splits a forward into the part that moves with spot and the part already fixed by settlement
 * averaging: inside the last 30 minutes, (1800 - t) / 1800 of the forward is fixed.
 */
export function forwardSplit(
  forwardUsd: number,
  timeToExpirySec: number,
): { forwardVariableUsd: number; forwardFixedUsd: number } {
  if (timeToExpirySec >= SETTLEMENT_AVERAGING_SEC)
    return { forwardVariableUsd: forwardUsd, forwardFixedUsd: 0 };
  return {
    forwardVariableUsd: (forwardUsd * timeToExpirySec) / SETTLEMENT_AVERAGING_SEC,
    forwardFixedUsd: (forwardUsd * (SETTLEMENT_AVERAGING_SEC - timeToExpirySec)) / SETTLEMENT_AVERAGING_SEC,
  };
}

/** Validates a portfolio and precomputes everything that does not depend on the scenario. */
export function arrangePmrm2(portfolio: Pmrm2Portfolio, params: Pmrm2Params): ArrangedPortfolio {
  validatePortfolio(portfolio);
  const minConfidence =
    portfolio.perpAmount !== 0
      ? Math.min(portfolio.spotConfidence, portfolio.perpConfidence)
      : portfolio.spotConfidence;

  // Group options by expiry, in order of first appearance.
  const groups = new Map<number, number[]>();
  portfolio.options.forEach((o, i) => {
    const key = Math.max(0, o.timeToExpirySec);
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  });

  const expiries: ArrangedExpiry[] = [];
  for (const [timeToExpirySec, indices] of groups) {
    const feed = portfolio.expiryFeeds.find((f) => Math.max(0, f.timeToExpirySec) === timeToExpirySec);
    if (!feed) {
      throw new InvalidInputError('options', `no expiry feed for options expiring in ${timeToExpirySec}s`, {
        hint: 'Add an entry to expiryFeeds with the same timeToExpirySec as the option.',
      });
    }
    const timeYears = timeToExpirySec / SECONDS_PER_YEAR;
    const rateAnnual = Math.max(feed.rateAnnual, 0);
    const discount = Math.exp(-rateAnnual * timeYears);
    const { forwardVariableUsd, forwardFixedUsd } = forwardSplit(feed.forwardUsd, timeToExpirySec);
    const n = indices.length;
    const strikes = new Float64Array(n);
    const vols = new Float64Array(n);
    const amounts = new Float64Array(n);
    const isCall = new Uint8Array(n);
    let netContracts = 0;
    indices.forEach((optIdx, j) => {
      const o = portfolio.options[optIdx]!;
      strikes[j] = o.strikeUsd;
      vols[j] = sviVolUnchecked(o.strikeUsd, feed.svi);
      amounts[j] = o.amount;
      isCall[j] = o.isCall ? 1 : 0;
      netContracts += Math.abs(o.amount);
    });
    const shocks = volShockMultipliers(timeToExpirySec, params);
    const disc = staticDiscounts(timeYears, rateAnnual, discount, params);
    const e: ArrangedExpiry = {
      timeToExpirySec,
      timeYears,
      forwardVariableUsd,
      forwardFixedUsd,
      rateAnnual,
      discount,
      strikes,
      vols,
      amounts,
      isCall,
      mtm: 0,
      volShockUp: shocks.up,
      volShockDown: shocks.down,
      staticDiscountPos: disc.pos,
      staticDiscountNeg: disc.neg,
      basisUpMtm: 0,
      basisDownMtm: 0,
      basisLoss: 0,
      nakedShorts: nakedShortContracts(strikes, amounts),
      netContracts,
      minConfidence: Math.min(minConfidence, feed.forwardConfidence, feed.rateConfidence, feed.volConfidence),
    };
    e.mtm = expiryValue(e, 1, 1, 0);
    e.basisUpMtm = expiryValue(e, params.basis.scenarioSpotUp, 1, 0);
    e.basisDownMtm = expiryValue(e, params.basis.scenarioSpotDown, 1, 0);
    e.basisLoss = Math.min(e.basisUpMtm - e.mtm, e.basisDownMtm - e.mtm, 0);
    expiries.push(e);
  }

  const collaterals: ArrangedCollateral[] = portfolio.collaterals.map((c) => ({
    valueUsd: (c.amount * c.priceUsd) / portfolio.stablePriceUsd,
    isRiskCancelling: c.isRiskCancelling,
    mmHaircut: c.mmHaircut,
    imHaircut: c.imHaircut,
    minConfidence: Math.min(c.confidence, portfolio.spotConfidence),
  }));

  return {
    cashUsd: portfolio.cashUsd,
    spotUsd: portfolio.spotUsd,
    stablePriceUsd: portfolio.stablePriceUsd,
    perpAmount: portfolio.perpAmount,
    perpPriceUsd: portfolio.perpPriceUsd,
    perpValueUsd: portfolio.unrealisedPerpPnlUsd + portfolio.unrealisedFundingUsd,
    minConfidence,
    expiries,
    collaterals,
  };
}

export interface Pmrm2Contingencies {
  basisContingency: number;
  mmPerpContingency: number;
  imPerpContingency: number;
  mmOptionContingency: number;
  imOptionContingency: number;
  mmCollateralContingency: number;
  imCollateralContingency: number;
  confidenceContingency: number;
  mmContingency: number;
  imContingency: number;
  optionMtm: number;
  collateralMtm: number;
  mtm: number;
}

/** Scenario-independent contingencies and mark-to-market of an arranged portfolio. */
export function pmrm2Contingencies(p: ArrangedPortfolio, params: Pmrm2Params): Pmrm2Contingencies {
  const o = params.other;
  const perpNotional = Math.abs(p.perpAmount) * p.spotUsd;
  const mmPerp = perpNotional * o.mmPerpPercent;
  const imPerp = perpNotional * o.imPerpPercent;
  let confidence = confidenceContingency(p.minConfidence, perpNotional, params);
  let basis = 0;
  let mmOption = 0;
  let imOption = 0;
  let optionMtm = 0;
  for (const e of p.expiries) {
    optionMtm += e.mtm;
    basis += e.basisLoss * (params.basis.addFactor + params.basis.multFactor * e.timeYears);
    const nakedNotional = e.nakedShorts * p.spotUsd;
    mmOption += nakedNotional * o.mmOptionPercent;
    imOption += nakedNotional * o.imOptionPercent;
    confidence += confidenceContingency(e.minConfidence, e.netContracts * p.spotUsd, params);
  }
  let mmCollateral = 0;
  let imCollateral = 0;
  let collateralMtm = 0;
  for (const c of p.collaterals) {
    collateralMtm += c.valueUsd;
    mmCollateral += c.valueUsd * c.mmHaircut;
    imCollateral += c.valueUsd * c.imHaircut;
    confidence += confidenceContingency(c.minConfidence, c.valueUsd, params);
  }
  return {
    basisContingency: basis,
    mmPerpContingency: mmPerp,
    imPerpContingency: imPerp,
    mmOptionContingency: mmOption,
    imOptionContingency: imOption,
    mmCollateralContingency: mmCollateral,
    imCollateralContingency: imCollateral,
    confidenceContingency: confidence,
    mmContingency: mmPerp + mmOption + mmCollateral,
    imContingency: imPerp + imOption + imCollateral + confidence,
    optionMtm,
    collateralMtm,
    mtm: p.perpValueUsd + optionMtm + collateralMtm,
  };
}

/** Loss factors for MM and IM; IM grows when the stable coin trades below its peg threshold. */
export function lossFactors(stablePriceUsd: number, params: Pmrm2Params): { mm: number; im: number } {
  let im = params.margin.imFactor;
  if (stablePriceUsd < params.other.pegLossThreshold) {
    im += (params.other.pegLossThreshold - stablePriceUsd) * params.other.pegLossFactor;
  }
  return { mm: params.margin.mmFactor, im };
}

/** Computes MM, IM, mark-to-market and every scenario P&L of one underlying's portfolio. */
export function computePmrm2(portfolio: Pmrm2Portfolio, params: Pmrm2Params): Pmrm2Result {
  validateParams(params);
  const p = arrangePmrm2(portfolio, params);
  const c = pmrm2Contingencies(p, params);
  const n = params.scenarios.length;
  const scenarioLosses = new Float64Array(n);
  let worstLoss = c.basisContingency;
  let worstScenarioIndex = n;
  for (let i = 0; i < n; i++) {
    const pnl = scenarioPnl(p, params.scenarios[i]!, params);
    scenarioLosses[i] = pnl;
    if (pnl < worstLoss) {
      worstLoss = pnl;
      worstScenarioIndex = i;
    }
  }
  const factors = lossFactors(p.stablePriceUsd, params);
  const base = c.mtm + p.cashUsd;
  const mm = worstLoss * factors.mm - c.mmContingency + base;
  const im = worstLoss * factors.im - c.imContingency - c.mmContingency + base;
  const expiries: Pmrm2ExpiryResult[] = p.expiries.map((e) => ({
    timeToExpirySec: e.timeToExpirySec,
    forwardVariableUsd: e.forwardVariableUsd,
    forwardFixedUsd: e.forwardFixedUsd,
    discount: e.discount,
    mtm: e.mtm,
    volShockUp: e.volShockUp,
    volShockDown: e.volShockDown,
    staticDiscountPos: e.staticDiscountPos,
    staticDiscountNeg: e.staticDiscountNeg,
    basisLoss: e.basisLoss,
    nakedShorts: e.nakedShorts,
    minConfidence: e.minConfidence,
  }));
  return {
    mm,
    im,
    mtm: base,
    scenarioLosses,
    worstScenarioIndex,
    worstLoss,
    basisContingency: c.basisContingency,
    mmContingency: c.mmContingency,
    imContingency: c.imContingency,
    mmPerpContingency: c.mmPerpContingency,
    imPerpContingency: c.imPerpContingency,
    mmOptionContingency: c.mmOptionContingency,
    imOptionContingency: c.imOptionContingency,
    mmCollateralContingency: c.mmCollateralContingency,
    imCollateralContingency: c.imCollateralContingency,
    confidenceContingency: c.confidenceContingency,
    imLossFactor: factors.im,
    mmLossFactor: factors.mm,
    optionMtm: c.optionMtm,
    collateralMtm: c.collateralMtm,
    perpMtm: p.perpValueUsd,
    cashUsd: p.cashUsd,
    expiries,
  };
}

/** Rejects a portfolio with a non-finite or out-of-range field, naming it. */
export function validatePortfolio(portfolio: Pmrm2Portfolio): void {
  requireFinite('cashUsd', portfolio.cashUsd);
  requireNonNegative('spotUsd', portfolio.spotUsd);
  requireUnit('spotConfidence', portfolio.spotConfidence);
  requireFinite('perpAmount', portfolio.perpAmount);
  requireNonNegative('perpPriceUsd', portfolio.perpPriceUsd);
  if (portfolio.perpAmount !== 0) requireUnit('perpConfidence', portfolio.perpConfidence);
  requireFinite('unrealisedPerpPnlUsd', portfolio.unrealisedPerpPnlUsd);
  requireFinite('unrealisedFundingUsd', portfolio.unrealisedFundingUsd);
  requireFinite('stablePriceUsd', portfolio.stablePriceUsd);
  if (portfolio.stablePriceUsd <= 0) {
    throw new InvalidInputError('stablePriceUsd', `must be > 0, got ${portfolio.stablePriceUsd}`);
  }
  portfolio.collaterals.forEach((c, i) => {
    const f = `collaterals[${i}]`;
    requireNonNegative(`${f}.amount`, c.amount);
    requireNonNegative(`${f}.priceUsd`, c.priceUsd);
    requireUnit(`${f}.confidence`, c.confidence);
    requireUnit(`${f}.mmHaircut`, c.mmHaircut);
    requireUnit(`${f}.imHaircut`, c.imHaircut);
  });
  portfolio.options.forEach((o, i) => {
    const f = `options[${i}]`;
    requireFinite(`${f}.timeToExpirySec`, o.timeToExpirySec);
    requireNonNegative(`${f}.strikeUsd`, o.strikeUsd);
    requireFinite(`${f}.amount`, o.amount);
  });
  portfolio.expiryFeeds.forEach((e, i) => {
    const f = `expiryFeeds[${i}]`;
    requireFinite(`${f}.timeToExpirySec`, e.timeToExpirySec);
    requireNonNegative(`${f}.forwardUsd`, e.forwardUsd);
    requireUnit(`${f}.forwardConfidence`, e.forwardConfidence);
    requireFinite(`${f}.rateAnnual`, e.rateAnnual);
    requireUnit(`${f}.rateConfidence`, e.rateConfidence);
    requireUnit(`${f}.volConfidence`, e.volConfidence);
    validateSviParams(e.svi, `${f}.svi`);
  });
}

const VOL_SHOCKS: readonly VolShockDirection[] = ['none', 'up', 'down', 'linear', 'abs'];

/** Rejects parameters with a non-finite value or an invalid scenario grid, naming the field. */
export function validateParams(params: Pmrm2Params): void {
  if (params.scenarios.length === 0) {
    throw new InvalidInputError('scenarios', 'must hold at least one scenario');
  }
  params.scenarios.forEach((s, i) => {
    requireNonNegative(`scenarios[${i}].spotShock`, s.spotShock);
    requireNonNegative(`scenarios[${i}].dampeningFactor`, s.dampeningFactor);
    if (!VOL_SHOCKS.includes(s.volShock)) {
      throw new InvalidInputError(`scenarios[${i}].volShock`, `must be one of ${VOL_SHOCKS.join(', ')}`);
    }
  });
  for (const group of ['volShock', 'skewShock', 'margin', 'basis', 'other'] as const) {
    for (const [k, v] of Object.entries(params[group])) requireFinite(`${group}.${k}`, v as number);
  }
}
