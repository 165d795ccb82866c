/**
 * Validation and normalization of one account's risk input: the gate between indexer data and the
 * float64 engine.
 *
 * Everything a user can get wrong is checked here, once, and rejected with an `InvalidInputError`
 * whose field is the path into the input (`positions[3].strikeUsd`, `market.prices.ETH.answer`), so no
 * NaN or Infinity ever reaches the math. This is also the one place where on-chain fixed-point
 * numbers become float64 (`fixedToNumber`): the integer and fractional parts are converted
 * separately so an 18-decimal balance keeps full double precision.
 */
import { InvalidInputError } from '../common/errors';
import { SECONDS_PER_YEAR, sviVol, type SviParams } from './math';
import type { RiskParams } from './params';
import type {
  AccountRiskInput,
  ExpirySlice,
  FixedPoint,
  LiquidityInfo,
  MarketData,
  NormalizedAccount,
  NormalizedPosition,
  NormalizedUnderlying,
  PriceFeed,
  Protocol,
} from './types';

const PROTOCOLS: readonly Protocol[] = ['aave-v3', 'perps', 'options', 'wallet'];
const MAX_DECIMALS = 77;

function fail(field: string, problem: string, code = 'INVALID_INPUT', hint?: string): never {
  throw new InvalidInputError(field, problem, hint ? { code, hint } : { code });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function requireFiniteNumber(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(field, `must be a finite number, got ${String(v)}`);
  return v;
}

function requirePositiveNumber(field: string, v: unknown): number {
  const n = requireFiniteNumber(field, v);
  if (!(n > 0)) fail(field, `must be > 0, got ${n}`);
  return n;
}

function requireNonNegativeNumber(field: string, v: unknown): number {
  const n = requireFiniteNumber(field, v);
  if (n < 0) fail(field, `must be >= 0, got ${n}`);
  return n;
}

function requireTimestamp(field: string, v: unknown): number {
  const n = requireFiniteNumber(field, v);
  if (!Number.isSafeInteger(n) || n < 0) fail(field, `must be a non-negative integer of seconds, got ${n}`);
  return n;
}

function requireDecimals(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_DECIMALS) {
    fail(
      field,
      `must be an integer number of decimals in [0, ${MAX_DECIMALS}], got ${String(v)}`,
      'INVALID_AMOUNT',
    );
  }
  return v;
}

/**
 * raw / 10^decimals as a float64. The one conversion of token units in the engine: integer and
 * fractional parts go through `Number` separately, so precision is that of a double, not of `raw`.
 */
const POW10: bigint[] = Array.from({ length: MAX_DECIMALS + 1 }, (_, d) => 10n ** BigInt(d));

export function fixedToNumber(fp: FixedPoint): number {
  const scale = POW10[fp.decimals] ?? 10n ** BigInt(fp.decimals);
  const neg = fp.raw < 0n;
  const abs = neg ? -fp.raw : fp.raw;
  const value = Number(abs / scale) + Number(abs % scale) / Number(scale);
  return neg ? -value : value;
}

function requireFixed(field: string, v: unknown, sign: 'signed' | 'nonNegative' | 'positive'): number {
  if (!isRecord(v)) fail(field, 'must be { raw: bigint, decimals: number }', 'INVALID_AMOUNT');
  if (typeof v.raw !== 'bigint') {
    fail(
      `${field}.raw`,
      `must be a bigint in token units, got ${typeof v.raw}`,
      'INVALID_AMOUNT',
      'Pass on-chain amounts as bigint with their decimals; never as Number.',
    );
  }
  const decimals = requireDecimals(`${field}.decimals`, v.decimals);
  const raw = v.raw;
  if (sign === 'nonNegative' && raw < 0n) fail(`${field}.raw`, `must be >= 0, got ${raw}`, 'INVALID_AMOUNT');
  if (sign === 'positive' && raw <= 0n) fail(`${field}.raw`, `must be > 0, got ${raw}`, 'INVALID_AMOUNT');
  const n = fixedToNumber({ raw, decimals });
  if (!Number.isFinite(n)) fail(`${field}.raw`, `${raw} is too large to value`, 'INVALID_AMOUNT');
  return n;
}

