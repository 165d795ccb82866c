/**
 * `IndexerModule.forRoot(config)`: the NestJS wiring of one indexer worker process. It builds the
 * Redis connection, the chain client, the protocol adapters, the positions store, the
 * `IndexerService` and the queues, and starts the BullMQ workers of the configured roles when the
 * application boots; on shutdown it closes the workers (each waits for its active job), then the
 * queues and the connection. The logic stays in the plain classes; this file only connects them.
 *
 * Every provider is a factory with explicit `inject` tokens (no constructor-type reflection), so the
 * module runs the same under SWC, tsc and tsx.
 */
import {
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { PublicClient } from 'viem';
import { NetmarginError } from '../common/errors';
import { loadManifest, type DeploymentManifest } from '../config/manifest';
import { createAdapters } from './adapters';
import type { ProtocolAdapter } from './adapters/types';
import { createChainClient } from './chain/client';
import { rpcGetLogs } from './chain/logs';
import type { IndexerConfig, IndexerRole } from './indexer.config';
import { IndexerService, type OwnerPositions } from './indexer.service';
import { IndexRangeProcessor, processorHandlers, RefreshProcessor } from './processors';
import {
  closeQueues,
  createQueues,
  queueJobSink,
  startWorkers,
  type IndexerQueues,
  type QueueName,
} from './queues';
import { redisKeys } from './redis/keys';
import { RedisReorgStore } from './redis/redis-store';

/** One structured log event (the worker entrypoint prints each as a JSON line). */
export type IndexerLogFn = (event: string, fields?: Record<string, unknown>) => void;

export const INDEXER_CONFIG = 'NETMARGIN_INDEXER_CONFIG';
export const INDEXER_LOG = 'NETMARGIN_INDEXER_LOG';
export const MANIFEST = 'NETMARGIN_MANIFEST';
export const REDIS = 'NETMARGIN_REDIS';
export const CHAIN_CLIENT = 'NETMARGIN_CHAIN_CLIENT';
export const ADAPTERS = 'NETMARGIN_ADAPTERS';
export const POSITIONS_STORE = 'NETMARGIN_POSITIONS_STORE';
export const QUEUES = 'NETMARGIN_QUEUES';

/** The queue each worker role drains. */
const ROLE_QUEUES: Partial<Record<IndexerRole, QueueName>> = { index: 'index-range', refresh: 'refresh' };

/** Roles this module cannot run yet, and why. */
const UNAVAILABLE_ROLES: Partial<Record<IndexerRole, string>> = {
  head: 'the head-following loop is not wired into the worker yet',
  risk: 'the risk engine does not drain the risk queue from this worker yet',
  reconcile: 'reconciliation is not wired into the worker yet',
};

/** ioredis options for every connection of the worker: BullMQ blocks, and commands wait out a Redis restart. */
export function workerRedisOptions(url: string): { url: string; maxRetriesPerRequest: null } {
  return { url, maxRetriesPerRequest: null };
}

/** Starts the configured roles' workers on bootstrap; closes workers, queues and Redis on shutdown. */
export class IndexerLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private workers: Worker[] = [];

  constructor(
    private readonly config: IndexerConfig,
    private readonly service: IndexerService,
    private readonly queues: IndexerQueues,
    private readonly redis: Redis,
    private readonly log: IndexerLogFn,
  ) {}

  onApplicationBootstrap(): void {
    const { config, service, log } = this;
    const queues = config.roles.flatMap((r) => ROLE_QUEUES[r] ?? []);
    this.workers = startWorkers(
      workerRedisOptions(config.redisUrl),
      config.network,
      processorHandlers({
        indexRange: new IndexRangeProcessor(service),
        refresh: new RefreshProcessor(service),
      }),
      {
        queues,
        // `refresh` stays at concurrency 1: the positions store takes one block at a time, in order,
        // so its writes must be serialized (one refresh worker per network).
        concurrency: { 'index-range': config.indexConcurrency, refresh: 1 },
        lockDurationMs: config.lockDurationMs,
        stalledIntervalMs: config.stalledIntervalMs,
      },
    );
    for (const w of this.workers) {
      w.on('failed', (job, err) =>
        log('job-failed', {
          queue: w.name,
          jobId: job?.id,
          attemptsMade: job?.attemptsMade,
          error: err.message,
        }),
      );
      w.on('stalled', (jobId) => log('job-stalled', { queue: w.name, jobId }));
      w.on('error', (err) => log('worker-error', { queue: w.name, error: err.message }));
    }
    log('workers-started', { network: config.network, roles: config.roles, queues });
  }

  async onApplicationShutdown(signal?: string): Promise<void> {
    this.log('shutting-down', { signal: signal ?? null });
    // `close()` waits for each worker's active job, so no job is left half-done by a graceful stop.
    await Promise.all(this.workers.map((w) => w.close()));
    await closeQueues(this.queues);
    await this.redis.quit().catch(() => this.redis.disconnect());
    this.log('stopped', { signal: signal ?? null });
  }
}

