/**
 * `PartnersModule.forRoot(env)`: the partner endpoints (`/v1/partners/...`), their keys and limits
 * (partners.config.ts, read from `env` at start), the raw-body reader they sign over, and the chain
 * reads of the aggregator (RPC from NETMARGIN_RPC_URLS or the manifest).
 */
import {
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import type { Redis } from 'ioredis';
import { createClient, http, type Address, type Client } from 'viem';
import { loadManifest } from '../../config/manifest';
import type { RedisRiskResultStore } from '../../pipeline/result-store';
import type { ApiConfig } from '../api.config';
import { API_CONFIG, API_LOG, API_REDIS, API_RESULTS } from '../api.tokens';
import type { ApiLogFn } from '../http/errors';
import { PartnerAuth } from './auth';
import { partnerMarginRoute, routeFirst } from './margin-route';
import { PartnerMarginService } from './margin.service';
import { PARTNER_AUTH, PARTNER_MARGIN, PartnerAuthGuard, PartnersController } from './partners.controller';
import { loadPartnersConfig, type Env, type PartnersConfig } from './partners.config';
import { rawJsonBody } from './raw-body';

const PARTNERS_CONFIG = 'api.partners.config';
const PARTNERS_BODY = 'api.partners.body';

/** The chain the API reads: its RPC URL and the aggregator, from the environment and the manifest. */
export function apiChain(
  config: ApiConfig,
  rpcUrl: string | undefined,
): { client: Client | undefined; aggregator: Address | undefined } {
  const m = config.manifestPath ? loadManifest(config.manifestPath) : undefined;
  const url = rpcUrl ?? m?.network.rpcUrl;
  return {
    client: url ? createClient({ transport: http(url, { timeout: 5_000, retryCount: 0 }) }) : undefined,
    aggregator: m?.aggregator?.address,
  };
}

class PartnersLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly margin: PartnerMarginService,
    private readonly auth: PartnerAuth,
    private readonly host: HttpAdapterHost,
    private readonly log: ApiLogFn,
  ) {}

  /** The server exists once the application is created: the margin read goes in front of it. */
  onApplicationBootstrap(): void {
    routeFirst(
      this.host.httpAdapter.getHttpServer() as Server,
      partnerMarginRoute(this.auth, this.margin, this.log),
    );
  }
  async onApplicationShutdown(): Promise<void> {
    this.margin.stop();
    await this.auth.close();
  }
}

@Module({})
export class PartnersModule {
  static forRoot(env: Env = process.env): DynamicModule {
    const partners = loadPartnersConfig(env); // a bad variable stops the start
    return {
      module: PartnersModule,
      controllers: [PartnersController],
      providers: [
        { provide: PARTNERS_CONFIG, useValue: partners },
        {
          // Runs while the application is created, before its JSON parser is mounted.
          provide: PARTNERS_BODY,
          inject: [HttpAdapterHost, API_CONFIG],
          useFactory: (host: HttpAdapterHost, config: ApiConfig) => {
            host.httpAdapter.use('/v1/partners', rawJsonBody(config.bodyLimitBytes));
            return true;
          },
        },
        {
          provide: PARTNER_AUTH,
          inject: [API_REDIS, API_CONFIG, PARTNERS_CONFIG],
          // Its own connection, without auto-pipelining: under load its per-tick pipelines outlived
          // young-generation collections (≈ 1 MB promoted per collection, 4–5 ms pauses); with one
          // command written per request, under 40 KB survives a collection (docs/api.md, Benchmark).
          useFactory: (redis: Redis, config: ApiConfig, p: PartnersConfig) =>
            new PartnerAuth(
              // Errors surface as failed commands (503); the core connection already logs the outage.
              redis.duplicate({ enableAutoPipelining: false }).on('error', () => undefined),
              config.network,
              p,
            ),
        },
        {
          provide: PARTNER_MARGIN,
          inject: [API_CONFIG, API_RESULTS, PARTNERS_CONFIG],
          useFactory: (config: ApiConfig, results: RedisRiskResultStore, p: PartnersConfig) => {
            const { client, aggregator } = apiChain(config, p.rpcUrl);
            const svc = new PartnerMarginService({
              client: client ?? createClient({ transport: http('http://127.0.0.1:1') }),
              aggregator: client ? aggregator : undefined,
              results,
              headPollMs: p.headPollMs,
            });
            svc.start();
            return svc;
          },
        },
        PartnerAuthGuard,
        {
          provide: PartnersLifecycle,
          inject: [PARTNER_MARGIN, PARTNER_AUTH, HttpAdapterHost, API_LOG],
          useFactory: (m: PartnerMarginService, a: PartnerAuth, host: HttpAdapterHost, log: ApiLogFn) =>
            new PartnersLifecycle(m, a, host, log),
        },
      ],
    };
  }
}
