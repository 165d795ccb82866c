/**
 * `RiskService`: margins accounts and stores the results (the `risk` queue's `RiskJobService`).
 *
 * `recompute(owner, block)` — an owner whose stored positions changed at `block`:
 * 1. the owner's stored positions (`positionsBlockNumber` = their stamp). The indexer asks for the
 *    job before it writes, so a stamp below the block while the positions store has not passed the
 *    block means the write is still coming: the job throws `POSITIONS_NOT_STORED` and BullMQ retries
 *    it. A stamp above the block (newer positions, their own job follows) or at the block with
 *    another hash (a reorg) makes the job `superseded` / `stale`: nothing is computed;
 * 2. the market recorded at the block, else the newest recorded below it (`blockNumber` of the
 *    record = the market's block); a market older than the positions is not used (retried);
 * 3. the active parameter set; the engine's market context is prepared once per (market block,
 *    parameter version) and cached (`prepareMarket` is the expensive part);
 * 4. `computeAccountRiskIn`, USD6 figures, staleness flags, health class (`classify.ts`);
 * 5. `RedisRiskResultStore.put`; when stored, every `RiskRecordListener` hears (next, previous),
 *    then the record is marked announced. A job run twice stores nothing new the second time and
 *    notifies nobody twice; a job retried after dying between the store and the mark notifies
 *    again (at least once).
 *
 * `recomputeMarket(block)` — a recorded market block (`risk-market` queue): every owner whose
 * latest result is below the block and whose exposure the block touched is recomputed in one pass
 * (one context, `computeAccountRiskIn` per owner). Touched: a price round or a vol slice of one of
 * the owner's underlyings differs from the market of its latest result, or a staleness flag would
 * change, or the parameter version changed, or that market is no longer held. Option slices are
 * rescaled to the time to expiry at every block, so option holders are recomputed every block.
 * A job whose block is no longer the newest recorded market is `superseded` and does nothing: the
 * newer block's job recomputes every owner touched since its latest result (the comparison is with
 * that result's market, so the moves of the blocks skipped are in it), and workers that fall behind
 * catch up at the head instead of margining every block in between.
 * Counters in the pipeline metrics hash: `risk_jobs`, `risk_stored`, `risk_market_blocks`,
 * `risk_market_recomputed`, `risk_market_superseded`, `risk_failed`, `risk_listener_failed`; the last market block and its
 * count as `risk_market_last_block` / `risk_market_last_count`.
 */
import type { Redis } from 'ioredis';
import { getAddress, type Address } from 'viem';
import { NetmarginError } from '../common/errors';
import type { BlockRef, BlockStamped, ReorgSafeStore } from '../indexer/chain/store';
import type { OwnerPositions } from '../indexer/indexer.service';
import type { MarketRecord } from '../indexer/market-recorder';
import type { RiskJobService } from '../indexer/processors/risk.processor';
import { computeAccountRiskIn, prepareMarket, type MarketContext } from '../risk';
import { canonicalize } from '../risk/hash';
import type { MarketSnapshot, Position } from '../risk/types';
import { classify, stalenessFlags, underlyingsOf, usd6Figures, type StalenessRules } from './classify';
import type { RedisMarketHistory } from './market-history';
import type { RedisRiskResultStore } from './result-store';
import type { HealthClass, ParamReader, ParamSet, RiskRecord, RiskRecordListener } from './types';

export interface RiskServiceDeps {
  positions: Pick<ReorgSafeStore<OwnerPositions>, 'get' | 'entries' | 'head'>;
  markets: RedisMarketHistory;
  params: ParamReader;
  results: RedisRiskResultStore;
  rules: StalenessRules;
  /** The chain head now (the indexer flag compares the result's block with it). */
  chainHead: () => Promise<bigint>;
  /** Warning buffer above IM, basis points (default 1 000 = 10 %). */
  warningBufferBps?: number;
  /** Counters go to this hash when given (`redisKeys(network).pipeline.metrics`). */
  metrics?: { redis: Redis; key: string };
  log?: (event: string, fields?: Record<string, unknown>) => void;
  /** Wall clock for `computedAtMs` (tests pin it). */
  nowMs?: () => number;
}

