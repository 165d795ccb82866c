/**
 * Re-estimation of the parameter set from the price history: the window's closes are what the
 * engine estimates volatility and correlation from (EWMA), so a new window is a new estimate.
 *
 * `reestimate()` reads the same grid for every underlying the active parameters know and the
 * history holds (`RedisPriceHistory.readWindow`, `toPriceHistory`), ending at the chain time of
 * the newest recorded market (not the wall clock: a devnet's clock runs on its own), and publishes
 * `{ active params, new history, active liquidity, window }`. `ParamStore.publish` writes a new
 * version only when that content differs from the active set. The first set (`ensureInitial`) is
 * `DEFAULT_RISK_PARAMS` (or the given ones) with the current window.
 */
import { NetmarginError } from '../common/errors';
import type { PriceHistory, RiskParams } from '../risk';
import type { LiquidityInfo } from '../risk/types';
import { toPriceHistory, type PriceWindow, type RedisPriceHistory } from '../indexer/redis/price-history';
import type { ParamDraft, ParamStore, PublishResult } from './param-store';

export interface EstimationWindow {
  /** Grid spacing of the closes (seconds). */
  intervalSec: number;
  /** Closes per underlying (≥ 2). */
  count: number;
  /** Refuse a close older than this at its grid point (a feed gap); default none. */
  maxStalenessSec?: number;
}

export interface ParamEstimatorDeps {
  store: ParamStore;
  history: RedisPriceHistory;
  window: EstimationWindow;
  /** The window's end (seconds): the newest recorded market's block time. */
  nowSec: () => Promise<number>;
  /** The first set's parameters and liquidity (published by `reestimate` when none is active). */
  initial: { params: RiskParams; liquidity: Record<string, LiquidityInfo> };
}

/**
 * Liquidity assumed for every underlying of `params` until an operator publishes measured figures
 * (open interest and depth are not on chain): 50 M USD open interest, 500 M USD depth.
 */
export function defaultLiquidity(params: RiskParams): Record<string, LiquidityInfo> {
  return Object.fromEntries(
    Object.keys(params.underlyings)
      .sort()
      .map((u) => [u, { openInterestUsd: 50_000_000, depthUsd: 500_000_000 }]),
  );
}

export class ParamEstimator {
  constructor(private readonly deps: ParamEstimatorDeps) {}

  /** The history window ending at `endSec` for every underlying of `params` the history holds. */
  async readHistory(
    params: RiskParams,
    endSec: number,
  ): Promise<{ history: PriceHistory; window: ParamDraft['window'] }> {
    const { history, window } = this.deps;
    const stored = new Set(await history.assets());
    const names = Object.keys(params.underlyings)
      .filter((u) => stored.has(u))
      .sort();
    if (names.length === 0)
      throw new NetmarginError('The price history holds none of the parameter set’s underlyings', {
        code: 'HISTORY_EMPTY',
        hint: 'Let the head runner record a few blocks (it appends every feed round) before estimating.',
        details: { underlyings: Object.keys(params.underlyings) },
      });
    const windows: PriceWindow[] = [];
    for (const u of names)
      windows.push(
        await history.readWindow(u, {
          endSec,
          intervalSec: window.intervalSec,
          count: window.count,
          ...(window.maxStalenessSec === undefined ? {} : { maxStalenessSec: window.maxStalenessSec }),
        }),
      );
    const h = toPriceHistory(windows);
    const last = windows[0]!.timesSec[windows[0]!.timesSec.length - 1]!;
    return { history: h, window: { endSec: last, intervalSec: window.intervalSec, count: window.count } };
  }

  /** Publishes the first set (`initial` with the current window) when none is active. */
  async ensureInitial(): Promise<PublishResult> {
    const active = await this.deps.store.activeOrUndefined();
    if (active) return { set: active, created: false, previous: null };
    const { params, liquidity } = this.deps.initial;
    const { history, window } = await this.readHistory(params, await this.deps.nowSec());
    return this.deps.store.publish({ params, history, liquidity, window }, 'initial');
  }

  /**
   * Re-estimates from the newest window; a new version only when the estimate changed. With no
   * active set yet, publishes the initial one.
   */
  async reestimate(): Promise<PublishResult> {
    const active = await this.deps.store.activeOrUndefined();
    if (!active) return this.ensureInitial();
    const { history, window } = await this.readHistory(active.params, await this.deps.nowSec());
    return this.deps.store.publish(
      { params: active.params, history, liquidity: active.liquidity, window },
      'scheduled re-estimation',
    );
  }
}
