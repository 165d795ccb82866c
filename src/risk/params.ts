/**
 * The versioned parameter set of the portfolio (cross-underlying) risk layer.
 *
 * Every number carries its unit in its name. A margin figure is only reproducible together with the
 * parameters that produced it, so the engine reports `hashParams(params)` beside every result and any
 * change to a default here must bump `version`.
 */

/** Collateral risk tier, best first. Volatility can demote an asset to a worse tier, never promote it. */
export type RiskTier = 'S' | 'A' | 'B' | 'C';
export const RISK_TIER_ORDER: readonly RiskTier[] = ['S', 'A', 'B', 'C'];

export interface TierParams {
  /** Minimum haircut on collateral value in this tier (0.05 = 5 %). */
  baseHaircutPct: number;
  /** Above this realized annual volatility the asset is demoted to the next tier. */
  maxVolAnnual: number;
}

export interface UnderlyingParams {
  /** Risk tier of the underlying and of every token priced from it (aTokens included). */
  tier: RiskTier;
  /** Stablecoins are kept out of the market-wide move used for the liquidation distance. */
  isStable: boolean;
  /** The per-underlying scenario spot shock never goes below / above these fractions. */
  minSpotShockPct: number;
  maxSpotShockPct: number;
}

export interface StressReplayParams {
  name: string;
  /** Spot moves by underlying (-0.3 = -30 %); underlyings not listed use `otherSpotMovePct`. */
  spotMovePctByUnderlying: Record<string, number>;
  otherSpotMovePct: number;
  /** Implied volatility multiplier applied to every smile (1.5 = vol up 50 %). */
  volMultiplier: number;
}

export interface RiskParams {
  /** Bump on any change; part of the parameter hash. */
  version: string;
  secondsPerYear: number;

  scenario: {
    /** Horizon over which per-underlying scenario shocks are sized. */
    horizonSec: number;
    /** Shock size in EWMA standard deviations over `horizonSec`, before the per-underlying clamp. */
    spotShockSigmas: number;
    /** Grid of spot moves as fractions of the shock size; must contain -1, 0 and 1. */
    spotShockFractions: number[];
    /** Implied volatility multipliers of the grid; must contain 1. */
    volMultipliers: number[];
    /** Contingency per short option contract, as a fraction of spot (not offset across underlyings). */
    shortOptionContingencyPctSpot: number;
    /** Contingency on perp notional (basis / funding risk, not offset across underlyings). */
    perpContingencyPctNotional: number;
  };

  /** IM = MM x this multiplier. */
  imToMmMultiplier: number;

  volatility: {
    ewmaLambda: number;
    /** Used volatility is at least this fraction of the equally weighted long-run volatility. */
    floorRatioToLongRun: number;
  };

  correlation: {
    ewmaLambda: number;
    /** The first EWMA correlations are noisy; the worst-observed search starts after this many returns. */
    minObservations: number;
    /** Weight of the worst observed correlation in the hedge-credit correlation (0 = current EWMA only). */
    stressWeight: number;
  };

  valueAtRisk: {
    horizonSec: number;
    varConfidence: number;
    esConfidence: number;
    monteCarloPaths: number;
    monteCarloSeed: number;
    /** Student-t degrees of freedom for Monte Carlo; 0 draws correlated normals. */
    studentTDegreesOfFreedom: number;
  };

  stressReplays: StressReplayParams[];

  underlyings: Record<string, UnderlyingParams>;

  collateral: {
    tiers: Record<RiskTier, TierParams>;
    /** Haircut is at least `liquidationSigmas` standard deviations of the price over `liquidationHorizonSec`. */
    liquidationHorizonSec: number;
    liquidationSigmas: number;
  };

  concentration: {
    /** Net notional up to this fraction of open interest carries no add-on. */
    freeOpenInterestFraction: number;
    /** Add-on rate per unit of open-interest fraction above the free fraction. */
    addonPctPerExcessFraction: number;
    maxAddonPct: number;
  };

  /** Square-root impact: cost fraction = coefficient x sqrt(|net notional| / depthUsd). */
  liquidationImpact: {
    coefficient: number;
    maxImpactPct: number;
  };

