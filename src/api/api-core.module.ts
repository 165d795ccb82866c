/**
 * `ApiCoreModule.forRoot(config)`: the API's shared providers (global): the configuration, one
 * Redis connection, and read views of the workers' stores (results, parameter sets, positions,
 * recorded markets), plus the staleness rules. Closed on shutdown.
 */
import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { loadManifest } from '../config/manifest';
import type { OwnerPositions } from '../indexer/indexer.service';
import { redisKeys } from '../indexer/redis/keys';
import type { BlockRef, BlockStamped, ReorgSafeStore } from '../indexer/chain/store';
import type { ReorgStoreKeys } from '../indexer/redis/keys';
import { RedisReorgStore } from '../indexer/redis/redis-store';
import { stalenessRulesFromManifest, type StalenessRules } from '../pipeline/classify';
import { RedisMarketHistory } from '../pipeline/market-history';
import { ParamStore } from '../pipeline/param-store';
import { RedisRiskResultStore } from '../pipeline/result-store';
import type { ApiConfig } from './api.config';
import {
  API_CONFIG,
  API_LOG,
  API_MARKETS,
  API_PARAMS,
  API_POSITIONS,
  API_REDIS,
  API_RESULTS,
  API_STALENESS_RULES,
} from './api.tokens';
import type { ApiLogFn } from './http/errors';

/** Staleness rules for what-if answers: the manifest's heartbeats when configured, else the defaults. */
export function apiStalenessRules(config: ApiConfig): StalenessRules {
  const opts = {
    defaultHeartbeatSec: config.defaultHeartbeatSec,
    defaultGracePeriodSec: config.defaultGracePeriodSec,
    // The API computes at the latest result's block; the indexer flag is copied from that result.
    maxIndexerLagBlocks: Number.MAX_SAFE_INTEGER,
  };
  if (config.manifestPath) return stalenessRulesFromManifest(loadManifest(config.manifestPath), opts);
  return {
    heartbeatByFeed: new Map(),
    defaultHeartbeatSec: opts.defaultHeartbeatSec,
    sequencerGracePeriodSec: opts.defaultGracePeriodSec,
    maxIndexerLagBlocks: opts.maxIndexerLagBlocks,
  };
}

/**
 * Read side of the positions store. The underlying `RedisReorgStore` is opened on first use, not at
 * start (opening is a Redis round trip), so the API starts, and its readiness check can report,
 * while Redis is down. The API never seeds or writes the store.
 */
export class PositionsReader implements Pick<ReorgSafeStore<OwnerPositions>, 'get' | 'head' | 'entries'> {
  private opening: Promise<RedisReorgStore<OwnerPositions>> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: ReorgStoreKeys,
  ) {}

  async get(owner: string): Promise<BlockStamped<OwnerPositions> | undefined> {
    return (await this.store()).get(owner);
  }

  async head(): Promise<BlockRef | undefined> {
    return (await this.store()).head();
  }

  async entries(): Promise<Map<string, BlockStamped<OwnerPositions>>> {
    return (await this.store()).entries();
  }

  private store(): Promise<RedisReorgStore<OwnerPositions>> {
    this.opening ??= RedisReorgStore.open<OwnerPositions>({ redis: this.redis, keys: this.keys }).catch(
      (err: unknown) => {
        this.opening = undefined; // retried by the next call
        throw err;
      },
    );
    return this.opening;
  }
}

/**
 * The shared connection: a command fails (→ 503) after two reconnection attempts instead of waiting
 * for Redis forever; connection errors are logged once per distinct error, not at every retry.
 */
function apiRedis(url: string, log: ApiLogFn): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 2 });
  let last = '';
  redis.on('error', (err: Error) => {
    if (err.message === last) return;
    last = err.message;
    log('api.redis-error', { error: err.message });
  });
  redis.on('ready', () => {
    if (last !== '') log('api.redis-ready', {});
    last = '';
  });
  return redis;
}

class ApiCoreLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(API_REDIS) private readonly redis: Redis,
    @Inject(API_RESULTS) private readonly results: RedisRiskResultStore,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.results.close();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

@Global()
@Module({})
export class ApiCoreModule {
  static forRoot(config: ApiConfig, log: ApiLogFn): DynamicModule {
    const keys = redisKeys(config.network);
    const rules = apiStalenessRules(config); // reads the manifest now: a bad one stops the start
    return {
      module: ApiCoreModule,
      providers: [
        { provide: API_CONFIG, useValue: config },
        { provide: API_LOG, useValue: log },
        { provide: API_STALENESS_RULES, useValue: rules },
        { provide: API_REDIS, useFactory: () => apiRedis(config.redisUrl, log) },
        {
          provide: API_RESULTS,
          inject: [API_REDIS],
          useFactory: (redis: Redis) => new RedisRiskResultStore(redis, keys.pipeline.results),
        },
        {
          provide: API_PARAMS,
          inject: [API_REDIS],
          useFactory: (redis: Redis) => new ParamStore(redis, keys.pipeline.params),
        },
        {
          provide: API_MARKETS,
          inject: [API_REDIS],
          useFactory: (redis: Redis) => new RedisMarketHistory(redis, keys.pipeline.marketByBlock),
        },
        {
          provide: API_POSITIONS,
          inject: [API_REDIS],
          useFactory: (redis: Redis) => new PositionsReader(redis, keys.reorgStore('positions')),
        },
        {
          provide: ApiCoreLifecycle,
          inject: [API_REDIS, API_RESULTS],
          useFactory: (redis: Redis, results: RedisRiskResultStore) => new ApiCoreLifecycle(redis, results),
        },
      ],
      exports: [
        API_CONFIG,
        API_LOG,
        API_STALENESS_RULES,
        API_REDIS,
        API_RESULTS,
        API_PARAMS,
        API_MARKETS,
        API_POSITIONS,
      ],
    };
  }
}
