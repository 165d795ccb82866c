/**
 * Account-level types of the risk engine: what an indexer hands in (one account, every protocol,
 * on-chain amounts still `bigint` with their decimals) and what the engine returns.
 *
 * Nothing downstream of the adapters knows which protocol a position came from except through
 * `protocol` here. `validate.ts` turns an `AccountRiskInput` into a `NormalizedAccount` of float64 USD
 * and unit quantities; that is the one place token units become floats.
 */

export type Protocol = 'aave-v3' | 'perps' | 'options' | 'wallet';

/** A fixed-point on-chain number: `raw / 10^decimals`. */
export interface FixedPoint {
  raw: bigint;
  decimals: number;
}

/** Lending collateral (an aToken balance) or variable debt on Aave, per asset. */
export interface LendingPosition {
  kind: 'lending';
  protocol: 'aave-v3';
  side: 'collateral' | 'debt';
  /** Token symbol known to `market.assets`, e.g. `aWETH`, `USDC`. */
  asset: string;
  /** Balance in token units, non-negative; the side says which way it counts. */
  amount: FixedPoint;
}

/** A perpetual future on one underlying. */
export interface PerpPosition {
  kind: 'perp';
  protocol: 'perps';
  underlying: string;
  /** Signed size in base units (long > 0). */
  size: FixedPoint;
  entryPriceUsd: FixedPoint;
  lastPriceUsd: FixedPoint;
  /** Signed funding accrued to the account, not yet settled into margin. */
  accruedFundingUsd: FixedPoint;
  /** Collateral posted at the venue for this position (USD, non-negative). */
  venueMarginUsd: FixedPoint;
}

/** A European option on one underlying, priced off the expiry's forward and SVI smile. */
export interface OptionPosition {
  kind: 'option';
  protocol: 'options';
  underlying: string;
  optionType: 'call' | 'put';
  strikeUsd: FixedPoint;
  expirySec: number;
  /** Signed number of contracts, one contract per unit of underlying (long > 0). */
  amount: FixedPoint;
}

/** Cash or spot collateral held in a wallet or a venue: any ERC-20, aTokens included. */
export interface SpotPosition {
  kind: 'spot';
  protocol: Protocol;
  asset: string;
  /** Balance in token units, non-negative. */
  amount: FixedPoint;
}

export type Position = LendingPosition | PerpPosition | OptionPosition | SpotPosition;

/** An oracle price with its decimals, age and confidence (half-width, same decimals as the answer). */
export interface PriceFeed {
  answer: bigint;
  decimals: number;
  updatedAtSec: number;
  /** Absent when the oracle publishes no confidence interval. */
  confidence?: bigint;
}

/** A token the account can hold; aTokens name the underlying they redeem for. */
export interface AssetInfo {
  /** Priced from `market.prices[underlying]`; an aToken uses its underlying's price. */
  underlying: string;
  decimals: number;
  isAToken: boolean;
}

/** Raw SVI slice: total variance w(k) = a + b (rho (k - m) + sqrt((k - m)^2 + sigma^2)), k = ln(K / F). */
export interface SviSliceParams {
  a: number;
  b: number;
  rho: number;
  m: number;
  sigma: number;
}

export interface ExpirySlice {
  expirySec: number;
  forwardUsd: number;
  /** Continuously compounded annual rate used to discount the option payoff. */
  rateAnnual: number;
  svi: SviSliceParams;
}

/** Evenly spaced closes, oldest first; every series has the same length. */
export interface PriceHistory {
  intervalSec: number;
  closesUsdByUnderlying: Record<string, number[]>;
}

export interface LiquidityInfo {
  openInterestUsd: number;
  /** Depth a liquidation can consume (USD); scales the square-root impact. */
  depthUsd: number;
}

export interface MarketData {
  prices: Record<string, PriceFeed>;
  assets: Record<string, AssetInfo>;
  /** Expiry slices per underlying, for the options in the account. */
  volSurfaces: Record<string, ExpirySlice[]>;
  history: PriceHistory;
  liquidity: Record<string, LiquidityInfo>;
}

/** Market data at one block: shared by every account margined at that block (never copied). */
export interface MarketSnapshot {
  /** Valuation time; the engine never reads a clock. */
  asOfSec: number;
  market: MarketData;
}

/** One account's positions, margined against a prepared market (`prepareMarket`). */
export interface AccountPositions {
  account: string;
  positions: Position[];
}

/** One account with its market: the one-shot input of `computeAccountRisk`. */
export interface AccountRiskInput extends AccountPositions, MarketSnapshot {}

// ---------------------------------------------------------------------------------------------
// Normalized (float64) form, produced once by validate.ts.

export interface NormalizedPositionBase {
  /** Index in `AccountRiskInput.positions`, kept for error messages and breakdowns. */
  index: number;
  protocol: Protocol;
  underlying: string;
}

export interface NormalizedLinear extends NormalizedPositionBase {
  kind: 'linear';
  /** Signed units of the underlying: collateral and spot > 0, debt < 0. */
  quantity: number;
  /** Held collateral (subject to haircuts) as opposed to debt. */
  isCollateral: boolean;
  asset: string;
}

