/**
 * Head tracking with reorg detection.
 *
 * `HeadTracker` is the pure core: a state machine fed with block headers (number, hash, parentHash).
 * It keeps a contiguous window of the latest canonical headers and, for each new head, works out
 * what changed:
 * - the head's parent is our tip → one `block` event (the common case);
 * - otherwise it walks the new head's ancestry back (fetching missing parents by hash through the
 *   injected `getHeaderByHash`) until it meets a header in the window: that is the common ancestor.
 *   If the ancestor is below our tip, blocks above it were dropped → one `reorg` event
 *   (`commonAncestor`, `depth`, `dropped`), then one `block` event per block of the new branch,
 *   oldest first. A gap in head numbers (missed polls) is the same walk with nothing dropped.
 * - if the walk passes the finality line (tip − `finalityDepth`, or the node's own `finalized` block
 *   when it reports a higher one) without meeting the window, the reorg is deeper than we promised
 *   to survive: one `halt` event carrying a `ReorgTooDeepError`, and the tracker stops advancing
 *   until an operator resets it. Continuing would index a chain we cannot reconcile with our state.
 *
 * A head *lower* than our tip whose hash is in the window is treated as a stale answer (a lagging
 * node behind a fallback transport), not as a reorg: real reorgs arrive as a different block.
 *
 * `HeadWatcher` is the thin viem part: it polls `latest` (and `safe` / `finalized` when the node
 * answers those tags) and hands headers to the tracker and events to a listener.
 */
import type { Hex, PublicClient } from 'viem';
import { InvalidInputError, NetmarginError } from '../../common/errors';
import { classifyRpcError } from './retry';

export interface BlockHeader {
  number: bigint;
  hash: Hex;
  parentHash: Hex;
}

export type HeadEvent =
  | { type: 'block'; block: BlockHeader }
  | { type: 'reorg'; commonAncestor: BlockHeader; depth: number; dropped: BlockHeader[] }
  | { type: 'halt'; error: ReorgTooDeepError };

/** Raised (as a `halt` event) when a reorg reaches below the finality line. */
export class ReorgTooDeepError extends NetmarginError {
  override readonly name: string = 'ReorgTooDeepError';
  constructor(details: {
    tip: BlockHeader;
    newHead: BlockHeader;
    /** The deepest new-branch block examined: the ancestor lies below it. */
    divergedAt: bigint;
    finalityDepth: number;
    finalizedBlock: bigint;
  }) {
    super(
      `Reorg deeper than the finality depth: the chain diverges from the indexed one at or below block ${details.divergedAt} (indexed tip ${details.tip.number}, finalized ${details.finalizedBlock}, finality depth ${details.finalityDepth})`,
      {
        code: 'REORG_TOO_DEEP',
        hint: 'Indexing has halted. Check the RPC is on the right chain; then re-sync from a block below the divergence (or raise finalityDepth if the chain really reorgs this deep).',
        details: {
          tipNumber: details.tip.number.toString(),
          tipHash: details.tip.hash,
          newHeadNumber: details.newHead.number.toString(),
          newHeadHash: details.newHead.hash,
          divergedAt: details.divergedAt.toString(),
          finalityDepth: details.finalityDepth,
          finalizedBlock: details.finalizedBlock.toString(),
        },
      },
    );
  }
}

export interface HeadTrackerOptions {
  /** Reorgs of up to this many blocks are followed; deeper ones halt. */
  finalityDepth: number;
  /** Headers kept; at least finalityDepth + 1 (default finalityDepth + 1). */
  windowSize?: number;
  /** Fetches a header by hash: how missing parents are filled in. */
  getHeaderByHash: (hash: Hex) => Promise<BlockHeader>;
}

export interface Heads {
  latest: BlockHeader | undefined;
  /** Node-reported `safe` block number, if any. */
  safe: bigint | undefined;
  /** max(node-reported `finalized`, latest − finalityDepth). */
  finalized: bigint | undefined;
}

export class HeadTracker {
  private readonly finalityDepth: number;
  private readonly windowSize: number;
  private readonly getHeaderByHash: (hash: Hex) => Promise<BlockHeader>;
  /** Contiguous, ascending by number, each the parent of the next. */
  private window: BlockHeader[] = [];
  private byHash = new Map<Hex, BlockHeader>();
  private nodeSafe: bigint | undefined;
  private nodeFinalized: bigint | undefined;
  private haltedWith: ReorgTooDeepError | undefined;

