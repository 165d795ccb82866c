/**
 * `PosterModule.forRoot(config)`: the NestJS wiring of the `poster` role, a process of its own (the
 * one that holds signing keys; one per network, guarded by a Redis lease). It builds the Redis
 * connection, the chain client, the results reader (`RedisRiskResultStore`), the signers and the
 * `Poster`; on bootstrap the poster settles its journal and starts its rounds, on shutdown it finishes
 * the round in progress and releases its lease. The logic stays in `Poster`; this file only connects.
 *
 * Providers are factories with explicit `inject` tokens, as in `IndexerModule`.
 */
import {
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Redis } from 'ioredis';
import type { PublicClient } from 'viem';
import { loadManifest, type DeploymentManifest } from '../../config/manifest';
import { createChainClient } from '../../indexer/chain/client';
import { jsonLineLog, workerRedisOptions, type IndexerLogFn } from '../../indexer/indexer.module';
import { redisKeys } from '../../indexer/redis/keys';
import { RedisRiskResultStore } from '../result-store';
import type { PosterConfig } from './poster.config';
import { Poster } from './poster';
import { posterChain, posterOptions } from './wiring';

export const POSTER_CONFIG = 'NETMARGIN_POSTER_CONFIG_TOKEN';
export const POSTER_REDIS = 'NETMARGIN_POSTER_REDIS_TOKEN';
export const POSTER_MANIFEST = 'NETMARGIN_POSTER_MANIFEST_TOKEN';

export class PosterLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly poster: Poster,
    private readonly redis: Redis,
    private readonly reader: RedisRiskResultStore,
    private readonly config: PosterConfig,
    private readonly log: IndexerLogFn,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.poster.start();
    this.poster.run(this.config.pollMs);
    this.log('poster-started', { network: this.config.network });
  }

  async onApplicationShutdown(signal?: string): Promise<void> {
    this.log('shutting-down', { signal: signal ?? null });
    await this.poster.stop();
    await this.reader.close();
    await this.redis.quit().catch(() => this.redis.disconnect());
    this.log('stopped', { signal: signal ?? null });
  }
}

@Module({})
export class PosterModule {
  static forRoot(config: PosterConfig, opts: { log?: IndexerLogFn } = {}): DynamicModule {
    const log = opts.log ?? jsonLineLog;
    return {
      module: PosterModule,
      providers: [
        { provide: POSTER_CONFIG, useValue: config },
        { provide: POSTER_MANIFEST, useFactory: () => loadManifest(config.manifestPath) },
        {
          provide: POSTER_REDIS,
          useFactory: () => {
            const { url, ...rest } = workerRedisOptions(config.redisUrl);
            const redis = new Redis(url, rest);
            redis.on('error', (err) => log('redis-error', { error: err.message }));
            return redis;
          },
        },
        {
          provide: RedisRiskResultStore,
          inject: [POSTER_REDIS],
          useFactory: (redis: Redis) =>
            new RedisRiskResultStore(redis, redisKeys(config.network).pipeline.results),
        },
        {
          provide: Poster,
          inject: [POSTER_MANIFEST, POSTER_REDIS, RedisRiskResultStore],
          useFactory: (m: DeploymentManifest, redis: Redis, reader: RedisRiskResultStore) => {
            const urls = config.rpcUrls ?? [m.network.rpcUrl];
            const chain = posterChain(m, urls[0]!);
            const client: PublicClient = createChainClient({ urls, chain });
            return new Poster({ ...posterOptions(config, m), redis, client, reader, chain, log });
          },
        },
        {
          provide: PosterLifecycle,
          inject: [Poster, POSTER_REDIS, RedisRiskResultStore],
          useFactory: (poster: Poster, redis: Redis, reader: RedisRiskResultStore) =>
            new PosterLifecycle(poster, redis, reader, config, log),
        },
      ],
      exports: [Poster],
    };
  }
}
