/**
 * `OpsModule.forRoot(env)`: `/health`, `/ready`, `/metrics` (ops.controller.ts) and Bull Board at
 * `/queues` over every BullMQ queue of the network (the indexer's and the risk pipeline's), behind
 * the admin token (401 without it). Configuration in ops.config.ts.
 */
import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OwnerPositions } from '../../indexer/indexer.service';
import { QUEUE_NAMES, queuePrefix } from '../../indexer/queues';
import { redisKeys } from '../../indexer/redis/keys';
import type { RedisReorgStore } from '../../indexer/redis/redis-store';
import { PIPELINE_QUEUE_NAMES } from '../../pipeline/queues';
import type { ApiConfig } from '../api.config';
import { toWireJson } from '../http/wire';
import { API_CONFIG, API_POSITIONS, API_REDIS } from '../api.tokens';
import type { Env } from '../partners/partners.config';
import { apiChain } from '../partners/partners.module';
import { adminTokenCheck, requireAdmin } from './admin-auth';
import { loadOpsConfig, type OpsConfig } from './ops.config';
import { OPS_MAX_LAG, OPS_SERVICE, OpsController } from './ops.controller';
import { OpsService } from './ops.service';

const OPS_CONFIG = 'api.ops.config';
const OPS_QUEUES = 'api.ops.queues';
const OPS_BOARD = 'api.ops.board';

function redisAnswers(ops: OpsService) {
  return (_req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    ops.pingRedis().then(next, (err: unknown) => {
      res.statusCode = 503;
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(
        toWireJson({
          error: {
            code: 'STORE_UNAVAILABLE',
            message: `Redis does not answer: ${err instanceof Error ? err.message : String(err)}`,
            field: null,
            hint: 'Check REDIS_URL and that Redis runs; /ready shows the same check.',
          },
        }),
      );
    });
  };
}

class OpsLifecycle implements OnApplicationShutdown {
  constructor(@Inject(OPS_QUEUES) private readonly queues: Queue[]) {}
  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.queues.map((q) => q.close().catch(() => undefined)));
  }
}

@Module({})
export class OpsModule {
  static forRoot(env: Env = process.env): DynamicModule {
    const ops = loadOpsConfig(env, adminTokenCheck); // a bad variable stops the start
    return {
      module: OpsModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [OpsController],
      providers: [
        { provide: OPS_CONFIG, useValue: ops },
        { provide: OPS_MAX_LAG, useValue: ops.maxLagBlocks },
        {
          provide: OPS_QUEUES,
          inject: [API_REDIS, API_CONFIG],
          useFactory: (redis: Redis, config: ApiConfig) => {
            const prefix = queuePrefix(config.network);
            // Read-only use: depths and the board; one duplicate connection shared by the queues.
            const connection = redis.duplicate({ maxRetriesPerRequest: null }).on('error', () => undefined);
            // An unheard 'error' event would end the process; an outage shows in /ready and the metrics.
            return [...QUEUE_NAMES, ...PIPELINE_QUEUE_NAMES].map((name) =>
              new Queue(name, { connection, prefix }).on('error', () => undefined),
            );
          },
        },
        {
          provide: OPS_SERVICE,
          inject: [API_REDIS, API_CONFIG, API_POSITIONS, OPS_QUEUES, OPS_CONFIG],
          useFactory: (
            redis: Redis,
            config: ApiConfig,
            positions: RedisReorgStore<OwnerPositions>,
            queues: Queue[],
            o: OpsConfig,
          ) =>
            new OpsService({
              redis,
              keys: redisKeys(config.network),
              client: apiChain(config, o.rpcUrl).client,
              queues,
              storeHead: () => positions.head(),
              maxLagBlocks: o.maxLagBlocks,
            }),
        },
        {
          provide: OPS_BOARD,
          inject: [HttpAdapterHost, OPS_QUEUES, OPS_CONFIG, OPS_SERVICE],
          useFactory: (host: HttpAdapterHost, queues: Queue[], o: OpsConfig, ops: OpsService) => {
            const server = new ExpressAdapter();
            server.setBasePath('/queues');
            createBullBoard({
              queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: false })),
              // @bull-board/express carries its own copy of @bull-board/api (a patch version apart): same shape.
              serverAdapter: server as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
            });
            host.httpAdapter.use('/queues', requireAdmin(o.adminCheck));
            // The queues wait for Redis forever (BullMQ connections retry without limit): answer 503 instead.
            host.httpAdapter.use('/queues', redisAnswers(ops));
            host.httpAdapter.use('/queues', server.getRouter());
            return true;
          },
        },
        { provide: OpsLifecycle, inject: [OPS_QUEUES], useFactory: (q: Queue[]) => new OpsLifecycle(q) },
      ],
    };
  }
}
