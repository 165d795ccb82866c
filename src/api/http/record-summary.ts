/**
 * The short form of a stored `RiskRecord` that several answers carry (a history row, the partner
 * view's off-chain results): the block, the parameter-set version, the health class, the USD6
 * figures and whether any input was stale — without the engine's full output.
 */
import type { RiskRecord } from '../../pipeline/types';

export interface RecordSummary extends Pick<
  RiskRecord,
  | 'blockNumber'
  | 'blockHash'
  | 'paramsVersion'
  | 'health'
  | 'imUsd6'
  | 'mmUsd6'
  | 'mtmUsd6'
  | 'adjustedEquityUsd6'
  | 'freeCollateralUsd6'
  | 'shortfallUsd6'
  | 'marginRatio'
  | 'computedAtMs'
> {
  /** True when any input was stale (oracle, sequencer or indexer). */
  stale: boolean;
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
