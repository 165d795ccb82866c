/**
 * Cross-underlying aggregation of per-underlying scenario losses (correlation offsets).
 *
 * Each underlying's standalone worst loss W_u (>= 0, from its own scenario grid) is split into a
 * directional part d_u — the antisymmetric part of the P&L between the grid's full spot-down and
 * spot-up scenarios, clipped to |d_u| <= W_u — and a non-directional remainder n_u = W_u - |d_u|
 * (convexity, vol). Only directional risk is offset across underlyings:
 *
 *   Q = Σ_i Σ_j ρ*_ij d_i d_j,   ρ*_ij = 1 if d_i d_j >= 0 (no diversification credit),
 *                                 ρ*_ij = ρ_hedge_ij in [0, 1] if d_i d_j < 0 (hedge credit)
 *   aggregated = sqrt(Q) + Σ_u n_u,   scenario margin = aggregated + Σ_u contingency_u
 *
 * Q >= (P - N)^2 >= 0 where P and N are the sums of positive and negative d, so the square root is
 * always real; with ρ_hedge = 1 it is exactly |Σ d_u| (perfectly correlated underlyings net fully);
 * aggregated <= Σ W_u (offsets only ever lower the undiversified sum); contingencies are added in full.
 */

export interface UnderlyingLoss {
  /** Worst loss on the underlying's own grid (>= 0). */
  standaloneLossUsd: number;
  /** Half the difference between the full spot-up and full spot-down scenario P&L (long > 0). */
  directionalPnlUsd: number;
  contingencyUsd: number;
}

export interface AggregatedLoss {
  directionalLossUsd: Float64Array;
  nonDirectionalLossUsd: Float64Array;
  undiversifiedLossUsd: number;
  aggregatedLossUsd: number;
  contingencyUsd: number;
  scenarioMarginUsd: number;
}

/** d_u clipped to the standalone loss, so no underlying counts for more than its own worst case. */
export function directionalPart(standaloneLossUsd: number, directionalPnlUsd: number): number {
  return Math.max(-standaloneLossUsd, Math.min(standaloneLossUsd, directionalPnlUsd));
}

/** sqrt(Q) of the directional parts under the sign-dependent correlation described above. */
export function directionalAggregate(d: Float64Array, hedgeCorrelation: Float64Array): number {
  const n = d.length;
  let q = 0;
  for (let i = 0; i < n; i++) {
    const di = d[i]!;
    if (di === 0) continue;
    for (let j = 0; j < n; j++) {
      const dj = d[j]!;
      if (dj === 0) continue;
      const rho = i === j || di * dj > 0 ? 1 : hedgeCorrelation[i * n + j]!;
      q += rho * di * dj;
    }
  }
  return Math.sqrt(Math.max(0, q));
}

export function aggregateLosses(
  losses: readonly UnderlyingLoss[],
  hedgeCorrelation: Float64Array,
): AggregatedLoss {
  const n = losses.length;
  const d = new Float64Array(n);
  const nd = new Float64Array(n);
  let undiversified = 0;
  let contingency = 0;
  let nonDirectional = 0;
  for (let i = 0; i < n; i++) {
    const l = losses[i]!;
    d[i] = directionalPart(l.standaloneLossUsd, l.directionalPnlUsd);
    nd[i] = l.standaloneLossUsd - Math.abs(d[i]!);
    undiversified += l.standaloneLossUsd;
    contingency += l.contingencyUsd;
    nonDirectional += nd[i]!;
  }
  const aggregated = Math.min(undiversified, directionalAggregate(d, hedgeCorrelation) + nonDirectional);
  return {
    directionalLossUsd: d,
    nonDirectionalLossUsd: nd,
    undiversifiedLossUsd: undiversified,
    aggregatedLossUsd: aggregated,
    contingencyUsd: contingency,
    scenarioMarginUsd: aggregated + contingency,
  };
}
