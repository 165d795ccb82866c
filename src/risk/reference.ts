/**
 * REFERENCE implementation of the account-level risk engine: one account's positions across Aave,
 * perps and options, netted into one maintenance and initial margin, computed the straightforward
 * way (every option repriced with Black-76 in every scenario, every breakdown recomputed from its
 * slice of the book). It is the specification the fast engine (`engine.ts`: market context +
 * account step) must reproduce bit for bit; tests and `npm run bench:risk` compare the two. Keep it
 * simple rather than fast.
 *
 * Gather first, then compute. `normalizeAccount` validates the input and converts token units to
 * float64 once; from there on everything is a pure function of (normalized account, params):
 *
 *   1. EWMA volatility / correlation from price history, with stress floors (stats/ewma).
 *   2. Per-underlying scenario margin with the PMRM_2-compatible model (../pmrm2) on a grid sized
 *      from each underlying's volatility: standalone worst loss, its directional part, contingencies.
 *   3. Correlation offsets across underlyings (stats/aggregate): only directional risk nets, only
 *      between opposite exposures, with hedge credit from a stressed correlation.
 *   4. Historical and Monte Carlo VaR / ES of the full revaluation as a floor (stats/var). Monte Carlo
 *      draws joint moves for the market's whole universe of underlyings (`marketUniverse`), so the
 *      paths are a property of the market at a block, shared by every account.
 *   5. Concentration, liquidation-impact and oracle add-ons (addons/), collateral haircuts
 *      (collateral/), stress replays, and the market move that would breach MM.
 *
 * MM = max(scenario margin, VaR, ES) + add-ons;  IM = MM x imToMmMultiplier;
 * adjusted equity = MTM - haircuts;  free collateral = adjusted equity - IM.
 * See docs/risk-model.md, "Cross-underlying aggregation" and below.
 */
import { InvalidInputError } from '../common/errors';
import { concentrationAddonUsd, liquidationImpactUsd, oracleAddonUsd } from './addons';
import { valueCollateral } from './collateral';
import { hashInputs, hashParams } from './hash';
import { SECONDS_PER_YEAR } from './math';
import { DEFAULT_RISK_PARAMS, validateRiskParams, type RiskParams } from './params';
import { computePmrm2, type Pmrm2Params, type Pmrm2Portfolio, type Pmrm2Scenario } from './pmrm2';
import { aggregateLosses, type UnderlyingLoss } from './stats/aggregate';
import { estimateEwmaRiskModel, hedgeCorrelation, type EwmaOptions, type EwmaRiskModel } from './stats/ewma';
import { cholesky, repairCorrelation } from './stats/linalg';
import { bookGreeks, bookPnl, bookValue, buildBook, type RevaluationBook } from './stats/revalue';
import { historicalLosses, monteCarloLosses, tailMeasures } from './stats/var';
import { marketUniverse, normalizeAccount } from './validate';
import type {
  AccountRiskInput,
  AccountRiskResult,
  NormalizedAccount,
  Protocol,
  ProtocolBreakdown,
  UnderlyingBreakdown,
} from './types';

/** Per-underlying result of the PMRM_2 grid, aligned with `account.underlyings`. */
export interface UnderlyingScenarioLoss extends UnderlyingLoss {
  spotShockPct: number;
  worstScenarioName: string;
  worstSpotMovePct: number;
  worstPnlUsd: number;
}

/** Full spot shock of underlying i: spotShockSigmas x σ x sqrt(horizon), clamped per underlying. */
export function spotShockPct(name: string, volAnnual: number, params: RiskParams): number {
  const u = params.underlyings[name]!;
  const raw =
    params.scenario.spotShockSigmas * volAnnual * Math.sqrt(params.scenario.horizonSec / SECONDS_PER_YEAR);
  return Math.min(u.maxSpotShockPct, Math.max(u.minSpotShockPct, raw));
}

export function scenarioGrid(shockPct: number, params: RiskParams): Pmrm2Scenario[] {
  const grid: Pmrm2Scenario[] = [];
  for (const f of params.scenario.spotShockFractions) {
    for (const volShock of params.scenario.volShocks) {
      grid.push({ spotShock: 1 + f * shockPct, volShock, dampeningFactor: 1 });
    }
  }
  if (params.scenario.includeSkewShocks) {
    grid.push({ spotShock: 1, volShock: 'linear', dampeningFactor: 1 });
    grid.push({ spotShock: 1, volShock: 'abs', dampeningFactor: 1 });
  }
  return grid;
}