export type RecomputeStatus = 'stored' | 'unchanged' | 'superseded' | 'older' | 'stale';

/** What a job returns (BullMQ keeps it as JSON: no bigints). */
export interface RecomputeOutcome {
  status: RecomputeStatus;
  /** The computed record's block and class, when one was computed. */
  blockNumber?: string;
  health?: HealthClass;
}

export interface MarketMoveOutcome {
  /** `superseded`: a newer market block is recorded; its own job recomputes (nothing done here). */
  status: 'done' | 'stale' | 'superseded';
  /** Owners recomputed at the block. */
  recomputed: number;
  /** Owners whose recompute stored a new result. */
  stored: number;
  failed: number;
}

/** Market contexts kept (one per market block and parameter version). */
const CONTEXT_CACHE = 4;

export class RiskService implements RiskJobService {
  private readonly listeners: RiskRecordListener[] = [];
  private readonly contexts = new Map<string, MarketContext>();
  private readonly log: NonNullable<RiskServiceDeps['log']>;
  private readonly warningBufferBps: number;

  constructor(private readonly deps: RiskServiceDeps) {
    this.log = deps.log ?? (() => undefined);
    this.warningBufferBps = deps.warningBufferBps ?? 1_000;
    if (!Number.isSafeInteger(this.warningBufferBps) || this.warningBufferBps < 0)
      throw new NetmarginError(`Warning buffer ${this.warningBufferBps} bps is not a whole number ≥ 0`, {
        code: 'INVALID_INPUT',
        hint: 'Give the buffer above IM in basis points, e.g. 1000 for 10 %.',
      });
  }

  /** Adds a listener that hears every stored result with the one it replaced. */
  addListener(l: RiskRecordListener): void {
    this.listeners.push(l);
  }

  async recompute(ownerIn: Address, block: BlockRef): Promise<RecomputeOutcome> {
    const owner = getAddress(ownerIn);
    await this.count('risk_jobs', 1);
    const stamped = await this.deps.positions.get(owner);
    const positionsHead = await this.deps.positions.head();
    if (!stamped || stamped.blockNumber < block.number) {
      // Other owners' writes at the block may have moved the head to it already: only a head above
      // the block says this owner's write will not come (the service re-asks refreshes below its head).
      if (!positionsHead || positionsHead.number <= block.number)
        throw new NetmarginError(`Positions of ${owner} at block ${block.number} are not stored yet`, {
          code: 'POSITIONS_NOT_STORED',
          hint: 'The refresh that asked for this job writes them next; the job is retried.',
          details: { owner, block: block.number.toString(), stamp: stamped?.blockNumber.toString() },
        });
      // The store passed the block without writing this owner there (the refresh was re-asked at a
      // later block, or a reorg dropped the write): what it holds is the owner's state at the block.
      if (!stamped) return { status: 'stale' };
    }
    if (stamped.blockNumber > block.number) return { status: 'superseded' };
    if (stamped.blockNumber === block.number && stamped.blockHash !== block.hash) return { status: 'stale' };

    const exact = await this.deps.markets.at(block.number);
    if (exact && exact.blockHash !== block.hash) return { status: 'stale' };
    const market = exact ?? (await this.deps.markets.atOrBefore(block.number));
    if (!market || market.blockNumber < stamped.blockNumber)
      throw new NetmarginError(`No market recorded at or below block ${block.number} for ${owner}`, {
        code: 'MARKET_NOT_RECORDED',
        hint: 'The head runner records the market every block (onMarketRecorded); the job is retried.',
        details: { block: block.number.toString(), newest: market?.blockNumber.toString() },
      });
    const set = await this.deps.params.active();
    const ctx = this.context(market, set);
    const head = await this.deps.chainHead();
    const out = await this.computeAndStore(owner, stamped, market, set, ctx, head);
    return out;
  }

