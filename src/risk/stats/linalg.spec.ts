import { cholesky, repairCorrelation, symmetricEigen } from './linalg';
import { Prng } from './prng';

function multiplyLLt(l: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += l[i * n + k]! * l[j * n + k]!;
      out[i * n + j] = s;
    }
  return out;
}

describe('symmetric eigen-decomposition', () => {
  it('finds the eigenvalues of a 2x2 correlation matrix (1 ± ρ)', () => {
    const { values } = symmetricEigen(Float64Array.from([1, 0.6, 0.6, 1]), 2);
    expect([...values].sort()).toEqual([expect.closeTo(0.4, 14), expect.closeTo(1.6, 14)]);
  });
});

describe('repairCorrelation', () => {
  it('turns an invalid blended matrix into a PSD one with unit diagonal', () => {
    // Pairwise plausible, jointly impossible: a ~ b, b ~ c, but a and c opposite.
    const bad = Float64Array.from([1, 0.9, -0.9, 0.9, 1, 0.9, -0.9, 0.9, 1]);
    expect(Math.min(...symmetricEigen(bad, 3).values)).toBeLessThan(-0.5);
    const fixed = repairCorrelation(bad, 3);
    expect(Math.min(...symmetricEigen(fixed, 3).values)).toBeGreaterThan(-1e-12);
    for (let i = 0; i < 3; i++) expect(fixed[i * 3 + i]).toBe(1);
    expect(() => cholesky(fixed, 3)).not.toThrow();
  });

  it('leaves a valid correlation matrix unchanged', () => {
    const ok = Float64Array.from([1, 0.3, 0.2, 0.3, 1, -0.1, 0.2, -0.1, 1]);
    const fixed = repairCorrelation(ok, 3);
    fixed.forEach((x, i) => expect(x).toBeCloseTo(ok[i]!, 12));
  });
});

describe('cholesky', () => {
  it('reproduces random PSD matrices', () => {
    const rng = new Prng(11);
    for (let trial = 0; trial < 50; trial++) {
      const n = 1 + rng.int(6);
      const g = Float64Array.from({ length: n * n }, () => rng.normal());
      const a = multiplyLLt(g, n);
      const back = multiplyLLt(cholesky(a, n), n);
      a.forEach((x, i) => expect(back[i]).toBeCloseTo(x, 8));
    }
  });

  it('handles perfectly correlated (singular) matrices without NaN', () => {
    const ones = new Float64Array(9).fill(1);
    const l = cholesky(ones, 3);
    expect(l.every(Number.isFinite)).toBe(true);
    multiplyLLt(l, 3).forEach((x) => expect(x).toBeCloseTo(1, 12));
  });

  it('rejects an indefinite matrix', () => {
    expect(() => cholesky(Float64Array.from([1, 2, 2, 1]), 2)).toThrow(/not positive semi-definite/);
  });
});