export function scenarioName(s: Pmrm2Scenario | undefined): string {
  if (!s) return 'basis';
  if (s.volShock === 'linear' || s.volShock === 'abs') return `skew-${s.volShock}`;
  return `spot${s.spotShock >= 1 ? '+' : ''}${((s.spotShock - 1) * 100).toFixed(2)}%/vol-${s.volShock}`;
}

/** The PMRM_2 portfolio of one underlying: options with their expiry feeds, net linear exposure. */
function pmrm2Portfolio(
  account: NormalizedAccount,
  i: number,
): { portfolio: Pmrm2Portfolio; perpContracts: number } {
  const u = account.underlyings[i]!;
  let spotLike = 0;
  let perpContracts = 0;
  const options: Pmrm2Portfolio['options'][number][] = [];
  const feeds = new Map<number, Pmrm2Portfolio['expiryFeeds'][number]>();
  for (const p of account.positions) {
    if (p.underlying !== u.name) continue;
    if (p.kind === 'linear') spotLike += p.quantity;
    else if (p.kind === 'perp') perpContracts += (p.size * p.lastPriceUsd) / u.spotUsd;
    else {
      const timeToExpirySec = p.expirySec - account.asOfSec;
      options.push({ timeToExpirySec, strikeUsd: p.strikeUsd, isCall: p.isCall, amount: p.amount });
      if (!feeds.has(p.expirySec)) {
        feeds.set(p.expirySec, {
          timeToExpirySec,
          forwardUsd: p.forwardUsd,
          forwardConfidence: 1,
          rateAnnual: p.rateAnnual,
          rateConfidence: 1,
          svi: { ...p.svi, forwardUsd: p.forwardUsd, tauYears: p.expiryYears },
          volConfidence: 1,
        });
      }
    }
  }
  // Held spot is risk-cancelling collateral; net borrowed spot moves like a short perp. Haircuts and
  // oracle confidence are handled at account level, so both are neutral here.
  const portfolio: Pmrm2Portfolio = {
    cashUsd: 0,
    collaterals:
      spotLike > 0
        ? [
            {
              name: u.name,
              amount: spotLike,
              priceUsd: u.spotUsd,
              confidence: 1,
              isRiskCancelling: true,
              mmHaircut: 0,
              imHaircut: 0,
            },
          ]
        : [],
    spotUsd: u.spotUsd,
    spotConfidence: 1,
    perpAmount: perpContracts + Math.min(0, spotLike),
    perpPriceUsd: u.spotUsd,
    perpConfidence: 1,
    unrealisedPerpPnlUsd: 0,
    unrealisedFundingUsd: 0,
    stablePriceUsd: 1,
    stableConfidence: 1,
    options,
    expiryFeeds: [...feeds.keys()].sort((a, b) => a - b).map((k) => feeds.get(k)!),
  };
  return { portfolio, perpContracts };
}

/** Standalone scenario losses of every underlying of `account` (zero for one with no positions). */
export function underlyingScenarioLosses(
  account: NormalizedAccount,
  volAnnual: Float64Array,
  params: RiskParams,
): UnderlyingScenarioLoss[] {
  return account.underlyings.map((u, i) => {
    const shockPct = spotShockPct(u.name, volAnnual[i]!, params);
    const scenarios = scenarioGrid(shockPct, params);
    const pmrmParams: Pmrm2Params = { ...params.scenario.pmrm2, scenarios };
    const { portfolio, perpContracts } = pmrm2Portfolio(account, i);
    const perpContingency = Math.abs(perpContracts) * u.spotUsd * params.scenario.perpContingencyPctNotional;
    const hasPositions = account.positions.some((p) => p.underlying === u.name);
    if (!hasPositions) {
      return {
        standaloneLossUsd: 0,
        directionalPnlUsd: 0,
        contingencyUsd: 0,
        spotShockPct: shockPct,
        worstScenarioName: 'none',
        worstSpotMovePct: 0,
        worstPnlUsd: 0,
      };
    }
    const r = computePmrm2(portfolio, pmrmParams);
    const factor = r.mmLossFactor;
    const up = scenarios.findIndex((s) => s.volShock === 'none' && s.spotShock === 1 + shockPct);
    const down = scenarios.findIndex((s) => s.volShock === 'none' && s.spotShock === 1 - shockPct);
    const worst = scenarios[r.worstScenarioIndex];
    return {
      standaloneLossUsd: Math.max(0, -r.worstLoss * factor),
      directionalPnlUsd: ((r.scenarioLosses[up]! - r.scenarioLosses[down]!) / 2) * factor,
      contingencyUsd: r.mmContingency + perpContingency,
      spotShockPct: shockPct,
      worstScenarioName: scenarioName(worst),
      worstSpotMovePct: worst ? worst.spotShock - 1 : 0,
      worstPnlUsd: r.worstLoss * factor,
    };
  });
}

