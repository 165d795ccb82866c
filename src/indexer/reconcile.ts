/**
 * Periodic reconciliation: re-read every owner the positions store holds, compare with the stored
 * value, repair what differs and count it.
 *
 * Events keep the store exact only for what emits them. Some changes never do: interest accrues on
 * Aave balances block by block, perps marks and funding move with time and prices, an aToken
 * `transfer` between users moves collateral without a Pool event, and a stored value can be lost or
 * corrupted. A run reads each stored owner at one block (`service.readOwner`); each owner whose read
 * differs from the stored bytes is refreshed through the service, and what the service wrote is
 * compared with what was stored to decide which of two it was:
 *
 * - `accrual`: nothing differs but what grows with no event. Amounts of lending and spot positions
 *   whose adapter gives an interest index (`accrualIndexes`) must equal the stored amount ×
 *   I_at / I_stored within `ACCRUAL_TOLERANCE` token units (Aave rounds each ray product half up);
 *   a perp's mark (`lastPriceUsd`) and accrued funding may move (the venue publishes no funding
 *   index to check them against), and its entry price only by what the adapters' PnL-derived entry
 *   rounds to. Everything else — positions, sizes, venue margins,
 *   options, attributes — must be equal;
 * - `drift`: anything else, e.g. a missed or unwatched event, or a wrong stored value.
 *
 * Both are written through `service.handleRefresh(owner, at)`, which stores the value at that block
 * and asks for the owner's risk job (a difference the service does not confirm is `superseded`). Counters go to the network's metrics hash (`HINCRBY`, shared by
 * every process): `reconcile_runs`, `reconcile_owners_checked`, `reconcile_accrual_refreshed`,
 * `reconcile_drift_repaired`; the run's summary goes to `reconcileLast` and is returned.
 *
 * Writes go through the service's own write path, so run the reconciler in the process that runs
 * the network's `refresh` worker (the store's one writer).
 */
import type { Redis } from 'ioredis';
import { getAddress, type Address, type Client, type Hex } from 'viem';
import { NetmarginError } from '../common/errors';
import type { FixedPoint, PerpPosition, Position } from '../risk/types';
import type { AdapterProtocol, ProtocolAdapter } from './adapters/types';
import type { BlockRef, ReorgSafeStore } from './chain/store';
import type { IndexerService, OwnerPositions, ProtocolPositions } from './indexer.service';
import { redisKeys } from './redis/keys';
import { serialize } from './redis/serialize';

/** Token units an accrued amount may differ from its projection by (two ray roundings). */
export const ACCRUAL_TOLERANCE = 2n;

/** Field names in the metrics hash. */
export const RECONCILE_METRICS = {
  runs: 'reconcile_runs',
  ownersChecked: 'reconcile_owners_checked',
  accrualRefreshed: 'reconcile_accrual_refreshed',
  driftRepaired: 'reconcile_drift_repaired',
} as const;

/** One amount that changed while everything else about its position stayed the same. */
export interface AmountChange {
  protocol: AdapterProtocol;
  asset: string;
  from: bigint;
  to: bigint;
}

/** What differs between a stored value and a fresh read, before interest is checked. */
export interface OwnerComparison {
  /** Differences that no accrual explains, one readable line each. */
  differences: string[];
  /** Amounts that changed alone: accrual if the protocol's index explains them. */
  amountChanges: AmountChange[];
}

/** Ray indexes per protocol at the stored block (`from`) and at the reconciled block (`to`). */
export type IndexLookup = (
  protocol: AdapterProtocol,
) => { from: Record<string, bigint>; to: Record<string, bigint> } | string;

export interface DriftedOwner {
  owner: Address;
  /** The block the wrong value was stamped with. */
  storedBlock: string;
  differences: string[];
}

