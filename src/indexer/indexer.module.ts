/**
 * `IndexerModule.forRoot(config)`: the NestJS wiring of one indexer worker process. It builds the
 * Redis connection, the chain client, the protocol adapters, the positions store, the
 * `IndexerService` and the queues; on bootstrap it starts the configured roles (`head`: the
 * `IndexerRunner` with its market recorder, each record kept by block and queued for the risk
 * workers' market-move recompute; `index`, `refresh`, `reconcile`: one BullMQ worker each,
 * plus the reconcile schedule); on shutdown it stops the runner, closes the workers (each waits for
 * its active job), then the queues and the connection. The logic stays in the plain classes; this
 * file only connects them.
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
import type { Client, PublicClient } from 'viem';
import { NetmarginError } from '../common/errors';
import { loadManifest, type DeploymentManifest } from '../config/manifest';
import { createAdapters } from './adapters';
import type { ProtocolAdapter } from './adapters/types';
import { createChainClient } from './chain/client';
import { rpcGetLogs } from './chain/logs';
import type { IndexerConfig, IndexerRole } from './indexer.config';
import { IndexerService, type OwnerPositions } from './indexer.service';
import { MarketRecorder } from './market-recorder';
import { IndexRangeProcessor, processorHandlers, ReconcileProcessor, RefreshProcessor } from './processors';
import {
  closeQueues,
  createQueues,
  queueJobSink,
  scheduleReconcile,
  startWorkers,
  type IndexerQueues,
  type QueueName,
} from './queues';
import { Reconciler } from './reconcile';
import { redisKeys } from './redis/keys';
import { RedisPriceHistory } from './redis/price-history';
import type { RedisReorgStore } from './redis/redis-store';
import { IndexerRunner } from './runner';
import { RedisMarketHistory } from '../pipeline/market-history';
import {
  closePipelineQueues,
  createPipelineQueues,
  marketMoveHook,
  type PipelineQueues,
} from '../pipeline/queues';

/** One structured log event (the worker entrypoint prints each as a JSON line). */
export type IndexerLogFn = (event: string, fields?: Record<string, unknown>) => void;

/** Injection tokens of the module's providers (besides `IndexerService` and `IndexerLifecycle`). */
export const INDEXER_CONFIG = 'indexer.config';
export const INDEXER_LOG = 'indexer.log';
export const MANIFEST = 'indexer.manifest';
export const REDIS = 'indexer.redis';
export const CHAIN_CLIENT = 'indexer.chain-client';
export const ADAPTERS = 'indexer.adapters';
export const POSITIONS_STORE = 'indexer.positions-store';
export const QUEUES = 'indexer.queues';

/** The queue each worker role drains. */
const ROLE_QUEUES: Partial<Record<IndexerRole, QueueName>> = {
  index: 'index-range',
  refresh: 'refresh',
  reconcile: 'reconcile',
};

/**
 * Roles this module cannot run yet, and why (none now: `risk` is wired by `PipelineModule`, which
 * the worker entrypoint adds when the role is configured).
 */
const UNAVAILABLE_ROLES: Partial<Record<IndexerRole, string>> = {};

/** ioredis options for every connection of the worker: BullMQ blocks, and commands wait out a Redis restart. */
export function workerRedisOptions(url: string): { url: string; maxRetriesPerRequest: null } {
  return { url, maxRetriesPerRequest: null };
}

/** What the lifecycle wires together (built by the module's providers). */
export interface IndexerParts {
  config: IndexerConfig;
  manifest: DeploymentManifest;
  client: PublicClient;
  adapters: readonly ProtocolAdapter[];
  positions: RedisReorgStore<OwnerPositions>;
  service: IndexerService;
  queues: IndexerQueues;
  redis: Redis;
  log: IndexerLogFn;
}

/**
 * Starts the configured roles on bootstrap — the queues' workers, the reconcile schedule, then the
 * head runner — and stops them in reverse order on shutdown, then closes the queues and Redis.
 */