@Module({})
export class IndexerModule {
  /**
   * The worker's module for `config`. Refuses (throws) a role it cannot run yet, before anything
   * connects. `log` receives the lifecycle and job-failure events (default: one JSON line each on stdout).
   */
  static forRoot(config: IndexerConfig, opts: { log?: IndexerLogFn } = {}): DynamicModule {
    for (const role of config.roles) {
      const why = UNAVAILABLE_ROLES[role];
      if (why)
        throw new NetmarginError(`The "${role}" role cannot run in this worker: ${why}`, {
          code: 'ROLE_NOT_AVAILABLE',
          hint: `Leave ${role} out of NETMARGIN_ROLES (e.g. NETMARGIN_ROLES=index,refresh) and queue ranges another way.`,
          details: { role },
        });
    }
    const log = opts.log ?? jsonLineLog;
    return {
      module: IndexerModule,
      providers: [
        { provide: INDEXER_CONFIG, useValue: config },
        { provide: INDEXER_LOG, useValue: log },
        { provide: MANIFEST, useFactory: () => loadManifest(config.manifestPath) },
        {
          provide: REDIS,
          useFactory: () => {
            const { url, ...rest } = workerRedisOptions(config.redisUrl);
            const redis = new Redis(url, rest);
            redis.on('error', (err) => log('redis-error', { error: err.message }));
            return redis;
          },
        },
        {
          provide: CHAIN_CLIENT,
          inject: [MANIFEST],
          useFactory: (m: DeploymentManifest): PublicClient =>
            createChainClient({ urls: config.rpcUrls ?? [m.network.rpcUrl], timeoutMs: config.rpcTimeoutMs }),
        },
        { provide: ADAPTERS, inject: [MANIFEST], useFactory: (m: DeploymentManifest) => createAdapters(m) },
        {
          provide: POSITIONS_STORE,
          inject: [REDIS],
          // Resumes the network's store; a first backfill anchors it (IndexerService.anchorFor) first.
          useFactory: (redis: Redis) =>
            RedisReorgStore.open<OwnerPositions>({
              redis,
              keys: redisKeys(config.network).reorgStore('positions'),
            }),
        },
        {
          provide: QUEUES,
          useFactory: () => createQueues(workerRedisOptions(config.redisUrl), config.network),
        },
        {
          provide: IndexerService,
          inject: [CHAIN_CLIENT, ADAPTERS, POSITIONS_STORE, QUEUES, MANIFEST],
          useFactory: (
            client: PublicClient,
            adapters: ProtocolAdapter[],
            store: RedisReorgStore<OwnerPositions>,
            queues: IndexerQueues,
            m: DeploymentManifest,
          ) =>
            new IndexerService({
              client,
              adapters,
              store,
              jobs: queueJobSink(queues),
              getLogs: rpcGetLogs(client),
              startBlock: BigInt(m.network.startBlock),
            }),
        },
        {
          provide: IndexerLifecycle,
          inject: [IndexerService, QUEUES, REDIS],
          useFactory: (service: IndexerService, queues: IndexerQueues, redis: Redis) =>
            new IndexerLifecycle(config, service, queues, redis, log),
        },
      ],
      exports: [IndexerService, QUEUES, POSITIONS_STORE, CHAIN_CLIENT],
    };
  }
}

/** Default log: one JSON object per line on stdout (`{"time":…,"event":…,…}`). */
export const jsonLineLog: IndexerLogFn = (event, fields = {}) => {
  process.stdout.write(
    `${JSON.stringify({ time: new Date().toISOString(), event, ...fields }, (_k, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : v,
    )}\n`,
  );
};
