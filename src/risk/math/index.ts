/** Pricing primitives of the risk engine: normal distribution, Black-76, SVI. Pure float64 math. */
export { normCdf, normPdf } from './normal';
export {
  black76,
  black76Greeks,
  black76PricesUnchecked,
  black76PriceUnchecked,
  yearsFromSeconds,
  SECONDS_PER_YEAR,
  MAX_TOTAL_VOL,
  type Black76Input,
  type Black76Prices,
  type Black76Greeks,
} from './black76';
export {
  sviTotalVariance,
  sviTotalVarianceUnchecked,
  sviVol,
  sviVolUnchecked,
  sviClampedLogMoneyness,
  validateSviParams,
  SVI_MAX_TOTAL_VARIANCE,
  SVI_K_BOUND_TOTAL_VOLS,
  type SviParams,
} from './svi';
export { requireFinite, requireNonNegative, requirePositive } from './validate';
