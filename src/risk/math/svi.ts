/**
 * Raw SVI volatility smile (Gatheral): total implied variance at log-moneyness k = ln(K/F) is
 *   w(k) = a + b * (rho * (k - m) + sqrt((k - m)^2 + sigma^2)),   vol = sqrt(w / tau).
 *
 * Conventions match Derive's on-chain SVI so its margin cases reproduce: k is clamped to [-B, B]
 * with B = 4 * sqrt(a + b * sigma) (four "total vols"; the wings are flat beyond), w is capped at
 * 144, and a zero strike has zero vol. A negative w means the parameters are invalid.
 */
import { InvalidInputError } from '../../common/errors';
import { requireFinite, requireNonNegative, requirePositive } from './validate';

export interface SviParams {
  a: number;
  b: number;
  rho: number;
  m: number;
  sigma: number;
  /** Forward the smile was fitted against (log-moneyness is taken relative to it). */
  forwardUsd: number;
  /** Time to expiry in years that the total variance refers to. */
  tauYears: number;
}

export const SVI_MAX_TOTAL_VARIANCE = 144;
/** The log-moneyness bound is this many times sqrt(a + b * sigma). */
export const SVI_K_BOUND_TOTAL_VOLS = 4;

export function validateSviParams(p: SviParams, field = 'svi'): void {
  requireFinite(`${field}.a`, p.a);
  requireNonNegative(`${field}.b`, p.b);
  requireFinite(`${field}.rho`, p.rho);
  if (p.rho <= -1 || p.rho >= 1) {
    throw new InvalidInputError(`${field}.rho`, `must be in (-1, 1), got ${p.rho}`);
  }
  requireFinite(`${field}.m`, p.m);
  requireNonNegative(`${field}.sigma`, p.sigma);
  requirePositive(`${field}.forwardUsd`, p.forwardUsd);
  requirePositive(`${field}.tauYears`, p.tauYears);
}

/** Log-moneyness ln(K/F), clamped to [-B, B], B = 4 sqrt(a + b sigma), where the smile is trusted. */
export function sviClampedLogMoneyness(strikeUsd: number, p: SviParams): number {
  const bound = SVI_K_BOUND_TOTAL_VOLS * Math.sqrt(Math.max(p.a + p.b * p.sigma, 0));
  if (strikeUsd === 0) return -bound;
  const k = Math.log(strikeUsd / p.forwardUsd);
  return Math.min(bound, Math.max(-bound, k));
}

/** Total implied variance w at a strike, capped at 25. Throws if the parameters give w < 0. */
export function sviTotalVariance(strikeUsd: number, p: SviParams): number {
  requireNonNegative('strikeUsd', strikeUsd);
  validateSviParams(p);
  return sviTotalVarianceUnchecked(strikeUsd, p);
}

export function sviTotalVarianceUnchecked(strikeUsd: number, p: SviParams): number {
  if (strikeUsd === 0) return 0;
  const km = sviClampedLogMoneyness(strikeUsd, p) - p.m;
  const w = p.a + p.b * (Math.sqrt(km * km + p.sigma * p.sigma) + p.rho * km);
  if (w < 0) {
    throw new InvalidInputError(
      'svi',
      `parameters give a negative total variance (${w}) at strike ${strikeUsd}`,
      {
        hint: 'Check the SVI fit: a + b * sigma * sqrt(1 - rho^2) must be >= 0.',
      },
    );
  }
  return Math.min(w, SVI_MAX_TOTAL_VARIANCE);
}

/** Annualised implied volatility sqrt(w / tau) at a strike. */
export function sviVol(strikeUsd: number, p: SviParams): number {
  return Math.sqrt(sviTotalVariance(strikeUsd, p) / p.tauYears);
}

export function sviVolUnchecked(strikeUsd: number, p: SviParams): number {
  return Math.sqrt(sviTotalVarianceUnchecked(strikeUsd, p) / p.tauYears);
}
