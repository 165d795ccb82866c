/**
 * `ShortfallFeed`: hears every stored risk result (it is a `RiskRecordListener`), decides with the
 * threshold rule (rule.ts) whether the account crossed a threshold, and if so reads the seizable
 * amounts and price rounds on chain, builds the event and appends it to a Redis Stream
 * (`XADD … MAXLEN ~ n`, key `nm:{network}:feed:shortfalls`). The stream id is the event id; readers
 * resume from the last id they saw (`readFeed`, the SSE endpoint).
 *
 * The stream is trimmed approximately to `maxLen` entries (default 100,000): a reader that falls
 * further behind than that loses the oldest events and should re-read the accounts' current state.
 */
import type { Redis } from 'ioredis';
import { InvalidInputError } from '../../common/errors';
import { redisKeys } from '../../indexer/redis/keys';
import { deserialize, serialize } from '../../indexer/redis/serialize';
import type { RiskRecord, RiskRecordListener } from '../types';
import type { FeedChainReader } from './chain-reader';
import { buildFeedEvent, type FeedEvent, type FeedEventDraft } from './event';
import { crossing, DEFAULT_THRESHOLD_RULE, validateThresholdRule, type ThresholdRule } from './rule';

export const DEFAULT_FEED_MAX_LEN = 100_000;
const STREAM_ID = /^(0|[0-9]+(-[0-9]+)?)$/;

export interface ShortfallFeedOptions {
  redis: Redis;
  network: string;
  chain: FeedChainReader;
  rule?: ThresholdRule;
  maxLen?: number;
  now?: () => number;
  log?: (event: string, fields: Record<string, unknown>) => void;
}

/** Checks a resume id: `0` (from the start) or a stream id `<ms>-<seq>` (or `<ms>`). */
export function assertStreamId(id: string, field = 'afterId'): string {
  if (!STREAM_ID.test(id))
    throw new InvalidInputError(field, `"${id}" is not a stream id`, {
      hint: 'Pass the id of the last event you saw (e.g. "1732190000000-0"), or "0" to read from the start.',
    });
  return id;
}

type XReadReply = [string, [string, string[]][]][] | null;

/** Reads events after `afterId` (exclusive), oldest first; waits up to `blockMs` (0 = do not wait). */
export async function readFeedFrom(
  redis: Redis,
  key: string,
  afterId: string,
  count: number,
  blockMs: number,
): Promise<FeedEvent[]> {
  assertStreamId(afterId);
  if (!Number.isInteger(count) || count < 1)
    throw new InvalidInputError('count', `${count} is not a positive integer`);
  if (!Number.isInteger(blockMs) || blockMs < 0)
    throw new InvalidInputError('blockMs', `${blockMs} is not a whole number of milliseconds ≥ 0`);
  const reply = (
    blockMs > 0
      ? await redis.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', key, afterId)
      : await redis.xread('COUNT', count, 'STREAMS', key, afterId)
  ) as XReadReply;
  const entries = reply?.[0]?.[1] ?? [];
  return entries.map(([id, fields]) => {
    const at = fields.indexOf('event');
    if (at < 0 || at + 1 >= fields.length)
      throw new InvalidInputError(`stream entry ${id}`, 'has no "event" field', {
        hint: 'Something other than ShortfallFeed wrote to the feed stream; delete the stray entry.',
      });
    return { ...deserialize<FeedEventDraft>(fields[at + 1]!), id };
  });
}

/** A reader with a connection of its own (a waiting XREAD holds its connection). */
export interface FeedReader {
  read(afterId: string, count: number, blockMs: number): Promise<FeedEvent[]>;
  /** Closes the connection; a read waiting on it rejects. */
  close(): void;
}

/** The read side of the feed stream (what the SSE endpoint needs). */
export class ShortfallFeedStream {
  readonly key: string;
  private blocking: Redis | undefined;

  constructor(
    protected readonly redis: Redis,
    network: string,
  ) {
    this.key = redisKeys(network).feed.shortfalls;
  }

  /**
   * Events after `afterId`, oldest first, at most `count`; waits up to `blockMs` when there is none.
   * A waiting read uses a connection of its own (the shared one must stay free for writes).
   */
  async readFeed(afterId: string, count = 100, blockMs = 0): Promise<FeedEvent[]> {
    const conn = blockMs > 0 ? (this.blocking ??= this.redis.duplicate()) : this.redis;
    return readFeedFrom(conn, this.key, afterId, count, blockMs);
  }

  /** A reader on a new connection, for one subscriber. */
  openReader(): FeedReader {
    const conn = this.redis.duplicate();
    return {
      read: (afterId, count, blockMs) => readFeedFrom(conn, this.key, afterId, count, blockMs),
      close: () => conn.disconnect(),
    };
  }

  /** The id of the newest event, or `0` when the stream is empty. */
  async lastId(): Promise<string> {
    const last = (await this.redis.xrevrange(this.key, '+', '-', 'COUNT', 1)) as [string, string[]][];
    return last[0]?.[0] ?? '0';
  }

  async close(): Promise<void> {
    this.blocking?.disconnect();
    this.blocking = undefined;
  }
}

/** The write side: a `RiskRecordListener` that publishes threshold crossings. */
export class ShortfallFeed extends ShortfallFeedStream implements RiskRecordListener {
  private readonly rule: ThresholdRule;
  private readonly maxLen: number;

  constructor(private readonly opts: ShortfallFeedOptions) {
    super(opts.redis, opts.network);
    this.rule = validateThresholdRule(opts.rule ?? DEFAULT_THRESHOLD_RULE);
    this.maxLen = opts.maxLen ?? DEFAULT_FEED_MAX_LEN;
    if (!Number.isInteger(this.maxLen) || this.maxLen < 1)
      throw new InvalidInputError('maxLen', `${this.maxLen} is not a positive integer`);
  }

  async onRecord(next: RiskRecord, previous: RiskRecord | undefined): Promise<void> {
    const reason = crossing(next, previous, this.rule);
    if (reason === null) return;
    const chain = await this.opts.chain.read(next.owner, next.blockNumber);
    const now = this.opts.now ?? Date.now;
    const id = await this.publish(buildFeedEvent(next, previous, reason, chain, now()));
    this.opts.log?.('shortfall-published', {
      id,
      owner: next.owner,
      block: next.blockNumber.toString(),
      health: next.health,
      previousHealth: previous?.health ?? null,
      reason,
      shortfallUsd6: next.shortfallUsd6.toString(),
    });
  }

  /** Appends an event; returns its stream id. */
  async publish(event: FeedEventDraft): Promise<string> {
    const id = await this.redis.xadd(this.key, 'MAXLEN', '~', this.maxLen, '*', 'event', serialize(event));
    return id!;
  }
}
