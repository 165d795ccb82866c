/**
 * Exponentially weighted (RiskMetrics-style) volatility and correlation from log returns, with the
 * stress floors the cross-underlying aggregation relies on.
 *
 * With decay λ, the estimate after T returns weights return t by λ^(T-t), normalized so the weights
 * sum to one (zero mean, as usual for short-horizon returns):
 *
 *   Σ_T = Σ_t λ^(T-t) r_t r_tᵀ / Σ_t λ^(T-t),   computed as S_t = λ S_(t-1) + r_t r_tᵀ, W_t = λ W_(t-1) + 1.
 *
 * Stress floors: the volatility used is max(EWMA vol, floorRatio x equally weighted long-run vol), so a
 * quiet spell does not shrink shocks to nothing; the worst (lowest) correlation observed along the
 * EWMA path is kept so hedge credit can be blended toward it (see `hedgeCorrelation`).
 */

export interface EwmaRiskModel {
  n: number;
  /** Current EWMA covariance per return interval, row-major n x n. */
  covariance: Float64Array;
  /** Current EWMA correlation; 0 off the diagonal where a variance is zero. */
  correlation: Float64Array;
  /** Element-wise minimum of the EWMA correlation along the path, after `minObservations`. */
  worstCorrelation: Float64Array;
  /** max(EWMA vol, floorRatio x long-run vol), annualized. */
  volAnnual: Float64Array;
  ewmaVolAnnual: Float64Array;
  longRunVolAnnual: Float64Array;
}

export interface EwmaOptions {
  volLambda: number;
  correlationLambda: number;
  minObservations: number;
  volFloorRatioToLongRun: number;
  intervalSec: number;
  secondsPerYear: number;
}

/** Final EWMA covariance of equally long return series (hand-checkable reference form). */
export function ewmaCovariance(returns: readonly Float64Array[], lambda: number): Float64Array {
  const n = returns.length;
  const len = n === 0 ? 0 : returns[0]!.length;
  const s = new Float64Array(n * n);
  let w = 0;
  for (let t = 0; t < len; t++) {
    for (let i = 0; i < n * n; i++) s[i] = s[i]! * lambda;
    for (let i = 0; i < n; i++) {
      const ri = returns[i]![t]!;
      for (let j = 0; j < n; j++) s[i * n + j] = s[i * n + j]! + ri * returns[j]![t]!;
    }
    w = w * lambda + 1;
  }
  if (w > 0) for (let i = 0; i < n * n; i++) s[i] = s[i]! / w;
  return s;
}

export function covarianceToCorrelation(cov: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) {
        c[i * n + j] = 1;
        continue;
      }
      const den = Math.sqrt(cov[i * n + i]! * cov[j * n + j]!);
      c[i * n + j] = den > 0 ? Math.max(-1, Math.min(1, cov[i * n + j]! / den)) : 0;
    }
  }
  return c;
}

export function estimateEwmaRiskModel(returns: readonly Float64Array[], o: EwmaOptions): EwmaRiskModel {
  const n = returns.length;
  const len = n === 0 ? 0 : returns[0]!.length;
  const annualize = o.secondsPerYear / o.intervalSec;

  const covariance = ewmaCovariance(returns, o.volLambda);
  const ewmaVolAnnual = new Float64Array(n);
  const longRunVolAnnual = new Float64Array(n);
  const volAnnual = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sumSq = 0;
    for (let t = 0; t < len; t++) sumSq += returns[i]![t]! ** 2;
    longRunVolAnnual[i] = len > 0 ? Math.sqrt((sumSq / len) * annualize) : 0;
    ewmaVolAnnual[i] = Math.sqrt(covariance[i * n + i]! * annualize);
    volAnnual[i] = Math.max(ewmaVolAnnual[i]!, o.volFloorRatioToLongRun * longRunVolAnnual[i]!);
  }

  // Correlation path with its own decay; keep the element-wise minimum once it has settled.
  const s = new Float64Array(n * n);
  const worst = new Float64Array(n * n).fill(1);
  let w = 0;
  for (let t = 0; t < len; t++) {
    for (let i = 0; i < n * n; i++) s[i] = s[i]! * o.correlationLambda;
    for (let i = 0; i < n; i++) {
      const ri = returns[i]![t]!;
      for (let j = 0; j < n; j++) s[i * n + j] = s[i * n + j]! + ri * returns[j]![t]!;
    }
    w = w * o.correlationLambda + 1;
    if (t + 1 >= o.minObservations) {
      const c = covarianceToCorrelation(s, n);
      for (let i = 0; i < n * n; i++) worst[i] = Math.min(worst[i]!, c[i]!);
    }
  }
  const correlation = covarianceToCorrelation(s, n);
  if (len < o.minObservations) worst.set(correlation);
  return { n, covariance, correlation, worstCorrelation: worst, volAnnual, ewmaVolAnnual, longRunVolAnnual };
}

/**
 * Correlation that earns hedge credit between two underlyings: a blend of today's EWMA correlation
 * and the worst observed one, floored at zero (negative correlation never earns credit):
 *
 *   ρ_hedge = max(0, (1 - w) ρ_now + w ρ_worst)
 */
export function hedgeCorrelation(model: EwmaRiskModel, stressWeight: number): Float64Array {
  const n = model.n;
  const h = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      h[i * n + j] =
        i === j
          ? 1
          : Math.max(
              0,
              (1 - stressWeight) * model.correlation[i * n + j]! +
                stressWeight * model.worstCorrelation[i * n + j]!,
            );
    }
  }
  return h;
}
