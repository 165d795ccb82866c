/**
 * Reads a portfolio case in Derive's PMRM_2 JSON format (already parsed: no file I/O here) into the
 * engine's types plus the expected results.
 *
 * Format notes: numbers are JSON numbers or decimal strings; option `Expiry` and feed `FeedExpiry`
 * are seconds to expiry; `SVIparam` is [a, b, rho, m, sigma, forward, tau_years]; the expected
 * scenario P&Ls are `reg_losses` then `tail_losses` then `skew_losses`, in the order of
 * `Parameters.Scenarios`.
 */
import { InvalidInputError } from '../../common/errors';
import type {
  Pmrm2Collateral,
  Pmrm2ExpiryFeed,
  Pmrm2Option,
  Pmrm2Params,
  Pmrm2Portfolio,
  Pmrm2Scenario,
  VolShockDirection,
} from './types';

export interface Pmrm2Expected {
  mm: number;
  im: number;
  scenarioLosses: number[];
  optionMtm?: number;
  collateralMtm?: number;
  portfolioMtm?: number;
  basisContingency?: number;
}

export interface Pmrm2Case {
  portfolio: Pmrm2Portfolio;
  params: Pmrm2Params;
  expected: Pmrm2Expected;
}

type Obj = Record<string, unknown>;

function obj(v: unknown, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new InvalidInputError(field, 'must be a JSON object', { hint: 'Check the case file format.' });
  }
  return v as Obj;
}

function arr(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) throw new InvalidInputError(field, 'must be a JSON array');
  return v;
}

function num(v: unknown, field: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) {
    throw new InvalidInputError(field, `must be a finite number or numeric string, got ${JSON.stringify(v)}`);
  }
  return n;
}

function bool(v: unknown, field: string): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 0 || v === 1) return v === 1;
  throw new InvalidInputError(field, `must be a boolean or 0/1, got ${JSON.stringify(v)}`);
}

function optNum(o: Obj, key: string, field: string): number | undefined {
  return o[key] === undefined ? undefined : num(o[key], `${field}.${key}`);
}

const DIRECTIONS: Record<string, VolShockDirection> = {
  None: 'none',
  Up: 'up',
  Down: 'down',
  LINEAR: 'linear',
  ABS: 'abs',
};

function parseParams(p: Obj): Pmrm2Params {
  const g = (group: string, key: string): number =>
    num(obj(p[group], `Parameters.${group}`)[key], `Parameters.${group}.${key}`);
  const scenarios: Pmrm2Scenario[] = arr(p.Scenarios, 'Parameters.Scenarios').map((raw, i) => {
    const s = obj(raw, `Parameters.Scenarios[${i}]`);
    const dir = DIRECTIONS[String(s.VolShockDirection)];
    if (!dir) {
      throw new InvalidInputError(
        `Parameters.Scenarios[${i}].VolShockDirection`,
        `must be one of ${Object.keys(DIRECTIONS).join(', ')}, got ${JSON.stringify(s.VolShockDirection)}`,
      );
    }
    return {
      spotShock: num(s.SpotShock, `Parameters.Scenarios[${i}].SpotShock`),
      volShock: dir,
      dampeningFactor: num(s.DampeningFactor, `Parameters.Scenarios[${i}].DampeningFactor`),
    };
  });
  return {
    scenarios,
    volShock: {
      volRangeUp: g('VolShock', 'VOLRANGEUP'),
      volRangeDown: g('VolShock', 'VOLRANGEDOWN'),
      shortTermPower: g('VolShock', 'SHORTTERMPOWER'),
      longTermPower: g('VolShock', 'LONGTERMPOWER'),
      dteFloorDays: g('VolShock', 'DTE_FLOOR'),
      minVolUpShock: g('VolShock', 'MIN_VOL_EVAL_SHOCKED'),
    },
    skewShock: {
      linearBaseCap: g('SkewShock', 'LINEAR_SCALE_CAP'),
      absBaseCap: g('SkewShock', 'ABS_SCALE_CAP'),
      linearCBase: g('SkewShock', 'LINEAR_CBASE'),
      absCBase: g('SkewShock', 'ABS_CBASE'),
      minKStar: g('SkewShock', 'MIN_K_STAR'),
      widthScale: g('SkewShock', 'MIN_WIDTH_SCALE'),
      volParamStatic: g('SkewShock', 'VOL_PARAM_STATIC'),
      volParamScale: g('SkewShock', 'VOL_PARAM_SCALE'),
    },
    margin: {
      mmFactor: g('Margin', 'MM_LOSS_FACTOR'),
      imFactor: g('Margin', 'IM_LOSS_FACTOR'),
      shortRateMultScale: g('Margin', 'SHORT_RATE_MULTSCALE'),
      longRateMultScale: g('Margin', 'LONG_RATE_MULTSCALE'),
      shortRateAddScale: g('Margin', 'SHORT_RATE_ADDSCALE'),
      longRateAddScale: g('Margin', 'LONG_RATE_ADDSCALE'),
      longBaseStaticDiscount: g('Margin', 'BASE_STATIC_DISCOUNT'),
      shortBaseStaticDiscount: g('Margin', 'BASE_STATIC_DISCOUNT_NEG'),
    },
    basis: {
      scenarioSpotUp: g('BasisContingency', 'SCENARIO_SPOT_UP'),
      scenarioSpotDown: g('BasisContingency', 'SCENARIO_SPOT_DOWN'),
      addFactor: g('BasisContingency', 'BASIS_CONT_ADD_FACTOR'),
      multFactor: g('BasisContingency', 'BASIS_CONT_MULT_FACTOR'),
    },
    other: {
      pegLossThreshold: g('OtherContingency', 'PEG_LOSS_THRESHOLD'),
      pegLossFactor: g('OtherContingency', 'PEG_LOSS_FACTOR'),
      confThreshold: g('OtherContingency', 'CONF_THRESHOLD'),
      confMargin: g('OtherContingency', 'CONF_MARGIN'),
      mmPerpPercent: g('OtherContingency', 'MM_PERP_PERCENT'),
      imPerpPercent: g('OtherContingency', 'IM_PERP_PERCENT'),
      mmOptionPercent: g('OtherContingency', 'MM_OPTION_PERCENT'),
      imOptionPercent: g('OtherContingency', 'IM_OPTION_PERCENT'),
    },
  };
}

