/**
 * Types of the per-underlying scenario margin model (Derive PMRM_2-compatible).
 *
 * Everything is float64 in USD (or in units of the underlying for position sizes). On-chain token
 * amounts are converted to these numbers once, before the engine, by the cross-underlying layer.
 *
 * Sign convention (same as Derive): a scenario "loss" is the change in portfolio value under the
 * scenario relative to mark-to-market, so a loss is NEGATIVE and a gain positive. Margins are
 * "margin surplus" numbers: MM >= 0 means the account is healthy, MM < 0 means it can be liquidated.
 */
import type { SviParams } from '../math/svi';

export type { SviParams };

/** How implied volatility moves in a scenario. `linear` / `abs` are the two skew shocks. */
export type VolShockDirection = 'none' | 'up' | 'down' | 'linear' | 'abs';

export interface Pmrm2Scenario {
  /** Spot multiplier: 1.2 = spot up 20%, 0.8 = down 20%. */
  spotShock: number;
  volShock: VolShockDirection;
  /** Multiplies the scenario's P&L; < 1 dampens unlikely tail scenarios. */
  dampeningFactor: number;
}

/** A collateral asset held by the account (valued in the stable coin, then haircut). */
export interface Pmrm2Collateral {
  name: string;
  /** Units of the collateral token held (>= 0). */
  amount: number;
  priceUsd: number;
  /** Oracle confidence of the price, in [0, 1]. */
  confidence: number;
  /** Moves with the underlying (e.g. BTC collateral in a BTC portfolio): shocked in every scenario. */
  isRiskCancelling: boolean;
  /** Fraction of value removed for maintenance margin. */
  mmHaircut: number;
  /** Extra fraction removed for initial margin, on top of the MM haircut. */
  imHaircut: number;
}

export interface Pmrm2Option {
  /** Seconds from valuation time to expiry (<= 0 means expired: valued at intrinsic). */
  timeToExpirySec: number;
  strikeUsd: number;
  isCall: boolean;
  /** Contracts held, negative for short. */
  amount: number;
}

/** Market data for one expiry. Every option's `timeToExpirySec` must match one feed. */
export interface Pmrm2ExpiryFeed {
  timeToExpirySec: number;
  forwardUsd: number;
  forwardConfidence: number;
  /** Annualised continuously-compounded rate; negative rates are floored at 0 (as on-chain). */
  rateAnnual: number;
  rateConfidence: number;
  /** Volatility smile of this expiry. */
  svi: SviParams;
  /** Oracle confidence of the volatility surface, in [0, 1]. */
  volConfidence: number;
}

export interface Pmrm2Portfolio {
  /** Cash balance in USD (the stable coin), may be negative (borrowed). */
  cashUsd: number;
  collaterals: readonly Pmrm2Collateral[];
  spotUsd: number;
  spotConfidence: number;
  /** Perp contracts held, negative for short, 0 for none. */
  perpAmount: number;
  perpPriceUsd: number;
  perpConfidence: number;
  /** Unrealised perp P&L and unsettled funding, in USD: part of mark-to-market. */
  unrealisedPerpPnlUsd: number;
  unrealisedFundingUsd: number;
  /** Price of the stable coin that cash is denominated in; collaterals are valued in it. */
  stablePriceUsd: number;
  stableConfidence: number;
  options: readonly Pmrm2Option[];
  expiryFeeds: readonly Pmrm2ExpiryFeed[];
}

export interface Pmrm2VolShockParams {
  /** Up-shock multiplier is 1 + volRangeUp * (30d / max(T, dteFloor))^power. */
  volRangeUp: number;
  /** Down-shock multiplier is max(0, 1 - volRangeDown * (30d / max(T, dteFloor))^power). */
  volRangeDown: number;
  /** Power for expiries of 30 days or less. */
  shortTermPower: number;
  /** Power for expiries beyond 30 days. */
  longTermPower: number;
  /** Floor on days to expiry in the term scaling. */
  dteFloorDays: number;
  /** Minimum vol used when evaluating an up-vol scenario. */
  minVolUpShock: number;
}

export interface Pmrm2SkewShockParams {
  /** Cap of the linear skew multiplier at tau = 0; the cap moves by linearCBase * sqrt(tau). */
  linearBaseCap: number;
  absBaseCap: number;
  linearCBase: number;
  absCBase: number;
  /** Floor of k*, the log-moneyness where the skew multiplier reaches its cap. */
  minKStar: number;
  /** k* = max(minKStar, sqrt(tau) * widthScale * (volParamStatic + volParamScale * sqrt(tau))). */
  widthScale: number;
  volParamStatic: number;
  volParamScale: number;
}

