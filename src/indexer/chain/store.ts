/**
 * Block-stamped state with exact rollback: the storage contract the rest of the indexer writes to.
 *
 * Every value carries the block (number and hash) it was written at. Writes arrive one block at a
 * time (`applyBlock`); for each block the store records the prior value of every key it changed (an
 * undo log), so `rollbackTo(ancestor)` restores exactly the state as of the ancestor, and the blocks
 * of the new branch are then applied again. Applying a block twice with the same hash is a no-op
 * (handlers may be redelivered); applying a different block at a height already applied is refused
 * (the caller must roll back first). `finalize(n)` drops undo logs at or below `n`: finalized blocks
 * never roll back. `amendHead(block, writes)` adds writes to the pending head block in one step
 * (its undo log keeps each key's value from before the block), so a second writer at the head's
 * height never has to undo and re-apply the block, which would be two steps a crash could split.
 *
 * The interface is async and speaks in plain keys and values so a Redis implementation (one hash
 * for values, one list per block for the undo log, applied in a MULTI) can sit behind it;
 * `ReorgBuffer` is the in-memory one.
 */
import type { Hex } from 'viem';
import { NetmarginError } from '../../common/errors';

export interface BlockStamped<T> {
  value: T;
  blockNumber: bigint;
  blockHash: Hex;
}

export interface BlockRef {
  number: bigint;
  hash: Hex;
}

/** A write: a new value for `key`, or `null` to delete it. */
export interface KeyWrite<T> {
  key: string;
  value: T | null;
}

export interface ReorgSafeStore<T> {
  get(key: string): Promise<BlockStamped<T> | undefined>;
  /** Every live key (for comparisons and snapshots). */
  entries(): Promise<Map<string, BlockStamped<T>>>;
  /** The last block applied (or the anchor). */
  head(): Promise<BlockRef | undefined>;
  /**
   * The blocks the state can still be rolled back to, oldest first: the anchor (the finalized or
   * initial block), then every applied block above it. How a writer finds the common ancestor when
   * the chain no longer has the store's head.
   */
  history(): Promise<BlockRef[]>;
  /** Applies one block's writes; the block must be the child of `head()` by number. */
  applyBlock(block: BlockRef, writes: KeyWrite<T>[]): Promise<void>;
  /**
   * Adds `writes` to the block that is the head now (same number and hash, and not yet finalized:
   * the anchor has no undo log). A later rollback of that block restores each key's value from
   * before the block, however many times it was amended. Refusals: BLOCK_GAP (no head, or another
   * height), BLOCK_CONFLICT (another hash), BLOCK_FINALIZED (the head is the anchor).
   */
  amendHead(block: BlockRef, writes: KeyWrite<T>[]): Promise<void>;
  /** Undoes every block above `ancestor`; returns how many blocks were undone. */
  rollbackTo(ancestor: BlockRef): Promise<number>;
  /** Forgets undo logs at or below `blockNumber`. */
  finalize(blockNumber: bigint): Promise<void>;
}

interface UndoEntry<T> {
  key: string;
  prior: BlockStamped<T> | undefined;
}

interface AppliedBlock<T> {
  ref: BlockRef;
  undo: UndoEntry<T>[];
}

export class ReorgBuffer<T> implements ReorgSafeStore<T> {
  private readonly values = new Map<string, BlockStamped<T>>();
  /** Applied blocks above the finalized line, ascending. */
  private readonly applied: AppliedBlock<T>[] = [];
  private anchor: BlockRef | undefined;

  /** `anchor`: the block the initial (empty or preloaded) state reflects. */
  constructor(anchor?: BlockRef, initial?: Iterable<[string, BlockStamped<T>]>) {
    this.anchor = anchor;
    for (const [k, v] of initial ?? []) this.values.set(k, v);
  }

  async get(key: string): Promise<BlockStamped<T> | undefined> {
    return this.values.get(key);
  }

  async entries(): Promise<Map<string, BlockStamped<T>>> {
    return new Map(this.values);
  }

  async head(): Promise<BlockRef | undefined> {
    return this.applied[this.applied.length - 1]?.ref ?? this.anchor;
  }

  async history(): Promise<BlockRef[]> {
    return [...(this.anchor ? [this.anchor] : []), ...this.applied.map((a) => a.ref)];
  }

  /** Blocks that can still be rolled back (for metrics and tests). */
  get pendingBlocks(): number {
    return this.applied.length;
  }