interface PriceInfo {
  spotUsd: number;
  ageSec: number;
  confidencePct: number;
}

function validatePrice(field: string, feed: unknown, asOfSec: number, params: RiskParams): PriceInfo {
  if (!isRecord(feed))
    fail(field, 'missing price feed', 'UNKNOWN_ASSET', 'Add the underlying to market.prices.');
  const f = feed as unknown as PriceFeed;
  if (typeof f.answer !== 'bigint')
    fail(`${field}.answer`, `must be a bigint, got ${typeof f.answer}`, 'INVALID_PRICE');
  if (f.answer <= 0n) {
    fail(
      `${field}.answer`,
      `must be > 0, got ${f.answer}`,
      'INVALID_PRICE',
      'A zero or negative oracle price cannot value collateral; check the feed.',
    );
  }
  const decimals = requireDecimals(`${field}.decimals`, f.decimals);
  const updatedAtSec = requireTimestamp(`${field}.updatedAtSec`, f.updatedAtSec);
  if (updatedAtSec > asOfSec)
    fail(`${field}.updatedAtSec`, `${updatedAtSec} is after asOfSec ${asOfSec}`, 'INVALID_PRICE');
  const ageSec = asOfSec - updatedAtSec;
  if (ageSec > params.oracle.maxAgeSec) {
    fail(
      `${field}.updatedAtSec`,
      `price is ${ageSec}s old, above the ${params.oracle.maxAgeSec}s limit`,
      'STALE_PRICE',
      'Refresh the oracle price before computing margin.',
    );
  }
  let confidencePct = 0;
  if (f.confidence !== undefined) {
    if (typeof f.confidence !== 'bigint' || f.confidence < 0n) {
      fail(
        `${field}.confidence`,
        `must be a non-negative bigint, got ${String(f.confidence)}`,
        'INVALID_PRICE',
      );
    }
    confidencePct = Number(f.confidence) / Number(f.answer);
    if (confidencePct > params.oracle.maxConfidencePct) {
      fail(
        `${field}.confidence`,
        `confidence half-width is ${(confidencePct * 100).toFixed(3)} % of the price, above the ${params.oracle.maxConfidencePct * 100} % limit`,
        'LOW_CONFIDENCE',
        'Wait for a tighter oracle price.',
      );
    }
  }
  const spotUsd = fixedToNumber({ raw: f.answer, decimals });
  if (!(spotUsd > 0) || !Number.isFinite(spotUsd))
    fail(`${field}.answer`, 'does not give a finite positive price', 'INVALID_PRICE');
  return { spotUsd, ageSec, confidencePct };
}

function validateSlice(field: string, s: unknown): ExpirySlice {
  if (!isRecord(s)) fail(field, 'must be an expiry slice object');
  requireTimestamp(`${field}.expirySec`, s.expirySec);
  requirePositiveNumber(`${field}.forwardUsd`, s.forwardUsd);
  requireFiniteNumber(`${field}.rateAnnual`, s.rateAnnual);
  if (!isRecord(s.svi)) fail(`${field}.svi`, 'must be { a, b, rho, m, sigma }');
  for (const k of ['a', 'b', 'rho', 'm', 'sigma'] as const)
    requireFiniteNumber(`${field}.svi.${k}`, s.svi[k]);
  return s as unknown as ExpirySlice;
}

/** The account-level fields of an input: an object with a non-empty `account` and a `positions` array. */
export function checkAccountHeader(
  input: unknown,
): asserts input is { account: string; positions: unknown[] } {
  if (!isRecord(input)) fail('input', 'must be an object');
  if (typeof input.account !== 'string' || input.account.length === 0)
    fail('account', 'must be a non-empty string');
  if (!Array.isArray(input.positions)) fail('positions', 'must be an array');
}

