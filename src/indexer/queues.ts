/**
 * BullMQ queues of the indexer: names, typed job data, default job options and job ids, in ONE
 * place, so producers, processors and operators agree on them.
 *
 * - `index-range`: a block range to backfill (`range-<from>-<to>`);
 * - `refresh`: re-read one owner's positions at a block (`refresh-<owner>-<block>`); the job id makes
 *   a second request for the same owner and block a no-op while the first is kept;
 * - `risk`: one owner whose stored positions changed at a block (`risk-<owner>-<block>`), for the
 *   risk engine.
 *
 * Queue keys live under the network's Redis prefix (`nm:{network}:bull:<queue>:…`), so several
 * networks and test runs share one Redis. `startWorkers` refuses to start unless every queue has a
 * handler: a queue nobody drains would fill silently.
 */
import { Queue, Worker, type ConnectionOptions, type Job, type JobsOptions } from 'bullmq';
import type { Address } from 'viem';
import { NetmarginError } from '../common/errors';
import { redisKeys } from './redis/keys';

export const QUEUE_NAMES = ['index-range', 'refresh', 'risk'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/** Job data per queue. Block numbers are decimal strings (job data is JSON; bigint does not survive). */
export interface JobDataByQueue {
  'index-range': { fromBlock: string; toBlock: string };
  refresh: { owner: Address; blockNumber: string };
  risk: { owner: Address; blockNumber: string };
}

/** The one job name used on each queue. */
export const JOB_NAMES: { readonly [Q in QueueName]: string } = {
  'index-range': 'index-range',
  refresh: 'refresh-owner',
  risk: 'compute-risk',
};

/**
 * Retries with capped exponential backoff (1 s, 2 s, 4 s, … — BullMQ's exponential backoff has no cap,
 * so the attempts bound it: at most 1+2+4+8+16 s of waiting); completed jobs kept for dedup by job id
 * and inspection, failed ones kept longer for post-mortems.
 */
export const DEFAULT_JOB_OPTIONS: { readonly [Q in QueueName]: JobsOptions } = {
  'index-range': {
    attempts: 6,
    backoff: { type: 'exponential', delay: 1_000 },
    removeOnComplete: { count: 1_000 },
    removeOnFail: { count: 5_000 },
  },
  refresh: {
    attempts: 6,
    backoff: { type: 'exponential', delay: 1_000 },
    removeOnComplete: { count: 10_000 },
    removeOnFail: { count: 5_000 },
  },
  risk: {
    attempts: 6,
    backoff: { type: 'exponential', delay: 1_000 },
    removeOnComplete: { count: 10_000 },
    removeOnFail: { count: 5_000 },
  },
};

/** Job ids: a second job with the same id is ignored while the first is kept. Owners are lower-cased. */
export const jobIds = {
  range: (fromBlock: bigint, toBlock: bigint): string => `range-${fromBlock}-${toBlock}`,
  refresh: (owner: Address, blockNumber: bigint): string => `refresh-${owner.toLowerCase()}-${blockNumber}`,
  risk: (owner: Address, blockNumber: bigint): string => `risk-${owner.toLowerCase()}-${blockNumber}`,
};

/** BullMQ's key prefix for `network` (under the network's `nm:{network}:` namespace). */
export function queuePrefix(network: string): string {
  return `${redisKeys(network).prefix}bull`;
}

export type IndexerQueues = { readonly [Q in QueueName]: Queue<JobDataByQueue[Q]> };

/** One `Queue` per name, all under the network's prefix. Close them with `closeQueues`. */
export function createQueues(connection: ConnectionOptions, network: string): IndexerQueues {
  const prefix = queuePrefix(network);
  const make = <Q extends QueueName>(name: Q): Queue<JobDataByQueue[Q]> =>
    new Queue<JobDataByQueue[Q]>(name, { connection, prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS[name] });
  return { 'index-range': make('index-range'), refresh: make('refresh'), risk: make('risk') };
}

export async function closeQueues(queues: IndexerQueues): Promise<void> {
  await Promise.all(QUEUE_NAMES.map((q) => queues[q].close()));
}

/** Adds a job with its queue's name and id (options come from the queue's defaults). */
export function enqueue<Q extends QueueName>(
  queues: IndexerQueues,
  queue: Q,
  data: JobDataByQueue[Q],
  jobId: string,
): Promise<Job<JobDataByQueue[Q]>> {
  // BullMQ's generic name type cannot follow Q through the mapped type; the data type is checked above.
  const q = queues[queue] as unknown as Queue<JobDataByQueue[Q]>;
  return q.add(JOB_NAMES[queue] as never, data as never, { jobId }) as Promise<Job<JobDataByQueue[Q]>>;
}

/** A queue's handler: receives the job's typed data. */
export type JobHandler<Q extends QueueName> = (
  data: JobDataByQueue[Q],
  job: Job<JobDataByQueue[Q]>,
) => Promise<unknown>;
export type JobHandlers = { [Q in QueueName]?: JobHandler<Q> };

export interface StartWorkersOptions {
  /** Queues this process drains; default all. Each must have a handler. */
  queues?: readonly QueueName[];
  /** Jobs run at once per queue (default 1). */
  concurrency?: Partial<Record<QueueName, number>>;
}

/**
 * Starts one BullMQ `Worker` per queue. Refuses (before starting any) when a queue to drain has no
 * handler. `connection` must allow blocking commands: ioredis options with `maxRetriesPerRequest: null`.
 */
export function startWorkers(
  connection: ConnectionOptions,
  network: string,
  handlers: JobHandlers,
  opts: StartWorkersOptions = {},
): Worker[] {
  const wanted = opts.queues ?? QUEUE_NAMES;
  const missing = wanted.filter((q) => handlers[q] === undefined);
  if (missing.length > 0)
    throw new NetmarginError(`No handler for queue(s) ${missing.join(', ')}`, {
      code: 'QUEUE_WITHOUT_HANDLER',
      hint: 'Register a processor for every queue this process drains, or leave the queue out of `queues`.',
      details: { missing },
    });
  const prefix = queuePrefix(network);
  return wanted.map((q) => {
    const handler = handlers[q] as JobHandler<typeof q>;
    return new Worker<JobDataByQueue[typeof q]>(q, async (job) => handler(job.data, job), {
      connection,
      prefix,
      concurrency: opts.concurrency?.[q] ?? 1,
    });
  });
}

/** The service's `JobSink` on BullMQ: refresh and risk jobs with their ids. */
export function queueJobSink(queues: IndexerQueues): {
  refresh(owner: Address, blockNumber: bigint): Promise<void>;
  risk(owner: Address, blockNumber: bigint): Promise<void>;
} {
  return {
    async refresh(owner, blockNumber) {
      await enqueue(
        queues,
        'refresh',
        { owner, blockNumber: blockNumber.toString() },
        jobIds.refresh(owner, blockNumber),
      );
    },
    async risk(owner, blockNumber) {
      await enqueue(
        queues,
        'risk',
        { owner, blockNumber: blockNumber.toString() },
        jobIds.risk(owner, blockNumber),
      );
    },
  };
}
