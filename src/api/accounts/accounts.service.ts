/**
 * `AccountsService`: what the account endpoints answer, gathered from the stores the workers write
 * (positions, risk results, recorded markets, parameter sets) and, for a what-if, computed by the
 * risk engine. No HTTP here; the controllers call it.
 *
 * A what-if is margined on the basis of the account's latest result: the market recorded at that
 * result's block and the parameter set it used, so the only difference between `now` and `whatIf`
 * is the trades. If that market is no longer held (the history keeps the newest blocks only), the
 * newest recorded market and the active set are used instead and `basis.sameAsLatest` is false.
 *
 * The health answer's scenario grid is computed, not stored: from the market recorded at the
 * result's block, the result's parameter set and the positions it margined (the same cached market
 * contexts as a what-if). When one of them is no longer held, the grid is null.
 */
import { getAddress, type Address } from 'viem';
import type { BlockStamped, ReorgSafeStore } from '../../indexer/chain/store';
import type { OwnerPositions } from '../../indexer/indexer.service';
import type { MarketRecord } from '../../indexer/market-recorder';
import {
  classify,
  stalenessFlags,
  underlyingsOf,
  usd6Figures,
  type StalenessRules,
} from '../../pipeline/classify';
import type { RedisMarketHistory } from '../../pipeline/market-history';
import type { ParamReader, ParamSet, RiskRecord, RiskResultReader } from '../../pipeline/types';
import {
  computeAccountRiskIn,
  computeScenarioGrid,
  prepareMarket,
  type MarketContext,
  type ScenarioGrid,
} from '../../risk';
import type { MarketSnapshot, Position } from '../../risk/types';
import { accountNotFound, ApiError } from '../http/errors';
import { applyTrades, type Trade } from './trades';
import {
  healthView,
  historyRow,
  positionsView,
  type HealthView,
  type HistoryRow,
  type PositionsView,
} from './views';

export interface AccountsDeps {
  positions: Pick<ReorgSafeStore<OwnerPositions>, 'get'>;
  results: RiskResultReader;
  markets: Pick<RedisMarketHistory, 'at' | 'newest'>;
  params: ParamReader & { activeOrUndefined?(): Promise<ParamSet | undefined> };
  rules: StalenessRules;
  /** Warning buffer above IM, basis points (the risk workers' `NETMARGIN_RISK_WARNING_BPS`). */
  warningBufferBps: number;
  nowMs?: () => number;
}

export interface WhatIfAnswer {
  owner: Address;
  basis: {
    blockNumber: bigint;
    blockHash: `0x${string}`;
    paramsVersion: number;
    paramsHash: `0x${string}`;
    positionsBlockNumber: bigint;
    /** True when the market and parameters are those of the account's latest stored result. */
    sameAsLatest: boolean;
  };
  trades: Trade[];
  /** The account's positions on the basis, without the trades. */
  now: HealthView;
  /** With the trades applied. */
  whatIf: HealthView;
  /** whatIf − now. */
  delta: {
    imUsd6: bigint;
    mmUsd6: bigint;
    mtmUsd6: bigint;
    adjustedEquityUsd6: bigint;
    freeCollateralUsd6: bigint;
    shortfallUsd6: bigint;
    marginRatio: number | null;
    health: { from: HealthView['health']; to: HealthView['health'] };
  };
}

/** Market contexts kept (one per market block and parameter version). */
const CONTEXT_CACHE = 4;

export class AccountsService {
  private readonly contexts = new Map<string, MarketContext>();

  constructor(private readonly deps: AccountsDeps) {}

  async health(owner: Address): Promise<HealthView> {
    const r = await this.deps.results.latest(owner);
    if (!r) throw accountNotFound('risk result', owner);
    return this.healthOf(r);
  }

  /** The health answer of a stored result, scenario grid included (also what the account stream sends). */
  async healthOf(r: RiskRecord): Promise<HealthView> {
    return healthView(r, await this.scenarioGridOf(r));
  }

  /**
   * The scenario grid of a stored result: its positions against the market of its block under its
   * parameter set. Null when the market of that block or the parameter set is no longer held (or
   * differs from the result's), or when the stored positions are newer than the result's.
   */
  async scenarioGridOf(r: RiskRecord): Promise<ScenarioGrid | null> {
    const [market, set, stamped] = await Promise.all([
      this.deps.markets.at(r.blockNumber),
      this.deps.params.byVersion(r.paramsVersion),
      this.deps.positions.get(getAddress(r.owner)),
    ]);
    if (!market || market.blockHash !== r.blockHash || !set || set.hash !== r.paramsHash) return null;
    if (!stamped || stamped.blockNumber !== r.positionsBlockNumber) return null;
    return computeScenarioGrid(this.context(market, set), {
      account: r.owner,
      positions: positionsOf(stamped.value),
    });
  }

  async positions(owner: Address): Promise<PositionsView> {
    const stamped = await this.deps.positions.get(getAddress(owner));
    if (!stamped) throw accountNotFound('positions', owner);
    return positionsView(stamped);
  }

  async history(
    owner: Address,
    opts: { limit: number; beforeBlock?: bigint },
  ): Promise<{ owner: Address; records: HistoryRow[]; nextBefore: bigint | null }> {
    // One more than asked tells whether another page exists.
    const fetched = await this.deps.results.history(owner, { ...opts, limit: opts.limit + 1 });
    if (fetched.length === 0 && !(await this.deps.results.latest(owner)))
      throw accountNotFound('risk history', owner);
    const records = fetched.slice(0, opts.limit);
    const last = records[records.length - 1];
    return {
      owner,
      records: records.map(historyRow),
      nextBefore: fetched.length > opts.limit && last ? last.blockNumber : null,
    };
  }