  /** Recomputes, at `block`, every owner whose exposure the block's market moved (see the header). */
  async recomputeMarket(block: BlockRef): Promise<MarketMoveOutcome> {
    const startedMs = Date.now();
    const market = await this.deps.markets.at(block.number);
    if (!market || market.blockHash !== block.hash) {
      if (!market) {
        const newest = await this.deps.markets.newest();
        if (!newest || newest.blockNumber < block.number)
          throw new NetmarginError(`The market at block ${block.number} is not recorded yet`, {
            code: 'MARKET_NOT_RECORDED',
            hint: 'The head runner records it before queuing the job; the job is retried.',
          });
      }
      return { status: 'stale', recomputed: 0, stored: 0, failed: 0 };
    }
    // Behind the head: a newer block's job compares each owner's latest result with that block's
    // market, which covers every move since — margining this block first would only delay it.
    const newest = await this.deps.markets.newest();
    if (newest && newest.blockNumber > block.number) {
      await this.count('risk_market_superseded', 1);
      return { status: 'superseded', recomputed: 0, stored: 0, failed: 0 };
    }
    const set = await this.deps.params.active();
    const ctx = this.context(market, set);
    const head = await this.deps.chainHead();
    const all = await this.deps.positions.entries();
    const candidates: [Address, BlockStamped<OwnerPositions>][] = [];
    for (const [key, stamped] of all) {
      if (stamped.blockNumber > block.number) continue; // newer positions: their own job margins them
      if (!stamped.value.protocols.some((p) => p.positions.length > 0)) continue;
      candidates.push([getAddress(key), stamped]);
    }
    candidates.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const latest = await this.deps.results.latestMany(candidates.map(([o]) => o));
    const marketsByBlock = new Map<bigint, MarketRecord | undefined>();
    let recomputed = 0;
    let stored = 0;
    let failed = 0;
    for (let i = 0; i < candidates.length; i++) {
      const [owner, stamped] = candidates[i]!;
      const prev = latest[i];
      if (prev && prev.blockNumber >= block.number) continue;
      if (prev) {
        let prevMarket = marketsByBlock.get(prev.blockNumber);
        if (!marketsByBlock.has(prev.blockNumber)) {
          prevMarket = await this.deps.markets.at(prev.blockNumber);
          marketsByBlock.set(prev.blockNumber, prevMarket);
        }
        if (!this.touched(prev, prevMarket, market, set, positionsOf(stamped.value), head)) continue;
      }
      recomputed += 1;
      try {
        const r = await this.computeAndStore(owner, stamped, market, set, ctx, head);
        if (r.status === 'stored') stored += 1;
      } catch (err) {
        failed += 1;
        await this.count('risk_failed', 1);
        this.log('risk.market-recompute-failed', {
          owner,
          block: block.number.toString(),
          error: describe(err),
        });
      }
    }
    await this.count('risk_market_blocks', 1);
    await this.count('risk_market_recomputed', recomputed);
    if (this.deps.metrics)
      await this.deps.metrics.redis.hset(this.deps.metrics.key, {
        risk_market_last_block: block.number.toString(),
        risk_market_last_count: String(recomputed),
      });
    this.log('risk.market-recomputed', {
      block: block.number.toString(),
      recomputed,
      stored,
      failed,
      durationMs: Date.now() - startedMs,
    });
    return { status: 'done', recomputed, stored, failed };
  }

  /** The engine input of a record: what `computeAccountRisk` must be called with to reproduce it. */
  static snapshotOf(market: MarketRecord, set: ParamSet): MarketSnapshot {
    return {
      asOfSec: market.snapshot.asOfSec,
      market: { ...market.snapshot.market, history: set.history, liquidity: set.liquidity },
    };
  }

  private context(market: MarketRecord, set: ParamSet): MarketContext {
    const key = `${market.blockNumber}:${market.blockHash}:${set.version}:${set.hash}`;
    const hit = this.contexts.get(key);
    if (hit) {
      this.contexts.delete(key);
      this.contexts.set(key, hit);
      return hit;
    }
    const ctx = prepareMarket(RiskService.snapshotOf(market, set), set.params);
    this.contexts.set(key, ctx);
    while (this.contexts.size > CONTEXT_CACHE) this.contexts.delete(this.contexts.keys().next().value!);
    return ctx;
  }

