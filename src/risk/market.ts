/**
 * The market context: everything the account-level engine needs that depends only on the market
 * at one block and the parameter set, computed once and shared by every account margined at that
 * block.
 *
 * - Per underlying of the parameter set: the oracle price checks (kept, errors included, so the
 *   account step raises exactly what the reference would), EWMA volatility, scenario grid, haircut.
 * - For the market universe (every history series, sorted): EWMA correlation and the hedge
 *   correlation matrix, the repaired correlation and its Cholesky factor, the seeded Monte Carlo
 *   paths and the historical return scenarios, as spot multipliers per underlying and path.
 * - Per distinct option instrument (underlying x expiry x strike x call/put), registered on first
 *   use: its value under every PMRM_2 scenario (plus mark-to-market and the two basis scenarios),
 *   under every Monte Carlo path and historical scenario, every stress replay and every point of
 *   the liquidation-distance scan, and its Black-76 Greeks. Linear instruments (spot, aTokens,
 *   debt, perps) need no table: their value is an amount times a spot multiplier.
 *
 * Every table entry is computed with exactly the expression the reference (`reference.ts`) uses,
 * so the account step, which only sums `amount x row` in the reference's order, reproduces the
 * reference bit for bit.
 */
import { hashMarket, hashParams, type Hex32 } from './hash';
import { black76Greeks, black76PriceUnchecked, SECONDS_PER_YEAR, sviVolUnchecked } from './math';
import { haircutPct } from './collateral';
import { DEFAULT_RISK_PARAMS, validateRiskParams, type RiskParams, type RiskTier } from './params';
import { validateParams, type Pmrm2Params, type Pmrm2Scenario } from './pmrm2';
import {
  forwardSplit,
  skewCapAndKStar,
  skewMultiplier,
  skewVariant,
  staticDiscounts,
  volShockMultipliers,
} from './pmrm2/model';
import { riskModelOptions, scenarioGrid, scenarioName, spotShockPct } from './reference';
import { estimateEwmaRiskModel, hedgeCorrelation } from './stats/ewma';
import { cholesky, repairCorrelation } from './stats/linalg';
import { monteCarloMoves, tailMeasures } from './stats/var';
import type { MarketData, MarketSnapshot, NormalizedOption, OptionPosition } from './types';
import {
  checkMarketSnapshot,
  checkUnderlying,
  marketUniverse,
  normalizePositions,
  raiseUnderlyingErrors,
  type UnderlyingCheck,
} from './validate';

/** One underlying of the market universe. */
export interface UnderlyingContext {
  name: string;
  /** Position in the universe (sorted by name). */
  u: number;
  check: UnderlyingCheck;
  spotUsd: number;
  volAnnual: number;
  isStable: boolean;
  tier: RiskTier;
  haircutPct: number;
  effectiveTier: RiskTier;
  /** PMRM_2 grid of this underlying (sized from its volatility). */
  spotShockPct: number;
  pmrmParams: Pmrm2Params;
  scenarioIsSkew: Uint8Array;
  scenarioSpotShock: Float64Array;
  scenarioDampening: Float64Array;
  scenarioNames: string[];
  upIndex: number;
  downIndex: number;
  /** Spot multipliers: Monte Carlo paths, historical scenarios, stress replays. */
  mcMult: Float64Array;
  histMult: Float64Array;
  stressMult: Float64Array;
  /** Screening bounds: ES at the strictest confidence of the loss of +1 / -1 USD of delta-one notional. */
  esMcLong: number;
  esMcShort: number;
  esHistLong: number;
  esHistShort: number;
  /** Smallest / largest spot multiplier of the Monte Carlo paths and of the historical scenarios. */
  mcMinMult: number;
  mcMaxMult: number;
  histMinMult: number;
  histMaxMult: number;
  /** Largest spot multiplier over all VaR scenarios (for rounding slack). */
  maxMult: number;
}

