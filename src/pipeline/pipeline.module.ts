/**
 * `PipelineModule.forRoot(indexerConfig, pipelineConfig)`: the NestJS wiring of the `risk` role.
 * It builds the Redis connection, the chain client, the stores the risk side reads (positions,
 * market by block, parameter sets) and writes (results), the `RiskService` and the queues; on
 * bootstrap it publishes the initial parameter set when none is active (a refusal, e.g. a history
 * too short, is logged and retried by every scheduled re-estimation), starts one worker each for
 * the `risk`, `risk-market` and `params` queues and the re-estimation schedule; on shutdown it
 * closes the workers (each waits for its active job), the queues and the connections. The logic
 * stays in the plain classes; this file only connects them.
 *
 * The head role feeds it through `marketMoveHook` (`queues.ts`; the runner's `onMarketRecorded`): the market
 * record of each block is kept by block and a `risk-market` job is queued for it.
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
import { loadManifest, type DeploymentManifest } from '../config/manifest';
import { createChainClient } from '../indexer/chain/client';
import type { IndexerConfig } from '../indexer/indexer.config';
import { jsonLineLog, workerRedisOptions, type IndexerLogFn } from '../indexer/indexer.module';
import { processorHandlers, RiskProcessor } from '../indexer/processors';
import { closeQueues, createQueues, startWorkers, type IndexerQueues } from '../indexer/queues';
import { redisKeys } from '../indexer/redis/keys';
import { RedisPriceHistory } from '../indexer/redis/price-history';
import { IndexerRunner } from '../indexer/runner';
import { DEFAULT_RISK_PARAMS } from '../risk';
import { stalenessRulesFromManifest } from './classify';
import { RedisMarketHistory } from './market-history';
import { OnChainFeedReader } from './feed/chain-reader';
import { ShortfallFeed } from './feed/shortfall-feed';
import { defaultLiquidity, ParamEstimator } from './param-estimator';
import { ParamStore } from './param-store';
import type { PipelineConfig } from './pipeline.config';
import { ParamsProcessor, pipelineHandlers, RiskMarketProcessor } from './processors';
import {
  closePipelineQueues,
  createPipelineQueues,
  scheduleParams,
  startPipelineWorkers,
  type PipelineQueues,
} from './queues';
import { RedisRiskResultStore } from './result-store';
import { RiskService } from './risk.service';

export interface PipelineParts {
  indexer: IndexerConfig;
  config: PipelineConfig;
  service: RiskService;
  estimator: ParamEstimator;
  results: RedisRiskResultStore;
  queues: IndexerQueues;
  pipelineQueues: PipelineQueues;
  redis: Redis;
  log: IndexerLogFn;
}

export class PipelineLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private workers: Worker[] = [];

  constructor(private readonly parts: PipelineParts) {}

  async onApplicationBootstrap(): Promise<void> {
    const { indexer, config, service, estimator, pipelineQueues, log } = this.parts;
    try {
      const { set, created } = await estimator.ensureInitial();
      log('params-active', { version: set.version, hash: set.hash, created });
    } catch (err) {
      log('params-initial-refused', { error: err instanceof Error ? err.message : String(err) });
    }
    const connection = workerRedisOptions(indexer.redisUrl);
    this.workers = [
      ...startWorkers(connection, indexer.network, processorHandlers({ risk: new RiskProcessor(service) }), {
        queues: ['risk'],
        concurrency: { risk: config.riskConcurrency },
        lockDurationMs: indexer.lockDurationMs,
        stalledIntervalMs: indexer.stalledIntervalMs,
      }),
      ...startPipelineWorkers(
        connection,
        indexer.network,
        pipelineHandlers({
          market: new RiskMarketProcessor(service),
          params: new ParamsProcessor(estimator),
        }),
      ),
    ];
    for (const w of this.workers) {
      w.on('failed', (job, err) =>
        log('job-failed', {
          queue: w.name,
          jobId: job?.id,
          attemptsMade: job?.attemptsMade,
          error: err.message,
        }),
      );
      w.on('error', (err) => log('worker-error', { queue: w.name, error: err.message }));
    }
    if (config.paramsEveryMs > 0) await scheduleParams(pipelineQueues, config.paramsEveryMs);
    log('risk-started', { network: indexer.network });
  }

  async onApplicationShutdown(signal?: string): Promise<void> {
    const { queues, pipelineQueues, results, redis, log } = this.parts;
    await Promise.all(this.workers.map((w) => w.close()));
    await closeQueues(queues);
    await closePipelineQueues(pipelineQueues);
    await results.close();
    await redis.quit().catch(() => redis.disconnect());
    log('risk-stopped', { signal: signal ?? null });
  }
}

const RISK_REDIS = 'NETMARGIN_RISK_REDIS';
const PIPELINE_PARTS = 'NETMARGIN_PIPELINE_PARTS';
/** The `RiskService` provider: other modules (the shortfall feed) register listeners on it. */
export const RISK_SERVICE = 'NETMARGIN_RISK_SERVICE';
/** The results' read side (`RedisRiskResultStore`), for the poster, the feed and the API. */
export const RISK_RESULTS = 'NETMARGIN_RISK_RESULTS';
const RISK_MANIFEST = 'NETMARGIN_RISK_MANIFEST';
const RISK_CLIENT = 'NETMARGIN_RISK_CLIENT';