/** The fields `normalizeAccount` checks first, in its order: input, account, asOfSec, positions. */
export function checkInputHeader(input: unknown): void {
  if (!isRecord(input)) fail('input', 'must be an object');
  if (typeof input.account !== 'string' || input.account.length === 0)
    fail('account', 'must be a non-empty string');
  requireTimestamp('asOfSec', input.asOfSec);
  if (!Array.isArray(input.positions)) fail('positions', 'must be an array');
}

/** Shape of the market data at one block; returns the valuation time and the history interval. */
export function checkMarketSnapshot(snapshot: { asOfSec: unknown; market: unknown }): {
  asOfSec: number;
  market: MarketData;
  intervalSec: number;
} {
  const asOfSec = requireTimestamp('asOfSec', snapshot.asOfSec);
  const market = snapshot.market;
  if (!isRecord(market)) fail('market', 'must be an object');
  for (const k of ['prices', 'assets', 'volSurfaces', 'liquidity'] as const) {
    if (!isRecord(market[k])) fail(`market.${k}`, 'must be an object keyed by symbol');
  }
  if (!isRecord(market.history)) fail('market.history', 'must be { intervalSec, closesUsdByUnderlying }');
  const intervalSec = requirePositiveNumber('market.history.intervalSec', market.history.intervalSec);
  if (!isRecord(market.history.closesUsdByUnderlying))
    fail('market.history.closesUsdByUnderlying', 'must be an object');
  return { asOfSec, market: market as unknown as MarketData, intervalSec };
}

/** Validates the input against the parameter set and converts it to the engine's float64 form. */
export function normalizeAccount(input: AccountRiskInput, params: RiskParams): NormalizedAccount {
  if (!isRecord(input)) fail('input', 'must be an object');
  if (typeof input.account !== 'string' || input.account.length === 0)
    fail('account', 'must be a non-empty string');
  requireTimestamp('asOfSec', input.asOfSec);
  if (!Array.isArray(input.positions)) fail('positions', 'must be an array');
  const { asOfSec, market, intervalSec } = checkMarketSnapshot(input);
  const positions = normalizePositions(input.positions, asOfSec, market, params);
  const names = [...new Set(positions.map((p) => p.underlying))].sort();
  const underlyings = normalizeUnderlyings(names, asOfSec, market, params);
  return { account: input.account, asOfSec, underlyings, positions, historyIntervalSec: intervalSec };
}

function requireUnderlyingOf(params: RiskParams) {
  return (field: string, u: unknown): string => {
    if (typeof u !== 'string' || !Object.hasOwn(params.underlyings, u)) {
      fail(
        field,
        `unknown underlying ${JSON.stringify(u)}; the parameter set (${params.version}) covers ${Object.keys(params.underlyings).sort().join(', ')}`,
        'UNKNOWN_ASSET',
        'Add it to the risk parameters (new version) before accepting positions in it.',
      );
    }
    return u;
  };
}