  constructor(opts: HeadTrackerOptions) {
    if (!Number.isInteger(opts.finalityDepth) || opts.finalityDepth < 1)
      throw new InvalidInputError('finalityDepth', `${opts.finalityDepth} is not a whole number ≥ 1`);
    const windowSize = opts.windowSize ?? opts.finalityDepth + 1;
    if (!Number.isInteger(windowSize) || windowSize < opts.finalityDepth + 1)
      throw new InvalidInputError('windowSize', `${windowSize} is below finalityDepth + 1`, {
        hint: 'Keep at least finalityDepth + 1 headers so any allowed reorg finds its ancestor.',
      });
    this.finalityDepth = opts.finalityDepth;
    this.windowSize = windowSize;
    this.getHeaderByHash = opts.getHeaderByHash;
  }

  /** Starts (or restarts) tracking from `anchor`, the block the indexed state reflects. */
  reset(anchor: BlockHeader): void {
    this.window = [anchor];
    this.byHash = new Map([[anchor.hash, anchor]]);
    this.haltedWith = undefined;
  }

  get halted(): ReorgTooDeepError | undefined {
    return this.haltedWith;
  }

  get tip(): BlockHeader | undefined {
    return this.window[this.window.length - 1];
  }

  /** The headers held, oldest first (a copy). */
  get headers(): BlockHeader[] {
    return [...this.window];
  }

  /** Records the node's `safe` / `finalized` block numbers (either may be unknown). */
  setNodeHeads(h: { safe?: bigint | undefined; finalized?: bigint | undefined }): void {
    if (h.safe !== undefined) this.nodeSafe = h.safe;
    if (h.finalized !== undefined && (this.nodeFinalized === undefined || h.finalized > this.nodeFinalized))
      this.nodeFinalized = h.finalized;
  }

  heads(): Heads {
    const latest = this.tip;
    return {
      latest,
      safe: this.nodeSafe,
      finalized: latest ? this.finalityLine(latest) : this.nodeFinalized,
    };
  }

  /** Highest block number no reorg may drop: max(node finalized, tip − finalityDepth). */
  private finalityLine(tip: BlockHeader): bigint {
    const byDepth = tip.number - BigInt(this.finalityDepth);
    return this.nodeFinalized !== undefined && this.nodeFinalized > byDepth ? this.nodeFinalized : byDepth;
  }

  /** Feeds one head; returns what the indexer must do, in order. */
  async onHead(head: BlockHeader): Promise<HeadEvent[]> {
    if (this.haltedWith) return [];
    const tip = this.tip;
    if (!tip) {
      this.reset(head);
      return [{ type: 'block', block: head }];
    }
    if (head.hash === tip.hash) return [];
    const known = this.byHash.get(head.hash);
    if (known && known.number <= tip.number) return []; // stale answer from a lagging node

    const line = this.finalityLine(tip);
    const oldest = this.window[0] as BlockHeader;
    const branch: BlockHeader[] = [];
    let cur = head;
    let ancestor: BlockHeader | undefined;
    for (;;) {
      const mine = this.byHash.get(cur.hash);
      if (mine) {
        ancestor = mine;
        break;
      }
      // `cur` is not ours, so the ancestor lies strictly below it. Above our tip that is just a new
      // block (we may be catching up past the node's finalized block); at or below it, a divergence.
      if (cur.number <= tip.number && (cur.number <= line || cur.number <= oldest.number)) {
        this.haltedWith = new ReorgTooDeepError({
          tip,
          newHead: head,
          divergedAt: cur.number,
          finalityDepth: this.finalityDepth,
          finalizedBlock: line,
        });
        return [{ type: 'halt', error: this.haltedWith }];
      }
      branch.push(cur);
      const parent = this.byHash.get(cur.parentHash) ?? (await this.getHeaderByHash(cur.parentHash));
      if (parent.hash !== cur.parentHash || parent.number !== cur.number - 1n)
        throw new NetmarginError(`The RPC returned a wrong parent for block ${cur.number}`, {
          code: 'BAD_PARENT',
          hint: 'The RPC is inconsistent (load-balanced nodes out of sync?); the head will be retried on the next poll.',
          details: { child: cur.hash, expectedParent: cur.parentHash, got: parent.hash },
        });
      cur = parent;
    }

    const events: HeadEvent[] = [];
    if (ancestor.number < tip.number) {
      const keep = this.window.findIndex((h) => h.hash === ancestor.hash) + 1;
      const dropped = this.window.slice(keep);
      this.window = this.window.slice(0, keep);
      for (const d of dropped) this.byHash.delete(d.hash);
      events.push({ type: 'reorg', commonAncestor: ancestor, depth: dropped.length, dropped });
    }
    for (const b of branch.reverse()) {
      this.window.push(b);
      this.byHash.set(b.hash, b);
      events.push({ type: 'block', block: b });
    }
    while (this.window.length > this.windowSize) {
      const gone = this.window.shift() as BlockHeader;
      this.byHash.delete(gone.hash);
    }
    return events;
  }
}