/** One distinct option, valued once under every scenario of the context. */
export interface OptionInstrument {
  u: number;
  expirySec: number;
  strikeUsd: number;
  isCall: boolean;
  // Full-revaluation side (VaR, stress, liquidation distance, MTM): smile vol, forward moving with spot.
  years: number;
  volAnnual: number;
  forwardUsd: number;
  rateAnnual: number;
  v0: number;
  /** Values under every Monte Carlo path / historical scenario: filled on first use (`optionRows`). */
  mc: Float64Array | null;
  hist: Float64Array | null;
  stress: Float64Array;
  /**
   * Values at the liquidation scan points (step s at index s - 1), filled on first use
   * (`optionScan`); they stay null on a stable underlying, whose multiplier never moves.
   */
  scanDown: Float64Array | null;
  scanUp: Float64Array | null;
  /** Largest |value| over every VaR scenario (bounds the rounding of the reference's sums). */
  maxAbsValue: number;
  // Greeks (delta already chosen for call / put).
  delta: number;
  gamma: number;
  vega: number;
  theta: number;
  fOverS: number;
  // PMRM_2 side: [mtm, basis up, basis down, scenario 0, ...], and the expiry's constants.
  pmrm: Float64Array;
  staticDiscountPos: number;
  staticDiscountNeg: number;
  basisFactor: number;
  /**
   * Screening bounds: the largest loss of one long / short contract over the Monte Carlo paths and
   * the historical scenarios. At fixed vol a call's value rises and a put's falls with the forward,
   * so the largest loss over a set of spot multipliers is at its smallest or largest one.
   */
  esMcLong: number;
  esMcShort: number;
  esHistLong: number;
  esHistShort: number;
}

export interface MarketContext {
  params: RiskParams;
  paramsHash: Hex32;
  marketHash: Hex32;
  asOfSec: number;
  market: MarketData;
  intervalSec: number;
  /** Checks of every underlying of the parameter set, by name. */
  checks: Map<string, UnderlyingCheck>;
  /** Error of the market universe (a bad history series); raised after the account's own checks. */
  universeError: unknown;
  underlyings: UnderlyingContext[];
  byName: Map<string, UnderlyingContext>;
  /** Hedge-credit correlation of the universe, row-major. */
  hedge: Float64Array;
  mcPaths: number;
  histScenarios: number;
  /** Confidence of the screening bound: max(VaR, ES confidence). */
  screenConfidence: number;
  /** Liquidation scan: spot multipliers 1 - maxDown s / steps and 1 + maxUp s / steps, s = 1..steps. */
  scanMultDown: Float64Array;
  scanMultUp: Float64Array;
  options: OptionInstrument[];
  optionIds: Map<string, number>;
  /** `optionKey` of every option, in id order. */
  optionKeys: string[];
}

/**
 * Builds the market context at one block. Throws on invalid parameters or a malformed market
 * object; data errors of single underlyings (a stale price, a bad series) are kept and raised for
 * the accounts that hold them, as the reference does.
 */
