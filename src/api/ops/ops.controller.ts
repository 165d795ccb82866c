/**
 * `/health` (liveness: the process answers), `/ready` (terminus: Redis answers PING, the RPC answers
 * with a head, indexing is at most NETMARGIN_READY_MAX_LAG_BLOCKS behind it; 503 with every check's
 * result otherwise) and `/metrics` (Prometheus text).
 */
import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, HealthIndicatorService, type HealthCheckResult } from '@nestjs/terminus';
import type { ServerResponse } from 'node:http';
import { toWireJson } from '../http/wire';
import type { OpsService } from './ops.service';

export const OPS_SERVICE = 'api.ops.service';
export const OPS_MAX_LAG = 'api.ops.max-lag';

function reason(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'shortMessage' in err) return String(err.shortMessage);
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

@ApiTags('operations')
@Controller()
export class OpsController {
  constructor(
    @Inject(OPS_SERVICE) private readonly ops: OpsService,
    @Inject(OPS_MAX_LAG) private readonly maxLagBlocks: number,
    // Named tokens: the API runs under tsx, which emits no decorator type metadata.
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(HealthIndicatorService) private readonly indicator: HealthIndicatorService,
  ) {}

  @Get('health')
  @ApiOperation({ summary: 'Liveness: the process serves requests' })
  @ApiResponse({
    status: 200,
    schema: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } },
  })
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({
    summary: 'Readiness: Redis, RPC and indexer lag',
    description:
      '200 when every check is up; 503 with the same body shape (`status`, `info`, `error`, `details`) otherwise.',
  })
  @ApiResponse({ status: 200, description: 'Ready.' })
  @ApiResponse({ status: 503, description: 'A dependency is down or indexing is behind.' })
  async ready(@Res() res: ServerResponse): Promise<void> {
    let head: Promise<bigint> | undefined;
    const chainHead = () => (head ??= this.ops.chainHead());
    let result: HealthCheckResult;
    let status = 200;
    try {
      result = await this.health.check([
        async () => {
          const s = this.indicator.check('redis');
          try {
            await this.ops.pingRedis();
            return s.up();
          } catch (err) {
            return s.down({ message: reason(err) });
          }
        },
        async () => {
          const s = this.indicator.check('rpc');
          try {
            return s.up({ headBlock: (await chainHead()).toString() });
          } catch (err) {
            return s.down({ message: reason(err) });
          }
        },
        async () => {
          const s = this.indicator.check('indexer');
          try {
            const lag = await this.ops.indexerLag(await chainHead());
            const data = {
              chainHead: lag.chainHead.toString(),
              indexedTo: lag.indexedTo?.toString() ?? null,
              source: lag.source,
              lagBlocks: lag.lagBlocks,
              maxLagBlocks: this.maxLagBlocks,
            };
            if (lag.lagBlocks === null) return s.down({ ...data, message: 'nothing indexed yet' });
            if (lag.lagBlocks > this.maxLagBlocks)
              return s.down({
                ...data,
                message: `${lag.lagBlocks} blocks behind, at most ${this.maxLagBlocks}`,
              });
            return s.up(data);
          } catch (err) {
            return s.down({ message: reason(err) });
          }
        },
      ]);
    } catch (err) {
      // terminus throws a 503 carrying the full result when a check is down
      const r = (err as { getResponse?: () => unknown }).getResponse?.();
      if (typeof r !== 'object' || r === null) throw err;
      result = r as HealthCheckResult;
      status = 503;
    }
    res.statusCode = status;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('cache-control', 'no-store');
    res.end(toWireJson(result));
  }

  @Get('metrics')
  @ApiExcludeEndpoint()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('cache-control', 'no-store')
  metrics(): Promise<string> {
    return this.ops.metrics();
  }
}
