/**
 * The demo's first parameter set, published the way an operator would before the risk role starts:
 * the engine's default parameters and a window of 61 daily closes around the devnet's current spots.
 * The devnet's chain history is minutes long, too short for the scheduled estimator's window, so the
 * window is synthetic (a deterministic ±3 % daily swing: realistic volatilities, nothing random).
 */
import type { Redis } from 'ioredis';
import type { Devnet } from '../devnet/devnet';
import { readFeedPrices } from '../devnet/market';
import { underlyingOfFeed } from '../indexer/market-data';
import { redisKeys } from '../indexer/redis/keys';
import { defaultLiquidity } from '../pipeline/param-estimator';
import { ParamStore } from '../pipeline/param-store';
import type { ParamSet } from '../pipeline/types';
import { DEFAULT_RISK_PARAMS } from '../risk';

const DAY_SEC = 86_400;
const CLOSES = 61;

export async function publishDemoParams(redis: Redis, network: string, devnet: Devnet): Promise<ParamSet> {
  const m = devnet.manifest;
  const prices = await readFeedPrices(devnet.clients, m);
  const closesUsdByUnderlying: Record<string, number[]> = {};
  for (const [sym, raw] of Object.entries(prices)) {
    const feed = m.feeds.prices[sym as keyof typeof m.feeds.prices];
    const u = underlyingOfFeed(feed.description);
    if (!(u in DEFAULT_RISK_PARAMS.underlyings)) continue;
    const spot = Number(raw) / 10 ** feed.decimals;
    const swing = u === 'USDC' ? 0.0005 : 0.03;
    closesUsdByUnderlying[u] = Array.from(
      { length: CLOSES },
      (_, i) => spot * (1 + swing * Math.sin(i * 2.1 + u.length)),
    );
  }
  const store = new ParamStore(redis, redisKeys(network).pipeline.params, () => undefined);
  const { set } = await store.publish(
    {
      params: DEFAULT_RISK_PARAMS,
      history: { intervalSec: DAY_SEC, closesUsdByUnderlying },
      liquidity: defaultLiquidity(DEFAULT_RISK_PARAMS),
      window: { endSec: 0, intervalSec: DAY_SEC, count: CLOSES },
    },
    'demo operator: initial set',
  );
  return set;
}