  private touched(
    prev: RiskRecord,
    prevMarket: MarketRecord | undefined,
    market: MarketRecord,
    set: ParamSet,
    positions: Position[],
    head: bigint,
  ): boolean {
    if (prev.paramsVersion !== set.version || prev.paramsHash !== set.hash) return true;
    if (!prevMarket || prevMarket.blockHash !== prev.blockHash) return true;
    const underlyings = underlyingsOf(positions, market.snapshot.market.assets);
    const stale = stalenessFlags(market, underlyings, head, this.deps.rules);
    if (
      stale.oracle !== prev.stale.oracle ||
      stale.sequencer !== prev.stale.sequencer ||
      stale.indexer !== prev.stale.indexer
    )
      return true;
    const a = prevMarket.snapshot.market;
    const b = market.snapshot.market;
    for (const u of underlyings) {
      const pa = a.prices[u];
      const pb = b.prices[u];
      if (pa?.answer !== pb?.answer || pa?.updatedAtSec !== pb?.updatedAtSec) return true;
      if (canonicalize(a.volSurfaces[u] ?? null) !== canonicalize(b.volSurfaces[u] ?? null)) return true;
    }
    return false;
  }

  private async computeAndStore(
    owner: Address,
    stamped: BlockStamped<OwnerPositions>,
    market: MarketRecord,
    set: ParamSet,
    ctx: MarketContext,
    head: bigint,
  ): Promise<RecomputeOutcome> {
    const positions = positionsOf(stamped.value);
    const result = computeAccountRiskIn(ctx, { account: owner, positions });
    const stale = stalenessFlags(
      market,
      underlyingsOf(positions, market.snapshot.market.assets),
      head,
      this.deps.rules,
    );
    const figures = usd6Figures(result);
    const record: RiskRecord = {
      owner,
      blockNumber: market.blockNumber,
      blockHash: market.blockHash,
      asOfSec: market.snapshot.asOfSec,
      positionsBlockNumber: stamped.blockNumber,
      paramsVersion: set.version,
      paramsHash: set.hash,
      inputHash: result.inputHash,
      health: classify(figures, stale, { warningBufferBps: this.warningBufferBps }),
      ...figures,
      stale,
      computedAtMs: (this.deps.nowMs ?? Date.now)(),
      result,
    };
    const { outcome, previous, unannounced } = await this.deps.results.put(record);
    const summary = { blockNumber: record.blockNumber.toString(), health: record.health };
    if (outcome === 'stored') {
      await this.count('risk_stored', 1);
      await this.announce(record, previous);
    } else if (unannounced) {
      // Stored by an attempt that died before its listeners were all told: tell them now.
      await this.announce(record, unannounced.previous);
    }
    return { status: outcome, ...summary };
  }

  private async announce(record: RiskRecord, previous: RiskRecord | undefined): Promise<void> {
    for (const l of this.listeners) {
      try {
        await l.onRecord(record, previous);
      } catch (err) {
        await this.count('risk_listener_failed', 1);
        this.log('risk.listener-failed', {
          owner: record.owner,
          block: record.blockNumber.toString(),
          error: describe(err),
        });
      }
    }
    await this.deps.results.announced(record);
  }

  private async count(field: string, n: number): Promise<void> {
    if (this.deps.metrics && n !== 0) await this.deps.metrics.redis.hincrby(this.deps.metrics.key, field, n);
  }
}

/** An owner's positions across protocols, in the store's (registry) order: the engine's account. */
export function positionsOf(v: OwnerPositions): Position[] {
  return v.protocols.flatMap((p) => p.positions);
}

function describe(err: unknown): Record<string, unknown> {
  if (err instanceof NetmarginError) return { code: err.code, message: err.shortMessage, hint: err.hint };
  return { message: err instanceof Error ? err.message : String(err) };
}
