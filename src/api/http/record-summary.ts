/**
 * The short form of a stored `RiskRecord` that several answers carry (a history row, the partner
 * view's off-chain results): the block, the parameter-set version, the health class, the USD6
 * figures and whether any input was stale — without the engine's full output.
 */
import type { Hex } from 'viem';
import type { RiskRecord } from '../../pipeline/types';

export interface RecordSummary {
  blockNumber: bigint;
  blockHash: Hex;
  paramsVersion: number;
  health: RiskRecord['health'];
  imUsd6: bigint;
  mmUsd6: bigint;
  mtmUsd6: bigint;
  adjustedEquityUsd6: bigint;
  freeCollateralUsd6: bigint;
  shortfallUsd6: bigint;
  /** Adjusted equity / MM (null when MM is 0). */
  marginRatio: number | null;
  /** True when any input was stale (oracle, sequencer or indexer). */
  stale: boolean;
  /** Wall-clock time of the computation (ms since epoch). */
  computedAtMs: number;
}

export function recordSummary(r: RiskRecord): RecordSummary {
  return {
    blockNumber: r.blockNumber,
    blockHash: r.blockHash,
    paramsVersion: r.paramsVersion,
    health: r.health,
    imUsd6: r.imUsd6,
    mmUsd6: r.mmUsd6,
    mtmUsd6: r.mtmUsd6,
    adjustedEquityUsd6: r.adjustedEquityUsd6,
    freeCollateralUsd6: r.freeCollateralUsd6,
    shortfallUsd6: r.shortfallUsd6,
    marginRatio: r.marginRatio,
    stale: r.stale.oracle || r.stale.sequencer || r.stale.indexer,
    computedAtMs: r.computedAtMs,
  };
}