export interface Pmrm2MarginParams {
  /** Multiplies the worst scenario loss for maintenance margin. */
  mmFactor: number;
  /** Multiplies the worst scenario loss for initial margin. */
  imFactor: number;
  /** Static discount of an expiry whose shocked value is negative (shorts): base / exp(-T (r*mult + add)). */
  shortRateMultScale: number;
  shortRateAddScale: number;
  shortBaseStaticDiscount: number;
  /** Static discount of an expiry whose shocked value is positive (longs): base * exp(-T (r*mult + add)). */
  longRateMultScale: number;
  longRateAddScale: number;
  longBaseStaticDiscount: number;
}

export interface Pmrm2BasisParams {
  /** Spot multipliers of the two forward (basis) contingency scenarios, no vol shock. */
  scenarioSpotUp: number;
  scenarioSpotDown: number;
  /** Contingency = worst basis loss * (addFactor + multFactor * T_years), per expiry. */
  addFactor: number;
  multFactor: number;
}

export interface Pmrm2OtherParams {
  /** Below this stable price the IM factor grows by (threshold - price) * pegLossFactor. */
  pegLossThreshold: number;
  pegLossFactor: number;
  /** Oracle confidence below this adds (1 - confidence) * confMargin * notional to IM. */
  confThreshold: number;
  confMargin: number;
  /** Fractions of |perp| * spot added to MM and (on top) IM. */
  mmPerpPercent: number;
  imPerpPercent: number;
  /** Fractions of naked short option notional (contracts * spot) added to MM and (on top) IM. */
  mmOptionPercent: number;
  imOptionPercent: number;
}

export interface Pmrm2Params {
  /** Scenario grid, evaluated in this order; at most one `linear` and one `abs` scenario. */
  scenarios: readonly Pmrm2Scenario[];
  volShock: Pmrm2VolShockParams;
  skewShock: Pmrm2SkewShockParams;
  margin: Pmrm2MarginParams;
  basis: Pmrm2BasisParams;
  other: Pmrm2OtherParams;
}

/** Per-expiry intermediates, in the order of `portfolio.expiryFeeds` that hold options. */
export interface Pmrm2ExpiryResult {
  timeToExpirySec: number;
  /** Forward split into a part that moves with spot and a part fixed by settlement averaging. */
  forwardVariableUsd: number;
  forwardFixedUsd: number;
  /** exp(-max(rate, 0) * T). */
  discount: number;
  /** Black-76 value of the expiry's options, unshocked. */
  mtm: number;
  /** Multipliers applied to each option's vol in up / down vol scenarios. */
  volShockUp: number;
  volShockDown: number;
  staticDiscountPos: number;
  staticDiscountNeg: number;
  /** Worst of (spot up, spot down) value change, <= 0, before the basis factor. */
  basisLoss: number;
  /** Naked short contracts (shorts not offset by a long at the same strike). */
  nakedShorts: number;
  minConfidence: number;
}

export interface Pmrm2Result {
  /** Maintenance margin surplus: >= 0 healthy. */
  mm: number;
  /** Initial margin surplus: >= 0 may add risk. */
  im: number;
  /** Mark-to-market: cash + options + collaterals + perp unrealised value. */
  mtm: number;
  /**
   * One P&L per scenario in `params.scenarios` order: shocked value minus mark-to-market, after
   * static discounting and dampening (negative = loss, Derive's convention).
   */
  scenarioLosses: Float64Array;
  /** Index of the worst scenario; equals `scenarios.length` when the basis contingency is worse. */
  worstScenarioIndex: number;
  /** min(basisContingency, every scenario loss), before the MM / IM factors. */
  worstLoss: number;
  /** Sum over expiries of basis loss * factor (<= 0). */
  basisContingency: number;
  /** Amounts subtracted from the margin (>= 0): MM contingencies, and the extra for IM. */
  mmContingency: number;
  imContingency: number;
  /** Breakdown of the contingencies (each >= 0). */
  mmPerpContingency: number;
  imPerpContingency: number;
  mmOptionContingency: number;
  imOptionContingency: number;
  mmCollateralContingency: number;
  imCollateralContingency: number;
  /** Oracle-confidence contingency (part of imContingency). */
  confidenceContingency: number;
  /** IM loss factor after the stable peg-loss adjustment. */
  imLossFactor: number;
  mmLossFactor: number;
  optionMtm: number;
  collateralMtm: number;
  perpMtm: number;
  cashUsd: number;
  expiries: Pmrm2ExpiryResult[];
}