@Module({})
export class PipelineModule {
  static forRoot(
    indexer: IndexerConfig,
    config: PipelineConfig,
    opts: { log?: IndexerLogFn } = {},
  ): DynamicModule {
    const log = opts.log ?? jsonLineLog;
    const keys = redisKeys(indexer.network);
    return {
      module: PipelineModule,
      providers: [
        { provide: RISK_MANIFEST, useFactory: () => loadManifest(indexer.manifestPath) },
        {
          provide: RISK_REDIS,
          useFactory: () => {
            const { url, ...rest } = workerRedisOptions(indexer.redisUrl);
            const redis = new Redis(url, rest);
            redis.on('error', (err) => log('redis-error', { error: err.message }));
            return redis;
          },
        },
        {
          provide: RISK_CLIENT,
          inject: [RISK_MANIFEST],
          useFactory: (m: DeploymentManifest): PublicClient =>
            createChainClient({
              urls: indexer.rpcUrls ?? [m.network.rpcUrl],
              timeoutMs: indexer.rpcTimeoutMs,
            }),
        },
        {
          provide: PIPELINE_PARTS,
          inject: [RISK_MANIFEST, RISK_REDIS, RISK_CLIENT],
          useFactory: async (
            manifest: DeploymentManifest,
            redis: Redis,
            client: PublicClient,
          ): Promise<PipelineParts> => {
            const positions = await IndexerRunner.openPositionsStore(redis, indexer.network, client);
            const markets = new RedisMarketHistory(redis, keys.pipeline.marketByBlock);
            const params = new ParamStore(redis, keys.pipeline.params, log);
            const results = new RedisRiskResultStore(redis, keys.pipeline.results);
            const estimator = new ParamEstimator({
              store: params,
              history: new RedisPriceHistory(redis, keys.priceHistory),
              window: config.window,
              nowSec: async () =>
                (await markets.newest())?.snapshot.asOfSec ?? Number((await client.getBlock()).timestamp),
              initial: { params: DEFAULT_RISK_PARAMS, liquidity: defaultLiquidity(DEFAULT_RISK_PARAMS) },
            });
            const service = new RiskService({
              positions,
              markets,
              params,
              results,
              rules: stalenessRulesFromManifest(manifest, {
                defaultHeartbeatSec: config.defaultHeartbeatSec,
                defaultGracePeriodSec: config.defaultGracePeriodSec,
                maxIndexerLagBlocks: config.maxIndexerLagBlocks,
              }),
              chainHead: () => client.getBlockNumber({ cacheTime: 1_000 }),
              warningBufferBps: config.warningBufferBps,
              metrics: { redis, key: keys.pipeline.metrics },
              log,
            });
            // The shortfall feed hears every stored result and publishes threshold crossings.
            if (manifest.aggregator)
              service.addListener(
                new ShortfallFeed({
                  redis,
                  network: indexer.network,
                  chain: new OnChainFeedReader(client, manifest),
                  log,
                }),
              );
            const connection = workerRedisOptions(indexer.redisUrl);
            return {
              indexer,
              config,
              service,
              estimator,
              results,
              queues: createQueues(connection, indexer.network),
              pipelineQueues: createPipelineQueues(connection, indexer.network),
              redis,
              log,
            };
          },
        },
        { provide: RISK_SERVICE, inject: [PIPELINE_PARTS], useFactory: (p: PipelineParts) => p.service },
        { provide: RISK_RESULTS, inject: [PIPELINE_PARTS], useFactory: (p: PipelineParts) => p.results },
        {
          provide: PipelineLifecycle,
          inject: [PIPELINE_PARTS],
          useFactory: (p: PipelineParts) => new PipelineLifecycle(p),
        },
      ],
      exports: [RISK_SERVICE, RISK_RESULTS],
    };
  }
}
