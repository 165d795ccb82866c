/**
 * `FeedModule.forRoot(config)`: the shortfall feed's SSE endpoint (`GET /v1/feed/shortfalls`) as a
 * NestJS module, for the API application to import, and `startFeedServer` to run it on its own (tests,
 * a bot's local setup). The module only reads the stream; `ShortfallFeed` (registered as a risk-record
 * listener by the risk workers) writes it.
 */
import 'reflect-metadata';
import {
  Inject,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type INestApplication,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import type { ServerResponse } from 'node:http';
import { NetmarginError } from '../../common/errors';
import {
  DEFAULT_FEED_SSE_OPTIONS,
  FEED_SSE_OPTIONS,
  FEED_STREAM,
  FEED_SUBSCRIBERS,
  FeedController,
  type FeedSseOptions,
} from './feed.controller';
import { ShortfallFeedStream } from './shortfall-feed';

export interface FeedModuleConfig {
  redisUrl: string;
  network: string;
  sse?: Partial<FeedSseOptions>;
}

const FEED_REDIS = 'NETMARGIN_FEED_REDIS';

/** Ends the open SSE responses before the HTTP server closes, then closes the stream's connections. */
class FeedLifecycle implements BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    @Inject(FEED_SUBSCRIBERS) private readonly subscribers: Set<ServerResponse>,
    @Inject(FEED_STREAM) private readonly stream: ShortfallFeedStream,
    @Inject(FEED_REDIS) private readonly redis: Redis,
  ) {}

  beforeApplicationShutdown(): void {
    for (const res of this.subscribers) res.end();
    this.subscribers.clear();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stream.close();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

@Module({})
export class FeedModule {
  static forRoot(config: FeedModuleConfig): DynamicModule {
    const sse: FeedSseOptions = { ...DEFAULT_FEED_SSE_OPTIONS, ...config.sse };
    for (const [name, v] of Object.entries(sse))
      if (!Number.isInteger(v) || v < 1)
        throw new NetmarginError(`Feed option ${name} = ${v} is not a positive integer`, {
          code: 'INVALID_FEED_OPTIONS',
          hint: `Give ${name} in whole ${name === 'batchSize' ? 'events' : 'milliseconds'}, at least 1.`,
        });
    return {
      module: FeedModule,
      controllers: [FeedController],
      providers: [
        { provide: FEED_SSE_OPTIONS, useValue: sse },
        { provide: FEED_SUBSCRIBERS, useValue: new Set<ServerResponse>() },
        { provide: FEED_REDIS, useFactory: () => new Redis(config.redisUrl, { maxRetriesPerRequest: null }) },
        {
          provide: FEED_STREAM,
          inject: [FEED_REDIS],
          useFactory: (redis: Redis) => new ShortfallFeedStream(redis, config.network),
        },
        {
          provide: FeedLifecycle,
          inject: [FEED_SUBSCRIBERS, FEED_STREAM, FEED_REDIS],
          useFactory: (subs: Set<ServerResponse>, stream: ShortfallFeedStream, redis: Redis) =>
            new FeedLifecycle(subs, stream, redis),
        },
      ],
    };
  }
}

export interface FeedServer {
  app: INestApplication;
  /** e.g. `http://127.0.0.1:43121` */
  url: string;
  close(): Promise<void>;
}

/** Runs the feed module alone on `host:port` (port 0 = any free port). */
export async function startFeedServer(
  config: FeedModuleConfig & { port?: number; host?: string },
): Promise<FeedServer> {
  const app = await NestFactory.create(FeedModule.forRoot(config), { logger: false, abortOnError: false });
  const host = config.host ?? '127.0.0.1';
  await app.listen(config.port ?? 0, host);
  const address = app.getHttpServer().address() as { port: number };
  return { app, url: `http://${host}:${address.port}`, close: () => app.close() };
}
