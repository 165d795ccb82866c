import type { Redis } from 'ioredis';
import { getAddress } from 'viem';
import { NetmarginError } from '../common/errors';
import { redisKeys } from './redis/keys';
import { connectTestRedis, deleteKeys, redisUrl, testNetwork } from './redis/test-redis';
import {
  closeQueues,
  createQueues,
  DEFAULT_JOB_OPTIONS,
  enqueue,
  jobIds,
  QUEUE_NAMES,
  queuePrefix,
  startWorkers,
  type IndexerQueues,
} from './queues';

const owner = getAddress('0x00000000000000000000000000000000000000aB');

describe('queue definitions', () => {
  it('builds job ids from the block range, the lower-cased owner and the block', () => {
    expect(jobIds.range(10n, 20n)).toBe('range-10-20');
    expect(jobIds.refresh(owner, 7n)).toBe('refresh-0x00000000000000000000000000000000000000ab-7');
    expect(jobIds.risk(owner, 7n)).toBe('risk-0x00000000000000000000000000000000000000ab-7');
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
    expect((err as Error).message).toContain('risk');
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
    const data = { owner, blockNumber: '7' };
    await enqueue(queues, 'refresh', data, jobIds.refresh(owner, 7n));
    await enqueue(queues, 'refresh', data, jobIds.refresh(owner, 7n));
    await enqueue(queues, 'refresh', { owner, blockNumber: '8' }, jobIds.refresh(owner, 8n));
    const jobs = await queues.refresh.getJobs(['waiting']);
    expect(jobs.map((j) => j.id).sort()).toEqual([jobIds.refresh(owner, 7n), jobIds.refresh(owner, 8n)]);
    expect(jobs.every((j) => j.name === 'refresh-owner')).toBe(true);
    expect(jobs[0]?.opts.attempts).toBe(DEFAULT_JOB_OPTIONS.refresh.attempts);
    expect(await redis.exists(`${queuePrefix(network)}:refresh:meta`)).toBe(1);
  });
});