export function toHeader(b: { number: bigint | null; hash: Hex | null; parentHash: Hex }): BlockHeader {
  if (b.number === null || b.hash === null)
    throw new NetmarginError('The RPC returned a pending block where a mined one was expected', {
      code: 'PENDING_BLOCK',
    });
  return { number: b.number, hash: b.hash, parentHash: b.parentHash };
}

export interface HeadWatcherOptions {
  client: PublicClient;
  tracker: HeadTracker;
  /** Receives every event in order; awaited, so the indexer applies one block at a time. */
  onEvent: (e: HeadEvent) => Promise<void> | void;
  /** Ask the node for `safe` / `finalized` (default true; turned off once the node rejects the tags). */
  useNodeFinality?: boolean;
}

/** Polls the chain and drives a `HeadTracker`; `poll()` can also be called directly (tests). */
export class HeadWatcher {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private useNodeFinality: boolean;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly opts: HeadWatcherOptions) {
    this.useNodeFinality = opts.useNodeFinality ?? true;
  }

  static headerFetcher(client: PublicClient): (hash: Hex) => Promise<BlockHeader> {
    return async (hash) => toHeader(await client.getBlock({ blockHash: hash }));
  }

  /**
   * One round: read the heads, feed the tracker, deliver events; returns the events. Rounds never
   * overlap (a call made during a round runs after it), so the tracker sees heads one at a time.
   */
  poll(): Promise<HeadEvent[]> {
    const round = this.queue.then(() => this.pollOnce());
    this.queue = round.then(
      () => undefined,
      () => undefined,
    );
    return round;
  }

  private async pollOnce(): Promise<HeadEvent[]> {
    const { client, tracker } = this.opts;
    const [latest, safe, finalized] = await Promise.all([
      client.getBlock({ blockTag: 'latest' }),
      this.useNodeFinality ? client.getBlock({ blockTag: 'safe' }).catch((e: unknown) => e) : undefined,
      this.useNodeFinality ? client.getBlock({ blockTag: 'finalized' }).catch((e: unknown) => e) : undefined,
    ]);
    const tagError = [safe, finalized].find((x) => x instanceof Error);
    if (tagError && classifyRpcError(tagError) === 'fatal') {
      this.useNodeFinality = false; // the node does not know the tags: finalityDepth alone decides
    } else if (!tagError && safe && finalized) {
      const s = safe as { number: bigint | null };
      const f = finalized as { number: bigint | null };
      tracker.setNodeHeads({ safe: s.number ?? undefined, finalized: f.number ?? undefined });
    }
    const events = await tracker.onHead(toHeader(latest));
    for (const e of events) await this.opts.onEvent(e);
    return events;
  }

  /** Polls every `intervalMs` until `stop()` or a halt; errors go to `onError` and polling goes on. */
  start(intervalMs: number, onError: (err: unknown) => void): void {
    if (this.running) return;
    this.running = true;
    const tick = async (): Promise<void> => {
      try {
        await this.poll();
      } catch (err) {
        onError(err);
      }
      if (this.running && !this.opts.tracker.halted) this.timer = setTimeout(() => void tick(), intervalMs);
    };
    void tick();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
  }
}
