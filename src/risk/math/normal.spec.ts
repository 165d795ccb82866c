import { normCdf, normPdf } from './normal';

// Reference values computed to 900 significant digits (erf power series in arbitrary precision),
// rounded to float64.
const REFERENCE: [number, number][] = [
  [0, 0.5],
  [0.5, 0.69146246127401312],
  [-0.5, 0.30853753872598688],
  [1, 0.84134474606854293],
  [-1, 0.15865525393145705],
  [1.96, 0.97500210485177952],
  [-2, 0.022750131948179209],
  [-3, 0.0013498980316300946],
  [3, 0.9986501019683699],
  [-5, 2.8665157187919391e-7],
  [6, 0.9999999990134123],
  [-8, 6.2209605742717839e-16],
  [-10, 7.6198530241605255e-24],
  [-20, 2.7536241186062337e-89],
  [-30, 4.9067139271481872e-198],
  [-37, 5.7255712225245771e-300],
];

describe('normCdf', () => {
  it.each(REFERENCE)('Phi(%p) matches the high-precision value to 1e-14 relative', (x, expected) => {
    const got = normCdf(x);
    expect(Math.abs(got - expected) / expected).toBeLessThan(1e-14);
  });

  it('is symmetric: Phi(x) + Phi(-x) = 1', () => {
    for (let x = 0; x < 8; x += 0.173) {
      expect(Math.abs(normCdf(x) + normCdf(-x) - 1)).toBeLessThan(2e-16);
    }
  });

  it('is monotone non-decreasing across the whole range', () => {
    let prev = 0;
    for (let x = -40; x <= 10; x += 0.01) {
      const v = normCdf(x);
      expect(v).toBeGreaterThanOrEqual(prev);
      prev = v;
    }
  });

  it('has exact limits at the infinities and never returns NaN for numbers', () => {
    expect(normCdf(-Infinity)).toBe(0);
    expect(normCdf(Infinity)).toBe(1);
    expect(normCdf(-1e308)).toBe(0);
    expect(normCdf(1e308)).toBe(1);
    expect(Number.isNaN(normCdf(NaN))).toBe(true);
  });
});

describe('normPdf', () => {
  it('matches 1/sqrt(2 pi) exp(-x^2/2)', () => {
    expect(normPdf(0)).toBeCloseTo(0.3989422804014327, 16);
    expect(normPdf(1)).toBeCloseTo(0.24197072451914337, 16);
    expect(normPdf(-3)).toBeCloseTo(0.0044318484119380075, 16);
    expect(normPdf(Infinity)).toBe(0);
  });

  it('is the derivative of normCdf', () => {
    const h = 1e-5;
    for (const x of [-4, -1.3, 0, 0.7, 2.5]) {
      const numeric = (normCdf(x + h) - normCdf(x - h)) / (2 * h);
      expect(Math.abs(numeric - normPdf(x))).toBeLessThan(1e-9);
    }
  });
});
