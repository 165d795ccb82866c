/**
 * The account endpoints: `GET /v1/accounts/{address}/health`, `/positions`, `/history`, and
 * `POST /v1/margin/what-if`. Handlers parse, call `AccountsService`, and return plain objects
 * (bigints become decimal strings in the JSON replacer).
 */
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Address } from 'viem';
import { API_ACCOUNTS, API_CONFIG } from '../api.tokens';
import type { ApiConfig } from '../api.config';
import { parseBlockQuery, parseIntQuery } from '../http/input';
import {
  BIGINT_STRING,
  ERROR_BODY,
  HEALTH_VIEW,
  HISTORY_VIEW,
  POSITIONS_VIEW,
  TRADE,
  WHAT_IF_VIEW,
} from '../http/openapi';
import { AddressPipe } from '../http/pipes';
import type { AccountsService } from './accounts.service';
import { parseWhatIfRequest } from './trades';

const ADDRESS_PARAM = {
  name: 'address',
  description: 'The owner (EIP-55; all-lowercase is accepted).',
  example: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
};
const BAD_INPUT = { status: 400, description: 'Malformed input; `field` names it.', schema: ERROR_BODY };
const NOT_FOUND = {
  status: 404,
  description: 'No stored result or positions for the account.',
  schema: ERROR_BODY,
};

@ApiTags('accounts')
@Controller('v1/accounts')
export class AccountsController {
  constructor(@Inject(API_ACCOUNTS) private readonly accounts: AccountsService) {}

  @Get(':address/health')
  @ApiOperation({
    summary: 'Portfolio health from the latest risk result',
    description:
      'IM, MM, mark-to-market, free collateral or shortfall, margin ratio, breakdown by protocol and underlying, Greeks, worst scenario, liquidation distance, the block and parameter set it was computed with, and staleness flags.',
  })
  @ApiParam(ADDRESS_PARAM)
  @ApiResponse({ status: 200, schema: HEALTH_VIEW })
  @ApiResponse(BAD_INPUT)
  @ApiResponse(NOT_FOUND)
  health(@Param('address', AddressPipe) owner: Address) {
    return this.accounts.health(owner);
  }

  @Get(':address/positions')
  @ApiOperation({
    summary: 'Stored positions across protocols, stamped with the block they were read at',
    description:
      'Amounts are `{ raw, decimals, value }`: exact token units, their decimals, and the human decimal.',
  })
  @ApiParam(ADDRESS_PARAM)
  @ApiResponse({ status: 200, schema: POSITIONS_VIEW })
  @ApiResponse(BAD_INPUT)
  @ApiResponse(NOT_FOUND)
  positions(@Param('address', AddressPipe) owner: Address) {
    return this.accounts.positions(owner);
  }

  @Get(':address/history')
  @ApiOperation({
    summary: 'Stored risk results, newest first',
    description: 'Page with `before` = the previous answer’s `nextBefore` (null when there is no more).',
  })
  @ApiParam(ADDRESS_PARAM)
  @ApiQuery({ name: 'limit', required: false, description: 'Records, 1–1000 (default 100).' })
  @ApiQuery({
    name: 'before',
    required: false,
    description: 'Only records below this block.',
    schema: BIGINT_STRING,
  })
  @ApiResponse({ status: 200, schema: HISTORY_VIEW })
  @ApiResponse(BAD_INPUT)
  @ApiResponse(NOT_FOUND)
  history(
    @Param('address', AddressPipe) owner: Address,
    @Query('limit') limit: unknown,
    @Query('before') before: unknown,
  ) {
    const beforeBlock = parseBlockQuery('before', before);
    return this.accounts.history(owner, {
      limit: parseIntQuery('limit', limit, { min: 1, max: 1_000, fallback: 100 }),
      ...(beforeBlock === undefined ? {} : { beforeBlock }),
    });
  }
}

@ApiTags('margin')
@Controller('v1/margin')
export class WhatIfController {
  constructor(
    @Inject(API_ACCOUNTS) private readonly accounts: AccountsService,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  @Post('what-if')
  @HttpCode(200)
  @ApiOperation({
    summary: 'The account’s health with prospective trades applied',
    description:
      'Computed by the risk engine on the market and parameter set of the account’s latest result (see `basis`); answers `now`, `whatIf` and `delta` = whatIf − now. Amounts are human decimal strings in the asset’s units.',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['address', 'trades'],
      properties: { address: { type: 'string' }, trades: { type: 'array', items: TRADE } },
    },
  })
  @ApiResponse({ status: 200, schema: WHAT_IF_VIEW })
  @ApiResponse(BAD_INPUT)
  @ApiResponse(NOT_FOUND)
  @ApiResponse({ status: 413, description: 'Body or trade list too large.', schema: ERROR_BODY })
  whatIf(@Body() body: unknown) {
    const req = parseWhatIfRequest(body, this.config.maxTrades);
    return this.accounts.whatIf(req.address, req.trades);
  }
}
