/**
 * The options market data the devnet publishes, as pure functions: listed expiries, forwards, rates,
 * SVI smiles and the premiums seeded option trades pay.
 *
 * Smile shape: raw SVI with m = 0, σ = 0.2, ρ per underlying (put skew), and a, b chosen so the ATM
 * total variance is exactly (atmVol · volMultiplier)² · τ: a = b·σ = w₀/2. The minimum total variance
 * a + bσ√(1−ρ²) is then ≥ 0 for any ρ, so every published smile passes the venue's SVI checks.
 * Premiums use Black-76 on the forward at the smile's vol (discounted at the published rate). These
 * are market-data floats by nature; they become 18-decimal integers once, when posted.
 */
import { black76, SECONDS_PER_YEAR, sviVol as riskSviVol } from '../risk/math';

export type Underlying = 'ETH' | 'BTC';

export const BASE_ATM_VOL: Record<Underlying, number> = { ETH: 0.6, BTC: 0.5 };
export const SVI_RHO: Record<Underlying, number> = { ETH: -0.3, BTC: -0.2 };
export const SVI_SIGMA = 0.2;
/** Annualised rate published for every expiry (USDC funding on the venue). */
export const RATE_ANNUAL = 0.05;
export { SECONDS_PER_YEAR };

export interface SviParams {
  a: number;
  b: number;
  rho: number;
  m: number;
  sigma: number;
}

/** Friday 08:00 UTC (Derive's expiry time) on or after `tSec`. */
export function nextFriday0800(tSec: number): number {
  const day = 86_400;
  const dayStart = Math.floor(tSec / day) * day;
  // 1970-01-01 was a Thursday: weekday index 0 = Thursday, 1 = Friday.
  const weekday = Math.floor(dayStart / day) % 7;
  let candidate = dayStart + ((1 - weekday + 7) % 7) * day + 8 * 3600;
  if (candidate < tSec) candidate += 7 * day;
  return candidate;
}

/** Three expiries: a weekly (≥ 3 days out), a ~monthly (+4 weeks) and a ~quarterly (+13 weeks). */
export function listExpiries(nowSec: number): number[] {
  const weekly = nextFriday0800(nowSec + 3 * 86_400);
  return [weekly, weekly + 28 * 86_400, weekly + 91 * 86_400];
}

export function yearsTo(expirySec: number, nowSec: number): number {
  return Math.max(0, expirySec - nowSec) / SECONDS_PER_YEAR;
}

export function forwardPrice(spot: number, tauYears: number, rate = RATE_ANNUAL): number {
  return spot * Math.exp(rate * tauYears);
}

export function sviParams(u: Underlying, tauYears: number, volMultiplier = 1): SviParams {
  const atm = BASE_ATM_VOL[u] * volMultiplier;
  const w0 = atm * atm * tauYears;
  return { a: w0 / 2, b: w0 / 2 / SVI_SIGMA, rho: SVI_RHO[u], m: 0, sigma: SVI_SIGMA };
}

/** SVI implied vol at `strike`: the risk engine's SVI (Derive's, with its log-moneyness clamp). */
export function sviVol(p: SviParams, strike: number, forward: number, tauYears: number): number {
  return riskSviVol(strike, { ...p, forwardUsd: forward, tauYears });
}

/** Black-76 premium of one option on the forward, discounted at `rate`: the risk engine's pricer. */
export function optionPremium(
  forward: number,
  strike: number,
  tauYears: number,
  vol: number,
  isCall: boolean,
  rate = RATE_ANNUAL,
): number {
  const prices = black76({
    timeToExpirySec: Math.max(0, tauYears) * SECONDS_PER_YEAR,
    volAnnual: vol,
    forwardUsd: forward,
    strikeUsd: strike,
    discount: Math.exp(-rate * Math.max(0, tauYears)),
  });
  return isCall ? prices.call : prices.put;
}

/** A float market-data value as an 18-decimal integer (12 significant fraction digits kept). */
export function toD18(x: number): bigint {
  return BigInt(Math.round(x * 1e12)) * 1_000_000n;
}