export class IndexerLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private workers: Worker[] = [];
  private runner: IndexerRunner | undefined;
  private pipelineQueues: PipelineQueues | undefined;

  constructor(private readonly parts: IndexerParts) {}

  async onApplicationBootstrap(): Promise<void> {
    const { config, manifest, client, adapters, positions, service, queues, redis, log } = this.parts;
    const roles = new Set(config.roles);
    const drained = config.roles.flatMap((r) => ROLE_QUEUES[r] ?? []);
    const reconcile = roles.has('reconcile')
      ? new ReconcileProcessor(
          new Reconciler({
            client: client as unknown as Client,
            service,
            store: positions,
            adapters,
            redis,
            network: config.network,
            logger: { warn: (line) => log('reconcile-drift', { line }) },
          }),
        )
      : undefined;
    this.workers = startWorkers(
      workerRedisOptions(config.redisUrl),
      config.network,
      processorHandlers({
        indexRange: new IndexRangeProcessor(service),
        refresh: new RefreshProcessor(service),
        ...(reconcile ? { reconcile } : {}),
      }),
      {
        queues: drained,
        // One process per network drains `refresh`: the positions store takes one block at a time, in
        // order, so its writes must come from one place. Inside this process the service chains every
        // store write, so several refresh jobs may read the chain at once (`refreshConcurrency`); a
        // second refresh PROCESS would write concurrently and is never started. A reconciliation
        // writes through the same service, one run at a time.
        concurrency: {
          'index-range': config.indexConcurrency,
          refresh: config.refreshConcurrency,
          reconcile: 1,
        },
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
    if (reconcile && config.reconcileEveryMs > 0) await scheduleReconcile(queues, config.reconcileEveryMs);
    if (roles.has('head')) {
      // Every recorded market is kept by block and queued for the risk workers' market-move recompute.
      this.pipelineQueues = createPipelineQueues(workerRedisOptions(config.redisUrl), config.network);
      const marketsByBlock = new RedisMarketHistory(redis, redisKeys(config.network).pipeline.marketByBlock);
      const market = new MarketRecorder({
        client: client as unknown as Client,
        manifest,
        store: await IndexerRunner.openMarketStore(redis, config.network, client),
        history: new RedisPriceHistory(redis, redisKeys(config.network).priceHistory),
      });
      this.runner = new IndexerRunner({
        client,
        service,
        queues,
        redis,
        network: config.network,
        positions,
        startBlock: BigInt(manifest.network.startBlock),
        finalityDepth: config.finalityDepth,
        market,
        onMarketRecorded: marketMoveHook(marketsByBlock, this.pipelineQueues),
        log,
      });
      await this.runner.start(config.pollMs); // refuses while the network is halted
    }
    log('workers-started', { network: config.network, roles: config.roles, queues: drained });
  }

  async onApplicationShutdown(signal?: string): Promise<void> {
    const { queues, redis, log } = this.parts;
    log('shutting-down', { signal: signal ?? null });
    await this.runner?.stop(); // finishes the poll in progress, releases the head lease
    // `close()` waits for each worker's active job, so no job is left half-done by a graceful stop.
    await Promise.all(this.workers.map((w) => w.close()));
    await closeQueues(queues);
    if (this.pipelineQueues) await closePipelineQueues(this.pipelineQueues);
    await redis.quit().catch(() => redis.disconnect());
    log('stopped', { signal: signal ?? null });
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
          hint: `Leave ${role} out of NETMARGIN_ROLES (e.g. NETMARGIN_ROLES=head,index,refresh).`,
          details: { role },
        });
    }
    if (config.roles.includes('reconcile') && !config.roles.includes('refresh'))
      throw new NetmarginError('The "reconcile" role needs the "refresh" role in the same process', {
        code: 'ROLE_NOT_AVAILABLE',
        hint: 'Reconciliation repairs through the positions store’s one writer: run reconcile where refresh runs (NETMARGIN_ROLES=refresh,reconcile,…).',
        details: { roles: config.roles },
      });
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
          inject: [REDIS, CHAIN_CLIENT],
          // Resumes the network's store; an empty one is anchored at the parent of the chain's head.
          useFactory: (redis: Redis, client: PublicClient) =>
            IndexerRunner.openPositionsStore(redis, config.network, client),
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
              onRollback: (ancestor, undone) =>
                log('positions-rolled-back', {
                  ancestor: ancestor.number.toString(),
                  ancestorHash: ancestor.hash,
                  undone: undone.length,
                }),
            }),
        },
        {
          provide: IndexerLifecycle,
          inject: [MANIFEST, CHAIN_CLIENT, ADAPTERS, POSITIONS_STORE, IndexerService, QUEUES, REDIS],
          useFactory: (
            manifest: DeploymentManifest,
            client: PublicClient,
            adapters: ProtocolAdapter[],
            positions: RedisReorgStore<OwnerPositions>,
            service: IndexerService,
            queues: IndexerQueues,
            redis: Redis,
          ) =>
            new IndexerLifecycle({
              config,
              manifest,
              client,
              adapters,
              positions,
              service,
              queues,
              redis,
              log,
            }),
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