export function prepareMarket(
  snapshot: MarketSnapshot,
  params: RiskParams = DEFAULT_RISK_PARAMS,
  listedOptions: readonly OptionPosition[] = [],
): MarketContext {
  validateRiskParams(params);
  const { asOfSec, market, intervalSec } = checkMarketSnapshot(snapshot);
  const checks = new Map<string, UnderlyingCheck>();
  for (const name of Object.keys(params.underlyings).sort()) {
    checks.set(name, checkUnderlying(name, asOfSec, market, params));
  }
  const ls = params.liquidationSearch;
  const scanMultDown = new Float64Array(ls.scanSteps);
  const scanMultUp = new Float64Array(ls.scanSteps);
  for (let s = 1; s <= ls.scanSteps; s++) {
    scanMultDown[s - 1] = 1 + -1 * ((ls.maxDownMovePct * s) / ls.scanSteps);
    scanMultUp[s - 1] = 1 + 1 * ((ls.maxUpMovePct * s) / ls.scanSteps);
  }
  const v = params.valueAtRisk;
  const ctx: MarketContext = {
    params,
    paramsHash: hashParams(params),
    marketHash: hashMarket(market),
    asOfSec,
    market,
    intervalSec,
    checks,
    universeError: null,
    underlyings: [],
    byName: new Map(),
    hedge: new Float64Array(0),
    mcPaths: v.monteCarloPaths,
    histScenarios: 0,
    screenConfidence: Math.max(v.varConfidence, v.esConfidence),
    scanMultDown,
    scanMultUp,
    options: [],
    optionIds: new Map(),
    optionKeys: [],
  };
  let universe: { names: string[]; logReturns: Float64Array[] };
  try {
    universe = marketUniverse(market, params);
  } catch (e) {
    ctx.universeError = e;
    return ctx;
  }
  const n = universe.names.length;
  const model = estimateEwmaRiskModel(
    universe.logReturns,
    riskModelOptions({ historyIntervalSec: intervalSec }, params),
  );
  ctx.hedge = hedgeCorrelation(model, params.correlation.stressWeight);
  const horizonVol = model.volAnnual.map((s) => s * Math.sqrt(v.horizonSec / SECONDS_PER_YEAR));
  const chol = cholesky(repairCorrelation(model.correlation, n), n);
  const moves = monteCarloMoves(horizonVol, chol, {
    paths: v.monteCarloPaths,
    seed: v.monteCarloSeed,
    studentTDegreesOfFreedom: v.studentTDegreesOfFreedom,
  });
  const horizonScale = Math.sqrt(v.horizonSec / intervalSec);
  const histLen = n === 0 ? 0 : universe.logReturns[0]!.length;
  ctx.histScenarios = histLen;
  const pmrmBase = params.scenario.pmrm2;
  universe.names.forEach((name, u) => {
    const check = checks.get(name)!;
    const volAnnual = model.volAnnual[u]!;
    const up = params.underlyings[name]!;
    const shockPct = spotShockPct(name, volAnnual, params);
    const scenarios: Pmrm2Scenario[] = scenarioGrid(shockPct, params);
    const pmrmParams: Pmrm2Params = { ...pmrmBase, scenarios };
    const mcMult = new Float64Array(v.monteCarloPaths);
    for (let p = 0; p < mcMult.length; p++) mcMult[p] = Math.exp(moves[u]![p]!);
    const histMult = new Float64Array(histLen);
    const r = universe.logReturns[u]!;
    for (let t = 0; t < histLen; t++) histMult[t] = Math.exp(r[t]! * horizonScale);
    const stressMult = Float64Array.from(
      params.stressReplays,
      (s) => 1 + (s.spotMovePctByUnderlying[name] ?? s.otherSpotMovePct),
    );
    const h = haircutPct(up.tier, volAnnual, params.collateral);
    const unitLoss = (mult: Float64Array, sign: number) => Float64Array.from(mult, (m) => -sign * (m - 1));
    let [mcMinMult, mcMaxMult, histMinMult, histMaxMult] = [1, 1, 1, 1];
    for (const m of mcMult) [mcMinMult, mcMaxMult] = [Math.min(mcMinMult, m), Math.max(mcMaxMult, m)];
    for (const m of histMult)
      [histMinMult, histMaxMult] = [Math.min(histMinMult, m), Math.max(histMaxMult, m)];
    const maxMult = Math.max(mcMaxMult, histMaxMult);
    const und: UnderlyingContext = {
      name,
      u,
      check,
      spotUsd: check.spotUsd,
      volAnnual,
      isStable: up.isStable,
      tier: up.tier,
      haircutPct: h.haircutPct,
      effectiveTier: h.effectiveTier,
      spotShockPct: shockPct,
      pmrmParams,
      scenarioIsSkew: Uint8Array.from(scenarios, (s) =>
        s.volShock === 'linear' || s.volShock === 'abs' ? 1 : 0,
      ),
      scenarioSpotShock: Float64Array.from(scenarios, (s) => s.spotShock),
      scenarioDampening: Float64Array.from(scenarios, (s) => s.dampeningFactor),
      scenarioNames: [...scenarios.map((s) => scenarioName(s)), scenarioName(undefined)],
      upIndex: scenarios.findIndex((s) => s.volShock === 'none' && s.spotShock === 1 + shockPct),
      downIndex: scenarios.findIndex((s) => s.volShock === 'none' && s.spotShock === 1 - shockPct),
      mcMult,
      histMult,
      stressMult,
      esMcLong: tailMeasures(unitLoss(mcMult, 1), ctx.screenConfidence).esUsd,
      esMcShort: tailMeasures(unitLoss(mcMult, -1), ctx.screenConfidence).esUsd,
      esHistLong: tailMeasures(unitLoss(histMult, 1), ctx.screenConfidence).esUsd,
      esHistShort: tailMeasures(unitLoss(histMult, -1), ctx.screenConfidence).esUsd,
      mcMinMult,
      mcMaxMult,
      histMinMult,
      histMaxMult,
      maxMult,
    };
    ctx.underlyings.push(und);
    ctx.byName.set(name, und);
  });
  if (ctx.underlyings.length > 0) validateParams(ctx.underlyings[0]!.pmrmParams);
  registerListedOptions(ctx, listedOptions);
  return ctx;
}

