/**
 * `DashboardModule`: the web dashboard (static page at `/dashboard`, `/` redirects to it) and the
 * per-account event stream it listens to (`GET /v1/accounts/{address}/stream`). Uses the global
 * `ApiCoreModule`'s Redis and results store; one `ChangeHub` follows the results' change stream for
 * every open account stream. Open streams end before the HTTP server closes.
 */
import { Inject, Module, type BeforeApplicationShutdown, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { ServerResponse } from 'node:http';
import { redisKeys } from '../../indexer/redis/keys';
import { AccountsModule } from '../accounts/accounts.module';
import type { ApiConfig } from '../api.config';
import { API_CONFIG, API_LOG, API_REDIS } from '../api.tokens';
import type { ApiLogFn } from '../http/errors';
import {
  AccountStreamController,
  DASHBOARD_HUB,
  DASHBOARD_STREAM_OPTIONS,
  DASHBOARD_SUBSCRIBERS,
  DEFAULT_ACCOUNT_STREAM_OPTIONS,
} from './account-stream.controller';
import { ChangeHub, DEFAULT_CHANGE_HUB_OPTIONS } from './change-hub';
import { DashboardController } from './dashboard.controller';

class DashboardLifecycle implements BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    @Inject(DASHBOARD_SUBSCRIBERS) private readonly subscribers: Set<ServerResponse>,
    @Inject(DASHBOARD_HUB) private readonly hub: ChangeHub,
  ) {}

  beforeApplicationShutdown(): void {
    for (const res of this.subscribers) res.end();
    this.subscribers.clear();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.hub.close();
  }
}

@Module({
  // The account stream sends the health answer of `AccountsService` (scenario grid included).
  imports: [AccountsModule],
  controllers: [AccountStreamController, DashboardController],
  providers: [
    { provide: DASHBOARD_STREAM_OPTIONS, useValue: DEFAULT_ACCOUNT_STREAM_OPTIONS },
    { provide: DASHBOARD_SUBSCRIBERS, useValue: new Set<ServerResponse>() },
    {
      provide: DASHBOARD_HUB,
      inject: [API_REDIS, API_CONFIG, API_LOG],
      useFactory: (redis: Redis, config: ApiConfig, log: ApiLogFn) =>
        new ChangeHub(redis, redisKeys(config.network).pipeline.results, DEFAULT_CHANGE_HUB_OPTIONS, (err) =>
          log('api.change-hub-error', { error: err instanceof Error ? err.message : String(err) }),
        ),
    },
    {
      provide: DashboardLifecycle,
      inject: [DASHBOARD_SUBSCRIBERS, DASHBOARD_HUB],
      useFactory: (subs: Set<ServerResponse>, hub: ChangeHub) => new DashboardLifecycle(subs, hub),
    },
  ],
})
export class DashboardModule {}