export function riskModelOptions(account: { historyIntervalSec: number }, params: RiskParams): EwmaOptions {
  return {
    volLambda: params.volatility.ewmaLambda,
    correlationLambda: params.correlation.ewmaLambda,
    minObservations: params.correlation.minObservations,
    volFloorRatioToLongRun: params.volatility.floorRatioToLongRun,
    intervalSec: account.historyIntervalSec,
    secondsPerYear: SECONDS_PER_YEAR,
  };
}

function riskModel(account: NormalizedAccount, params: RiskParams): EwmaRiskModel {
  return estimateEwmaRiskModel(
    account.underlyings.map((u) => u.logReturns),
    riskModelOptions(account, params),
  );
}

export function toMatrix(m: Float64Array, n: number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from(m.subarray(i * n, i * n + n)));
}

/** Smallest |x| in (0, max] with f(sign x) < 0, by a uniform scan then bisection; null if none. */
export function firstBreach(
  f: (x: number) => number,
  maxAbs: number,
  sign: 1 | -1,
  steps: number,
  iters: number,
): number | null {
  if (f(0) < 0) return 0;
  let lo = 0;
  for (let s = 1; s <= steps; s++) {
    const hi = (maxAbs * s) / steps;
    if (f(sign * hi) < 0) {
      let a = lo;
      let b = hi;
      for (let k = 0; k < iters; k++) {
        const mid = (a + b) / 2;
        if (f(sign * mid) < 0) b = mid;
        else a = mid;
      }
      return sign * b;
    }
    lo = hi;
  }
  return null;
}

function adjustedEquityAt(book: RevaluationBook, mult: Float64Array, haircutPct: Float64Array): number {
  let haircut = 0;
  for (let i = 0; i < book.n; i++)
    haircut += haircutPct[i]! * book.collateralQty[i]! * book.spotUsd[i]! * mult[i]!;
  return bookValue(book, mult) - haircut;
}

/**
 * Computes the account's margin the straightforward way. Throws `InvalidInputError` naming the
 * field on bad input.
 */
