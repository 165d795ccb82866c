/** The account endpoints and their service (providers from the global `ApiCoreModule`). */
import { Module } from '@nestjs/common';
import type { StalenessRules } from '../../pipeline/classify';
import type { RedisMarketHistory } from '../../pipeline/market-history';
import type { ParamStore } from '../../pipeline/param-store';
import type { RedisRiskResultStore } from '../../pipeline/result-store';
import type { ApiConfig } from '../api.config';
import type { PositionsReader } from '../api-core.module';
import {
  API_ACCOUNTS,
  API_CONFIG,
  API_MARKETS,
  API_PARAMS,
  API_POSITIONS,
  API_RESULTS,
  API_STALENESS_RULES,
} from '../api.tokens';
import { AccountsController, WhatIfController } from './accounts.controller';
import { AccountsService } from './accounts.service';

@Module({
  controllers: [AccountsController, WhatIfController],
  providers: [
    {
      provide: API_ACCOUNTS,
      inject: [API_CONFIG, API_POSITIONS, API_RESULTS, API_MARKETS, API_PARAMS, API_STALENESS_RULES],
      useFactory: (
        config: ApiConfig,
        positions: PositionsReader,
        results: RedisRiskResultStore,
        markets: RedisMarketHistory,
        params: ParamStore,
        rules: StalenessRules,
      ) =>
        new AccountsService({
          positions,
          results,
          markets,
          params,
          rules,
          warningBufferBps: config.warningBufferBps,
        }),
    },
  ],
  exports: [API_ACCOUNTS],
})
export class AccountsModule {}
