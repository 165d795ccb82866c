/** OpenAPI schema pieces shared by the API's controllers (raw JSON Schema for @nestjs/swagger). */
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { USD6_FIELDS } from '../../pipeline/classify';

/** A bigint on the wire: a decimal string. */
export const BIGINT_STRING: SchemaObject = { type: 'string', pattern: '^-?[0-9]+$', example: '1500000000' };

export const ERROR_BODY: SchemaObject = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'field', 'hint'],
      properties: {
        code: { type: 'string', example: 'INVALID_ADDRESS' },
        message: { type: 'string', example: 'address: "0x12" is not an address' },
        field: { type: 'string', nullable: true, example: 'address' },
        hint: { type: 'string', nullable: true },
      },
    },
  },
};

const HEALTH_CLASS: SchemaObject = {
  type: 'string',
  enum: ['healthy', 'warning', 'below-im', 'below-mm', 'liquidatable'],
};

/** USD6 figures (decimal strings) and the margin ratio, in every answer about an account's margin. */
const MARGIN_FIGURES: Record<string, SchemaObject> = {
  ...Object.fromEntries(USD6_FIELDS.map((k) => [k, BIGINT_STRING])),
  marginRatio: { type: 'number', nullable: true, description: 'Adjusted equity / MM (null when MM is 0).' },
};

/** The short form of a stored result (`recordSummary`, src/api/http/record-summary.ts), plus `extra`. */
export function recordSummarySchema(extra: Record<string, SchemaObject>): SchemaObject {
  return {
    type: 'object',
    properties: {
      blockNumber: BIGINT_STRING,
      blockHash: { type: 'string' },
      paramsVersion: { type: 'integer' },
      health: HEALTH_CLASS,
      ...MARGIN_FIGURES,
      stale: { type: 'boolean', description: 'Any input was stale (oracle, sequencer or indexer).' },
      computedAtMs: { type: 'integer' },
      ...extra,
    },
  };
}

/** The USD6 figures and classification every health answer carries. */
export const HEALTH_VIEW: SchemaObject = {
  type: 'object',
  description:
    'An account’s margin at one block. *Usd6 fields are USD with 6 decimals as decimal strings; breakdowns are the engine’s USD floats.',
  properties: {
    owner: { type: 'string' },
    blockNumber: BIGINT_STRING,
    blockHash: { type: 'string' },
    asOfSec: { type: 'integer' },
    positionsBlockNumber: BIGINT_STRING,
    params: { type: 'object', properties: { version: { type: 'integer' }, hash: { type: 'string' } } },
    inputHash: { type: 'string' },
    health: HEALTH_CLASS,
    ...MARGIN_FIGURES,
    stale: {
      type: 'object',
      properties: {
        any: { type: 'boolean' },
        oracle: { type: 'boolean' },
        sequencer: { type: 'boolean' },
        indexer: { type: 'boolean' },
        reasons: { type: 'array', items: { type: 'string' } },
      },
    },
    byProtocol: { type: 'array', items: { type: 'object' } },
    byUnderlying: { type: 'array', items: { type: 'object' } },
    greeks: { type: 'object' },
    worstScenario: { type: 'object', nullable: true },
    liquidationDistance: {
      type: 'object',
      properties: {
        downMovePct: { type: 'number', nullable: true },
        upMovePct: { type: 'number', nullable: true },
      },
    },
    components: { type: 'object' },
    collateral: { type: 'array', items: { type: 'object' } },
    addons: { type: 'object' },
    stressReplays: { type: 'array', items: { type: 'object' } },
    scenarioGrid: {
      type: 'object',
      nullable: true,
      description:
        'Portfolio P&L (USD) with every underlying moved by spotShockFractions[s] of its own spot shock under vol shock volShocks[v]: pnlUsd[v][s]. Null when the market, parameter set or positions of the result’s block are no longer held.',
      required: ['spotShockFractions', 'volShocks', 'pnlUsd', 'worst'],
      properties: {
        spotShockFractions: { type: 'array', items: { type: 'number' }, example: [-1, -0.5, 0, 0.5, 1] },
        volShocks: { type: 'array', items: { type: 'string' }, example: ['down', 'none', 'up'] },
        pnlUsd: { type: 'array', items: { type: 'array', items: { type: 'number' } } },
        worst: {
          type: 'object',
          description: 'The lowest cell (the first in row-major order on a tie).',
          properties: {
            volIndex: { type: 'integer' },
            spotIndex: { type: 'integer' },
            pnlUsd: { type: 'number' },
          },
        },
      },
    },
    computedAtMs: { type: 'integer' },
  },
};

