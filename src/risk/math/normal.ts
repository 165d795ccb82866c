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
  2.2352520354606839287, 161.02823106855587881, 1067.6894854603709582, 18154.981253343561249,
  0.065682337918207449113,
] as const;
const B = [
  47.20258190468824187, 976.09855173777669322, 10260.932208618978205, 45507.789335026729956,
] as const;

// 0.67448975 < |x| <= sqrt(32): exp(-x^2/2) * P(|x|) / Q(|x|)
const C = [
  0.39894151208813466764, 8.8831497943883759412, 93.506656132177855979, 597.27027639480026226,
  2494.5375852903726711, 6848.1904505362823326, 11602.651437647350124, 9842.7148383839780218,
  1.0765576773720192317e-8,
] as const;
const D = [
  22.266688044328115691, 235.38790178262499861, 1519.377599407554805, 6485.558298266760755,
  18615.571640885098091, 34900.952721145977266, 38912.003286093271411, 19685.429676859990727,
] as const;

// |x| > sqrt(32): asymptotic form in 1/x^2
const P = [
  0.21589853405795699, 0.1274011611602473639, 0.022235277870649807, 0.001421619193227893466,
  2.9112874951168792e-5, 0.02307344176494017303,
] as const;
const Q = [
  1.28426009614491121, 0.468238212480865118, 0.0659881378689285515, 0.00378239633202758244,
  7.29751555083966205e-5,
] as const;

const SPLIT_LOW = 0.67448975;
const SPLIT_HIGH = 5.656854249492380195; // sqrt(32)
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