export interface ReconcileSummary {
  blockNumber: string;
  blockHash: Hex;
  /** Owners the store held and that were read again. */
  checked: number;
  unchanged: number;
  /** Owners whose value differed by accrual only, stored again at the block. */
  accrualRefreshed: number;
  /** Owners whose value differed otherwise, repaired. */
  driftRepaired: number;
  drifted: DriftedOwner[];
  /**
   * Owners that differed but that the service did not rewrite at this block: the store's head moved
   * past it (a refresh at the head was asked instead) or the service's own read matched the store.
   */
  superseded: Address[];
  durationMs: number;
}

export interface ReconcilerDeps {
  client: Client;
  service: Pick<IndexerService, 'readOwner' | 'handleRefresh'>;
  store: ReorgSafeStore<OwnerPositions>;
  adapters: readonly ProtocolAdapter[];
  redis: Redis;
  network: string;
  /** Owners read at once (default 4). */
  concurrency?: number;
  /** Where a warning per drifted owner goes (default `console`). */
  logger?: { warn(line: string): void };
}

type Verdict = { kind: 'accrual' } | { kind: 'drift'; differences: string[] };

export class Reconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  /** Reconciles every stored owner at `at` (default: the positions store's head). */
  async run(atIn?: BlockRef): Promise<ReconcileSummary> {
    const started = performance.now();
    const { store, service, redis } = this.deps;
    const at = atIn ?? (await store.head());
    if (!at)
      throw new NetmarginError('The positions store has no head to reconcile at', {
        code: 'STORE_NOT_ANCHORED',
        hint: 'Backfill the network first (the store is opened with an anchor), then reconcile.',
      });
    const entries = [...(await store.entries())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const indexCache = new Map<string, Promise<Record<string, bigint> | string>>();

    const checked = await mapLimit(entries, this.deps.concurrency ?? 4, async ([key, stored]) => {
      const owner = getAddress(key);
      const fresh = await service.readOwner(owner, at.number);
      return serialize(fresh) === serialize(stored.value) ? null : { owner, stored, fresh };
    });

    const metrics = redisKeys(this.deps.network).indexer.metrics;
    const drifted: DriftedOwner[] = [];
    const superseded: Address[] = [];
    let accrualRefreshed = 0;
    for (const c of checked) {
      if (!c) continue;
      // Repairs run one at a time: the service syncs its identity index and serializes its writes.
      // It re-reads and compares itself; only 'changed' is a repair here.
      if ((await service.handleRefresh(c.owner, at)) !== 'changed') {
        superseded.push(c.owner);
        continue;
      }
      // Classify what the service wrote (its identity index is now caught up to `at`), not the
      // first read, which may have resolved venue accounts with an index that lagged.
      const written = await store.get(c.owner);
      const now = written && written.blockNumber === at.number ? written.value : c.fresh;
      const verdict = await this.classify(c.stored.value, now, c.stored.blockNumber, at.number, indexCache);
      if (verdict.kind === 'accrual') {
        accrualRefreshed += 1;
        await redis.hincrby(metrics, RECONCILE_METRICS.accrualRefreshed, 1);
      } else {
        const d = {
          owner: c.owner,
          storedBlock: c.stored.blockNumber.toString(),
          differences: verdict.differences,
        };
        drifted.push(d);
        await redis.hincrby(metrics, RECONCILE_METRICS.driftRepaired, 1);
        (this.deps.logger ?? console).warn(
          `reconcile: repaired drift of ${d.owner} (stored at block ${d.storedBlock}, re-read at ${at.number}): ${d.differences.join('; ')}`,
        );
      }
    }
    const summary: ReconcileSummary = {
      blockNumber: at.number.toString(),
      blockHash: at.hash,
      checked: entries.length,
      unchanged: checked.filter((c) => c === null).length,
      accrualRefreshed,
      driftRepaired: drifted.length,
      drifted,
      superseded,
      durationMs: Math.round(performance.now() - started),
    };
    const keys = redisKeys(this.deps.network).indexer;
    await redis
      .multi()
      .hincrby(keys.metrics, RECONCILE_METRICS.runs, 1)
      .hincrby(keys.metrics, RECONCILE_METRICS.ownersChecked, entries.length)
      .set(keys.reconcileLast, JSON.stringify(summary))
      .exec();
    return summary;
  }

  private async classify(
    stored: OwnerPositions,
    fresh: OwnerPositions,
    storedBlock: bigint,
    atBlock: bigint,
    cache: Map<string, Promise<Record<string, bigint> | string>>,
  ): Promise<Verdict> {
    const cmp = compareOwnerPositions(stored, fresh);
    if (cmp.differences.length > 0) return { kind: 'drift', differences: cmp.differences };
    const lookups = new Map<AdapterProtocol, Awaited<ReturnType<IndexLookup>>>();
    for (const protocol of new Set(cmp.amountChanges.map((c) => c.protocol))) {
      const [from, to] = await Promise.all([
        this.indexes(protocol, storedBlock, cache),
        this.indexes(protocol, atBlock, cache),
      ]);
      lookups.set(protocol, typeof from === 'string' ? from : typeof to === 'string' ? to : { from, to });
    }
    const failures = checkAccrual(cmp.amountChanges, (p) => lookups.get(p) ?? 'no indexes read');
    return failures.length === 0 ? { kind: 'accrual' } : { kind: 'drift', differences: failures };
  }

  /** The protocol's indexes at a block, read once per run; a reason string when there are none. */
  private indexes(
    protocol: AdapterProtocol,
    blockNumber: bigint,
    cache: Map<string, Promise<Record<string, bigint> | string>>,
  ): Promise<Record<string, bigint> | string> {
    const key = `${protocol}@${blockNumber}`;
    let p = cache.get(key);
    if (!p) {
      const adapter = this.deps.adapters.find((a) => a.protocol === protocol);
      p = adapter?.accrualIndexes
        ? adapter
            .accrualIndexes(this.deps.client, blockNumber)
            .catch(
              (err: unknown) =>
                `the ${protocol} indexes could not be read at block ${blockNumber} (${(err as Error).message.split('\n')[0]})`,
            )
        : Promise.resolve(`the ${protocol} adapter reports no interest index`);
      cache.set(key, p);
    }
    return p;
  }
}

