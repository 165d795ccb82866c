/**
 * BullMQ queues of the risk workers beside the indexer's `risk` queue (`src/indexer/queues.ts`):
 * names, job data, default options and job ids in one place.
 *
 * - `risk-market`: one recorded market block (`market-<block>-<hash16>`), added by the head
 *   runner's `onMarketRecorded` hook; its handler recomputes every account whose underlyings' price,
 *   vol surface or feed staleness changed since the account's last result;
 * - `params`: re-estimate the parameter set from the price history, added by one job scheduler per
 *   network (`scheduleParams`, scheduler id `params-reestimate`).
 *
 * Keys live under the network's BullMQ prefix like the indexer's queues.
 */
import { Queue, Worker, type ConnectionOptions, type Job, type JobsOptions } from 'bullmq';
import type { Hex } from 'viem';
import { InvalidInputError } from '../common/errors';
import type { BlockRef } from '../indexer/chain/store';
import type { MarketRecord } from '../indexer/market-recorder';
import { queuePrefix } from '../indexer/queues';
import type { RedisMarketHistory } from './market-history';

export const PIPELINE_QUEUE_NAMES = ['risk-market', 'params'] as const;
export type PipelineQueueName = (typeof PIPELINE_QUEUE_NAMES)[number];

export interface PipelineJobData {
  'risk-market': { blockNumber: string; blockHash: Hex };
  params: Record<string, never>;
}

export const PIPELINE_JOB_NAMES: { readonly [Q in PipelineQueueName]: string } = {
  'risk-market': 'market-move',
  params: 'reestimate-params',
};

export const PIPELINE_JOB_OPTIONS: { readonly [Q in PipelineQueueName]: JobsOptions } = {
  'risk-market': {
    attempts: 6,
    backoff: { type: 'exponential', delay: 1_000 },
    removeOnComplete: { count: 10_000 },
    removeOnFail: { count: 5_000 },
  },
  // A failed run is retried a little; the next scheduled run re-reads the window anyway.
  params: {
    attempts: 3,
    backoff: { type: 'exponential', delay: 5_000 },
    removeOnComplete: { count: 100 },
    removeOnFail: { count: 1_000 },
  },
};

export const PARAMS_SCHEDULER_ID = 'params-reestimate';

export const pipelineJobIds = {
  market: (b: BlockRef): string => `market-${b.number}-${b.hash.slice(2, 18).toLowerCase()}`,
};

export type PipelineQueues = { readonly [Q in PipelineQueueName]: Queue<PipelineJobData[Q]> };

export function createPipelineQueues(connection: ConnectionOptions, network: string): PipelineQueues {
  const prefix = queuePrefix(network);
  return {
    'risk-market': new Queue<PipelineJobData['risk-market']>('risk-market', {
      connection,
      prefix,
      defaultJobOptions: PIPELINE_JOB_OPTIONS['risk-market'],
    }),
    params: new Queue<PipelineJobData['params']>('params', {
      connection,
      prefix,
      defaultJobOptions: PIPELINE_JOB_OPTIONS.params,
    }),
  };
}

export async function closePipelineQueues(queues: PipelineQueues): Promise<void> {
  await Promise.all(PIPELINE_QUEUE_NAMES.map((q) => queues[q].close()));
}

/** Queues the market-move recompute of `block` (deduplicated by block and hash). */
export async function enqueueMarketMove(queues: PipelineQueues, block: BlockRef): Promise<void> {
  const q = queues['risk-market'] as Queue;
  await q.add(
    PIPELINE_JOB_NAMES['risk-market'],
    { blockNumber: block.number.toString(), blockHash: block.hash },
    { jobId: pipelineJobIds.market(block) },
  );
}

/** One re-estimation every `everyMs` per network (calling again updates the one scheduler). */
export async function scheduleParams(queues: PipelineQueues, everyMs: number): Promise<void> {
  if (!Number.isSafeInteger(everyMs) || everyMs < 1_000)
    throw new InvalidInputError('everyMs', `${everyMs} is not a whole number of milliseconds ≥ 1000`, {
      hint: 'Re-estimate at most once a second; hourly is typical.',
    });
  await (queues.params as Queue).upsertJobScheduler(
    PARAMS_SCHEDULER_ID,
    { every: everyMs },
    { name: PIPELINE_JOB_NAMES.params, data: {}, opts: PIPELINE_JOB_OPTIONS.params },
  );
}

export async function unscheduleParams(queues: PipelineQueues): Promise<boolean> {
  return (queues.params as Queue).removeJobScheduler(PARAMS_SCHEDULER_ID);
}

export type PipelineHandlers = {
  [Q in PipelineQueueName]: (data: PipelineJobData[Q], job: Job<PipelineJobData[Q]>) => Promise<unknown>;
};

/** One worker per pipeline queue in `queues` (default both), at concurrency 1. */
export function startPipelineWorkers(
  connection: ConnectionOptions,
  network: string,
  handlers: Partial<PipelineHandlers>,
  queues: readonly PipelineQueueName[] = PIPELINE_QUEUE_NAMES,
): Worker[] {
  const prefix = queuePrefix(network);
  return queues.map((q) => {
    const handler = handlers[q] as ((d: unknown, j: Job) => Promise<unknown>) | undefined;
    if (!handler)
      throw new InvalidInputError(`handlers.${q}`, 'is missing', {
        hint: 'Give a handler for every pipeline queue this process drains.',
      });
    return new Worker(q, async (job) => handler(job.data, job), { connection, prefix, concurrency: 1 });
  });
}

/** The runner's `onMarketRecorded`: keep the record by block, then queue its market-move recompute. */
export function marketMoveHook(
  markets: RedisMarketHistory,
  queues: PipelineQueues,
): (record: MarketRecord) => Promise<void> {
  return async (record) => {
    await markets.record(record);
    await enqueueMarketMove(queues, { number: record.blockNumber, hash: record.blockHash });
  };
}
