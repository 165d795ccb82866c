/**
 * The risk workers' pure rules: engine floats to USD6 bigints, staleness of a result's inputs, and
 * the health class. No I/O; `RiskService` gathers the inputs and calls these.
 *
 * USD6: `round(usd × 10^6)`, halves away from zero, through the float's exact decimal expansion
 * (`toUsd6`), so the same float always gives the same bigint on every machine. Free collateral and
 * shortfall are derived from the converted IM, MM and adjusted equity (never converted on their
 * own), so `free = max(0, equity − IM)` and `shortfall = max(0, MM − equity)` hold exactly in USD6.
 */
import { InvalidInputError } from '../common/errors';
import type { DeploymentManifest } from '../config/manifest';
import type { MarketRecord } from '../indexer/market-recorder';
import type { AccountRiskResult, MarketData, Position } from '../risk/types';
import type { HealthClass, StalenessFlags } from './types';

const USD6 = 1_000_000n;

/**
 * `usd` in USD6 (1 USD = 1e6), rounded half away from zero. Exact: the float's binary value is
 * expanded to an integer ratio, so no second rounding happens in a multiplication by 1e6.
 */
export function toUsd6(usd: number, field = 'usd'): bigint {
  if (!Number.isFinite(usd))
    throw new InvalidInputError(field, `${usd} is not a finite number of USD`, {
      hint: 'The engine refuses non-finite outputs; report the input that produced it.',
    });
  if (usd === 0) return 0n;
  const negative = usd < 0;
  const [num, den] = exactRatio(Math.abs(usd));
  const scaled = num * USD6;
  let q = scaled / den;
  const r = scaled % den;
  if (r * 2n >= den) q += 1n;
  return negative ? -q : q;
}

/** A positive finite double as an exact ratio num / den of bigints (den a power of two). */
function exactRatio(x: number): [bigint, bigint] {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const bits = buf.getBigUint64(0);
  const exponent = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  // Normal: (2^52 + f) × 2^(e − 1075); subnormal: f × 2^(−1074).
  const mantissa = exponent === 0 ? fraction : fraction | (1n << 52n);
  const power = (exponent === 0 ? 1 : exponent) - 1075;
  return power >= 0 ? [mantissa << BigInt(power), 1n] : [mantissa, 1n << BigInt(-power)];
}

/** The USD6 figures of a result, with free collateral and shortfall derived from them. */
export interface Usd6Figures {
  imUsd6: bigint;
  mmUsd6: bigint;
  mtmUsd6: bigint;
  adjustedEquityUsd6: bigint;
  freeCollateralUsd6: bigint;
  shortfallUsd6: bigint;
  marginRatio: number | null;
}

/** The bigint fields of `Usd6Figures` (decimal strings on the wire; readers turn them back). */
export const USD6_FIELDS = [
  'imUsd6',
  'mmUsd6',
  'mtmUsd6',
  'adjustedEquityUsd6',
  'freeCollateralUsd6',
  'shortfallUsd6',
] as const satisfies readonly (keyof Usd6Figures)[];

export function usd6Figures(r: AccountRiskResult): Usd6Figures {
  const imUsd6 = toUsd6(r.imUsd, 'imUsd');
  const mmUsd6 = toUsd6(r.mmUsd, 'mmUsd');
  const adjustedEquityUsd6 = toUsd6(r.adjustedEquityUsd, 'adjustedEquityUsd');
  const free = adjustedEquityUsd6 - imUsd6;
  const short = mmUsd6 - adjustedEquityUsd6;
  return {
    imUsd6,
    mmUsd6,
    mtmUsd6: toUsd6(r.mtmUsd, 'mtmUsd'),
    adjustedEquityUsd6,
    freeCollateralUsd6: free > 0n ? free : 0n,
    shortfallUsd6: short > 0n ? short : 0n,
    marginRatio: r.mmUsd === 0 ? null : r.adjustedEquityUsd / r.mmUsd,
  };
}

export interface ClassifyOptions {
  /** Warning buffer above IM in basis points (1 000 = adjusted equity within 10 % above IM). */
  warningBufferBps: number;
}

/** The health class of USD6 figures (see `HealthClass`); any stale flag keeps `below-mm` from `liquidatable`. */
export function classify(
  f: Pick<Usd6Figures, 'imUsd6' | 'mmUsd6' | 'adjustedEquityUsd6'>,
  stale: Pick<StalenessFlags, 'oracle' | 'sequencer' | 'indexer'>,
  opts: ClassifyOptions,
): HealthClass {
  const { imUsd6, mmUsd6, adjustedEquityUsd6: eq } = f;
  if (eq < mmUsd6) return stale.oracle || stale.sequencer || stale.indexer ? 'below-mm' : 'liquidatable';
  if (eq < imUsd6) return 'below-im';
  if (eq * 10_000n < imUsd6 * BigInt(10_000 + opts.warningBufferBps)) return 'warning';
  return 'healthy';
}

