import type { Redis } from 'ioredis';
import { getAddress } from 'viem';
import { NetmarginError } from '../common/errors';
import { redisKeys } from './redis/keys';
import { connectTestRedis, deleteKeys, redisUrl, testNetwork } from './redis/test-redis';
import {
  ADVANCE_JOB_NAME,
  closeQueues,
  createQueues,
  DEFAULT_JOB_OPTIONS,
  jobIds,
  QUEUE_NAMES,
  queueJobSink,
  queuePrefix,
  RECONCILE_SCHEDULER_ID,
  scheduleReconcile,
  startWorkers,
  unscheduleReconcile,
  type IndexerQueues,
} from './queues';

const owner = getAddress('0x00000000000000000000000000000000000000aB');
const b7 = { number: 7n, hash: `0x0123456789ABCDEF${'00'.repeat(24)}` as const };
const b8 = { number: 8n, hash: `0x${'88'.repeat(32)}` as const };

describe('queue definitions', () => {
  it('builds job ids from the block range, the lower-cased owner and the block with its hash', () => {
    expect(jobIds.range(10n, 20n, b7)).toBe('range-10-20-at-7-0123456789abcdef');
    expect(jobIds.refresh(owner, b7)).toBe(
      'refresh-0x00000000000000000000000000000000000000ab-7-0123456789abcdef',
    );
    expect(jobIds.advance(b7)).toBe('advance-7-0123456789abcdef');
    expect(jobIds.risk(owner, b7)).toBe('risk-0x00000000000000000000000000000000000000ab-7-0123456789abcdef');
    expect(jobIds.reconcile(b7)).toBe('reconcile-7-0123456789abcdef');
    // Another branch's block at the same height is another job.
    expect(jobIds.refresh(owner, { number: 7n, hash: `0x${'ff'.repeat(32)}` })).not.toBe(
      jobIds.refresh(owner, b7),
    );
  });

  it('gives every queue retries with exponential backoff and bounded retention', () => {
    for (const q of QUEUE_NAMES) {
      const o = DEFAULT_JOB_OPTIONS[q];
      expect(o.attempts).toBeGreaterThan(1);
      expect(o.backoff).toEqual({ type: 'exponential', delay: 1_000 });
      expect(o.removeOnComplete).toEqual({ count: expect.any(Number) });
      expect(o.removeOnFail).toEqual({ count: expect.any(Number) });
    }
  });

  it('puts queue keys under the network namespace', () => {
    expect(queuePrefix('local')).toBe(`${redisKeys('local').prefix}bull`);
  });

  it('refuses to start workers when a queue has no handler, naming the queue', () => {
    const noop = async (): Promise<void> => undefined;
    let err: unknown;
    try {
      startWorkers({ host: '127.0.0.1', port: 1 }, 'unit', { 'index-range': noop, refresh: noop });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NetmarginError);
    expect((err as NetmarginError).code).toBe('QUEUE_WITHOUT_HANDLER');
    expect((err as NetmarginError).details.missing).toEqual(['risk', 'reconcile']);
  });

  it('refuses a reconcile interval below a second', async () => {
    await expect(scheduleReconcile({} as IndexerQueues, 500)).rejects.toMatchObject({ field: 'everyMs' });
  });
});

describe('queues on Redis', () => {
  let redis: Redis;
  let network: string;
  let queues: IndexerQueues;

  beforeAll(async () => {
    redis = await connectTestRedis();
    network = testNetwork();
    queues = createQueues({ url: redisUrl(), maxRetriesPerRequest: null }, network);
  });

  afterAll(async () => {
    await closeQueues(queues);
    await deleteKeys(redis, redisKeys(network).prefix);
    redis.disconnect();
  });

  it('keeps one job per job id: a second refresh of the same owner and block is a no-op', async () => {
    const sink = queueJobSink(queues);
    await sink.refresh(owner, b7);
    await sink.refresh(owner, b7);
    await sink.refresh(owner, b8);
    await sink.advance(b8);
    await sink.advance(b8);
    const jobs = await queues.refresh.getJobs(['waiting']);
    expect(jobs.map((j) => j.id).sort()).toEqual(
      [jobIds.refresh(owner, b7), jobIds.refresh(owner, b8), jobIds.advance(b8)].sort(),
    );
    const byId = new Map(jobs.map((j) => [j.id, j]));
    expect(byId.get(jobIds.advance(b8))?.name).toBe(ADVANCE_JOB_NAME);
    expect(byId.get(jobIds.advance(b8))?.data).toEqual({
      advance: true,
      blockNumber: '8',
      blockHash: b8.hash,
    });
    expect(byId.get(jobIds.refresh(owner, b7))?.data).toEqual({
      owner,
      blockNumber: '7',
      blockHash: b7.hash,
    });
    expect(jobs.filter((j) => j.name === 'refresh-owner')).toHaveLength(2);
    expect(jobs[0]?.opts.attempts).toBe(DEFAULT_JOB_OPTIONS.refresh.attempts);
    expect(await redis.exists(`${queuePrefix(network)}:refresh:meta`)).toBe(1);
  });

  it('keeps one reconcile scheduler per network however often it is scheduled', async () => {
    await scheduleReconcile(queues, 60_000);
    await scheduleReconcile(queues, 30_000); // a second process, or a new interval: updated, not added
    const schedulers = await queues.reconcile.getJobSchedulers();
    expect(schedulers).toHaveLength(1);
    expect(schedulers[0]).toMatchObject({ key: RECONCILE_SCHEDULER_ID, every: 30_000, name: 'reconcile' });
    // Exactly one run of the scheduler waits (the first is due at once).
    const waiting = await queues.reconcile.getJobs(['waiting', 'delayed', 'prioritized']);
    expect(waiting).toHaveLength(1);
    expect(waiting[0]?.data).toEqual({});
    expect(await unscheduleReconcile(queues)).toBe(true);
    expect(await queues.reconcile.getJobSchedulers()).toHaveLength(0);
  });
});
