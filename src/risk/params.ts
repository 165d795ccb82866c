/**
 * The versioned parameter set of the portfolio (cross-underlying) risk layer.
 *
 * Every number carries its unit in its name. A margin figure is only reproducible together with the
 * parameters that produced it, so the engine reports `hashParams(params)` beside every result and any
 * change to a default here must bump `version`. Years are 365 days (`SECONDS_PER_YEAR` of ./math).
 */
import { InvalidInputError } from '../common/errors';
import { DERIVE_DEFAULT_PARAMS, type Pmrm2Params } from './pmrm2';

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

  scenario: {
    /** Horizon over which per-underlying scenario shocks are sized. */
    horizonSec: number;
    /** Shock size in EWMA standard deviations over `horizonSec`, before the per-underlying clamp. */
    spotShockSigmas: number;
    /** Grid of spot moves as fractions of the shock size; must contain -1, 0 and 1. */
    spotShockFractions: number[];
    /** Vol shocks of the grid (PMRM_2 directions); must contain 'none'. */
    volShocks: ('none' | 'up' | 'down')[];
    /** Add PMRM_2's linear and absolute skew-shock scenarios at unchanged spot. */
    includeSkewShocks: boolean;
    /** Contingency on |net perp contracts| x spot (not offset across underlyings). */
    perpContingencyPctNotional: number;
    /**
     * Everything else of the per-underlying PMRM_2 model (vol / skew shock sizes, static discounts,
     * loss factor, option contingencies). Its perp contingency is replaced by the one above so that
     * borrowed spot (Aave debt) is not charged as a perp.
     */
    pmrm2: Omit<Pmrm2Params, 'scenarios'>;
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
  scenario: {
    horizonSec: 86_400,
    spotShockSigmas: 4,
    spotShockFractions: [-1, -0.75, -0.5, -0.25, 0, 0.25, 0.5, 0.75, 1],
    volShocks: ['down', 'none', 'up'],
    includeSkewShocks: true,
    perpContingencyPctNotional: DERIVE_DEFAULT_PARAMS.other.mmPerpPercent,
    pmrm2: {
      volShock: DERIVE_DEFAULT_PARAMS.volShock,
      skewShock: DERIVE_DEFAULT_PARAMS.skewShock,
      // Shocks here are sized from volatility, not Derive's fixed +-18 %: losses count in full.
      margin: { ...DERIVE_DEFAULT_PARAMS.margin, mmFactor: 1, imFactor: 1 },
      basis: DERIVE_DEFAULT_PARAMS.basis,
      other: { ...DERIVE_DEFAULT_PARAMS.other, mmPerpPercent: 0, imPerpPercent: 0 },
    },
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

function bad(field: string, problem: string): never {
  throw new InvalidInputError(`params.${field}`, problem, {
    code: 'INVALID_PARAMS',
    hint: 'Fix the risk parameter set and bump its version.',
  });
}

function inRange(field: string, v: number, lo: number, hi: number, loOpen = false, hiOpen = false): void {
  const ok = Number.isFinite(v) && (loOpen ? v > lo : v >= lo) && (hiOpen ? v < hi : v <= hi);
  if (!ok) bad(field, `must be in ${loOpen ? '(' : '['}${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${v}`);
}

/** Checks a parameter set once, before use, naming the first bad field (`params.correlation.ewmaLambda`). */
export function validateRiskParams(p: RiskParams): void {
  if (typeof p.version !== 'string' || p.version.length === 0) bad('version', 'must be a non-empty string');
  inRange('scenario.horizonSec', p.scenario.horizonSec, 0, Number.MAX_VALUE, true);
  inRange('scenario.spotShockSigmas', p.scenario.spotShockSigmas, 0, 100, true);
  const f = p.scenario.spotShockFractions;
  f.forEach((x, i) => inRange(`scenario.spotShockFractions[${i}]`, x, -1, 1));
  if (!f.includes(1) || !f.includes(-1)) bad('scenario.spotShockFractions', 'must contain -1 and 1');
  if (!p.scenario.volShocks.includes('none')) bad('scenario.volShocks', "must contain 'none'");
  inRange('scenario.perpContingencyPctNotional', p.scenario.perpContingencyPctNotional, 0, 1);
  inRange('imToMmMultiplier', p.imToMmMultiplier, 1, 100);
  inRange('volatility.ewmaLambda', p.volatility.ewmaLambda, 0, 1, true, true);
  inRange('volatility.floorRatioToLongRun', p.volatility.floorRatioToLongRun, 0, 10);
  inRange('correlation.ewmaLambda', p.correlation.ewmaLambda, 0, 1, true, true);
  inRange('correlation.minObservations', p.correlation.minObservations, 1, 1e9);
  inRange('correlation.stressWeight', p.correlation.stressWeight, 0, 1);
  const v = p.valueAtRisk;
  inRange('valueAtRisk.horizonSec', v.horizonSec, 0, Number.MAX_VALUE, true);
  inRange('valueAtRisk.varConfidence', v.varConfidence, 0.5, 1, false, true);
  inRange('valueAtRisk.esConfidence', v.esConfidence, 0.5, 1, false, true);
  if (!Number.isInteger(v.monteCarloPaths) || v.monteCarloPaths < 100)
    bad('valueAtRisk.monteCarloPaths', 'must be an integer >= 100');
  if (!Number.isInteger(v.monteCarloSeed)) bad('valueAtRisk.monteCarloSeed', 'must be an integer');
  const nu = v.studentTDegreesOfFreedom;
  if (!(nu === 0 || (Number.isInteger(nu) && nu > 2 && nu <= 1000))) {
    bad('valueAtRisk.studentTDegreesOfFreedom', `must be 0 (normal) or an integer in [3, 1000], got ${nu}`);
  }
  for (const [name, u] of Object.entries(p.underlyings)) {
    if (!RISK_TIER_ORDER.includes(u.tier))
      bad(`underlyings.${name}.tier`, `must be one of ${RISK_TIER_ORDER.join(', ')}`);
    inRange(`underlyings.${name}.minSpotShockPct`, u.minSpotShockPct, 0, 0.99, true);
    inRange(`underlyings.${name}.maxSpotShockPct`, u.maxSpotShockPct, u.minSpotShockPct, 0.99);
  }
  for (const t of RISK_TIER_ORDER) {
    inRange(`collateral.tiers.${t}.baseHaircutPct`, p.collateral.tiers[t].baseHaircutPct, 0, 1);
    inRange(`collateral.tiers.${t}.maxVolAnnual`, p.collateral.tiers[t].maxVolAnnual, 0, Number.MAX_VALUE);
  }
  inRange('collateral.liquidationHorizonSec', p.collateral.liquidationHorizonSec, 0, Number.MAX_VALUE);
  inRange('collateral.liquidationSigmas', p.collateral.liquidationSigmas, 0, 100);
  inRange('concentration.freeOpenInterestFraction', p.concentration.freeOpenInterestFraction, 0, 1e9);
  inRange('concentration.addonPctPerExcessFraction', p.concentration.addonPctPerExcessFraction, 0, 1e9);
  inRange('concentration.maxAddonPct', p.concentration.maxAddonPct, 0, 1);
  inRange('liquidationImpact.coefficient', p.liquidationImpact.coefficient, 0, 1e9);
  inRange('liquidationImpact.maxImpactPct', p.liquidationImpact.maxImpactPct, 0, 1);
  inRange('oracle.freshAgeSec', p.oracle.freshAgeSec, 0, p.oracle.maxAgeSec);
  inRange('oracle.stalenessAddonPctPerHour', p.oracle.stalenessAddonPctPerHour, 0, 1);
  inRange('oracle.freeConfidencePct', p.oracle.freeConfidencePct, 0, p.oracle.maxConfidencePct);
  inRange('liquidationSearch.maxDownMovePct', p.liquidationSearch.maxDownMovePct, 0, 1, true, true);
  inRange('liquidationSearch.maxUpMovePct', p.liquidationSearch.maxUpMovePct, 0, 1e6, true);
  if (!Number.isInteger(p.liquidationSearch.scanSteps) || p.liquidationSearch.scanSteps < 1)
    bad('liquidationSearch.scanSteps', 'must be a positive integer');
  p.stressReplays.forEach((s, i) => {
    inRange(`stressReplays[${i}].volMultiplier`, s.volMultiplier, 0, 100);
    inRange(`stressReplays[${i}].otherSpotMovePct`, s.otherSpotMovePct, -1, 1e6, true);
    for (const [u, m] of Object.entries(s.spotMovePctByUnderlying))
      inRange(`stressReplays[${i}].spotMovePctByUnderlying.${u}`, m, -1, 1e6, true);
  });
}