/** Validates and converts the positions of one account (token units to float64, once). */
export function normalizePositions(
  rawPositions: readonly unknown[],
  asOfSec: number,
  market: MarketData,
  params: RiskParams,
): NormalizedPosition[] {
  const requireUnderlying = requireUnderlyingOf(params);
  const requireAsset = (field: string, a: unknown): string => {
    if (typeof a !== 'string' || !Object.hasOwn(market.assets, a)) {
      fail(
        field,
        `unknown asset ${JSON.stringify(a)}`,
        'UNKNOWN_ASSET',
        'Add the token to market.assets with its underlying and decimals.',
      );
    }
    const info = market.assets[a]!;
    if (!isRecord(info)) fail(`market.assets.${a}`, 'must be { underlying, decimals, isAToken }');
    requireUnderlying(`market.assets.${a}.underlying`, info.underlying);
    requireDecimals(`market.assets.${a}.decimals`, info.decimals);
    return a;
  };

  const positions: NormalizedPosition[] = [];
  rawPositions.forEach((raw: unknown, index) => {
    const field = `positions[${index}]`;
    if (!isRecord(raw)) fail(field, 'must be a position object');
    if (typeof raw.protocol !== 'string' || !PROTOCOLS.includes(raw.protocol as Protocol)) {
      fail(
        `${field}.protocol`,
        `must be one of ${PROTOCOLS.join(', ')}, got ${JSON.stringify(raw.protocol)}`,
      );
    }
    const protocol = raw.protocol as Protocol;
    switch (raw.kind) {
      case 'lending':
      case 'spot': {
        if (raw.kind === 'lending' && protocol !== 'aave-v3')
          fail(`${field}.protocol`, 'lending positions come from aave-v3');
        if (raw.kind === 'lending' && raw.side !== 'collateral' && raw.side !== 'debt') {
          fail(`${field}.side`, `must be "collateral" or "debt", got ${JSON.stringify(raw.side)}`);
        }
        const asset = requireAsset(`${field}.asset`, raw.asset);
        const info = market.assets[asset]!;
        const amount = requireFixed(`${field}.amount`, raw.amount, 'nonNegative');
        if (isRecord(raw.amount) && raw.amount.decimals !== info.decimals) {
          fail(
            `${field}.amount.decimals`,
            `${String(raw.amount.decimals)} differs from ${asset}'s ${info.decimals} decimals`,
            'INVALID_AMOUNT',
          );
        }
        const isDebt = raw.kind === 'lending' && raw.side === 'debt';
        positions.push({
          kind: 'linear',
          index,
          protocol,
          underlying: info.underlying,
          asset,
          quantity: isDebt ? -amount : amount,
          isCollateral: !isDebt,
        });
        return;
      }
      case 'perp': {
        if (protocol !== 'perps')
          fail(`${field}.protocol`, 'perp positions come from the perps venue ("perps")');
        const underlying = requireUnderlying(`${field}.underlying`, raw.underlying);
        const size = requireFixed(`${field}.size`, raw.size, 'signed');
        const entryPriceUsd = requireFixed(`${field}.entryPriceUsd`, raw.entryPriceUsd, 'positive');
        const lastPriceUsd = requireFixed(`${field}.lastPriceUsd`, raw.lastPriceUsd, 'positive');
        const funding = requireFixed(`${field}.accruedFundingUsd`, raw.accruedFundingUsd, 'signed');
        const margin = requireFixed(`${field}.venueMarginUsd`, raw.venueMarginUsd, 'nonNegative');
        positions.push({
          kind: 'perp',
          index,
          protocol,
          underlying,
          size,
          entryPriceUsd,
          lastPriceUsd,
          cashUsd: margin + funding,
        });
        return;
      }
      case 'option': {
        if (protocol !== 'options')
          fail(`${field}.protocol`, 'option positions come from the options venue ("options")');
        const underlying = requireUnderlying(`${field}.underlying`, raw.underlying);
        if (raw.optionType !== 'call' && raw.optionType !== 'put') {
          fail(`${field}.optionType`, `must be "call" or "put", got ${JSON.stringify(raw.optionType)}`);
        }
        const strikeUsd = requireFixed(`${field}.strikeUsd`, raw.strikeUsd, 'positive');
        const expirySec = requireTimestamp(`${field}.expirySec`, raw.expirySec);
        if (expirySec <= asOfSec) {
          fail(
            `${field}.expirySec`,
            `option expired (${expirySec} <= asOfSec ${asOfSec})`,
            'INVALID_INPUT',
            'Settle expired options before computing margin.',
          );
        }
        const amount = requireFixed(`${field}.amount`, raw.amount, 'signed');
        const slices = market.volSurfaces[underlying];
        if (!Array.isArray(slices))
          fail(`market.volSurfaces.${underlying}`, 'missing: options need their expiry slices');
        const sliceIndex = slices.findIndex((s) => isRecord(s) && s.expirySec === expirySec);
        if (sliceIndex < 0) {
          fail(
            `${field}.expirySec`,
            `no slice in market.volSurfaces.${underlying} for expiry ${expirySec}`,
            'MISSING_MARKET_DATA',
          );
        }
        const slice = validateSlice(`market.volSurfaces.${underlying}[${sliceIndex}]`, slices[sliceIndex]);
        const expiryYears = (expirySec - asOfSec) / SECONDS_PER_YEAR;
        const svi: SviParams = { ...slice.svi, forwardUsd: slice.forwardUsd, tauYears: expiryYears };
        let volAnnual: number;
        try {
          volAnnual = sviVol(strikeUsd, svi);
        } catch (cause) {
          throw new InvalidInputError(
            `market.volSurfaces.${underlying}[${sliceIndex}].svi`,
            `cannot price ${field}: ${(cause as Error).message}`,
            { cause },
          );
        }
        if (!Number.isFinite(volAnnual) || volAnnual < 0)
          fail(`market.volSurfaces.${underlying}[${sliceIndex}].svi`, `gives vol ${volAnnual}`);
        positions.push({
          kind: 'option',
          index,
          protocol,
          underlying,
          isCall: raw.optionType === 'call',
          strikeUsd,
          expirySec,
          expiryYears,
          amount,
          forwardUsd: slice.forwardUsd,
          rateAnnual: slice.rateAnnual,
          volAnnual,
          svi: { ...slice.svi },
        });
        return;
      }
      default:
        fail(`${field}.kind`, `must be lending, perp, option or spot, got ${JSON.stringify(raw.kind)}`);
    }
  });

  return positions;
}

