import { covarianceToCorrelation, estimateEwmaRiskModel, ewmaCovariance, hedgeCorrelation } from './ewma';

const opts = {
  volLambda: 0.5,
  correlationLambda: 0.5,
  minObservations: 1,
  volFloorRatioToLongRun: 0,
  intervalSec: 3_600,
  secondsPerYear: 8_760 * 3_600,
};

describe('EWMA volatility and correlation', () => {
  it('matches a hand-computed three-return example', () => {
    // λ = 0.5, weights 0.25, 0.5, 1 (oldest first), sum 1.75.
    // var_a = (0.25*1 + 0.5*4 + 9) / 1.75 = 45/7; var_b = (0.25 + 0 + 1) / 1.75 = 5/7;
    // cov = (0.25*1*1 + 0.5*2*0 + 3*(-1)) / 1.75 = -11/7; corr = -11/15.
    const a = Float64Array.from([1, 2, 3]);
    const b = Float64Array.from([1, 0, -1]);
    const cov = ewmaCovariance([a, b], 0.5);
    expect(cov[0]).toBeCloseTo(45 / 7, 14);
    expect(cov[3]).toBeCloseTo(5 / 7, 14);
    expect(cov[1]).toBeCloseTo(-11 / 7, 14);
    expect(cov[2]).toBe(cov[1]);
    expect(covarianceToCorrelation(cov, 2)[1]).toBeCloseTo(-11 / 15, 14);
  });

  it('annualizes per-interval variance by intervals per year', () => {
    const r = Float64Array.from({ length: 50 }, (_, t) => (t % 2 === 0 ? 0.01 : -0.01));
    const m = estimateEwmaRiskModel([r], { ...opts, volLambda: 0.94 });
    expect(m.ewmaVolAnnual[0]).toBeCloseTo(0.01 * Math.sqrt(8_760), 12);
  });

  it('floors volatility at a fraction of the long-run volatility after a quiet spell', () => {
    const r = Float64Array.from({ length: 350 }, (_, t) => (t < 150 ? (t % 2 ? 0.02 : -0.02) : 0));
    const unfloored = estimateEwmaRiskModel([r], { ...opts, volLambda: 0.94 });
    const floored = estimateEwmaRiskModel([r], { ...opts, volLambda: 0.94, volFloorRatioToLongRun: 0.5 });
    const longRun = Math.sqrt((150 * 0.0004) / 350) * Math.sqrt(8_760);
    expect(unfloored.volAnnual[0]).toBeLessThan(0.01);
    expect(floored.longRunVolAnnual[0]).toBeCloseTo(longRun, 12);
    expect(floored.volAnnual[0]).toBeCloseTo(0.5 * longRun, 12);
  });

  it('remembers the worst correlation seen and blends hedge credit toward it', () => {
    // First half anti-correlated, second half correlated: today's correlation is high, the worst is -1.
    const a = Float64Array.from({ length: 120 }, (_, t) => (t % 2 ? 0.01 : -0.01));
    const b = Float64Array.from(a, (x, t) => (t < 60 ? -x : x));
    const m = estimateEwmaRiskModel([a, b], { ...opts, correlationLambda: 0.9, minObservations: 10 });
    expect(m.correlation[1]).toBeGreaterThan(0.99);
    expect(m.worstCorrelation[1]).toBeCloseTo(-1, 12);
    const h0 = hedgeCorrelation(m, 0);
    const hHalf = hedgeCorrelation(m, 0.5);
    const hFull = hedgeCorrelation(m, 1);
    expect(h0[1]).toBeCloseTo(m.correlation[1]!, 14);
    expect(hHalf[1]).toBeCloseTo(Math.max(0, 0.5 * m.correlation[1]! - 0.5), 14);
    expect(hFull[1]).toBe(0); // negative correlation never earns hedge credit
    expect(h0[0]).toBe(1);
  });

  it('gives zero correlation, not NaN, against a series with no variance', () => {
    const a = Float64Array.from([0.01, -0.02, 0.03]);
    const flat = new Float64Array(3);
    const m = estimateEwmaRiskModel([a, flat], opts);
    expect(m.correlation[1]).toBe(0);
    expect(m.worstCorrelation[1]).toBe(0);
    expect(m.volAnnual[1]).toBe(0);
  });
});
