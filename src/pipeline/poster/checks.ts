/**
 * The poster's own checks of its inputs at signing time, on top of the `stale` flags each risk record
 * carries: every price feed the aggregator values collateral with is within its heartbeat, the L2
 * sequencer is up and out of its grace period, and the indexer's cursor is at most `maxIndexerLagBlocks`
 * behind the chain head. Any failure is a refusal: nothing is signed until the next check passes.
 *
 * `judgeInputs` is the pure rule; `readInputs` gathers the facts from the chain and Redis.
 */
import type { Redis } from 'ioredis';
import type { Address, PublicClient } from 'viem';
import { mockV3AggregatorAbi } from '../../contracts/generated';
import type { StalenessFlags } from '../types';

export type RefusalReason =
  | 'oracle-stale'
  | 'sequencer-down'
  | 'sequencer-grace'
  | 'indexer-behind'
  | 'record-stale'
  | 'record-invalid';

export const REFUSAL_REASONS: readonly RefusalReason[] = [
  'oracle-stale',
  'sequencer-down',
  'sequencer-grace',
  'indexer-behind',
  'record-stale',
  'record-invalid',
];

export interface Refusal {
  reason: RefusalReason;
  /** One human-readable line (`ETH / USD updated 4210 s ago, heartbeat 3600 s`). */
  detail: string;
}

/** A feed the poster watches: label, address and the heartbeat it must be within. */
export interface WatchedFeed {
  label: string;
  address: Address;
  heartbeatSec: number;
}

export interface InputFacts {
  nowSec: bigint;
  headBlock: bigint;
  feeds: { feed: WatchedFeed; updatedAtSec: bigint }[];
  /** The sequencer uptime feed's round (answer 0 = up); undefined when none is configured. */
  sequencer?: { answer: bigint; startedAtSec: bigint; gracePeriodSec: number };
  /** The block the indexer's head runner has queued up to; null when it has no cursor. */
  indexerBlock: bigint | null;
}

export interface InputRules {
  maxIndexerLagBlocks: bigint;
}

/** Every reason to refuse signing now (empty = fresh). */
export function judgeInputs(f: InputFacts, rules: InputRules): Refusal[] {
  const out: Refusal[] = [];
  for (const { feed, updatedAtSec } of f.feeds) {
    const age = f.nowSec - updatedAtSec;
    if (updatedAtSec === 0n || age > BigInt(feed.heartbeatSec))
      out.push({
        reason: 'oracle-stale',
        detail: `${feed.label} updated ${age} s ago, heartbeat ${feed.heartbeatSec} s`,
      });
  }
  if (f.sequencer) {
    const s = f.sequencer;
    if (s.answer !== 0n || s.startedAtSec === 0n)
      out.push({
        reason: 'sequencer-down',
        detail: `sequencer uptime feed answers ${s.answer} (0 = up) since ${s.startedAtSec}`,
      });
    else if (f.nowSec - s.startedAtSec < BigInt(s.gracePeriodSec))
      out.push({
        reason: 'sequencer-grace',
        detail: `sequencer up for ${f.nowSec - s.startedAtSec} s, grace period ${s.gracePeriodSec} s`,
      });
  }
  if (f.indexerBlock === null)
    out.push({ reason: 'indexer-behind', detail: 'the indexer has no cursor (is the head runner running?)' });
  else if (f.headBlock - f.indexerBlock > rules.maxIndexerLagBlocks)
    out.push({
      reason: 'indexer-behind',
      detail: `indexer at block ${f.indexerBlock}, head ${f.headBlock}: ${f.headBlock - f.indexerBlock} blocks behind, at most ${rules.maxIndexerLagBlocks} allowed`,
    });
  return out;
}

/** The refusal of one record for its own `stale` flags, or undefined when they are all clear. */
export function recordRefusal(stale: StalenessFlags): Refusal | undefined {
  if (!stale.oracle && !stale.sequencer && !stale.indexer) return undefined;
  const which = (['oracle', 'sequencer', 'indexer'] as const).filter((k) => stale[k]);
  return {
    reason: 'record-stale',
    detail: `${which.join(', ')} stale when computed${stale.reasons.length ? `: ${stale.reasons.join('; ')}` : ''}`,
  };
}

/** Reads the facts `judgeInputs` needs, all at the head block. */
export async function readInputs(opts: {
  client: PublicClient;
  redis: Redis;
  /** Redis hash of the head runner's cursor (`indexer:cursor`, field `number`). */
  indexerCursorKey: string;
  feeds: readonly WatchedFeed[];
  sequencer?: { address: Address; gracePeriodSec: number };
}): Promise<InputFacts> {
  const { client } = opts;
  const head = await client.getBlock({ blockTag: 'latest' });
  const blockNumber = head.number;
  const feeds = await Promise.all(
    opts.feeds.map(async (feed) => {
      const [, , , updatedAt] = await client.readContract({
        address: feed.address,
        abi: mockV3AggregatorAbi,
        functionName: 'latestRoundData',
        blockNumber,
      });
      return { feed, updatedAtSec: updatedAt };
    }),
  );
  let sequencer: InputFacts['sequencer'];
  if (opts.sequencer) {
    const [, answer, startedAt] = await client.readContract({
      address: opts.sequencer.address,
      abi: mockV3AggregatorAbi,
      functionName: 'latestRoundData',
      blockNumber,
    });
    sequencer = { answer, startedAtSec: startedAt, gracePeriodSec: opts.sequencer.gracePeriodSec };
  }
  const cursor = await opts.redis.hget(opts.indexerCursorKey, 'number');
  return {
    nowSec: head.timestamp,
    headBlock: blockNumber,
    feeds,
    ...(sequencer ? { sequencer } : {}),
    indexerBlock: cursor === null ? null : BigInt(cursor),
  };
}