/**
 * Values the venue's listed options up front, in listing order: a context prepared at the next
 * block with the same listing gives every option the same id, so a prepared book stays valid.
 * Listing entries are option positions (their amount is ignored), validated like an account's.
 */
export function registerListedOptions(ctx: MarketContext, listedOptions: readonly OptionPosition[]): void {
  if (listedOptions.length === 0) return;
  if (ctx.universeError !== null) throw ctx.universeError;
  for (const p of normalizePositions(listedOptions, ctx.asOfSec, ctx.market, ctx.params)) {
    if (p.kind !== 'option') continue;
    const check = ctx.checks.get(p.underlying)!;
    raiseUnderlyingErrors([check]);
    optionInstrument(ctx, p);
  }
}

function optionKey(o: { underlying: string; expirySec: number; strikeUsd: number; isCall: boolean }): string {
  return `${o.underlying}|${o.expirySec}|${o.strikeUsd}|${o.isCall ? 'C' : 'P'}`;
}

/** Black-76 value of an option in a full revaluation, exactly as `stats/revalue.ts` prices it. */
export function revaluedOption(o: OptionInstrument, spotMult: number, volMult: number): number {
  const t = Math.max(0, o.years - 0);
  const f = o.forwardUsd * spotMult;
  return black76PriceUnchecked(
    o.isCall,
    t,
    o.volAnnual * volMult,
    f,
    o.strikeUsd,
    Math.exp(-o.rateAnnual * t),
  );
}

/**
 * Id of a (validated, normalized) option in the context, valuing it under every scenario the first
 * time it is seen. The option's underlying must be in the universe (the account step checks).
 */