  oracle: {
    /** Prices younger than this carry no staleness add-on. */
    freshAgeSec: number;
    /** Prices older than this are rejected. */
    maxAgeSec: number;
    /** Add-on on gross exposure per hour of age beyond `freshAgeSec`. */
    stalenessAddonPctPerHour: number;
    /** Relative confidence half-width up to this fraction carries no add-on. */
    freeConfidencePct: number;
    /** Relative confidence half-width above this fraction is rejected. */
    maxConfidencePct: number;
  };

  liquidationSearch: {
    /** Market-wide moves searched: down to -maxDownMovePct, up to +maxUpMovePct. */
    maxDownMovePct: number;
    maxUpMovePct: number;
    scanSteps: number;
    bisectionIterations: number;
  };
}

export const DEFAULT_RISK_PARAMS: RiskParams = {
  version: 'netmargin-portfolio-risk/1.0.0',
  secondsPerYear: 31_536_000,
  scenario: {
    horizonSec: 86_400,
    spotShockSigmas: 4,
    spotShockFractions: [-1, -0.75, -0.5, -0.25, 0, 0.25, 0.5, 0.75, 1],
    volMultipliers: [0.7, 1, 1.5],
    shortOptionContingencyPctSpot: 0.002,
    perpContingencyPctNotional: 0.001,
  },
  imToMmMultiplier: 1.3,
  volatility: { ewmaLambda: 0.94, floorRatioToLongRun: 0.5 },
  correlation: { ewmaLambda: 0.94, minObservations: 20, stressWeight: 0.5 },
  valueAtRisk: {
    horizonSec: 3_600,
    varConfidence: 0.99,
    esConfidence: 0.975,
    monteCarloPaths: 4_000,
    monteCarloSeed: 20_240_601,
    studentTDegreesOfFreedom: 5,
  },
  stressReplays: [
    {
      name: 'eth-crash-30pct-vol-spike',
      spotMovePctByUnderlying: { ETH: -0.3, BTC: -0.2, OP: -0.45 },
      otherSpotMovePct: 0,
      volMultiplier: 1.8,
    },
    {
      name: 'stablecoin-depeg-10pct',
      spotMovePctByUnderlying: { USDC: -0.1, USDT: -0.1, DAI: -0.1 },
      otherSpotMovePct: 0,
      volMultiplier: 1.2,
    },
    {
      name: 'btc-eth-decorrelation',
      spotMovePctByUnderlying: { BTC: 0.1, ETH: -0.15, OP: -0.2 },
      otherSpotMovePct: 0,
      volMultiplier: 1.3,
    },
  ],
  underlyings: {
    ETH: { tier: 'A', isStable: false, minSpotShockPct: 0.08, maxSpotShockPct: 0.5 },
    BTC: { tier: 'A', isStable: false, minSpotShockPct: 0.07, maxSpotShockPct: 0.5 },
    OP: { tier: 'B', isStable: false, minSpotShockPct: 0.15, maxSpotShockPct: 0.7 },
    USDC: { tier: 'S', isStable: true, minSpotShockPct: 0.01, maxSpotShockPct: 0.2 },
    USDT: { tier: 'S', isStable: true, minSpotShockPct: 0.015, maxSpotShockPct: 0.2 },
    DAI: { tier: 'S', isStable: true, minSpotShockPct: 0.015, maxSpotShockPct: 0.2 },
  },
  collateral: {
    tiers: {
      S: { baseHaircutPct: 0.01, maxVolAnnual: 0.1 },
      A: { baseHaircutPct: 0.05, maxVolAnnual: 1.0 },
      B: { baseHaircutPct: 0.15, maxVolAnnual: 1.6 },
      C: { baseHaircutPct: 0.3, maxVolAnnual: Number.MAX_VALUE },
    },
    liquidationHorizonSec: 3_600,
    liquidationSigmas: 3,
  },
  concentration: { freeOpenInterestFraction: 0.02, addonPctPerExcessFraction: 0.5, maxAddonPct: 0.25 },
  liquidationImpact: { coefficient: 0.1, maxImpactPct: 0.5 },
  oracle: {
    freshAgeSec: 120,
    maxAgeSec: 3_600,
    stalenessAddonPctPerHour: 0.02,
    freeConfidencePct: 0.002,
    maxConfidencePct: 0.05,
  },
  liquidationSearch: { maxDownMovePct: 0.99, maxUpMovePct: 10, scanSteps: 400, bisectionIterations: 60 },
};
