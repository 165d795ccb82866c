/**
 * BullMQ queues of the indexer: names, typed job data, default job options and job ids, in ONE
 * place, so producers, processors and operators agree on them.
 *
 * - `index-range`: a block range whose logs name the owners to refresh, and the block to refresh them
 *   at (`range-<from>-<to>-at-<block>-<hash16>`);
 * - `refresh`: re-read one owner's positions at a block (`refresh-<owner>-<block>-<hash16>`), or
 *   advance the store's head to a block with no writes (`advance-<block>-<hash16>`, job name
 *   `advance-head`), queued after a range's refreshes so the store head says how far indexing got;
 * - `risk`: one owner whose stored positions changed at a block (`risk-<owner>-<block>-<hash16>`),
 *   for the risk engine;
 * - `reconcile`: re-read every stored owner and repair what differs (`reconcile.ts`), added by one
 *   BullMQ job scheduler per network (`scheduleReconcile`, scheduler id `reconcile`) every interval,
 *   or by hand at a block (`reconcile-<block>-<hash16>`).
 *
 * Job ids carry the block's hash (its first 16 hex digits): a job id names one block of one branch,
 * so after a reorg the new branch's block at the same height gets its own jobs instead of being
 * deduplicated against the dropped block's, while a second request for the same owner and block is
 * a no-op while the first is kept.
 *
 * Queue keys live under the network's Redis prefix (`nm:{network}:bull:<queue>:…`), so several
 * networks and test runs share one Redis. `startWorkers` refuses to start unless every queue has a
 * handler: a queue nobody drains would fill silently.
 */
import { Queue, Worker, type ConnectionOptions, type Job, type JobsOptions } from 'bullmq';
import type { Address, Hex } from 'viem';
import { InvalidInputError, NetmarginError } from '../common/errors';
import type { BlockRef } from './chain/store';
import { redisKeys } from './redis/keys';

export const QUEUE_NAMES = ['index-range', 'refresh', 'risk', 'reconcile'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/** Job data per queue. Block numbers are decimal strings (job data is JSON; bigint does not survive). */
export interface JobDataByQueue {
  /** Logs of `fromBlock…toBlock` name owners; they are refreshed at `refreshAt`. */
  'index-range': { fromBlock: string; toBlock: string; refreshAtBlock: string; refreshAtHash: Hex };
  refresh: RefreshJobData | AdvanceJobData;
  risk: { owner: Address; blockNumber: string; blockHash: Hex };
  reconcile: ReconcileJobData;
}

/** Reconcile at this block; with no block (the scheduled runs), at the positions store's head. */
export interface ReconcileJobData {
  blockNumber?: string;
  blockHash?: Hex;
}

/** Re-read `owner` at one block. */
export interface RefreshJobData {
  owner: Address;
  blockNumber: string;
  blockHash: Hex;
}

/** Move the positions store's head to one block (no writes): indexing has reached it. */
export interface AdvanceJobData {
  advance: true;
  blockNumber: string;
  blockHash: Hex;
}

/** The job name used on each queue (the `refresh` queue also carries `ADVANCE_JOB_NAME` jobs). */
export const JOB_NAMES: { readonly [Q in QueueName]: string } = {
  'index-range': 'index-range',
  refresh: 'refresh-owner',
  risk: 'compute-risk',
  reconcile: 'reconcile',
};
export const ADVANCE_JOB_NAME = 'advance-head';

/** Block number and hash of a job's data, parsed. */
export function jobBlock(data: { blockNumber: string; blockHash: Hex }): BlockRef {
  return { number: BigInt(data.blockNumber), hash: data.blockHash };
}

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
  // A run that fails is retried; the next scheduled run re-checks everything anyway.
  reconcile: {
    attempts: 3,
    backoff: { type: 'exponential', delay: 1_000 },
    removeOnComplete: { count: 100 },
    removeOnFail: { count: 1_000 },
  },
};

const at = (b: BlockRef): string => `${b.number}-${b.hash.slice(2, 18).toLowerCase()}`;

/**
 * Job ids: a second job with the same id is ignored while the first is kept. Owners are lower-cased;
 * blocks are `<number>-<first 16 hex digits of the hash>`.
 */
export const jobIds = {
  range: (fromBlock: bigint, toBlock: bigint, refreshAt: BlockRef): string =>
    `range-${fromBlock}-${toBlock}-at-${at(refreshAt)}`,
  refresh: (owner: Address, block: BlockRef): string => `refresh-${owner.toLowerCase()}-${at(block)}`,
  advance: (block: BlockRef): string => `advance-${at(block)}`,
  risk: (owner: Address, block: BlockRef): string => `risk-${owner.toLowerCase()}-${at(block)}`,
  reconcile: (block: BlockRef): string => `reconcile-${at(block)}`,
};

