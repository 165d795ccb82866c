/**
 * Partner endpoints (signed requests, per-key rate limits): the net margin of one account or of a
 * batch, as the aggregator's partner interface answers it, with the attestation it rests on and the
 * risk workers' results beside it.
 */
import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Injectable,
  Param,
  Post,
  Res,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { ServerResponse } from 'node:http';
import type { Address } from 'viem';
import { InvalidInputError } from '../../common/errors';
import type { ApiConfig } from '../api.config';
import { API_CONFIG } from '../api.tokens';
import { parseAddress } from '../http/input';
import { assertBatchSize } from '../http/limits';
import { BIGINT_STRING, ERROR_BODY, recordSummarySchema } from '../http/openapi';
import { AddressPipe } from '../http/pipes';
import { setRetryAfter, type PartnerAuth } from './auth';
import type { PartnerMarginService } from './margin.service';
import type { RawBodyRequest } from './raw-body';

/** Writes already-serialized wire JSON (the views are serialized once per head block). */
function send(res: ServerResponse, json: string): void {
  res.statusCode = 200;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(json);
}

export const PARTNER_AUTH = 'api.partners.auth';
export const PARTNER_MARGIN = 'api.partners.margin';

@Injectable()
export class PartnerAuthGuard implements CanActivate {
  constructor(@Inject(PARTNER_AUTH) private readonly auth: PartnerAuth) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const http = ctx.switchToHttp();
    const req = http.getRequest<RawBodyRequest & { originalUrl?: string; partnerKey?: string }>();
    try {
      req.partnerKey = await this.auth.verify({
        method: req.method ?? 'GET',
        url: req.originalUrl ?? req.url ?? '/',
        headers: req.headers,
        rawBody: req.rawBody,
      });
    } catch (err) {
      setRetryAfter(http.getResponse<ServerResponse>(), err);
      throw err;
    }
    return true;
  }
}

const USD6 = { ...BIGINT_STRING, description: 'USD with 6 decimals' };
/** A risk workers' result in short form, with the hashes an attestation is compared on. */
const OFF_CHAIN = recordSummarySchema({ paramsHash: { type: 'string' }, inputHash: { type: 'string' } });
const MARGIN_VIEW = {
  type: 'object',
  properties: {
    account: { type: 'string' },
    onChain: {
      type: 'object',
      nullable: true,
      description: 'The aggregator’s views at the chain head (IMarginReader).',
      properties: {
        blockNumber: BIGINT_STRING,
        imUsd6: USD6,
        mmUsd6: USD6,
        collateralUsd6: USD6,
        shortfallUsd6: USD6,
        freeCollateralUsd6: USD6,
        liquidatable: { type: 'boolean' },
        stale: { type: 'boolean' },
      },
    },
    chainError: { type: 'string', nullable: true, description: 'Why a view reverted (e.g. a stale price).' },
    attestation: {
      type: 'object',
      nullable: true,
      properties: {
        blockNumber: BIGINT_STRING,
        timestampSec: BIGINT_STRING,
        imUsd6: USD6,
        mmUsd6: USD6,
        mtmUsd6: USD6,
        inputsHash: { type: 'string', nullable: true },
        paramsHash: { type: 'string', nullable: true },
        postedTx: { type: 'string', nullable: true },
        postedBlock: { ...BIGINT_STRING, nullable: true },
      },
    },
    offChain: {
      type: 'object',
      properties: {
        atAttestedBlock: { ...OFF_CHAIN, nullable: true },
        matchesAttestation: { type: 'boolean', nullable: true },
        latest: { ...OFF_CHAIN, nullable: true },
      },
    },
  },
} as const;

const SIGNED = [
  { name: 'x-nm-key', description: 'API key id', required: true },
  { name: 'x-nm-timestamp', description: 'Unix seconds, within 5 minutes of the server', required: true },
  { name: 'x-nm-nonce', description: '16–64 characters [A-Za-z0-9_-], once per request', required: true },
  { name: 'x-nm-signature', description: 'hex HMAC-SHA256 (docs/api.md, Partners)', required: true },
];

function Signed(): MethodDecorator {
  return (target, key, descriptor) => {
    for (const h of SIGNED) ApiHeader(h)(target, key, descriptor);
    ApiResponse({
      status: 401,
      description: 'Missing, unknown or bad signature, stale timestamp, replayed nonce.',
      schema: ERROR_BODY,
    })(target, key, descriptor);
    ApiResponse({ status: 429, description: 'Rate limit; see Retry-After.', schema: ERROR_BODY })(
      target,
      key,
      descriptor,
    );
  };
}

@ApiTags('partners')
@Controller('v1/partners')
@UseGuards(PartnerAuthGuard)
export class PartnersController {
  constructor(
    @Inject(PARTNER_MARGIN) private readonly margin: PartnerMarginService,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  @Get('accounts/:address/margin')
  @ApiOperation({
    summary: 'Net margin of one account, as the on-chain partner interface answers it',
    description:
      'marginOf / freeCollateral / isLiquidatable at the chain head, the attestation they rest on (block, inputs hash, parameter-set hash, posting transaction), and the risk workers’ result at that block and the latest one.',
  })
  @ApiParam({ name: 'address', description: 'The account (EIP-55; all-lowercase accepted).' })
  @Signed()
  @ApiResponse({ status: 200, schema: MARGIN_VIEW })
  @ApiResponse({ status: 400, description: 'Malformed address.', schema: ERROR_BODY })
  async one(@Param('address', AddressPipe) account: Address, @Res() res: ServerResponse): Promise<void> {
    send(res, await this.margin.marginJson(account));
  }

  @Post('margin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Net margin of many accounts (same answer per account, in request order)' })
  @Signed()
  @ApiBody({
    schema: {
      type: 'object',
      required: ['accounts'],
      properties: { accounts: { type: 'array', items: { type: 'string' } } },
    },
  })
  @ApiResponse({
    status: 200,
    schema: { type: 'object', properties: { accounts: { type: 'array', items: MARGIN_VIEW } } },
  })
  @ApiResponse({
    status: 400,
    description: 'Malformed body or address; `field` names it.',
    schema: ERROR_BODY,
  })
  @ApiResponse({
    status: 413,
    description: 'More accounts than API_MAX_BATCH, or body too large.',
    schema: ERROR_BODY,
  })
  async many(@Body() body: unknown, @Res() res: ServerResponse): Promise<void> {
    const list = (
      typeof body === 'object' && body !== null ? (body as { accounts?: unknown }).accounts : undefined
    ) as unknown;
    if (!Array.isArray(list))
      throw new InvalidInputError('accounts', 'expected a JSON array of addresses', {
        code: 'INVALID_BODY',
        hint: 'Send {"accounts": ["0x…", …]}.',
      });
    assertBatchSize('accounts', list, this.config.maxBatch);
    const accounts = list.map((a, i) => parseAddress(`accounts[${i}]`, a));
    send(res, await this.margin.marginManyJson(accounts));
  }
}