/**
 * Compares a stored value with a fresh read: lists what no accrual can explain, and the amounts that
 * changed alone (lending and spot positions whose only difference is `amount.raw`). Pure.
 */
export function compareOwnerPositions(stored: OwnerPositions, fresh: OwnerPositions): OwnerComparison {
  const differences: string[] = [];
  const amountChanges: AmountChange[] = [];
  const names = (v: OwnerPositions): string => v.protocols.map((p) => p.protocol).join(',');
  if (names(stored) !== names(fresh)) {
    differences.push(`protocols [${names(stored)}] → [${names(fresh)}]`);
    return { differences, amountChanges };
  }
  stored.protocols.forEach((s, i) => {
    const f = fresh.protocols[i] as ProtocolPositions;
    for (const k of new Set([...Object.keys(s.attributes), ...Object.keys(f.attributes)])) {
      if (s.attributes[k] !== f.attributes[k])
        differences.push(`${s.protocol} attribute ${k}: ${s.attributes[k]} → ${f.attributes[k]}`);
    }
    const ids = (ps: Position[]): string => ps.map(positionId).join(' ');
    if (ids(s.positions) !== ids(f.positions)) {
      const before = s.positions.map(positionId);
      const after = f.positions.map(positionId);
      const gone = before.filter((x) => !after.includes(x));
      const added = after.filter((x) => !before.includes(x));
      differences.push(
        `${s.protocol} positions` +
          (gone.length ? ` gone: ${gone.join(', ')}` : '') +
          (added.length ? ` added: ${added.join(', ')}` : '') +
          (gone.length + added.length === 0 ? ' reordered or repeated' : ''),
      );
      return;
    }
    s.positions.forEach((sp, j) => {
      const fp = f.positions[j] as Position;
      if (serialize(sp) === serialize(fp)) return;
      const where = `${s.protocol} ${positionId(sp)}`;
      if (sp.kind === 'perp' && fp.kind === 'perp') {
        differences.push(...perpDifferences(where, sp, fp));
        return;
      }
      if ((sp.kind === 'lending' || sp.kind === 'spot') && (fp.kind === 'lending' || fp.kind === 'spot')) {
        const sameButAmount =
          serialize({ ...sp, amount: { ...sp.amount, raw: 0n } }) ===
          serialize({ ...fp, amount: { ...fp.amount, raw: 0n } });
        if (sameButAmount) {
          amountChanges.push({
            protocol: s.protocol,
            asset: sp.asset,
            from: sp.amount.raw,
            to: fp.amount.raw,
          });
          return;
        }
      }
      differences.push(`${where}: ${serialize(sp)} → ${serialize(fp)}`);
    });
  });
  return { differences, amountChanges };
}

