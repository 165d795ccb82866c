import { cholesky } from './linalg';
import { Prng } from './prng';
import { historicalLosses, monteCarloLosses, tailMeasures } from './var';

const Z99 = 2.3263478740408408; // standard normal 99 % quantile
const Z975 = 1.959963984540054;
const phi = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);

describe('tailMeasures', () => {
  it('takes the order statistic for VaR and the fractional tail mean for ES', () => {
    const losses = Float64Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
    expect(tailMeasures(losses, 0.99)).toEqual({ varUsd: 100, esUsd: 100 });
    // m = 2.5: VaR = 3rd worst = 98, ES = (100 + 99 + 0.5 * 98) / 2.5
    const t = tailMeasures(losses, 0.975);
    expect(t.varUsd).toBe(98);
    expect(t.esUsd).toBeCloseTo(248 / 2.5, 12);
  });

  it('keeps ES >= VaR at the same confidence on hundreds of random samples', () => {
    const rng = new Prng(5);
    for (let trial = 0; trial < 300; trial++) {
      const n = 10 + rng.int(500);
      const sample = Float64Array.from(
        { length: n },
        () => rng.normal() * rng.uniform(0.1, 10) + rng.uniform(-5, 5),
      );
      const alpha = rng.uniform(0.8, 0.999);
      const { varUsd, esUsd } = tailMeasures(sample, alpha);
      expect(esUsd).toBeGreaterThanOrEqual(varUsd);
    }
  });
});

describe('Monte Carlo VaR / ES', () => {
  // Linear book: P&L = w · x, x ~ N(0, Σ) with vols s and correlation C; σ_P = sqrt(wᵀ Σ w).
  const s = Float64Array.from([0.02, 0.01, 0.03]);
  const c = Float64Array.from([1, 0.6, -0.2, 0.6, 1, 0.1, -0.2, 0.1, 1]);
  const w = [1_000, -2_500, 700];
  let sigmaP2 = 0;
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) sigmaP2 += w[i]! * w[j]! * s[i]! * s[j]! * c[i * 3 + j]!;
  const sigmaP = Math.sqrt(sigmaP2);
  const pnl = (x: Float64Array) => w[0]! * x[0]! + w[1]! * x[1]! + w[2]! * x[2]!;

  it('converges to the analytic normal VaR and ES of a linear book within 3 %', () => {
    const losses = monteCarloLosses(s, cholesky(c, 3), pnl, {
      paths: 50_000,
      seed: 1,
      studentTDegreesOfFreedom: 0,
    });
    const v = tailMeasures(losses, 0.99).varUsd;
    const es = tailMeasures(losses, 0.975).esUsd;
    expect(Math.abs(v / (Z99 * sigmaP) - 1)).toBeLessThan(0.03);
    expect(Math.abs(es / ((phi(Z975) / 0.025) * sigmaP) - 1)).toBeLessThan(0.03);
  });

  it('draws Student-t with the same variance but a fatter 99.9 % tail', () => {
    const normal = monteCarloLosses(s, cholesky(c, 3), pnl, {
      paths: 50_000,
      seed: 2,
      studentTDegreesOfFreedom: 0,
    });
    const t = monteCarloLosses(s, cholesky(c, 3), pnl, {
      paths: 50_000,
      seed: 2,
      studentTDegreesOfFreedom: 5,
    });
    const sd = (x: Float64Array) => Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length);
    expect(Math.abs(sd(t) / sigmaP - 1)).toBeLessThan(0.05);
    expect(tailMeasures(t, 0.999).varUsd).toBeGreaterThan(tailMeasures(normal, 0.999).varUsd);
  });

  it('is a pure function of the seed', () => {
    const run = (seed: number) =>
      monteCarloLosses(s, cholesky(c, 3), pnl, { paths: 500, seed, studentTDegreesOfFreedom: 5 });
    expect(Buffer.from(run(9).buffer).equals(Buffer.from(run(9).buffer))).toBe(true);
    expect(run(9)).not.toEqual(run(10));
  });

  it('rejects a Student-t without finite variance', () => {
    expect(() =>
      monteCarloLosses(s, cholesky(c, 3), pnl, { paths: 10, seed: 1, studentTDegreesOfFreedom: 2 }),
    ).toThrow(/studentTDegreesOfFreedom/);
  });
});

describe('historical VaR', () => {
  it('replays each stored return vector scaled to the horizon', () => {
    const r = [Float64Array.from([0.01, -0.02, 0.005]), Float64Array.from([0, 0.01, -0.01])];
    const losses = historicalLosses(r, 2, (x) => 100 * x[0]! - 50 * x[1]!);
    expect([...losses]).toEqual([expect.closeTo(-2, 12), expect.closeTo(5, 12), expect.closeTo(-2, 12)]);
  });
});