function parsePortfolio(s: Obj): Pmrm2Portfolio {
  const f = (key: string): number => num(s[key], `Scenario.${key}`);
  const collaterals: Pmrm2Collateral[] = arr(s.Collaterals ?? [], 'Scenario.Collaterals').map((raw, i) => {
    const c = obj(raw, `Scenario.Collaterals[${i}]`);
    const p = `Scenario.Collaterals[${i}]`;
    return {
      name: String(c.Name ?? `collateral${i}`),
      amount: num(c.Amount, `${p}.Amount`),
      priceUsd: num(c.Price, `${p}.Price`),
      confidence: num(c.Confidence, `${p}.Confidence`),
      isRiskCancelling: bool(c.IsRiskCancelling, `${p}.IsRiskCancelling`),
      mmHaircut: num(c.MMHaircut, `${p}.MMHaircut`),
      imHaircut: num(c.IMHaircut, `${p}.IMHaircut`),
    };
  });
  const options: Pmrm2Option[] = arr(s.Options ?? [], 'Scenario.Options').map((raw, i) => {
    const o = obj(raw, `Scenario.Options[${i}]`);
    const p = `Scenario.Options[${i}]`;
    return {
      timeToExpirySec: num(o.Expiry, `${p}.Expiry`),
      strikeUsd: num(o.Strike, `${p}.Strike`),
      isCall: bool(o.IsCall, `${p}.IsCall`),
      amount: num(o.Amount, `${p}.Amount`),
    };
  });
  const expiryFeeds: Pmrm2ExpiryFeed[] = arr(s.OptionFeeds ?? [], 'Scenario.OptionFeeds').map((raw, i) => {
    const e = obj(raw, `Scenario.OptionFeeds[${i}]`);
    const p = `Scenario.OptionFeeds[${i}]`;
    const svi = arr(e.SVIparam, `${p}.SVIparam`);
    if (svi.length !== 7) {
      throw new InvalidInputError(
        `${p}.SVIparam`,
        `must be [a, b, rho, m, sigma, forward, tau], got ${svi.length} values`,
      );
    }
    const sv = (j: number): number => num(svi[j], `${p}.SVIparam[${j}]`);
    return {
      timeToExpirySec: num(e.FeedExpiry, `${p}.FeedExpiry`),
      forwardUsd: num(e.Forward, `${p}.Forward`),
      forwardConfidence: num(e.ForwardConfidence, `${p}.ForwardConfidence`),
      rateAnnual: num(e.Rate, `${p}.Rate`),
      rateConfidence: num(e.RateConfidence, `${p}.RateConfidence`),
      svi: { a: sv(0), b: sv(1), rho: sv(2), m: sv(3), sigma: sv(4), forwardUsd: sv(5), tauYears: sv(6) },
      volConfidence: num(e.OptionVolConfidences, `${p}.OptionVolConfidences`),
    };
  });
  return {
    cashUsd: f('Cash'),
    collaterals,
    spotUsd: f('SpotPrice'),
    spotConfidence: f('SpotConfidence'),
    perpAmount: f('NumPerps'),
    perpPriceUsd: f('PerpPrice'),
    perpConfidence: f('PerpConfidence'),
    unrealisedPerpPnlUsd: f('UnrealisedPerpPNL'),
    unrealisedFundingUsd: f('UnrealisedFunding'),
    stablePriceUsd: f('StablePrice'),
    stableConfidence: f('StableConfidence'),
    options,
    expiryFeeds,
  };
}

function parseExpected(r: Obj, scenarioCount: number): Pmrm2Expected {
  const losses: number[] = [];
  const take = (key: string, col: number): void => {
    arr(r[key] ?? [], `Result.${key}`).forEach((row, i) => {
      losses.push(num(arr(row, `Result.${key}[${i}]`)[col], `Result.${key}[${i}][${col}]`));
    });
  };
  take('reg_losses', 2);
  take('tail_losses', 2);
  take('skew_losses', 1);
  if (losses.length !== scenarioCount) {
    throw new InvalidInputError(
      'Result',
      `has ${losses.length} scenario losses (reg + tail + skew) but Parameters.Scenarios has ${scenarioCount}`,
    );
  }
  return {
    mm: num(r.MM, 'Result.MM'),
    im: num(r.IM, 'Result.IM'),
    scenarioLosses: losses,
    optionMtm: optNum(r, 'OptionMTM', 'Result'),
    collateralMtm: optNum(r, 'CollateralMTM', 'Result'),
    portfolioMtm: optNum(r, 'PortfolioMTM', 'Result'),
    basisContingency: optNum(r, 'ForwardContingency', 'Result'),
  };
}

/** Parses one PMRM_2 case (the parsed JSON of a `portfolio_cases/*.json` file). */
export function pmrm2CaseFromJson(json: unknown): Pmrm2Case {
  const root = obj(json, 'case');
  const params = parseParams(obj(root.Parameters, 'Parameters'));
  return {
    portfolio: parsePortfolio(obj(root.Scenario, 'Scenario')),
    params,
    expected: parseExpected(obj(root.Result, 'Result'), params.scenarios.length),
  };
}