  async applyBlock(block: BlockRef, writes: KeyWrite<T>[]): Promise<void> {
    const same = this.applied.find((a) => a.ref.number === block.number);
    if (same) {
      if (same.ref.hash === block.hash) return; // redelivered: already applied
      throw new NetmarginError(`Block ${block.number} is already applied with another hash`, {
        code: 'BLOCK_CONFLICT',
        hint: 'Roll back to the common ancestor (rollbackTo) before applying the new branch.',
        details: { number: block.number.toString(), applied: same.ref.hash, incoming: block.hash },
      });
    }
    const head = await this.head();
    if (head && block.number <= head.number) {
      // At or below the anchor / finalized line: already part of the state.
      if (block.number === head.number && block.hash !== head.hash)
        throw new NetmarginError(`Block ${block.number} conflicts with the store's anchor`, {
          code: 'BLOCK_CONFLICT',
          details: { number: block.number.toString(), anchor: head.hash, incoming: block.hash },
        });
      return;
    }
    if (head && block.number !== head.number + 1n)
      throw new NetmarginError(`Block ${block.number} skips ahead of the store's head ${head.number}`, {
        code: 'BLOCK_GAP',
        hint: 'Apply blocks in order, one at a time (the head tracker emits them so).',
        details: { number: block.number.toString(), head: head.number.toString() },
      });
    const undo: UndoEntry<T>[] = [];
    const seen = new Set<string>();
    for (const w of writes) {
      if (!seen.has(w.key)) {
        seen.add(w.key);
        undo.push({ key: w.key, prior: this.values.get(w.key) });
      }
      if (w.value === null) this.values.delete(w.key);
      else this.values.set(w.key, { value: w.value, blockNumber: block.number, blockHash: block.hash });
    }
    this.applied.push({ ref: block, undo });
  }

  async amendHead(block: BlockRef, writes: KeyWrite<T>[]): Promise<void> {
    const head = await this.head();
    if (!head || head.number !== block.number)
      throw new NetmarginError(`Block ${block.number} is not the store's head ${head?.number ?? '(none)'}`, {
        code: 'BLOCK_GAP',
        hint: 'amendHead only adds to the current head block; apply a new block with applyBlock.',
        details: { number: block.number.toString(), head: head?.number.toString() },
      });
    if (head.hash !== block.hash)
      throw new NetmarginError(`Block ${block.number} is the head with another hash`, {
        code: 'BLOCK_CONFLICT',
        hint: 'Roll back to the common ancestor (rollbackTo) before applying the new branch.',
        details: { number: block.number.toString(), applied: head.hash, incoming: block.hash },
      });
    const top = this.applied[this.applied.length - 1];
    if (!top)
      throw new NetmarginError(`Block ${block.number} is the store's anchor and cannot be amended`, {
        code: 'BLOCK_FINALIZED',
        hint: 'The anchor has no undo log; write at a later block with applyBlock.',
        details: { number: block.number.toString(), anchor: head.hash },
      });
    const seen = new Set(top.undo.map((u) => u.key));
    for (const w of writes) {
      if (!seen.has(w.key)) {
        seen.add(w.key);
        top.undo.push({ key: w.key, prior: this.values.get(w.key) });
      }
      if (w.value === null) this.values.delete(w.key);
      else this.values.set(w.key, { value: w.value, blockNumber: block.number, blockHash: block.hash });
    }
  }

  async rollbackTo(ancestor: BlockRef): Promise<number> {
    let undone = 0;
    for (let top = this.applied[this.applied.length - 1]; top && top.ref.number > ancestor.number;) {
      for (let i = top.undo.length - 1; i >= 0; i -= 1) {
        const u = top.undo[i] as UndoEntry<T>;
        if (u.prior === undefined) this.values.delete(u.key);
        else this.values.set(u.key, u.prior);
      }
      this.applied.pop();
      undone += 1;
      top = this.applied[this.applied.length - 1];
    }
    const head = await this.head();
    if (!head || head.number !== ancestor.number || head.hash !== ancestor.hash)
      throw new NetmarginError(
        `Cannot roll back to block ${ancestor.number}: it is not in the store's history`,
        {
          code: 'ROLLBACK_OUT_OF_RANGE',
          hint: 'The ancestor is below the finalized line or on another branch; re-sync from scratch.',
          details: { ancestor: ancestor.hash, head: head?.hash },
        },
      );
    return undone;
  }

  async finalize(blockNumber: bigint): Promise<void> {
    while (this.applied.length > 0 && (this.applied[0] as AppliedBlock<T>).ref.number <= blockNumber) {
      this.anchor = (this.applied.shift() as AppliedBlock<T>).ref;
    }
  }
}
