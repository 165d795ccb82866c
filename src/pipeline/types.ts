/**
 * The risk pipeline's shared vocabulary: what a risk worker stores per account and block, the
 * parameter sets results are computed with, the staleness of the inputs, and the shortfall events
 * liquidator bots receive. The poster, the feed, the API and the CLI read these types; the risk
 * workers write them. Amounts are bigint USD6 (1 USD = 1e6, the aggregator's unit); the engine's
 * float figures stay inside `result` for display.
 */
import type { Address, Hex } from 'viem';
import type { AccountRiskResult, LiquidityInfo, PriceHistory, RiskParams } from '../risk';

/**
 * How close an account is to liquidation, from safe to unsafe:
 * - `healthy`: adjusted equity ≥ IM × (1 + warning buffer);
 * - `warning`: ≥ IM but inside the buffer;
 * - `below-im`: < IM, ≥ MM (no new risk; not liquidatable);
 * - `below-mm`: < MM (shortfall > 0) but not yet liquidatable (e.g. inputs stale, grace period);
 * - `liquidatable`: < MM with fresh inputs.
 */
export type HealthClass = 'healthy' | 'warning' | 'below-im' | 'below-mm' | 'liquidatable';
export const HEALTH_CLASSES: readonly HealthClass[] = [
  'healthy',
  'warning',
  'below-im',
  'below-mm',
  'liquidatable',
];

/** Which inputs of a result were stale when it was computed; any true flag blocks signing. */
export interface StalenessFlags {
  /** A price used is older than its feed's heartbeat at the block's timestamp. */
  oracle: boolean;
  /** The L2 sequencer is down, or up for less than the grace period. */
  sequencer: boolean;
  /** The positions were read more than the allowed number of blocks behind the chain head. */
  indexer: boolean;
  /** One human-readable line per stale input (`ETH/USD updated 4210 s ago, heartbeat 3600 s`). */
  reasons: string[];
}

/** One account's margin at one block: what the risk worker stores and every reader serves. */
export interface RiskRecord {
  /** EIP-55 checksummed owner (the EOA whose positions across protocols were margined). */
  owner: Address;
  /** The block the positions and the market were read at. */
  blockNumber: bigint;
  blockHash: Hex;
  /** Block timestamp (the engine's `asOfSec`). */
  asOfSec: number;
  /**
   * The block the stored positions were read at (≤ `blockNumber`: positions are re-read when an event
   * touches them, the market every block). Replay reads positions here and the market at `blockNumber`.
   */
  positionsBlockNumber: bigint;
  /** The parameter set (`ParamSet.version` / `.hash`) the margin was computed with. */
  paramsVersion: number;
  paramsHash: Hex;
  /** The engine's hash of its inputs (positions and market snapshot). */
  inputHash: Hex;
  health: HealthClass;
  imUsd6: bigint;
  mmUsd6: bigint;
  mtmUsd6: bigint;
  /** MTM minus haircuts. */
  adjustedEquityUsd6: bigint;
  /** max(0, adjusted equity − IM). */
  freeCollateralUsd6: bigint;
  /** max(0, MM − adjusted equity). */
  shortfallUsd6: bigint;
  /** Adjusted equity / MM (null when MM is 0). */
  marginRatio: number | null;
  stale: StalenessFlags;
  /** Wall-clock time of the computation (ms since epoch); not part of any hash. */
  computedAtMs: number;
  /** The engine's full output (breakdowns, Greeks, scenarios, liquidation distance). */
  result: AccountRiskResult;
}

/**
 * A versioned risk parameter set: the engine's parameters plus the market inputs that are not on
 * chain (the price-history window volatility and correlation are estimated from, liquidity), frozen
 * at publication so a posted margin can be recomputed bit for bit from chain data and this set.
 * `hash` commits to everything but `createdAtMs` and `reason`; it is the `paramsHash` signed on chain.
 */
export interface ParamSet {
  version: number;
  hash: Hex;
  params: RiskParams;
  history: PriceHistory;
  liquidity: Record<string, LiquidityInfo>;
  /** The price-history window the set was estimated from. */
  window: { endSec: number; intervalSec: number; count: number };
  createdAtMs: number;
  /** Why this version exists (`initial`, `scheduled re-estimation`, `operator`). */
  reason: string;
}

/** What liquidator bots receive when an account crosses a threshold (stream and SSE payload). */
export interface ShortfallEvent {
  /** Redis Stream id (`<ms>-<seq>`); resume a subscription from the last one seen. */
  id: string;
  owner: Address;
  health: HealthClass;
  previousHealth: HealthClass | null;
  blockNumber: bigint;
  blockHash: Hex;
  imUsd6: bigint;
  mmUsd6: bigint;
  adjustedEquityUsd6: bigint;
  shortfallUsd6: bigint;
  /** Collateral by asset as margined (value after haircut in USD6). */
  collateral: { asset: string; valueUsd6: bigint; haircutUsd6: bigint }[];
  /** What a liquidator may take: per aggregator collateral asset, token units with decimals. */
  seizable: { token: Address; symbol: string; amount: bigint; decimals: number }[];
  /** Prices used, per underlying, as the feed reported them. */
  prices: Record<string, { answer: bigint; decimals: number; updatedAtSec: number; roundId: bigint }>;
  stale: StalenessFlags;
  paramsHash: Hex;
  inputHash: Hex;
}

/** One entry of the results' change stream: an account whose stored result changed at a block. */
export interface RiskChange {
  /** Redis Stream id; read on from it. */
  id: string;
  owner: Address;
  blockNumber: bigint;
  health: HealthClass;
}

/** Read side of the risk results (poster, feed, API, CLI). */
export interface RiskResultReader {
  latest(owner: Address): Promise<RiskRecord | undefined>;
  /** Newest first, at most `limit` (default 100), optionally only below `beforeBlock`. */
  history(owner: Address, opts?: { limit?: number; beforeBlock?: bigint }): Promise<RiskRecord[]>;
  /** Every owner with a stored result. */
  owners(): Promise<Address[]>;
  /** Changes after `afterId` (`0` = from the start), oldest first; waits up to `blockMs` for one. */
  changes(afterId: string, opts?: { count?: number; blockMs?: number }): Promise<RiskChange[]>;
}

/** Read side of the parameter sets. */
export interface ParamReader {
  active(): Promise<ParamSet>;
  byVersion(version: number): Promise<ParamSet | undefined>;
  byHash(hash: Hex): Promise<ParamSet | undefined>;
}

/** Hears every stored result with the one it replaced (the shortfall feed is one). */
export interface RiskRecordListener {
  onRecord(next: RiskRecord, previous: RiskRecord | undefined): Promise<void>;
}
