/**
 * Standard normal density and distribution function in float64.
 *
 * Option values deep in or out of the money are differences of tiny CDF values, so a textbook
 * approximation (good to ~1e-7) is not enough to reproduce reference margin numbers to 1e-8.
 * `normCdf` follows W. J. Cody's rational Chebyshev approximations ("Rational Chebyshev
 * approximations for the error function", Math. Comp. 1969; the algorithm behind most scientific
 * libraries' pnorm), which keeps relative accuracy near machine precision in both tails. The tail
 * exponent is split as exp(-xsq^2/2) * exp(-del/2) so rounding in x^2 does not leak into the result.
 */

const INV_SQRT_2PI = 0.3989422804014327; // 1 / sqrt(2 pi)

// |x| <= 0.67448975 (the quartile): x * P(x^2) / Q(x^2)
const A = [
  2.2352520354606837, 161.02823106855587, 1067.6894854603709, 18154.98125334356, 0.06568233791820745,
] as const;
const B = [47.202581904688245, 976.0985517377767, 10260.932208618979, 45507.78933502673] as const;

// 0.67448975 < |x| <= sqrt(32): exp(-x^2/2) * P(|x|) / Q(|x|)
const C = [
  0.39894151208813466, 8.883149794388377, 93.50665613217785, 597.2702763948002, 2494.5375852903726,
  6848.190450536283, 11602.65143764735, 9842.714838383978, 1.0765576773720192e-8,
] as const;
const D = [
  22.266688044328117, 235.387901782625, 1519.3775994075547, 6485.558298266761, 18615.571640885097,
  34900.95272114598, 38912.00328609327, 19685.429676859992,
] as const;

// |x| > sqrt(32): asymptotic form in 1/x^2
const P = [
  0.215898534057957, 0.12740116116024736, 0.022235277870649807, 0.0014216191932278934, 2.9112874951168793e-5,
  0.023073441764940174,
] as const;
const Q = [
  1.284260096144911, 0.4682382124808651, 0.06598813786892856, 0.0037823963320275824, 7.297515550839662e-5,
] as const;

const SPLIT_LOW = 0.67448975;
const SPLIT_HIGH = 5.656854249492381; // sqrt(32)
/** Beyond this |x| the lower tail underflows to 0 in float64. */
const TAIL_UNDERFLOW = 38.5;

/** Standard normal density phi(x). Returns 0 for |x| = Infinity and NaN for NaN. */
export function normPdf(x: number): number {
  return INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}

/** exp(-y^2/2) computed without the rounding error of forming y^2 directly. */
function gaussTail(y: number): number {
  const ySplit = Math.trunc(y * 16) / 16;
  const del = (y - ySplit) * (y + ySplit);
  return Math.exp(-ySplit * ySplit * 0.5) * Math.exp(-del * 0.5);
}

/** Lower tail Phi(-y) for y >= SPLIT_LOW, relative accuracy close to machine precision. */
function upperTail(y: number): number {
  if (y > TAIL_UNDERFLOW) return 0;
  let ratio: number;
  if (y <= SPLIT_HIGH) {
    let num = C[8] * y;
    let den = y;
    for (let i = 0; i < 7; i++) {
      num = (num + C[i]!) * y;
      den = (den + D[i]!) * y;
    }
    ratio = (num + C[7]) / (den + D[7]);
  } else {
    const z = 1 / (y * y);
    let num = P[5] * z;
    let den = z;
    for (let i = 0; i < 4; i++) {
      num = (num + P[i]!) * z;
      den = (den + Q[i]!) * z;
    }
    ratio = (INV_SQRT_2PI - (z * (num + P[4])) / (den + Q[4])) / y;
  }
  return gaussTail(y) * ratio;
}

/**
 * Standard normal cumulative distribution Phi(x) = P(Z <= x).
 * Exact limits at +-Infinity; NaN in gives NaN out (callers validate inputs first).
 */
export function normCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const y = Math.abs(x);
  if (y <= SPLIT_LOW) {
    const xsq = y > 1.11e-16 ? x * x : 0;
    let num = A[4] * xsq;
    let den = xsq;
    for (let i = 0; i < 3; i++) {
      num = (num + A[i]!) * xsq;
      den = (den + B[i]!) * xsq;
    }
    return 0.5 + (x * (num + A[3])) / (den + B[3]);
  }
  const lower = upperTail(y);
  return x > 0 ? 1 - lower : lower;
}