const AMOUNT = (example: string, description: string): SchemaObject => ({
  type: 'string',
  pattern: '^-?(0|[1-9][0-9]*)(\\.[0-9]+)?$',
  example,
  description,
});

export const TRADE: SchemaObject = {
  oneOf: [
    {
      type: 'object',
      title: 'perp',
      required: ['type', 'underlying', 'size'],
      properties: {
        type: { type: 'string', enum: ['perp'] },
        underlying: { type: 'string', example: 'ETH' },
        size: AMOUNT('-1.5', 'Signed size in units of the underlying (long > 0, short < 0).'),
      },
    },
    {
      type: 'object',
      title: 'option',
      required: ['type', 'side', 'underlying', 'expirySec', 'strikeUsd', 'optionType', 'amount'],
      properties: {
        type: { type: 'string', enum: ['option'] },
        side: { type: 'string', enum: ['buy', 'sell'] },
        underlying: { type: 'string', example: 'ETH' },
        expirySec: { type: 'integer', description: 'A listed expiry (seconds since the epoch).' },
        strikeUsd: AMOUNT('3000', 'Strike in USD.'),
        optionType: { type: 'string', enum: ['call', 'put'] },
        amount: AMOUNT('2', 'Contracts (one per unit of underlying), positive.'),
      },
    },
    {
      type: 'object',
      title: 'aave',
      required: ['type', 'action', 'asset', 'amount'],
      properties: {
        type: { type: 'string', enum: ['aave'] },
        action: { type: 'string', enum: ['supply', 'withdraw', 'borrow', 'repay'] },
        asset: { type: 'string', example: 'USDC', description: 'The reserve’s symbol (not the aToken).' },
        amount: AMOUNT('2500', 'Token amount in human units (the reserve’s decimals), positive.'),
      },
    },
  ],
};

const FIXED: SchemaObject = {
  type: 'object',
  description: 'A fixed-point amount: exact units, their decimals, and the human decimal.',
  properties: {
    raw: { ...BIGINT_STRING, example: '1500000000000000000' },
    decimals: { type: 'integer', example: 18 },
    value: { type: 'string', example: '1.5' },
  },
};

export const POSITIONS_VIEW: SchemaObject = {
  type: 'object',
  properties: {
    owner: { type: 'string' },
    blockNumber: BIGINT_STRING,
    blockHash: { type: 'string' },
    protocols: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          protocol: { type: 'string', enum: ['aave-v3', 'perps', 'options'] },
          positions: {
            type: 'array',
            description:
              'Normalized positions (kind lending / perp / option / spot); every amount, size and price is a fixed-point object.',
            items: {
              type: 'object',
              properties: {
                kind: { type: 'string', enum: ['lending', 'perp', 'option', 'spot'] },
                protocol: { type: 'string' },
                asset: { type: 'string' },
                underlying: { type: 'string' },
                side: { type: 'string', enum: ['collateral', 'debt'] },
                amount: FIXED,
                size: FIXED,
              },
            },
          },
          attributes: { type: 'object', additionalProperties: { type: 'string' } },
        },
      },
    },
  },
};

export const HISTORY_VIEW: SchemaObject = {
  type: 'object',
  properties: {
    owner: { type: 'string' },
    records: {
      type: 'array',
      items: recordSummarySchema({ asOfSec: { type: 'integer' }, positionsBlockNumber: BIGINT_STRING }),
    },
    nextBefore: {
      ...BIGINT_STRING,
      nullable: true,
      description: 'Pass as `before` for the next page; null: no more.',
    },
  },
};

export const WHAT_IF_VIEW: SchemaObject = {
  type: 'object',
  properties: {
    owner: { type: 'string' },
    basis: {
      type: 'object',
      description: 'The market block and parameter set both answers were computed on.',
      properties: {
        blockNumber: BIGINT_STRING,
        blockHash: { type: 'string' },
        paramsVersion: { type: 'integer' },
        paramsHash: { type: 'string' },
        positionsBlockNumber: BIGINT_STRING,
        sameAsLatest: { type: 'boolean' },
      },
    },
    trades: { type: 'array', items: TRADE },
    now: HEALTH_VIEW,
    whatIf: HEALTH_VIEW,
    delta: {
      type: 'object',
      description: 'whatIf − now.',
      properties: {
        ...MARGIN_FIGURES,
        marginRatio: { type: 'number', nullable: true },
        health: {
          type: 'object',
          properties: { from: HEALTH_CLASS, to: HEALTH_CLASS },
        },
      },
    },
  },
};