export function optionInstrument(ctx: MarketContext, o: NormalizedOption): number {
  const key = optionKey(o);
  const known = ctx.optionIds.get(key);
  if (known !== undefined) return known;
  const und = ctx.byName.get(o.underlying)!;
  const base: OptionInstrument = {
    u: und.u,
    expirySec: o.expirySec,
    strikeUsd: o.strikeUsd,
    isCall: o.isCall,
    years: o.expiryYears,
    volAnnual: o.volAnnual,
    forwardUsd: o.forwardUsd,
    rateAnnual: o.rateAnnual,
    v0: 0,
    mc: null,
    hist: null,
    stress: new Float64Array(ctx.params.stressReplays.length),
    scanDown: null,
    scanUp: null,
    maxAbsValue: 0,
    delta: 0,
    gamma: 0,
    vega: 0,
    theta: 0,
    fOverS: o.forwardUsd / und.spotUsd,
    pmrm: new Float64Array(3 + und.pmrmParams.scenarios.length),
    staticDiscountPos: 0,
    staticDiscountNeg: 0,
    basisFactor: 0,
    esMcLong: 0,
    esMcShort: 0,
    esHistLong: 0,
    esHistShort: 0,
  };
  // Full revaluation: base value, stress replays and the screening bounds now; the Monte Carlo,
  // historical and scan rows when an account first needs them.
  base.v0 = revaluedOption(base, 1, 1);
  ctx.params.stressReplays.forEach((s, r) => {
    base.stress[r] = revaluedOption(base, und.stressMult[r]!, s.volMultiplier);
  });
  const ends = [und.mcMinMult, und.mcMaxMult, und.histMinMult, und.histMaxMult].map((m) =>
    revaluedOption(base, m, 1),
  );
  const v0 = base.v0;
  base.esMcLong = Math.max(v0 - ends[0]!, v0 - ends[1]!);
  base.esMcShort = Math.max(ends[0]! - v0, ends[1]! - v0);
  base.esHistLong = Math.max(v0 - ends[2]!, v0 - ends[3]!);
  base.esHistShort = Math.max(ends[2]! - v0, ends[3]! - v0);
  base.maxAbsValue = Math.max(Math.abs(v0), ...ends.map(Math.abs));
  const g = black76Greeks({
    timeToExpirySec: o.expiryYears * SECONDS_PER_YEAR,
    volAnnual: o.volAnnual,
    forwardUsd: o.forwardUsd,
    strikeUsd: o.strikeUsd,
    discount: Math.exp(-o.rateAnnual * o.expiryYears),
  });
  base.delta = o.isCall ? g.callDelta : g.putDelta;
  base.gamma = g.gamma;
  base.vega = g.vega;
  base.theta = o.isCall ? g.callTheta : g.putTheta;

  // PMRM_2 side, as `arrangePmrm2` / `shockedExpiryValue` value one option of an expiry.
  const params = und.pmrmParams;
  const timeToExpirySec = Math.max(0, o.expirySec - ctx.asOfSec);
  const timeYears = timeToExpirySec / SECONDS_PER_YEAR;
  const rateAnnual = Math.max(o.rateAnnual, 0);
  const discount = Math.exp(-rateAnnual * timeYears);
  const { forwardVariableUsd, forwardFixedUsd } = forwardSplit(o.forwardUsd, timeToExpirySec);
  const vol = sviVolUnchecked(o.strikeUsd, { ...o.svi, forwardUsd: o.forwardUsd, tauYears: o.expiryYears });
  const shocks = volShockMultipliers(timeToExpirySec, params);
  const disc = staticDiscounts(timeYears, rateAnnual, discount, params);
  base.staticDiscountPos = disc.pos;
  base.staticDiscountNeg = disc.neg;
  base.basisFactor = params.basis.addFactor + params.basis.multFactor * timeYears;
  const price = (forward: number, v: number) =>
    black76PriceUnchecked(o.isCall, timeYears, v, forward, o.strikeUsd, discount);
  const value = (spotShock: number, volMultiplier: number, minVol: number) =>
    price(forwardVariableUsd * spotShock + forwardFixedUsd, Math.max(minVol, vol * volMultiplier));
  const mtm = value(1, 1, 0);
  base.pmrm[0] = mtm;
  base.pmrm[1] = value(params.basis.scenarioSpotUp, 1, 0);
  base.pmrm[2] = value(params.basis.scenarioSpotDown, 1, 0);
  params.scenarios.forEach((s, i) => {
    let x: number;
    switch (s.volShock) {
      case 'none':
        x = s.spotShock === 1 ? mtm : value(s.spotShock, 1, 0);
        break;
      case 'up':
        x = value(s.spotShock, shocks.up, params.volShock.minVolUpShock);
        break;
      case 'down':
        x = value(s.spotShock, shocks.down, 0);
        break;
      case 'linear':
      case 'abs': {
        const variant = skewVariant(s.volShock, s.spotShock);
        const forward = forwardVariableUsd + forwardFixedUsd;
        const { multCap, kStar } = skewCapAndKStar(timeYears, variant.capFromLinear, params);
        const k = Math.log(o.strikeUsd / forward);
        const mult = skewMultiplier(variant.signedK ? k : Math.abs(k), multCap, kStar);
        x = price(forward, vol * Math.max(mult, 0));
        break;
      }
    }
    base.pmrm[3 + i] = x;
  });
  const id = ctx.options.length;
  ctx.options.push(base);
  ctx.optionIds.set(key, id);
  ctx.optionKeys.push(key);
  return id;
}

/** Monte Carlo and historical rows of an option, computed on first use. */
export function optionRows(
  ctx: MarketContext,
  o: OptionInstrument,
): { mc: Float64Array; hist: Float64Array } {
  if (o.mc === null || o.hist === null) {
    const und = ctx.underlyings[o.u]!;
    o.mc = Float64Array.from(und.mcMult, (m) => revaluedOption(o, m, 1));
    o.hist = Float64Array.from(und.histMult, (m) => revaluedOption(o, m, 1));
  }
  return { mc: o.mc, hist: o.hist };
}

/** Liquidation-scan rows of an option (null on a stable underlying), computed on first use. */
export function optionScan(ctx: MarketContext, o: OptionInstrument): void {
  if (o.scanDown !== null || ctx.underlyings[o.u]!.isStable) return;
  o.scanDown = Float64Array.from(ctx.scanMultDown, (m) => revaluedOption(o, m, 1));
  o.scanUp = Float64Array.from(ctx.scanMultUp, (m) => revaluedOption(o, m, 1));
}

/**
 * Fills every lazily computed row of every known option (Monte Carlo, historical, liquidation
 * scan). Optional: run it after the book pass so that single-account requests at this block never
 * pay for valuing an instrument's rows.
 */
export function completeMarket(ctx: MarketContext): void {
  for (const o of ctx.options) {
    optionRows(ctx, o);
    optionScan(ctx, o);
  }
}
