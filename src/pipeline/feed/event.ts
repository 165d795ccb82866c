/**
 * Building a shortfall event from a stored risk result, and its wire form.
 *
 * Pure: the seizable amounts and the price rounds are read elsewhere (`FeedChainReader`) and passed
 * in. Collateral by asset comes from the engine result inside the record (its float USD figures
 * become USD6 through the pipeline's one conversion, `toUsd6`). On the wire (SSE `data:`) the event
 * is JSON with every bigint as a decimal string; `parseWireEvent` turns those back into bigints.
 */
import { getAddress, type Address, type Hex } from 'viem';
import { InvalidInputError } from '../../common/errors';
import { toUsd6 } from '../classify';
import { HEALTH_CLASSES, type HealthClass, type RiskRecord, type ShortfallEvent } from '../types';
import type { CrossingReason } from './rule';

/** What the feed publishes: the shared `ShortfallEvent` plus why and when it was published. */
export interface FeedEvent extends ShortfallEvent {
  reason: CrossingReason;
  /** Wall-clock time the event was added to the stream (ms since epoch). */
  publishedAtMs: number;
}

/** The event before Redis gives it an id. */
export type FeedEventDraft = Omit<FeedEvent, 'id'>;

export type SeizableAmount = ShortfallEvent['seizable'][number];
export type PriceRound = ShortfallEvent['prices'][string];

/** The engine's collateral lines summed per asset: value after haircut and the haircut, USD6. */
export function collateralByAsset(result: RiskRecord['result']): ShortfallEvent['collateral'] {
  const byAsset = new Map<string, { valueUsd: number; haircutUsd: number }>();
  for (const line of result.collateral) {
    const sum = byAsset.get(line.asset) ?? { valueUsd: 0, haircutUsd: 0 };
    sum.valueUsd += line.valueUsd;
    sum.haircutUsd += line.haircutUsd;
    byAsset.set(line.asset, sum);
  }
  return [...byAsset.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([asset, s]) => ({
      asset,
      valueUsd6: toUsd6(s.valueUsd - s.haircutUsd, `collateral.${asset}.valueUsd`),
      haircutUsd6: toUsd6(s.haircutUsd, `collateral.${asset}.haircutUsd`),
    }));
}

export function buildFeedEvent(
  next: RiskRecord,
  previous: RiskRecord | undefined,
  reason: CrossingReason,
  chain: { seizable: SeizableAmount[]; prices: Record<string, PriceRound> },
  publishedAtMs: number,
): FeedEventDraft {
  return {
    owner: next.owner,
    health: next.health,
    previousHealth: previous?.health ?? null,
    blockNumber: next.blockNumber,
    blockHash: next.blockHash,
    imUsd6: next.imUsd6,
    mmUsd6: next.mmUsd6,
    adjustedEquityUsd6: next.adjustedEquityUsd6,
    shortfallUsd6: next.shortfallUsd6,
    collateral: collateralByAsset(next.result),
    seizable: chain.seizable,
    prices: chain.prices,
    stale: next.stale,
    paramsHash: next.paramsHash,
    inputHash: next.inputHash,
    reason,
    publishedAtMs,
  };
}

/** JSON with bigints as decimal strings (the SSE `data:` line). */
export function toWireJson(event: FeedEvent): string {
  return JSON.stringify(event, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

const DECIMAL = /^-?(0|[1-9][0-9]*)$/;

function big(value: unknown, field: string): bigint {
  if (typeof value !== 'string' || !DECIMAL.test(value))
    throw new InvalidInputError(field, `${JSON.stringify(value)} is not a decimal integer string`, {
      hint: 'The feed sends every amount as a decimal string; check the server version.',
    });
  return BigInt(value);
}

function obj(value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new InvalidInputError(field, 'is not an object');
  return value as Record<string, unknown>;
}

function arr(value: unknown, field: string): Record<string, unknown>[] {
  if (!Array.isArray(value)) throw new InvalidInputError(field, 'is not an array');
  return value.map((v, i) => obj(v, `${field}[${i}]`));
}

function health(value: unknown, field: string): HealthClass {
  if (!HEALTH_CLASSES.includes(value as HealthClass))
    throw new InvalidInputError(field, `${JSON.stringify(value)} is not a health class`);
  return value as HealthClass;
}

/** Parses one SSE `data:` payload back into a `FeedEvent` (bigints restored, owner checksummed). */
export function parseWireEvent(json: string): FeedEvent {
  const o = obj(JSON.parse(json) as unknown, 'event');
  const prices: Record<string, PriceRound> = {};
  for (const [name, raw] of Object.entries(obj(o.prices, 'prices'))) {
    const p = obj(raw, `prices.${name}`);
    prices[name] = {
      answer: big(p.answer, `prices.${name}.answer`),
      decimals: Number(p.decimals),
      updatedAtSec: Number(p.updatedAtSec),
      roundId: big(p.roundId, `prices.${name}.roundId`),
    };
  }
  return {
    id: String(o.id),
    owner: getAddress(String(o.owner)),
    health: health(o.health, 'health'),
    previousHealth: o.previousHealth === null ? null : health(o.previousHealth, 'previousHealth'),
    blockNumber: big(o.blockNumber, 'blockNumber'),
    blockHash: String(o.blockHash) as Hex,
    imUsd6: big(o.imUsd6, 'imUsd6'),
    mmUsd6: big(o.mmUsd6, 'mmUsd6'),
    adjustedEquityUsd6: big(o.adjustedEquityUsd6, 'adjustedEquityUsd6'),
    shortfallUsd6: big(o.shortfallUsd6, 'shortfallUsd6'),
    collateral: arr(o.collateral, 'collateral').map((c, i) => ({
      asset: String(c.asset),
      valueUsd6: big(c.valueUsd6, `collateral[${i}].valueUsd6`),
      haircutUsd6: big(c.haircutUsd6, `collateral[${i}].haircutUsd6`),
    })),
    seizable: arr(o.seizable, 'seizable').map((s, i) => ({
      token: getAddress(String(s.token)) as Address,
      symbol: String(s.symbol),
      amount: big(s.amount, `seizable[${i}].amount`),
      decimals: Number(s.decimals),
    })),
    prices,
    stale: o.stale as FeedEvent['stale'],
    paramsHash: String(o.paramsHash) as Hex,
    inputHash: String(o.inputHash) as Hex,
    reason: String(o.reason) as CrossingReason,
    publishedAtMs: Number(o.publishedAtMs),
  };
}
