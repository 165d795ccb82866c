/**
 * Small dense symmetric linear algebra for correlation matrices (a handful of underlyings): a cyclic
 * Jacobi eigen-decomposition, repair of an estimated or blended matrix to the nearest valid
 * correlation matrix by eigenvalue clipping, and Cholesky for drawing correlated variates.
 *
 * Matrices are row-major `Float64Array`s of n*n; loops run in a fixed order so results are
 * bit-identical from run to run.
 */

export function identity(n: number): Float64Array {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  return m;
}

/** Eigenvalues and column eigenvectors (`vectors[i * n + k]` is component i of vector k). */
export function symmetricEigen(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const m = Float64Array.from(a);
  const v = identity(n);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p * n + q]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const app = m[p * n + p]!;
        const aqq = m[q * n + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = m[k * n + p]!;
          const akq = m[k * n + q]!;
          m[k * n + p] = c * akp - s * akq;
          m[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = m[p * n + k]!;
          const aqk = m[q * n + k]!;
          m[p * n + k] = c * apk - s * aqk;
          m[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = m[i * n + i]!;
  return { values, vectors: v };
}

/**
 * Nearest-valid correlation matrix by eigenvalue clipping: symmetrize, clip eigenvalues below
 * `minEigenvalue`, rebuild, rescale to a unit diagonal. A blend of correlation estimates, or an
 * element-wise worst case, need not be positive semi-definite; this makes it one (Rebonato-Jäckel).
 */
export function repairCorrelation(c: Float64Array, n: number, minEigenvalue = 1e-10): Float64Array {
  const sym = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) sym[i * n + j] = i === j ? 1 : (c[i * n + j]! + c[j * n + i]!) / 2;
  }
  const { values, vectors } = symmetricEigen(sym, n);
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++)
        s += vectors[i * n + k]! * Math.max(values[k]!, minEigenvalue) * vectors[j * n + k]!;
      out[i * n + j] = s;
    }
  }
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = Math.sqrt(out[i * n + i]!);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      out[i * n + j] = i === j ? 1 : Math.max(-1, Math.min(1, out[i * n + j]! / (d[i]! * d[j]!)));
    }
  }
  return out;
}

/**
 * Lower-triangular L with L Lᵀ = a. Pivots that round to <= 0 (a singular but PSD matrix, e.g.
 * perfectly correlated underlyings) give a zero column instead of NaN, which still reproduces a.
 */
export function cholesky(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let diag = a[j * n + j]!;
    for (let k = 0; k < j; k++) diag -= l[j * n + k]! ** 2;
    const tol = 1e-12 * Math.max(1, Math.abs(a[j * n + j]!));
    if (diag < -tol)
      throw new RangeError(`cholesky: matrix is not positive semi-definite (pivot ${j}: ${diag})`);
    const ljj = diag > tol ? Math.sqrt(diag) : 0;
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      l[i * n + j] = ljj > 0 ? s / ljj : 0;
    }
  }
  return l;
}

/** x Lᵀ-style product: out = L z for lower-triangular L. */
export function lowerTimes(l: Float64Array, n: number, z: Float64Array, out: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k <= i; k++) s += l[i * n + k]! * z[k]!;
    out[i] = s;
  }
}