/**
 * Log returns of one underlying's close series, checked in a fixed order: at least 2 closes, the same
 * length as the series checked before it (`expectedLength` < 0 for the first), every close positive.
 */
function historyLogReturns(series: unknown, name: string, expectedLength: number): Float64Array {
  const seriesField = `market.history.closesUsdByUnderlying.${name}`;
  if (!Array.isArray(series) || series.length < 2) {
    fail(seriesField, 'needs at least 2 closes to estimate volatility', 'MISSING_MARKET_DATA');
  }
  if (expectedLength >= 0 && series.length !== expectedLength) {
    fail(
      seriesField,
      `has ${series.length} closes, other series have ${expectedLength}`,
      'MISSING_MARKET_DATA',
      'Align every series on the same timestamps.',
    );
  }
  series.forEach((c: unknown, t) => requirePositiveNumber(`${seriesField}[${t}]`, c));
  const r = new Float64Array(series.length - 1);
  for (let t = 1; t < series.length; t++) r[t - 1] = Math.log(series[t]! / series[t - 1]!);
  return r;
}

/**
 * Prices, history and liquidity of the underlyings an account holds (sorted names), checked in
 * that order per underlying; every series must have the same length.
 */
export function normalizeUnderlyings(
  names: readonly string[],
  asOfSec: number,
  market: MarketData,
  params: RiskParams,
): NormalizedUnderlying[] {
  const closes = market.history.closesUsdByUnderlying;
  let historyLength = -1;
  const underlyings: NormalizedUnderlying[] = names.map((name) => {
    const price = validatePrice(`market.prices.${name}`, market.prices[name], asOfSec, params);
    const logReturns = historyLogReturns(closes[name], name, historyLength);
    historyLength = logReturns.length + 1;
    const liqField = `market.liquidity.${name}`;
    const liq = market.liquidity[name];
    if (!isRecord(liq))
      fail(
        liqField,
        'missing: concentration and impact add-ons need open interest and depth',
        'MISSING_MARKET_DATA',
      );
    const liquidity: LiquidityInfo = {
      openInterestUsd: requireNonNegativeNumber(`${liqField}.openInterestUsd`, liq.openInterestUsd),
      depthUsd: requirePositiveNumber(`${liqField}.depthUsd`, liq.depthUsd),
    };
    return {
      name,
      spotUsd: price.spotUsd,
      priceAgeSec: price.ageSec,
      confidencePct: price.confidencePct,
      logReturns,
      liquidity,
    };
  });

  return underlyings;
}

/**
 * The market's universe of underlyings: every series of `market.history` known to the parameter
 * set, sorted by name, with its log returns. Monte Carlo draws joint moves for the whole universe,
 * so every account at a block sees the same paths whatever subset it holds; every series must
 * therefore be valid and of the same length.
 */
