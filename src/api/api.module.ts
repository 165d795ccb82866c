/**
 * `ApiModule.forRoot(config)`: the REST API as one NestJS module.
 *
 * - `ApiCoreModule` (global): configuration, Redis, the workers' stores, staleness rules
 *   (tokens in api.tokens.ts); every feature module injects these.
 * - `AccountsModule`: `/v1/accounts/{address}/health|positions|history`, `POST /v1/margin/what-if`.
 * - `FeedModule`: the shortfall feed's SSE endpoint, `GET /v1/feed/shortfalls`.
 *
 * A feature module is added with one line in `featureModules` below.
 */
import { Module, type DynamicModule } from '@nestjs/common';
import { FeedModule } from '../pipeline/feed/feed.module';
import { AccountsModule } from './accounts/accounts.module';
import type { ApiConfig } from './api.config';
import { ApiCoreModule } from './api-core.module';
import { DashboardModule } from './dashboard/dashboard.module';
import type { ApiLogFn } from './http/errors';
import { OpsModule } from './ops/ops.module';
import { PartnersModule } from './partners/partners.module';

@Module({})
export class ApiModule {
  static forRoot(config: ApiConfig, opts: { log?: ApiLogFn } = {}): DynamicModule {
    const log = opts.log ?? (() => undefined);
    const featureModules: (DynamicModule | (new () => unknown))[] = [
      AccountsModule,
      DashboardModule,
      FeedModule.forRoot({ redisUrl: config.redisUrl, network: config.network }),
      PartnersModule.forRoot(),
      OpsModule.forRoot(),
    ];
    return { module: ApiModule, imports: [ApiCoreModule.forRoot(config, log), ...featureModules] };
  }
}