/** The id of the reconcile job scheduler: one per queue, so one per network. */
export const RECONCILE_SCHEDULER_ID = 'reconcile';

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
  return {
    'index-range': make('index-range'),
    refresh: make('refresh'),
    risk: make('risk'),
    reconcile: make('reconcile'),
  };
}

export async function closeQueues(queues: IndexerQueues): Promise<void> {
  await Promise.all(QUEUE_NAMES.map((q) => queues[q].close()));
}

/** Adds a job with its queue's name (or `name`) and id (options come from the queue's defaults). */
export function enqueue<Q extends QueueName>(
  queues: IndexerQueues,
  queue: Q,
  data: JobDataByQueue[Q],
  jobId: string,
  name: string = JOB_NAMES[queue],
): Promise<Job<JobDataByQueue[Q]>> {
  // BullMQ's generic name type cannot follow Q through the mapped type; the data type is checked above.
  const q = queues[queue] as unknown as Queue<JobDataByQueue[Q]>;
  return q.add(name as never, data as never, { jobId }) as Promise<Job<JobDataByQueue[Q]>>;
}

/** Enqueues the backfill or live range `fromBlock…toBlock`, its owners to be refreshed at `refreshAt`. */
export function enqueueRange(
  queues: IndexerQueues,
  fromBlock: bigint,
  toBlock: bigint,
  refreshAt: BlockRef,
): Promise<Job<JobDataByQueue['index-range']>> {
  return enqueue(
    queues,
    'index-range',
    {
      fromBlock: fromBlock.toString(),
      toBlock: toBlock.toString(),
      refreshAtBlock: refreshAt.number.toString(),
      refreshAtHash: refreshAt.hash,
    },
    jobIds.range(fromBlock, toBlock, refreshAt),
  );
}

/**
 * Adds a reconciliation every `everyMs` milliseconds at the store's head, through one BullMQ job
 * scheduler per network: calling it again (from any process) updates that scheduler instead of adding
 * another, so one run happens per interval however many processes call it or drain the queue.
 */
export async function scheduleReconcile(queues: IndexerQueues, everyMs: number): Promise<void> {
  if (!Number.isSafeInteger(everyMs) || everyMs < 1_000)
    throw new InvalidInputError('everyMs', `${everyMs} is not a whole number of milliseconds ≥ 1000`, {
      hint: 'Reconcile at most once a second; every few minutes is typical.',
    });
  await queues.reconcile.upsertJobScheduler(
    RECONCILE_SCHEDULER_ID,
    { every: everyMs },
    { name: JOB_NAMES.reconcile, data: {}, opts: DEFAULT_JOB_OPTIONS.reconcile },
  );
}

/** Stops the scheduled reconciliations of the network (a run already queued still runs). */
export async function unscheduleReconcile(queues: IndexerQueues): Promise<boolean> {
  return queues.reconcile.removeJobScheduler(RECONCILE_SCHEDULER_ID);
}

/** Queues one reconciliation at `block` (deduplicated by block). */
export function enqueueReconcile(
  queues: IndexerQueues,
  block: BlockRef,
): Promise<Job<JobDataByQueue['reconcile']>> {
  return enqueue(
    queues,
    'reconcile',
    { blockNumber: block.number.toString(), blockHash: block.hash },
    jobIds.reconcile(block),
  );
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
  /**
   * BullMQ lock and stall settings for every worker (defaults BullMQ's: 30 s, 30 s, 1). A job whose
   * worker died is redelivered once its lock (`lockDurationMs`) expired and a live worker's stall check
   * (every `stalledIntervalMs`) found it; after more than `maxStalledCount` stalls it fails.
   */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  maxStalledCount?: number;
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
      ...(opts.lockDurationMs === undefined ? {} : { lockDuration: opts.lockDurationMs }),
      ...(opts.stalledIntervalMs === undefined ? {} : { stalledInterval: opts.stalledIntervalMs }),
      ...(opts.maxStalledCount === undefined ? {} : { maxStalledCount: opts.maxStalledCount }),
    });
  });
}

/** The service's `JobSink` on BullMQ: refresh, advance and risk jobs with their ids. */
export function queueJobSink(queues: IndexerQueues): {
  refresh(owner: Address, block: BlockRef): Promise<void>;
  advance(block: BlockRef): Promise<void>;
  risk(owner: Address, block: BlockRef): Promise<void>;
} {
  const stamp = (b: BlockRef): { blockNumber: string; blockHash: Hex } => ({
    blockNumber: b.number.toString(),
    blockHash: b.hash,
  });
  return {
    async refresh(owner, block) {
      await enqueue(queues, 'refresh', { owner, ...stamp(block) }, jobIds.refresh(owner, block));
    },
    async advance(block) {
      await enqueue(
        queues,
        'refresh',
        { advance: true, ...stamp(block) },
        jobIds.advance(block),
        ADVANCE_JOB_NAME,
      );
    },
    async risk(owner, block) {
      await enqueue(queues, 'risk', { owner, ...stamp(block) }, jobIds.risk(owner, block));
    },
  };
}
