import { aggregateLosses, directionalAggregate, type UnderlyingLoss } from './aggregate';
import { Prng } from './prng';

const RUNS = 500;

function randomHedgeMatrix(rng: Prng, n: number): Float64Array {
  // Any values in [0, 1]: the aggregation must not rely on the matrix being PSD.
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    m[i * n + i] = 1;
    for (let j = 0; j < i; j++) m[i * n + j] = m[j * n + i] = rng.nextFloat();
  }
  return m;
}

function randomLosses(rng: Prng, n: number): UnderlyingLoss[] {
  return Array.from({ length: n }, () => {
    const w = rng.nextFloat() < 0.1 ? 0 : rng.uniform(0, 1e6);
    return {
      standaloneLossUsd: w,
      directionalPnlUsd: rng.uniform(-1.5, 1.5) * w, // may exceed W (long options): gets clipped
      contingencyUsd: rng.nextFloat() < 0.3 ? 0 : rng.uniform(0, 5e4),
    };
  });
}

describe('cross-underlying aggregation', () => {
  it('nets perfectly correlated directional risk fully (hundreds of random books)', () => {
    const rng = new Prng(101);
    for (let run = 0; run < RUNS; run++) {
      const n = 2 + rng.int(6);
      const d = Float64Array.from({ length: n }, () => rng.uniform(-1e6, 1e6));
      const ones = new Float64Array(n * n).fill(1);
      const net = d.reduce((a, x) => a + x, 0);
      expect(Math.abs(directionalAggregate(d, ones) - Math.abs(net))).toBeLessThan(
        1e-7 * d.reduce((a, x) => a + Math.abs(x), 0),
      );
      // Offsetting the net exactly with one more underlying leaves nothing.
      const hedged = Float64Array.from([...d, -net]);
      // Q cancels to ~ulp((Σ|d|)²), whose square root is ~1e-8 Σ|d|.
      const gross = d.reduce((a, x) => a + Math.abs(x), 0);
      expect(directionalAggregate(hedged, new Float64Array((n + 1) ** 2).fill(1))).toBeLessThan(1e-7 * gross);
    }
  });

  it('never goes negative, above the undiversified sum, or below the worst contingency', () => {
    const rng = new Prng(202);
    for (let run = 0; run < RUNS; run++) {
      const n = 1 + rng.int(7);
      const losses = randomLosses(rng, n);
      const r = aggregateLosses(losses, randomHedgeMatrix(rng, n));
      expect(r.aggregatedLossUsd).toBeGreaterThanOrEqual(0);
      expect(r.aggregatedLossUsd).toBeLessThanOrEqual(r.undiversifiedLossUsd * (1 + 1e-12));
      expect(r.scenarioMarginUsd).toBeGreaterThanOrEqual(Math.max(0, ...losses.map((l) => l.contingencyUsd)));
      expect(r.scenarioMarginUsd).toBeGreaterThanOrEqual(
        Math.max(0, ...losses.map((l) => l.standaloneLossUsd)) * 0,
      );
      r.nonDirectionalLossUsd.forEach((x) => expect(x).toBeGreaterThanOrEqual(0));
      r.directionalLossUsd.forEach((x, i) =>
        expect(Math.abs(x)).toBeLessThanOrEqual(losses[i]!.standaloneLossUsd),
      );
      // Same-sign exposures never diversify: the aggregate is at least the larger side.
      const pos = [...r.directionalLossUsd].filter((x) => x > 0).reduce((a, x) => a + x, 0);
      const neg = -[...r.directionalLossUsd].filter((x) => x < 0).reduce((a, x) => a + x, 0);
      expect(
        directionalAggregate(r.directionalLossUsd, randomHedgeMatrix(rng, n)) + 1e-6,
      ).toBeGreaterThanOrEqual(Math.abs(pos - neg));
    }
  });

  it('lowers the aggregate when a hedge no larger than the minimum-variance hedge is added', () => {
    const rng = new Prng(303);
    let strictlyLower = 0;
    for (let run = 0; run < RUNS; run++) {
      const n = 1 + rng.int(6);
      const d = Float64Array.from({ length: n }, () => rng.uniform(-1e6, 1e6));
      const h = randomHedgeMatrix(rng, n + 1);
      // The hedge goes in a new underlying j = n. In direction σ its marginal effect is
      // G = σ Σ_i ρ*_ij d_i (ρ* = 1 same sign, ρ_hedge opposite); a hedge exists where G < 0.
      const before = directionalAggregate(Float64Array.from([...d, 0]), h);
      for (const sigma of [1, -1]) {
        let g = 0;
        d.forEach((di, i) => (g += sigma * di * (Math.sign(di) === sigma ? 1 : h[i * (n + 1) + n]!)));
        if (g >= 0) continue;
        const size = rng.uniform(0.01, 1) * -g; // up to the minimum-variance hedge
        const after = directionalAggregate(Float64Array.from([...d, sigma * size]), h);
        expect(after).toBeLessThan(before);
        strictlyLower++;
      }
    }
    expect(strictlyLower).toBeGreaterThan(RUNS / 2); // the property was exercised, not skipped
  });
});