export interface StalenessRules {
  /** Heartbeat per Chainlink feed address (lower-cased), seconds. */
  heartbeatByFeed: ReadonlyMap<string, number>;
  /** Heartbeat of a feed the manifest does not list. */
  defaultHeartbeatSec: number;
  /** Sequencer grace period after it comes back up, seconds. */
  sequencerGracePeriodSec: number;
  /** Blocks the result's block may be behind the chain head before the indexer counts as behind. */
  maxIndexerLagBlocks: number;
}

/** Staleness rules from the manifest: the aggregator's per-asset heartbeats and grace period. */
export function stalenessRulesFromManifest(
  m: DeploymentManifest,
  opts: { defaultHeartbeatSec: number; defaultGracePeriodSec: number; maxIndexerLagBlocks: number },
): StalenessRules {
  const heartbeatByFeed = new Map<string, number>();
  for (const a of m.aggregator?.assets ?? []) {
    const key = a.feed.toLowerCase();
    const prior = heartbeatByFeed.get(key);
    heartbeatByFeed.set(key, prior === undefined ? a.heartbeatSec : Math.min(prior, a.heartbeatSec));
  }
  return {
    heartbeatByFeed,
    defaultHeartbeatSec: opts.defaultHeartbeatSec,
    sequencerGracePeriodSec: m.aggregator?.sequencerGracePeriodSec ?? opts.defaultGracePeriodSec,
    maxIndexerLagBlocks: opts.maxIndexerLagBlocks,
  };
}

/** Stale feeds of `underlyings` at the market's block time: `[underlying, reason]`, sorted. */
export function staleOracles(
  market: MarketRecord,
  underlyings: Iterable<string>,
  rules: StalenessRules,
): [string, string][] {
  const out: [string, string][] = [];
  const nowSec = market.snapshot.asOfSec;
  for (const u of [...new Set(underlyings)].sort()) {
    const round = market.rounds[u];
    if (!round) continue;
    const heartbeat = rules.heartbeatByFeed.get(round.feed.toLowerCase()) ?? rules.defaultHeartbeatSec;
    const age = nowSec - round.updatedAtSec;
    if (age > heartbeat) out.push([u, `${u}/USD updated ${age} s ago, heartbeat ${heartbeat} s`]);
  }
  return out;
}

/** The sequencer's reason to distrust prices at the market's block, or null when it is up past grace. */
export function sequencerStaleness(market: MarketRecord, rules: StalenessRules): string | null {
  const s = market.sequencer;
  if (!s.up) return `sequencer down since ${s.sinceSec}`;
  const upFor = market.snapshot.asOfSec - s.sinceSec;
  if (upFor < rules.sequencerGracePeriodSec)
    return `sequencer up for ${upFor} s, grace period ${rules.sequencerGracePeriodSec} s`;
  return null;
}

/** Flags of one result: its underlyings' feeds, the sequencer, and the indexer's lag behind the head. */
export function stalenessFlags(
  market: MarketRecord,
  underlyings: Iterable<string>,
  chainHead: bigint | undefined,
  rules: StalenessRules,
): StalenessFlags {
  const reasons: string[] = [];
  const oracles = staleOracles(market, underlyings, rules);
  for (const [, r] of oracles) reasons.push(r);
  const seq = sequencerStaleness(market, rules);
  if (seq) reasons.push(seq);
  let indexer = false;
  if (chainHead !== undefined) {
    const lag = chainHead - market.blockNumber;
    if (lag > BigInt(rules.maxIndexerLagBlocks)) {
      indexer = true;
      reasons.push(`block ${market.blockNumber} is ${lag} blocks behind the head ${chainHead}`);
    }
  }
  return { oracle: oracles.length > 0, sequencer: seq !== null, indexer, reasons };
}

/** The underlyings an account's positions are exposed to (aTokens and tokens through `market.assets`). */
export function underlyingsOf(positions: readonly Position[], assets: MarketData['assets']): Set<string> {
  const out = new Set<string>();
  for (const p of positions) {
    if (p.kind === 'perp' || p.kind === 'option') out.add(p.underlying);
    else out.add(assets[p.asset]?.underlying ?? p.asset);
  }
  return out;
}