export interface NormalizedPerp extends NormalizedPositionBase {
  kind: 'perp';
  size: number;
  entryPriceUsd: number;
  lastPriceUsd: number;
  /** Venue margin plus accrued funding: USD cash that does not move with the underlying. */
  cashUsd: number;
}

export interface NormalizedOption extends NormalizedPositionBase {
  kind: 'option';
  isCall: boolean;
  strikeUsd: number;
  /** Time to expiry from `asOfSec`, in years (> 0). */
  expiryYears: number;
  expirySec: number;
  amount: number;
  forwardUsd: number;
  rateAnnual: number;
  /** Implied volatility from the expiry's SVI slice at this strike. */
  volAnnual: number;
  svi: SviSliceParams;
}

export type NormalizedPosition = NormalizedLinear | NormalizedPerp | NormalizedOption;

export interface NormalizedUnderlying {
  name: string;
  spotUsd: number;
  /** Oracle age at `asOfSec`. */
  priceAgeSec: number;
  /** Relative confidence half-width (0.001 = 0.1 %); 0 when the oracle publishes none. */
  confidencePct: number;
  /** Log returns over `history.intervalSec`, oldest first. */
  logReturns: Float64Array;
  liquidity: LiquidityInfo;
}

export interface NormalizedAccount {
  account: string;
  asOfSec: number;
  /** Sorted by name: the fixed iteration order of every loop over underlyings. */
  underlyings: NormalizedUnderlying[];
  positions: NormalizedPosition[];
  historyIntervalSec: number;
}

// ---------------------------------------------------------------------------------------------
// Output.

export interface Greeks {
  /** dV/dS in units of the underlying. */
  delta: number;
  /** delta x spot. */
  deltaUsd: number;
  /** d2V/dS2 per unit of underlying squared. */
  gamma: number;
  /** dV per +1 volatility point (0.01 absolute) on every smile. */
  vegaUsdPerVolPoint: number;
  /** Value change over one day with nothing else moving. */
  thetaUsdPerDay: number;
}

export interface UnderlyingBreakdown {
  underlying: string;
  spotUsd: number;
  volAnnual: number;
  mtmUsd: number;
  /** Size of the grid's full spot shock (fraction of spot). */
  spotShockPct: number;
  /** Worst loss on the underlying's own scenario grid (>= 0). */
  standaloneLossUsd: number;
  /** Directional part of the loss (positive: loses when the underlying falls). */
  directionalLossUsd: number;
  /** Non-directional (convexity / vol) part, never offset across underlyings. */
  nonDirectionalLossUsd: number;
  contingencyUsd: number;
  greeks: Greeks;
}

export interface ProtocolBreakdown {
  protocol: Protocol;
  mtmUsd: number;
  haircutUsd: number;
  /** Sum over underlyings of this protocol's standalone scenario losses: the requirement with no netting. */
  standaloneLossUsd: number;
}

export interface CollateralLine {
  positionIndex: number;
  asset: string;
  underlying: string;
  valueUsd: number;
  tier: string;
  effectiveTier: string;
  haircutPct: number;
  haircutUsd: number;
}

export interface AddonBreakdown {
  concentrationUsd: number;
  liquidationImpactUsd: number;
  oracleUsd: number;
  byUnderlying: { underlying: string; concentrationUsd: number; impactUsd: number; oracleUsd: number }[];
}

export interface ScenarioResult {
  name: string;
  pnlUsd: number;
}

export interface AccountRiskResult {
  account: string;
  asOfSec: number;
  paramsVersion: string;
  paramsHash: `0x${string}`;
  inputHash: `0x${string}`;
  mtmUsd: number;
  haircutUsd: number;
  /** MTM minus haircuts: what the account's holdings count for against margin. */
  adjustedEquityUsd: number;
  mmUsd: number;
  imUsd: number;
  freeCollateralUsd: number;
  shortfallUsd: number;
  /** Components of MM. */
  components: {
    /** Sum of standalone per-underlying losses (no offsets). */
    undiversifiedLossUsd: number;
    /** Correlation-aggregated scenario loss (offsets applied). */
    aggregatedLossUsd: number;
    offsetUsd: number;
    contingencyUsd: number;
    scenarioMarginUsd: number;
    historicalVarUsd: number;
    historicalEsUsd: number;
    monteCarloVarUsd: number;
    monteCarloEsUsd: number;
    /** max(scenario margin, VaR / ES floors). */
    coreMarginUsd: number;
    addonsUsd: number;
  };
  hedgeCorrelation: { underlyings: string[]; matrix: number[][] };
  byUnderlying: UnderlyingBreakdown[];
  byProtocol: ProtocolBreakdown[];
  collateral: CollateralLine[];
  addons: AddonBreakdown;
  /** Worst scenario of the underlying with the largest standalone loss (P&L < 0 is a loss). */
  worstScenario: {
    underlying: string;
    /** `spot-12.00%/vol-up`, `skew-linear`, or `basis` for PMRM_2's forward contingency. */
    name: string;
    spotMovePct: number;
    pnlUsd: number;
  } | null;
  stressReplays: ScenarioResult[];
  /** Market-wide move (non-stable underlyings together) that brings adjusted equity to MM; null if none in range. */
  liquidationDistance: { downMovePct: number | null; upMovePct: number | null };
}