/**
 * Amount changes the protocol's indexes do not explain: `to` must be `from × I_to / I_from` within
 * `ACCRUAL_TOLERANCE`. Returns one line per unexplained change (empty: all accrual). Pure.
 */
export function checkAccrual(changes: readonly AmountChange[], lookup: IndexLookup): string[] {
  const failures: string[] = [];
  for (const c of changes) {
    const where = `${c.protocol} ${c.asset}: ${c.from} → ${c.to}`;
    const idx = lookup(c.protocol);
    if (typeof idx === 'string') {
      failures.push(`${where} (${idx})`);
      continue;
    }
    const from = idx.from[c.asset];
    const to = idx.to[c.asset];
    if (from === undefined || to === undefined || from <= 0n) {
      failures.push(`${where} (no interest index for ${c.asset})`);
      continue;
    }
    const projected = (c.from * to) / from;
    const off = c.to - projected;
    if (off > ACCRUAL_TOLERANCE || off < -ACCRUAL_TOLERANCE)
      failures.push(`${where} (interest projects ${projected})`);
  }
  return failures;
}

/**
 * A perp may change its mark and accrued funding with no event; its entry only by the rounding of an
 * entry derived from PnL (`perpEntryPriceWad`: exact to 1 + 10^decimals / |size| in the last digit,
 * so two reads differ by at most twice that); size and venue margin not at all.
 */
function perpDifferences(where: string, s: PerpPosition, f: PerpPosition): string[] {
  const out: string[] = [];
  const same = (a: FixedPoint, b: FixedPoint): boolean => a.raw === b.raw && a.decimals === b.decimals;
  if (!same(s.size, f.size)) out.push(`${where} size ${fmt(s.size)} → ${fmt(f.size)}`);
  if (!same(s.venueMarginUsd, f.venueMarginUsd))
    out.push(`${where} venue margin ${fmt(s.venueMarginUsd)} → ${fmt(f.venueMarginUsd)}`);
  if (!same(s.entryPriceUsd, f.entryPriceUsd)) {
    // Each read's entry = mark − truncated PnL / size is off by at most 1 + 10^d / |size| last digits.
    const d = abs(s.entryPriceUsd.raw - f.entryPriceUsd.raw);
    const size = abs(s.size.raw);
    const slack = size === 0n ? 0n : 2n + 10n ** BigInt(s.size.decimals) / size; // ≥ 1 + ⌈10^d / |size|⌉
    if (s.entryPriceUsd.decimals !== f.entryPriceUsd.decimals || d > 2n * slack)
      out.push(`${where} entry ${fmt(s.entryPriceUsd)} → ${fmt(f.entryPriceUsd)}`);
  }
  return out;
}

const abs = (x: bigint): bigint => (x < 0n ? -x : x);

function fmt(x: FixedPoint): string {
  return `${x.raw}e-${x.decimals}`;
}

/** What makes a position the same position in two reads (everything but its amounts). */
function positionId(p: Position): string {
  switch (p.kind) {
    case 'lending':
      return `${p.side}:${p.asset}`;
    case 'spot':
      return `spot:${p.asset}`;
    case 'perp':
      return `perp:${p.underlying}`;
    case 'option':
      return `option:${p.underlying}:${p.optionType}:${fmt(p.strikeUsd)}:${p.expirySec}`;
  }
}

/** `fn` over `items`, at most `limit` at once, results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}
