/**
 * Black-76: European options on a forward F, discounted by a factor D = exp(-r T).
 *
 * The conventions follow Derive's on-chain pricer so margin numbers line up with theirs:
 * time is seconds / (365 days); total volatility sigma*sqrt(T) of zero prices intrinsic value; a total
 * volatility of 24 or more prices the call at the discounted forward (the option is worth its whole
 * underlying); the put comes from put-call parity on the standardised call and is floored at zero;
 * both prices are capped by their no-arbitrage bounds (call <= D*F, put <= D*K).
 */
import { normCdf, normPdf } from './normal';
import { requireNonNegative } from './validate';

export const SECONDS_PER_YEAR = 365 * 24 * 60 * 60;
/** Above this sigma*sqrt(T) the standardised call is 1 (Derive's MAX_TOTAL_VOL). */
export const MAX_TOTAL_VOL = 24;

export interface Black76Input {
  /** Seconds until expiry, >= 0. */
  timeToExpirySec: number;
  /** Annualised implied volatility, >= 0 (0.8 = 80%). */
  volAnnual: number;
  /** Forward price of the underlying for this expiry, >= 0. */
  forwardUsd: number;
  /** Strike, >= 0. */
  strikeUsd: number;
  /** Discount factor to expiry, in [0, +inf) (usually exp(-rate * T)). */
  discount: number;
}

export interface Black76Prices {
  call: number;
  put: number;
}

export interface Black76Greeks extends Black76Prices {
  /** dC/dF and dP/dF (forward delta, discounted). */
  callDelta: number;
  putDelta: number;
  /** d2V/dF2, same for call and put. */
  gamma: number;
  /** dV/dsigma per 1.00 of volatility, same for call and put. */
  vega: number;
  /** dV/dt per year of calendar time passing (negative of dV/dT), holding the discount factor fixed. */
  callTheta: number;
  putTheta: number;
}

export function yearsFromSeconds(seconds: number): number {
  return seconds / SECONDS_PER_YEAR;
}

function validate(input: Black76Input): void {
  requireNonNegative('timeToExpirySec', input.timeToExpirySec);
  requireNonNegative('volAnnual', input.volAnnual);
  requireNonNegative('forwardUsd', input.forwardUsd);
  requireNonNegative('strikeUsd', input.strikeUsd);
  requireNonNegative('discount', input.discount);
}

/**
 * Call and put prices with no input checks: the hot path of the margin engine, which validates its
 * portfolio once up front. Inputs must already satisfy `black76`'s preconditions.
 */
export function black76PricesUnchecked(
  timeYears: number,
  volAnnual: number,
  forwardUsd: number,
  strikeUsd: number,
  discount: number,
): Black76Prices {
  const fwdDiscounted = forwardUsd * discount;
  if (strikeUsd === 0) return { call: fwdDiscounted, put: 0 };
  const strikeDiscounted = strikeUsd * discount;
  if (forwardUsd === 0) return { call: 0, put: strikeDiscounted };
  const moneyness = strikeUsd / forwardUsd;
  const stdCall = standardCall(moneyness, volAnnual * Math.sqrt(timeYears));
  const stdPut = Math.max(stdCall + moneyness - 1, 0);
  return {
    call: Math.min(stdCall * fwdDiscounted, fwdDiscounted),
    put: Math.min(stdPut * fwdDiscounted, strikeDiscounted),
  };
}

/**
 * One side of `black76PricesUnchecked` (the call or the put, bit for bit the same number) without
 * allocating the pair: for loops that reprice one option many times.
 */
export function black76PriceUnchecked(
  isCall: boolean,
  timeYears: number,
  volAnnual: number,
  forwardUsd: number,
  strikeUsd: number,
  discount: number,
): number {
  const fwdDiscounted = forwardUsd * discount;
  if (strikeUsd === 0) return isCall ? fwdDiscounted : 0;
  const strikeDiscounted = strikeUsd * discount;
  if (forwardUsd === 0) return isCall ? 0 : strikeDiscounted;
  const moneyness = strikeUsd / forwardUsd;
  const stdCall = standardCall(moneyness, volAnnual * Math.sqrt(timeYears));
  if (isCall) return Math.min(stdCall * fwdDiscounted, fwdDiscounted);
  const stdPut = Math.max(stdCall + moneyness - 1, 0);
  return Math.min(stdPut * fwdDiscounted, strikeDiscounted);
}

/** Call price for F = D = 1 and strike = moneyness K/F. */
function standardCall(moneyness: number, totalVol: number): number {
  if (totalVol >= MAX_TOTAL_VOL) return 1;
  if (totalVol === 0) return Math.max(1 - moneyness, 0);
  const k = Math.log(moneyness);
  const d1 = -k / totalVol + totalVol / 2;
  const d2 = d1 - totalVol;
  return Math.max(normCdf(d1) - moneyness * normCdf(d2), 0);
}

/** Validated Black-76 call and put prices. Throws `InvalidInputError` naming the bad field. */
export function black76(input: Black76Input): Black76Prices {
  validate(input);
  return black76PricesUnchecked(
    yearsFromSeconds(input.timeToExpirySec),
    input.volAnnual,
    input.forwardUsd,
    input.strikeUsd,
    input.discount,
  );
}

/**
 * Prices and first/second-order sensitivities. At expiry or zero volatility the greeks are those
 * of the intrinsic payoff (delta 0 or +-D, gamma/vega 0); they are never NaN.
 */
export function black76Greeks(input: Black76Input): Black76Greeks {
  validate(input);
  const t = yearsFromSeconds(input.timeToExpirySec);
  const { call, put } = black76PricesUnchecked(
    t,
    input.volAnnual,
    input.forwardUsd,
    input.strikeUsd,
    input.discount,
  );
  const d = input.discount;
  const f = input.forwardUsd;
  const k = input.strikeUsd;
  const totalVol = input.volAnnual * Math.sqrt(t);
  if (totalVol === 0 || f === 0 || k === 0 || totalVol >= MAX_TOTAL_VOL) {
    const itmCall = f > k ? d : 0;
    return {
      call,
      put,
      callDelta: itmCall,
      putDelta: itmCall - d,
      gamma: 0,
      vega: 0,
      callTheta: 0,
      putTheta: 0,
    };
  }
  const d1 = Math.log(f / k) / totalVol + totalVol / 2;
  const nd1 = normCdf(d1);
  const pdf = normPdf(d1);
  const callDelta = d * nd1;
  const vega = d * f * pdf * Math.sqrt(t);
  const gamma = (d * pdf) / (f * totalVol);
  // Time decay of the volatility term only (discount held fixed): -D F phi(d1) sigma / (2 sqrt(T)).
  const theta = (-d * f * pdf * input.volAnnual) / (2 * Math.sqrt(t));
  return { call, put, callDelta, putDelta: callDelta - d, gamma, vega, callTheta: theta, putTheta: theta };
}
