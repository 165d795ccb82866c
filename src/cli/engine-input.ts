/**
 * The engine's input as the risk workers build it: an owner's stored positions flattened in the
 * adapters' order, and the recorded market completed with the parameter set's history and
 * liquidity (the inputs that are not on chain). `what-if` and `replay` must build exactly this for
 * their figures and inputs hash to equal the stored and posted ones.
 */
import type { OwnerPositions } from '../indexer/indexer.service';
import type { MarketRecord } from '../indexer/market-recorder';
import type { ParamSet } from '../pipeline/types';
import type { MarketSnapshot, Position } from '../risk/types';

/** An owner's positions across protocols, in the store's (adapter registry) order. */
export function enginePositions(v: OwnerPositions): Position[] {
  return v.protocols.flatMap((p) => p.positions);
}

/** The market snapshot a result at `market`'s block is computed against under `set`. */
export function engineSnapshot(market: MarketRecord, set: ParamSet): MarketSnapshot {
  return {
    asOfSec: market.snapshot.asOfSec,
    market: { ...market.snapshot.market, history: set.history, liquidity: set.liquidity },
  };
}