export function computeAccountRiskReference(
  input: AccountRiskInput,
  params: RiskParams = DEFAULT_RISK_PARAMS,
): AccountRiskResult {
  validateRiskParams(params);
  const account = normalizeAccount(input, params);
  const n = account.underlyings.length;
  const names = account.underlyings.map((u) => u.name);
  const book = buildBook(account);
  const ones = new Float64Array(n).fill(1);
  const mtmUsd = bookValue(book, ones);

  // 1-3: risk model, per-underlying scenario margin, correlation offsets.
  const model = riskModel(account, params);
  const hedge = hedgeCorrelation(model, params.correlation.stressWeight);
  const losses = underlyingScenarioLosses(account, model.volAnnual, params);
  const agg = aggregateLosses(losses, hedge);

  // 4: VaR / ES floors.
  const pnl = bookPnl(book, mtmUsd);
  const v = params.valueAtRisk;
  const returns = account.underlyings.map((u) => u.logReturns);
  const hist = historicalLosses(returns, Math.sqrt(v.horizonSec / account.historyIntervalSec), pnl);
  // Monte Carlo over the market universe; the account reads the moves of its own underlyings.
  const universe = marketUniverse(input.market, params);
  const nu = universe.names.length;
  const universeModel = estimateEwmaRiskModel(universe.logReturns, riskModelOptions(account, params));
  const horizonVol = universeModel.volAnnual.map((s) => s * Math.sqrt(v.horizonSec / SECONDS_PER_YEAR));
  const chol = cholesky(repairCorrelation(universeModel.correlation, nu), nu);
  const position = names.map((name) => universe.names.indexOf(name));
  const accountMoves = new Float64Array(n);
  const universePnl = (x: Float64Array) => {
    for (let i = 0; i < n; i++) accountMoves[i] = x[position[i]!]!;
    return pnl(accountMoves);
  };
  const mc = monteCarloLosses(horizonVol, chol, universePnl, {
    paths: v.monteCarloPaths,
    seed: v.monteCarloSeed,
    studentTDegreesOfFreedom: v.studentTDegreesOfFreedom,
  });
  const historicalVarUsd = Math.max(0, tailMeasures(hist, v.varConfidence).varUsd);
  const historicalEsUsd = Math.max(0, tailMeasures(hist, v.esConfidence).esUsd);
  const monteCarloVarUsd = Math.max(0, tailMeasures(mc, v.varConfidence).varUsd);
  const monteCarloEsUsd = Math.max(0, tailMeasures(mc, v.esConfidence).esUsd);
  const coreMarginUsd = Math.max(
    agg.scenarioMarginUsd,
    historicalVarUsd,
    historicalEsUsd,
    monteCarloVarUsd,
    monteCarloEsUsd,
  );

  // 5: greeks, add-ons, collateral.
  const greeks = bookGreeks(book);
  const gross = new Float64Array(n);
  const index = new Map(names.map((name, i) => [name, i]));
  for (const p of account.positions) {
    const i = index.get(p.underlying)!;
    const s = account.underlyings[i]!.spotUsd;
    const exposure =
      p.kind === 'linear' ? p.quantity * s : p.kind === 'perp' ? p.size * p.lastPriceUsd : p.amount * s;
    gross[i] = gross[i]! + Math.abs(exposure);
  }
  const addonRows = account.underlyings.map((u, i) => ({
    underlying: u.name,
    concentrationUsd: concentrationAddonUsd(
      greeks[i]!.deltaUsd,
      u.liquidity.openInterestUsd,
      params.concentration,
    ),
    impactUsd: liquidationImpactUsd(greeks[i]!.deltaUsd, u.liquidity.depthUsd, params.liquidationImpact),
    oracleUsd: oracleAddonUsd(gross[i]!, u.priceAgeSec, u.confidencePct, params.oracle),
  }));
  const sum = (f: (r: (typeof addonRows)[number]) => number) => addonRows.reduce((a, r) => a + f(r), 0);
  const addons = {
    concentrationUsd: sum((r) => r.concentrationUsd),
    liquidationImpactUsd: sum((r) => r.impactUsd),
    oracleUsd: sum((r) => r.oracleUsd),
    byUnderlying: addonRows,
  };
  const addonsUsd = addons.concentrationUsd + addons.liquidationImpactUsd + addons.oracleUsd;
  const mmUsd = coreMarginUsd + addonsUsd;
  const imUsd = mmUsd * params.imToMmMultiplier;
  const lending = valueCollateral(account, model.volAnnual, params);
  const adjustedEquityUsd = mtmUsd - lending.haircutUsd;

  const byUnderlying: UnderlyingBreakdown[] = account.underlyings.map((u, i) => {
    const only: NormalizedAccount = {
      ...account,
      positions: account.positions.filter((p) => p.underlying === u.name),
    };
    return {
      underlying: u.name,
      spotUsd: u.spotUsd,
      volAnnual: model.volAnnual[i]!,
      mtmUsd: bookValue(buildBook(only), ones),
      spotShockPct: losses[i]!.spotShockPct,
      standaloneLossUsd: losses[i]!.standaloneLossUsd,
      directionalLossUsd: agg.directionalLossUsd[i]!,
      nonDirectionalLossUsd: agg.nonDirectionalLossUsd[i]!,
      contingencyUsd: losses[i]!.contingencyUsd,
      greeks: greeks[i]!,
    };
  });

  const protocols = [...new Set(account.positions.map((p) => p.protocol))].sort() as Protocol[];
  const byProtocol: ProtocolBreakdown[] = protocols.map((protocol) => {
    const only: NormalizedAccount = {
      ...account,
      positions: account.positions.filter((p) => p.protocol === protocol),
    };
    const indices = new Set(only.positions.map((p) => p.index));
    return {
      protocol,
      mtmUsd: bookValue(buildBook(only), ones),
      haircutUsd: lending.lines
        .filter((l) => indices.has(l.positionIndex))
        .reduce((a, l) => a + l.haircutUsd, 0),
      standaloneLossUsd: underlyingScenarioLosses(only, model.volAnnual, params).reduce(
        (a, l) => a + l.standaloneLossUsd,
        0,
      ),
    };
  });

  let worstScenario: AccountRiskResult['worstScenario'] = null;
  losses.forEach((l, i) => {
    if (l.standaloneLossUsd > 0 && (worstScenario === null || l.standaloneLossUsd > -worstScenario.pnlUsd)) {
      worstScenario = {
        underlying: names[i]!,
        name: l.worstScenarioName,
        spotMovePct: l.worstSpotMovePct,
        pnlUsd: l.worstPnlUsd,
      };
    }
  });

  const stressReplays = params.stressReplays.map((s) => {
    const mult = Float64Array.from(names, (u) => 1 + (s.spotMovePctByUnderlying[u] ?? s.otherSpotMovePct));
    return { name: s.name, pnlUsd: bookValue(book, mult, s.volMultiplier) - mtmUsd };
  });

  const ls = params.liquidationSearch;
  const isStable = names.map((u) => params.underlyings[u]!.isStable);
  const mult = new Float64Array(n);
  const surplus = (x: number) => {
    for (let i = 0; i < n; i++) mult[i] = isStable[i] ? 1 : 1 + x;
    return adjustedEquityAt(book, mult, lending.haircutPctByUnderlying) - mmUsd;
  };
  const anyVolatile = isStable.some((s) => !s);
  const liquidationDistance = {
    downMovePct: anyVolatile
      ? firstBreach(surplus, ls.maxDownMovePct, -1, ls.scanSteps, ls.bisectionIterations)
      : null,
    upMovePct: anyVolatile
      ? firstBreach(surplus, ls.maxUpMovePct, 1, ls.scanSteps, ls.bisectionIterations)
      : null,
  };

  const result: AccountRiskResult = {
    account: account.account,
    asOfSec: account.asOfSec,
    paramsVersion: params.version,
    paramsHash: hashParams(params),
    inputHash: hashInputs(input),
    mtmUsd,
    haircutUsd: lending.haircutUsd,
    adjustedEquityUsd,
    mmUsd,
    imUsd,
    freeCollateralUsd: adjustedEquityUsd - imUsd,
    shortfallUsd: Math.max(0, mmUsd - adjustedEquityUsd),
    components: {
      undiversifiedLossUsd: agg.undiversifiedLossUsd,
      aggregatedLossUsd: agg.aggregatedLossUsd,
      offsetUsd: agg.undiversifiedLossUsd - agg.aggregatedLossUsd,
      contingencyUsd: agg.contingencyUsd,
      scenarioMarginUsd: agg.scenarioMarginUsd,
      historicalVarUsd,
      historicalEsUsd,
      monteCarloVarUsd,
      monteCarloEsUsd,
      coreMarginUsd,
      addonsUsd,
    },
    hedgeCorrelation: { underlyings: names, matrix: toMatrix(hedge, n) },
    byUnderlying,
    byProtocol,
    collateral: lending.lines,
    addons,
    worstScenario,
    stressReplays,
    liquidationDistance,
  };
  assertFinite(result);
  return result;
}

/** True when every number reachable from `value` is finite (no allocation). */
function allFinite(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!allFinite(value[i])) return false;
    return true;
  }
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    for (const k in obj) if (Object.hasOwn(obj, k) && !allFinite(obj[k])) return false;
  }
  return true;
}

/** Last line of defence: no NaN or Infinity ever leaves the engine. */
export function assertFinite(value: unknown, path = 'result'): void {
  if (allFinite(value)) return;
  assertFiniteAt(value, path);
}

/** Finds and names the first non-finite number. */
function assertFiniteAt(value: unknown, path: string): void {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      throw new InvalidInputError(path, `computed ${value}; an input is out of range`, {
        code: 'NUMERIC_ERROR',
      });
    }
  } else if (Array.isArray(value)) value.forEach((v, i) => assertFiniteAt(v, `${path}[${i}]`));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) assertFiniteAt(v, `${path}.${k}`);
  }
}