  async whatIf(owner: Address, trades: Trade[]): Promise<WhatIfAnswer> {
    const latest = await this.deps.results.latest(owner);
    if (!latest) throw accountNotFound('risk result', owner);
    const stamped = await this.deps.positions.get(owner);
    if (!stamped) throw accountNotFound('positions', owner);
    const { market, set, sameAsLatest } = await this.basisOf(latest);
    const ctx = this.context(market, set);
    const base = positionsOf(stamped.value);
    const after = applyTrades(
      base,
      trades,
      market.snapshot.market,
      (leg) => computeAccountRiskIn(ctx, { account: owner, positions: [leg] }).mtmUsd,
    );
    const indexerStale = sameAsLatest && latest.stale.indexer;
    const now = healthView(
      this.record(owner, ctx, market, set, stamped, base, indexerStale),
      computeScenarioGrid(ctx, { account: owner, positions: base }),
    );
    const whatIf = healthView(
      this.record(owner, ctx, market, set, stamped, after, indexerStale),
      computeScenarioGrid(ctx, { account: owner, positions: after }),
    );
    return {
      owner,
      basis: {
        blockNumber: market.blockNumber,
        blockHash: market.blockHash,
        paramsVersion: set.version,
        paramsHash: set.hash,
        positionsBlockNumber: stamped.blockNumber,
        sameAsLatest,
      },
      trades,
      now,
      whatIf,
      delta: {
        imUsd6: whatIf.imUsd6 - now.imUsd6,
        mmUsd6: whatIf.mmUsd6 - now.mmUsd6,
        mtmUsd6: whatIf.mtmUsd6 - now.mtmUsd6,
        adjustedEquityUsd6: whatIf.adjustedEquityUsd6 - now.adjustedEquityUsd6,
        freeCollateralUsd6: whatIf.freeCollateralUsd6 - now.freeCollateralUsd6,
        shortfallUsd6: whatIf.shortfallUsd6 - now.shortfallUsd6,
        marginRatio:
          whatIf.marginRatio === null || now.marginRatio === null
            ? null
            : whatIf.marginRatio - now.marginRatio,
        health: { from: now.health, to: whatIf.health },
      },
    };
  }

  /** The latest result's market and parameter set, or the newest market and the active set. */
  private async basisOf(
    latest: RiskRecord,
  ): Promise<{ market: MarketRecord; set: ParamSet; sameAsLatest: boolean }> {
    const [market, set] = await Promise.all([
      this.deps.markets.at(latest.blockNumber),
      this.deps.params.byVersion(latest.paramsVersion),
    ]);
    if (market && market.blockHash === latest.blockHash && set && set.hash === latest.paramsHash)
      return { market, set, sameAsLatest: true };
    const [newest, active] = await Promise.all([
      this.deps.markets.newest(),
      this.deps.params.activeOrUndefined ? this.deps.params.activeOrUndefined() : this.deps.params.active(),
    ]);
    if (!newest || !active)
      throw new ApiError(503, 'No recorded market or parameter set to compute a what-if on', {
        code: 'NOT_READY',
        hint: 'The risk workers record them as they follow the chain; retry in a few blocks.',
      });
    return { market: newest, set: active, sameAsLatest: false };
  }

  private context(market: MarketRecord, set: ParamSet): MarketContext {
    const key = `${market.blockNumber}:${market.blockHash}:${set.version}:${set.hash}`;
    const hit = this.contexts.get(key);
    if (hit) {
      this.contexts.delete(key);
      this.contexts.set(key, hit);
      return hit;
    }
    const ctx = prepareMarket(snapshotOf(market, set), set.params);
    this.contexts.set(key, ctx);
    while (this.contexts.size > CONTEXT_CACHE) this.contexts.delete(this.contexts.keys().next().value!);
    return ctx;
  }

  /** A record as the risk workers would store it for `positions` on this basis. */
  private record(
    owner: Address,
    ctx: MarketContext,
    market: MarketRecord,
    set: ParamSet,
    stamped: BlockStamped<OwnerPositions>,
    positions: Position[],
    indexerStale: boolean,
  ): RiskRecord {
    const result = computeAccountRiskIn(ctx, { account: owner, positions });
    const flags = stalenessFlags(
      market,
      underlyingsOf(positions, market.snapshot.market.assets),
      undefined,
      this.deps.rules,
    );
    const stale = { ...flags, indexer: indexerStale };
    if (indexerStale)
      stale.reasons = [...flags.reasons, 'the latest result was computed behind the chain head'];
    const figures = usd6Figures(result);
    return {
      owner,
      blockNumber: market.blockNumber,
      blockHash: market.blockHash,
      asOfSec: market.snapshot.asOfSec,
      positionsBlockNumber: stamped.blockNumber,
      paramsVersion: set.version,
      paramsHash: set.hash,
      inputHash: result.inputHash,
      health: classify(figures, stale, { warningBufferBps: this.deps.warningBufferBps }),
      ...figures,
      stale,
      computedAtMs: (this.deps.nowMs ?? Date.now)(),
      result,
    };
  }
}

/** The engine's market input of a recorded market under a parameter set (history and liquidity are the set's). */
export function snapshotOf(market: MarketRecord, set: ParamSet): MarketSnapshot {
  return {
    asOfSec: market.snapshot.asOfSec,
    market: { ...market.snapshot.market, history: set.history, liquidity: set.liquidity },
  };
}

/** An owner's positions across protocols, in the store's order: the engine's account. */
export function positionsOf(v: OwnerPositions): Position[] {
  return v.protocols.flatMap((p) => p.positions);
}
