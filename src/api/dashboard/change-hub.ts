/**
 * `ChangeHub`: one reader of the risk results' change stream for every open account stream of the
 * process. It follows the stream with a blocking read (its own connection, opened by the results
 * store) and hands each change to the subscribers of that change's owner, so a hundred open
 * dashboards cost one Redis read, not a hundred.
 *
 * The tail starts at the stream's newest entry when the first subscriber arrives; a subscriber that
 * resumes from an older id catches up on its own with non-blocking reads (`catchUp`) while the hub
 * buffers what arrives meanwhile (see account-stream.controller.ts).
 */
import type { Redis } from 'ioredis';
import type { Address } from 'viem';
import type { PipelineKeys } from '../../indexer/redis/keys';
import { RedisRiskResultStore } from '../../pipeline/result-store';
import type { RiskChange } from '../../pipeline/types';

export type ChangeListener = (change: RiskChange) => void;

export interface ChangeHubOptions {
  /** Longest wait of one blocking read (ms); bounds how long closing the hub takes. */
  blockMs: number;
  /** Changes read per round trip. */
  batchSize: number;
  /** Pause after a failed read before the next (ms). */
  retryMs: number;
}

export const DEFAULT_CHANGE_HUB_OPTIONS: ChangeHubOptions = {
  blockMs: 1_000,
  batchSize: 500,
  retryMs: 1_000,
};

/** Compares two Redis Stream ids (`<ms>-<seq>`, or `0`): negative when a < b. */
export function compareStreamIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

export class ChangeHub {
  private readonly tail: RedisRiskResultStore;
  private readonly listeners = new Map<Address, Set<ChangeListener>>();
  private loop: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly redis: Redis,
    private readonly keys: PipelineKeys['results'],
    private readonly opts: ChangeHubOptions = DEFAULT_CHANGE_HUB_OPTIONS,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.tail = new RedisRiskResultStore(redis, keys);
  }

  /** The id of the newest change, or `0` when the stream is empty. */
  async lastId(): Promise<string> {
    const last = (await this.redis.xrevrange(this.keys.changes, '+', '-', 'COUNT', 1)) as [
      string,
      string[],
    ][];
    return last[0]?.[0] ?? '0';
  }

  /**
   * Changes of `owner` after `afterId` up to the stream's end as it is now (non-blocking reads on the
   * shared connection), and the id read through (`afterId` when there was nothing).
   */
  async catchUp(owner: Address, afterId: string): Promise<{ changes: RiskChange[]; throughId: string }> {
    const mine: RiskChange[] = [];
    let after = afterId;
    for (;;) {
      const batch = await this.tail.changes(after, { count: this.opts.batchSize });
      if (batch.length === 0) break;
      for (const c of batch) if (c.owner === owner) mine.push(c);
      after = batch[batch.length - 1]!.id;
    }
    return { changes: mine, throughId: after };
  }

  /**
   * Hears every change of `owner` read from now on; starts the tail on the first subscriber.
   * Resolves once the tail is positioned, so no change stored afterwards can be missed.
   */
  async subscribe(owner: Address, listener: ChangeListener): Promise<() => void> {
    let set = this.listeners.get(owner);
    if (!set) this.listeners.set(owner, (set = new Set()));
    set.add(listener);
    if (!this.loop && !this.closed) {
      const start = await this.lastId();
      this.loop ??= this.follow(start);
    }
    return () => {
      const s = this.listeners.get(owner);
      s?.delete(listener);
      if (s && s.size === 0) this.listeners.delete(owner);
    };
  }

  private async follow(afterId: string): Promise<void> {
    let after = afterId;
    while (!this.closed) {
      let batch: RiskChange[];
      try {
        batch = await this.tail.changes(after, { count: this.opts.batchSize, blockMs: this.opts.blockMs });
      } catch (err) {
        if (this.closed) break;
        this.onError(err);
        await new Promise((r) => setTimeout(r, this.opts.retryMs));
        continue;
      }
      for (const c of batch) {
        const set = this.listeners.get(c.owner);
        if (set) for (const l of [...set]) l(c);
      }
      if (batch.length > 0) after = batch[batch.length - 1]!.id;
    }
  }

  /** Stops the tail (within one `blockMs`) and closes its connection. */
  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    await this.loop;
    await this.tail.close();
  }
}
