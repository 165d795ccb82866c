/**
 * Value at risk and expected shortfall, by historical simulation and by Monte Carlo, used as a floor
 * beside the scenario margin.
 *
 * Both revalue the whole account through a P&L function of one vector of log spot moves (one entry
 * per underlying, in the engine's sorted order), so options are repriced, not delta-approximated.
 *
 * - Historical: the stored per-interval log returns, scaled to the horizon by sqrt(horizon / interval).
 * - Monte Carlo: x = σ_h ⊙ (L ε), L the Cholesky factor of the (repaired) correlation matrix, ε i.i.d.
 *   standard normals, or multivariate Student-t with ν degrees of freedom rescaled to unit variance
 *   (ε = z sqrt((ν - 2) / χ²_ν), one χ² per path so tails are joint). Seeded: same seed, same numbers.
 *
 * Tail measures on N losses sorted worst first, m = N (1 - α), k = ceil(m):
 *   VaR_α = L_(k),   ES_α = (Σ_{i<k} L_(i) + (m - (k - 1)) L_(k)) / m
 * which keeps ES_α >= VaR_α at every α and sample size.
 */
import { lowerTimes } from './linalg';
import { Prng } from './prng';

export interface TailMeasures {
  varUsd: number;
  esUsd: number;
}

/** VaR and ES at confidence α of a loss sample (loss = -P&L, positive is bad). */
export function tailMeasures(losses: Float64Array, confidence: number): TailMeasures {
  const n = losses.length;
  if (n === 0) return { varUsd: 0, esUsd: 0 };
  const sorted = Float64Array.from(losses).sort().reverse();
  const m = n * (1 - confidence);
  const k = Math.max(1, Math.ceil(m - 1e-9));
  const varUsd = sorted[k - 1]!;
  if (m < 1) return { varUsd, esUsd: sorted[0]! };
  let sum = 0;
  for (let i = 0; i < k - 1; i++) sum += sorted[i]!;
  const esUsd = (sum + (m - (k - 1)) * sorted[k - 1]!) / m;
  return { varUsd, esUsd };
}

export type PnlOfMoves = (logMoves: Float64Array) => number;

/** Losses from replaying each historical return vector, scaled to the horizon. */
export function historicalLosses(
  returns: readonly Float64Array[],
  horizonScale: number,
  pnl: PnlOfMoves,
): Float64Array {
  const n = returns.length;
  const len = n === 0 ? 0 : returns[0]!.length;
  const moves = new Float64Array(n);
  const losses = new Float64Array(len);
  for (let t = 0; t < len; t++) {
    for (let i = 0; i < n; i++) moves[i] = returns[i]![t]! * horizonScale;
    losses[t] = -pnl(moves);
  }
  return losses;
}

export interface MonteCarloOptions {
  paths: number;
  seed: number;
  /** 0 for normals, otherwise > 2. */
  studentTDegreesOfFreedom: number;
}

/**
 * Correlated horizon log moves: `moves[i][p]` is underlying i's move on path p. Drawn in one fixed
 * order (per path: n normals, then ν normals for the χ²), so the paths are a pure function of the
 * seed and the inputs.
 */
export function monteCarloMoves(
  horizonVol: Float64Array,
  choleskyLower: Float64Array,
  o: MonteCarloOptions,
): Float64Array[] {
  const n = horizonVol.length;
  const nu = o.studentTDegreesOfFreedom;
  if (nu !== 0 && !(nu > 2)) throw new RangeError(`studentTDegreesOfFreedom must be 0 or > 2, got ${nu}`);
  const rng = new Prng(o.seed);
  const z = new Float64Array(n);
  const x = new Float64Array(n);
  const moves = Array.from({ length: n }, () => new Float64Array(o.paths));
  for (let p = 0; p < o.paths; p++) {
    for (let i = 0; i < n; i++) z[i] = rng.normal();
    let scale = 1;
    if (nu > 0) {
      let chi2 = 0;
      for (let k = 0; k < nu; k++) chi2 += rng.normal() ** 2;
      scale = Math.sqrt((nu - 2) / Math.max(chi2, 1e-12));
    }
    lowerTimes(choleskyLower, n, z, x);
    for (let i = 0; i < n; i++) moves[i]![p] = x[i]! * scale * horizonVol[i]!;
  }
  return moves;
}

/** Losses over `paths` correlated draws of horizon log moves with standard deviations `horizonVol`. */
export function monteCarloLosses(
  horizonVol: Float64Array,
  choleskyLower: Float64Array,
  pnl: PnlOfMoves,
  o: MonteCarloOptions,
): Float64Array {
  const n = horizonVol.length;
  const moves = monteCarloMoves(horizonVol, choleskyLower, o);
  const x = new Float64Array(n);
  const losses = new Float64Array(o.paths);
  for (let p = 0; p < o.paths; p++) {
    for (let i = 0; i < n; i++) x[i] = moves[i]![p]!;
    losses[p] = -pnl(x);
  }
  return losses;
}