export function marketUniverse(
  market: MarketData,
  params: RiskParams,
): { names: string[]; logReturns: Float64Array[] } {
  const closes = market.history.closesUsdByUnderlying;
  const names = Object.keys(closes)
    .filter((n) => Object.hasOwn(params.underlyings, n))
    .sort();
  let historyLength = -1;
  const logReturns = names.map((name) => {
    const r = historyLogReturns(closes[name], name, historyLength);
    historyLength = r.length + 1;
    return r;
  });
  return { names, logReturns };
}

/**
 * Everything `normalizeUnderlyings` checks about one underlying, evaluated once per market and kept
 * (errors included) so the account step can raise exactly the error the reference would, in the
 * same order, without re-reading the market for every account.
 */
export interface UnderlyingCheck {
  name: string;
  priceError: unknown;
  spotUsd: number;
  priceAgeSec: number;
  confidencePct: number;
  /** Not an array or fewer than 2 closes. */
  seriesShapeError: unknown;
  seriesLength: number;
  /** A non-positive or non-finite close. */
  seriesValueError: unknown;
  liquidityError: unknown;
  liquidity: LiquidityInfo;
}

function caught(f: () => void): unknown {
  try {
    f();
    return null;
  } catch (e) {
    return e;
  }
}

export function checkUnderlying(
  name: string,
  asOfSec: number,
  market: MarketData,
  params: RiskParams,
): UnderlyingCheck {
  const out: UnderlyingCheck = {
    name,
    priceError: null,
    spotUsd: 0,
    priceAgeSec: 0,
    confidencePct: 0,
    seriesShapeError: null,
    seriesLength: 0,
    seriesValueError: null,
    liquidityError: null,
    liquidity: { openInterestUsd: 0, depthUsd: 1 },
  };
  out.priceError = caught(() => {
    const price = validatePrice(`market.prices.${name}`, market.prices[name], asOfSec, params);
    out.spotUsd = price.spotUsd;
    out.priceAgeSec = price.ageSec;
    out.confidencePct = price.confidencePct;
  });
  const seriesField = `market.history.closesUsdByUnderlying.${name}`;
  const series: unknown = market.history.closesUsdByUnderlying[name];
  out.seriesShapeError = caught(() => {
    if (!Array.isArray(series) || series.length < 2) {
      fail(seriesField, 'needs at least 2 closes to estimate volatility', 'MISSING_MARKET_DATA');
    }
  });
  if (out.seriesShapeError === null) {
    const s = series as unknown[];
    out.seriesLength = s.length;
    out.seriesValueError = caught(() =>
      s.forEach((c, t) => requirePositiveNumber(`${seriesField}[${t}]`, c)),
    );
  }
  out.liquidityError = caught(() => {
    const liqField = `market.liquidity.${name}`;
    const liq = market.liquidity[name];
    if (!isRecord(liq))
      fail(
        liqField,
        'missing: concentration and impact add-ons need open interest and depth',
        'MISSING_MARKET_DATA',
      );
    out.liquidity = {
      openInterestUsd: requireNonNegativeNumber(`${liqField}.openInterestUsd`, liq.openInterestUsd),
      depthUsd: requirePositiveNumber(`${liqField}.depthUsd`, liq.depthUsd),
    };
  });
  return out;
}

/** Raises the first error `normalizeUnderlyings` would raise for these (sorted) underlyings. */
export function raiseUnderlyingErrors(checks: readonly UnderlyingCheck[]): void {
  let historyLength = -1;
  for (const c of checks) {
    if (c.priceError !== null) throw c.priceError;
    if (c.seriesShapeError !== null) throw c.seriesShapeError;
    if (historyLength >= 0 && c.seriesLength !== historyLength) {
      fail(
        `market.history.closesUsdByUnderlying.${c.name}`,
        `has ${c.seriesLength} closes, other series have ${historyLength}`,
        'MISSING_MARKET_DATA',
        'Align every series on the same timestamps.',
      );
    }
    historyLength = c.seriesLength;
    if (c.seriesValueError !== null) throw c.seriesValueError;
    if (c.liquidityError !== null) throw c.liquidityError;
  }
}
