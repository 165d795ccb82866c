/**
 * The operator's first parameter set, as tests publish it: a devnet's chain history is minutes long,
 * too short for the scheduled estimator's window, so the price history is a deterministic synthetic
 * window of daily closes around the current spots (a parameter-set input, not chain data).
 */
import type { MarketSnapshot } from '../../src/risk/types';
import { defaultLiquidity } from '../../src/pipeline/param-estimator';
import type { ParamStore } from '../../src/pipeline/param-store';
import type { ParamSet } from '../../src/pipeline/types';
import type { RiskParams } from '../../src/risk';

/** 61 deterministic daily closes per underlying, swinging ±2 % around its spot; `phase` varies the path. */
export function historyAround(spots: Record<string, number>, phase = 1.7): ParamSet['history'] {
  const closesUsdByUnderlying: Record<string, number[]> = {};
  for (const [u, s] of Object.entries(spots))
    closesUsdByUnderlying[u] = Array.from(
      { length: 61 },
      (_, i) => s * (1 + 0.02 * Math.sin(i * phase + u.length)),
    );
  return { intervalSec: 86_400, closesUsdByUnderlying };
}

/** Spot (USD) of every Chainlink answer in `prices`, for the underlyings `params` margins (all if none). */
export function spotsOf(
  prices: MarketSnapshot['market']['prices'],
  params?: RiskParams,
): Record<string, number> {
  const spots: Record<string, number> = {};
  for (const [u, f] of Object.entries(prices))
    if (!params || u in params.underlyings) spots[u] = Number(f.answer) / 10 ** f.decimals;
  return spots;
}

/** Publishes `params` with the synthetic history around `prices` and default liquidity, as the operator. */
export async function publishOperatorSet(
  store: ParamStore,
  params: RiskParams,
  prices: MarketSnapshot['market']['prices'],
  phase?: number,
): Promise<ParamSet> {
  const { set } = await store.publish(
    {
      params,
      history: historyAround(spotsOf(prices, params), phase),
      liquidity: defaultLiquidity(params),
      window: { endSec: 0, intervalSec: 86_400, count: 61 },
    },
    'operator',
  );
  return set;
}
