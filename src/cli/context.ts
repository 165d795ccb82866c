/**
 * Where the CLI reads from: the network's Redis stores (results, parameter sets, positions, the
 * market by block), which the indexer and the risk workers write and the API serves from, and for
 * `replay` the chain itself (RPC and deployment manifest). Everything is opened on first use, so
 * `params` never needs an RPC and `replay` never needs more of Redis than the parameter sets and
 * the results' history.
 */
import { Redis } from 'ioredis';
import { createPublicClient, http, type PublicClient } from 'viem';
import { NetmarginError } from '../common/errors';
import { loadManifest, type DeploymentManifest } from '../config/manifest';
import type { OwnerPositions } from '../indexer/indexer.service';
import { redisKeys, type RedisKeys } from '../indexer/redis/keys';
import { RedisReorgStore } from '../indexer/redis/redis-store';
import { RedisMarketHistory } from '../pipeline/market-history';
import { ParamStore } from '../pipeline/param-store';
import { RedisRiskResultStore } from '../pipeline/result-store';
import type { CliOptions } from './args';

export class CliContext {
  readonly keys: RedisKeys;
  private redisConn: Redis | undefined;
  private resultStore: RedisRiskResultStore | undefined;
  private manifestValue: DeploymentManifest | undefined;
  private clientValue: PublicClient | undefined;

  constructor(readonly options: CliOptions) {
    this.keys = redisKeys(options.network);
  }

  async redis(): Promise<Redis> {
    if (this.redisConn) return this.redisConn;
    const conn = new Redis(this.options.redisUrl, {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
    });
    conn.on('error', () => undefined); // surfaced by connect() / the command that failed
    try {
      await conn.connect();
    } catch (cause) {
      conn.disconnect();
      throw new NetmarginError(`Cannot connect to Redis at ${this.options.redisUrl}`, {
        code: 'REDIS_UNAVAILABLE',
        hint: 'Start Redis (bash scripts/ensure-redis.sh) or pass --redis redis://host:port, the one the workers use.',
        cause,
      });
    }
    this.redisConn = conn;
    return conn;
  }

  async results(): Promise<RedisRiskResultStore> {
    this.resultStore ??= new RedisRiskResultStore(await this.redis(), this.keys.pipeline.results);
    return this.resultStore;
  }

  async params(): Promise<ParamStore> {
    return new ParamStore(await this.redis(), this.keys.pipeline.params);
  }

  async markets(): Promise<RedisMarketHistory> {
    return new RedisMarketHistory(await this.redis(), this.keys.pipeline.marketByBlock);
  }

  /** The positions store, opened read-only (never seeded: an empty store stays empty). */
  async positions(): Promise<RedisReorgStore<OwnerPositions>> {
    return RedisReorgStore.open<OwnerPositions>({
      redis: await this.redis(),
      keys: this.keys.reorgStore('positions'),
    });
  }

  manifest(): DeploymentManifest {
    this.manifestValue ??= loadManifest(this.options.manifestPath);
    return this.manifestValue;
  }

  client(): PublicClient {
    if (this.clientValue) return this.clientValue;
    const url = this.options.rpcUrl ?? this.manifest().network.rpcUrl;
    this.clientValue = createPublicClient({ transport: http(url, { retryCount: 2, timeout: 60_000 }) });
    return this.clientValue;
  }

  async close(): Promise<void> {
    await this.resultStore?.close();
    this.redisConn?.disconnect();
  }
}
