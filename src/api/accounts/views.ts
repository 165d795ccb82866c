/**
 * The account endpoints' answer shapes, built from stored values with no I/O. Money figures are
 * USD6 bigints (1 USD = 1e6; decimal strings on the wire); the engine's float breakdowns are shown
 * as computed (USD), for display.
 */
import type { Address, Hex } from 'viem';
import { formatUnits } from '../../common/amount';
import type { BlockStamped } from '../../indexer/chain/store';
import type { OwnerPositions } from '../../indexer/indexer.service';
import type { HealthClass, RiskRecord, StalenessFlags } from '../../pipeline/types';
import type { ScenarioGrid } from '../../risk';
import type { AccountRiskResult, FixedPoint, Greeks, Position } from '../../risk/types';
import { recordSummary, type RecordSummary } from '../http/record-summary';

/** `GET /v1/accounts/{address}/health` (and the `now` / `whatIf` parts of a what-if answer). */
export interface HealthView {
  owner: Address;
  /** The block the market was read at (the margin's block). */
  blockNumber: bigint;
  blockHash: Hex;
  asOfSec: number;
  /** The block the positions were read at (≤ blockNumber). */
  positionsBlockNumber: bigint;
  params: { version: number; hash: Hex };
  inputHash: Hex;
  health: HealthClass;
  imUsd6: bigint;
  mmUsd6: bigint;
  mtmUsd6: bigint;
  adjustedEquityUsd6: bigint;
  freeCollateralUsd6: bigint;
  shortfallUsd6: bigint;
  /** Adjusted equity / MM (null when MM is 0). */
  marginRatio: number | null;
  stale: StalenessFlags & { any: boolean };
  byProtocol: AccountRiskResult['byProtocol'];
  byUnderlying: AccountRiskResult['byUnderlying'];
  /** Per underlying (in `byUnderlying`) and summed where a sum means something (USD figures). */
  greeks: {
    deltaUsd: number;
    vegaUsdPerVolPoint: number;
    thetaUsdPerDay: number;
    byUnderlying: ({ underlying: string } & Greeks)[];
  };
  worstScenario: AccountRiskResult['worstScenario'];
  liquidationDistance: AccountRiskResult['liquidationDistance'];
  components: AccountRiskResult['components'];
  collateral: AccountRiskResult['collateral'];
  addons: AccountRiskResult['addons'];
  stressReplays: AccountRiskResult['stressReplays'];
  /**
   * Portfolio P&L over the spot × vol scenario grid (`computeScenarioGrid`) at the result's block,
   * with its parameter set; null when the market, the parameter set or the positions of that block
   * are no longer held.
   */
  scenarioGrid: ScenarioGrid | null;
  /** Wall-clock time of the computation (ms since epoch). */
  computedAtMs: number;
}

/** The health answer of a stored (or what-if) record, with its scenario grid when there is one. */
export function healthView(r: RiskRecord, scenarioGrid: ScenarioGrid | null = null): HealthView {
  const res = r.result;
  return {
    owner: r.owner,
    blockNumber: r.blockNumber,
    blockHash: r.blockHash,
    asOfSec: r.asOfSec,
    positionsBlockNumber: r.positionsBlockNumber,
    params: { version: r.paramsVersion, hash: r.paramsHash },
    inputHash: r.inputHash,
    health: r.health,
    imUsd6: r.imUsd6,
    mmUsd6: r.mmUsd6,
    mtmUsd6: r.mtmUsd6,
    adjustedEquityUsd6: r.adjustedEquityUsd6,
    freeCollateralUsd6: r.freeCollateralUsd6,
    shortfallUsd6: r.shortfallUsd6,
    marginRatio: r.marginRatio,
    stale: { ...r.stale, any: r.stale.oracle || r.stale.sequencer || r.stale.indexer },
    byProtocol: res.byProtocol,
    byUnderlying: res.byUnderlying,
    greeks: greeksOf(res),
    worstScenario: res.worstScenario,
    liquidationDistance: res.liquidationDistance,
    components: res.components,
    collateral: res.collateral,
    addons: res.addons,
    stressReplays: res.stressReplays,
    scenarioGrid,
    computedAtMs: r.computedAtMs,
  };
}

function greeksOf(res: AccountRiskResult): HealthView['greeks'] {
  let deltaUsd = 0;
  let vega = 0;
  let theta = 0;
  for (const u of res.byUnderlying) {
    deltaUsd += u.greeks.deltaUsd;
    vega += u.greeks.vegaUsdPerVolPoint;
    theta += u.greeks.thetaUsdPerDay;
  }
  return {
    deltaUsd,
    vegaUsdPerVolPoint: vega,
    thetaUsdPerDay: theta,
    byUnderlying: res.byUnderlying.map((u) => ({ underlying: u.underlying, ...u.greeks })),
  };
}

/** One row of `GET /v1/accounts/{address}/history`. */
export interface HistoryRow extends RecordSummary {
  asOfSec: number;
  positionsBlockNumber: bigint;
}

export function historyRow(r: RiskRecord): HistoryRow {
  return { ...recordSummary(r), asOfSec: r.asOfSec, positionsBlockNumber: r.positionsBlockNumber };
}

/** A fixed-point amount on the wire: exact units, decimals, and the human decimal string. */
export interface WireFixed {
  raw: bigint;
  decimals: number;
  value: string;
}

type WirePosition<P> = { [K in keyof P]: P[K] extends FixedPoint ? WireFixed : P[K] };

export interface PositionsView {
  owner: Address;
  /** The block the positions were read at. */
  blockNumber: bigint;
  blockHash: Hex;
  protocols: {
    protocol: string;
    positions: WirePosition<Position>[];
    attributes: Record<string, string>;
  }[];
}

export function positionsView(stamped: BlockStamped<OwnerPositions>): PositionsView {
  return {
    owner: stamped.value.owner,
    blockNumber: stamped.blockNumber,
    blockHash: stamped.blockHash,
    protocols: stamped.value.protocols.map((p) => ({
      protocol: p.protocol,
      positions: p.positions.map(wirePosition),
      attributes: p.attributes,
    })),
  };
}

function wirePosition(p: Position): WirePosition<Position> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) out[k] = isFixed(v) ? wireFixed(v) : v;
  return out as WirePosition<Position>;
}

function isFixed(v: unknown): v is FixedPoint {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as FixedPoint).raw === 'bigint' &&
    typeof (v as FixedPoint).decimals === 'number'
  );
}

export function wireFixed(v: FixedPoint): WireFixed {
  return { raw: v.raw, decimals: v.decimals, value: formatUnits(v.raw, v.decimals) };
}
