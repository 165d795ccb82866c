/**
 * Prospective trades for `POST /v1/margin/what-if`: parsed from the request (every refusal names
 * its field, e.g. `trades[2].size`), then applied to an account's stored positions. Pure: the
 * option premium is priced by a function the caller passes (the engine's mark on the same market).
 *
 * Amounts are human decimal strings in the asset's units (`"1.5"` ETH, `"2500"` USDC), converted
 * exactly with the asset's decimals; never a JSON number. What each trade does:
 * - `perp` (`underlying`, signed `size`: long > 0, short < 0): a new perp leg at the venue's index
 *   price (the account's existing perp on that underlying, else the oracle price), no funding, no
 *   venue margin. A size opposite to the held one closes it: the two legs' PnL is the close's PnL.
 * - `option` (`side` buy / sell, `underlying`, `expirySec`, `strikeUsd`, `optionType` call / put,
 *   `amount` contracts): a new option leg; the premium, at the engine's mark, is paid from or added
 *   to the options venue's cash (`deriveUSD`). A buy whose premium exceeds that cash is refused.
 * - `aave` (`action` supply / withdraw / borrow / repay, `asset` the reserve's symbol, `amount`):
 *   tokens move between Aave and the owner's wallet, which is not margined: supply adds aToken
 *   collateral, withdraw removes it, borrow adds debt, repay removes it. Withdrawing or repaying
 *   more than is held is refused.
 */
import type { Address } from 'viem';
import { InvalidInputError } from '../../common/errors';
import { OPTIONS_CASH_ASSET } from '../../indexer/adapters/options';
import { SUBID_STRIKE_DECIMALS } from '../../indexer/adapters/units';
import { toUsd6 } from '../../pipeline/classify';
import type {
  FixedPoint,
  LendingPosition,
  MarketData,
  OptionPosition,
  PerpPosition,
  Position,
  SpotPosition,
} from '../../risk/types';
import { assertBatchSize } from '../http/limits';
import {
  asArray,
  asObject,
  epochSeconds,
  oneOf,
  parseAddress,
  parseDecimalFormat,
  parseHumanAmount,
  parseSignedHumanAmount,
  symbolString,
} from '../http/input';

/** Perp sizes and option amounts: 18 decimals, as the venues' adapters read them. */
export const SIZE_DECIMALS = 18;

export const TRADE_TYPES = ['perp', 'option', 'aave'] as const;
export const AAVE_ACTIONS = ['supply', 'withdraw', 'borrow', 'repay'] as const;

export type Trade =
  | { type: 'perp'; underlying: string; size: string }
  | {
      type: 'option';
      side: 'buy' | 'sell';
      underlying: string;
      expirySec: number;
      strikeUsd: string;
      optionType: 'call' | 'put';
      amount: string;
    }
  | { type: 'aave'; action: (typeof AAVE_ACTIONS)[number]; asset: string; amount: string };

export interface WhatIfRequest {
  address: Address;
  trades: Trade[];
}

/** Parses and checks the request body; amounts' formats are checked here, their decimals at apply time. */
export function parseWhatIfRequest(body: unknown, maxTrades: number): WhatIfRequest {
  const o = asObject('body', body);
  const address = parseAddress('address', o.address);
  const list = asArray('trades', o.trades);
  assertBatchSize('trades', list, maxTrades);
  if (list.length === 0)
    throw new InvalidInputError('trades', 'is empty', {
      hint: 'Send at least one trade; GET /v1/accounts/{address}/health answers for no trade.',
    });
  return { address, trades: list.map((t, i) => parseTrade(`trades[${i}]`, t)) };
}

function parseTrade(f: string, value: unknown): Trade {
  const t = asObject(f, value);
  const type = oneOf(`${f}.type`, t.type, TRADE_TYPES);
  switch (type) {
    case 'perp':
      parseDecimalFormat(`${f}.size`, t.size, true);
      return { type, underlying: symbolString(`${f}.underlying`, t.underlying), size: t.size as string };
    case 'option':
      parseDecimalFormat(`${f}.strikeUsd`, t.strikeUsd, false);
      parseDecimalFormat(`${f}.amount`, t.amount, false);
      return {
        type,
        side: oneOf(`${f}.side`, t.side, ['buy', 'sell'] as const),
        underlying: symbolString(`${f}.underlying`, t.underlying),
        expirySec: epochSeconds(`${f}.expirySec`, t.expirySec),
        strikeUsd: t.strikeUsd as string,
        optionType: oneOf(`${f}.optionType`, t.optionType, ['call', 'put'] as const),
        amount: t.amount as string,
      };
    case 'aave':
      parseDecimalFormat(`${f}.amount`, t.amount, false);
      return {
        type,
        action: oneOf(`${f}.action`, t.action, AAVE_ACTIONS),
        asset: symbolString(`${f}.asset`, t.asset),
        amount: t.amount as string,
      };
  }
}

/** Values an option leg at the market's mark (USD, long > 0); the engine on the same market context. */
export type OptionMark = (leg: OptionPosition) => number;

/** The positions after `trades`, in order; `positions` is not modified. */
export function applyTrades(
  positions: readonly Position[],
  trades: readonly Trade[],
  market: Pick<MarketData, 'prices' | 'assets' | 'volSurfaces'>,
  markOption: OptionMark,
): Position[] {
  const out: Position[] = positions.map((p) => ({ ...p }));
  trades.forEach((t, i) => {
    const f = `trades[${i}]`;
    if (t.type === 'perp') out.push(perpLeg(f, t, out, market));
    else if (t.type === 'option') applyOption(f, t, out, market, markOption);
    else applyAave(f, t, out, market);
  });
  return out.filter((p) => amountOf(p) !== 0n);
}

function perpLeg(
  f: string,
  t: Extract<Trade, { type: 'perp' }>,
  positions: readonly Position[],
  market: Pick<MarketData, 'prices'>,
): PerpPosition {
  const size = parseSignedHumanAmount(`${f}.size`, t.size, SIZE_DECIMALS);
  const held = positions.find((p): p is PerpPosition => p.kind === 'perp' && p.underlying === t.underlying);
  const feed = market.prices[t.underlying];
  const price: FixedPoint | undefined =
    held?.lastPriceUsd ?? (feed ? { raw: feed.answer, decimals: feed.decimals } : undefined);
  if (!price)
    throw new InvalidInputError(`${f}.underlying`, `no price for "${t.underlying}"`, {
      hint: `Use one of ${Object.keys(market.prices).sort().join(', ')}.`,
    });
  const zero: FixedPoint = { raw: 0n, decimals: SIZE_DECIMALS };
  return {
    kind: 'perp',
    protocol: 'perps',
    underlying: t.underlying,
    size: { raw: size, decimals: SIZE_DECIMALS },
    entryPriceUsd: price,
    lastPriceUsd: price,
    accruedFundingUsd: zero,
    venueMarginUsd: zero,
  };
}

function applyOption(
  f: string,
  t: Extract<Trade, { type: 'option' }>,
  out: Position[],
  market: Pick<MarketData, 'volSurfaces'>,
  markOption: OptionMark,
): void {
  const slices = market.volSurfaces[t.underlying];
  if (!slices || slices.length === 0)
    throw new InvalidInputError(`${f}.underlying`, `no option listed on "${t.underlying}"`, {
      hint: `Use one of ${Object.keys(market.volSurfaces).sort().join(', ') || '(none listed)'}.`,
    });
  if (!slices.some((s) => s.expirySec === t.expirySec))
    throw new InvalidInputError(
      `${f}.expirySec`,
      `${t.expirySec} is not a listed expiry of ${t.underlying}`,
      {
        hint: `Listed: ${slices.map((s) => s.expirySec).join(', ')}.`,
      },
    );
  const strike = parseHumanAmount(`${f}.strikeUsd`, t.strikeUsd, SUBID_STRIKE_DECIMALS);
  if (strike === 0n)
    throw new InvalidInputError(`${f}.strikeUsd`, 'is zero', { hint: 'Send a positive strike.' });
  const amount = parseHumanAmount(`${f}.amount`, t.amount, SIZE_DECIMALS);
  if (amount === 0n)
    throw new InvalidInputError(`${f}.amount`, 'is zero', { hint: 'Send a positive amount.' });
  const leg: OptionPosition = {
    kind: 'option',
    protocol: 'options',
    underlying: t.underlying,
    optionType: t.optionType,
    strikeUsd: { raw: strike, decimals: SUBID_STRIKE_DECIMALS },
    expirySec: t.expirySec,
    amount: { raw: t.side === 'sell' ? -amount : amount, decimals: SIZE_DECIMALS },
  };
  // The premium at the mark: the leg's value leaves (buy) or enters (sell) the venue's cash.
  const cashDelta = -toUsd6(markOption(leg), `${f}.premium`) * 10n ** BigInt(SIZE_DECIMALS - 6);
  const cash = out.find(
    (p): p is SpotPosition => p.kind === 'spot' && p.protocol === 'options' && p.asset === OPTIONS_CASH_ASSET,
  );
  const held = cash ? rescale(cash.amount, SIZE_DECIMALS) : 0n;
  if (held + cashDelta < 0n)
    throw new InvalidInputError(
      f,
      `the premium of ${formatUsd18(-cashDelta)} USD exceeds the options venue cash of ${formatUsd18(held)} USD`,
      {
        code: 'INSUFFICIENT_CASH',
        hint: 'Deposit cash at the options venue first, or buy fewer contracts.',
      },
    );
  if (cash) cash.amount = { raw: held + cashDelta, decimals: SIZE_DECIMALS };
  else
    out.push({
      kind: 'spot',
      protocol: 'options',
      asset: OPTIONS_CASH_ASSET,
      amount: { raw: cashDelta, decimals: SIZE_DECIMALS },
    });
  out.push(leg);
}

function applyAave(
  f: string,
  t: Extract<Trade, { type: 'aave' }>,
  out: Position[],
  market: Pick<MarketData, 'assets'>,
): void {
  const info = market.assets[t.asset];
  const aToken = `a${t.asset}`;
  if (!info || info.isAToken || !market.assets[aToken])
    throw new InvalidInputError(`${f}.asset`, `"${t.asset}" is not an Aave reserve`, {
      hint: `Use one of ${Object.keys(market.assets)
        .filter((a) => market.assets[`a${a}`] && !market.assets[a]!.isAToken)
        .sort()
        .join(', ')}.`,
    });
  const amount = parseHumanAmount(`${f}.amount`, t.amount, info.decimals);
  if (amount === 0n)
    throw new InvalidInputError(`${f}.amount`, 'is zero', { hint: 'Send a positive amount.' });
  const decimals =
    t.action === 'supply' || t.action === 'withdraw' ? market.assets[aToken]!.decimals : info.decimals;
  const collateral = (p: Position): p is LendingPosition =>
    p.kind === 'lending' && p.side === 'collateral' && p.asset === aToken;
  const idle = (p: Position): p is SpotPosition =>
    p.kind === 'spot' && p.protocol === 'aave-v3' && p.asset === aToken;
  const debt = (p: Position): p is LendingPosition =>
    p.kind === 'lending' && p.side === 'debt' && p.asset === t.asset;
  switch (t.action) {
    case 'supply': {
      const leg = out.find(collateral);
      if (leg) leg.amount = { raw: rescale(leg.amount, decimals) + amount, decimals };
      else
        out.push({
          kind: 'lending',
          protocol: 'aave-v3',
          side: 'collateral',
          asset: aToken,
          amount: { raw: amount, decimals },
        });
      return;
    }
    case 'borrow': {
      const leg = out.find(debt);
      if (leg) leg.amount = { raw: rescale(leg.amount, decimals) + amount, decimals };
      else
        out.push({
          kind: 'lending',
          protocol: 'aave-v3',
          side: 'debt',
          asset: t.asset,
          amount: { raw: amount, decimals },
        });
      return;
    }
    case 'withdraw': {
      const legs = [...out.filter(collateral), ...out.filter(idle)];
      const held = legs.reduce((s, p) => s + rescale(p.amount, decimals), 0n);
      if (amount > held)
        throw new InvalidInputError(
          `${f}.amount`,
          `withdraws ${t.amount} ${aToken}, the account holds ${fmt(held, decimals)}`,
          {
            code: 'INSUFFICIENT_BALANCE',
            hint: 'Withdraw at most the supplied balance.',
          },
        );
      let left = amount;
      for (const p of legs) {
        const have = rescale(p.amount, decimals);
        const take = have < left ? have : left;
        p.amount = { raw: have - take, decimals };
        left -= take;
      }
      return;
    }
    case 'repay': {
      const leg = out.find(debt);
      const held = leg ? rescale(leg.amount, decimals) : 0n;
      if (!leg || amount > held)
        throw new InvalidInputError(
          `${f}.amount`,
          `repays ${t.amount} ${t.asset}, the debt is ${fmt(held, decimals)}`,
          {
            code: 'INSUFFICIENT_DEBT',
            hint: 'Repay at most the outstanding debt.',
          },
        );
      leg.amount = { raw: held - amount, decimals };
      return;
    }
  }
}

function amountOf(p: Position): bigint {
  switch (p.kind) {
    case 'perp':
      return p.size.raw;
    default:
      return p.amount.raw;
  }
}

/** `v` with `decimals` places (exact when scaling up; a position's decimals never exceed the asset's). */
function rescale(v: FixedPoint, decimals: number): bigint {
  if (v.decimals === decimals) return v.raw;
  if (v.decimals < decimals) return v.raw * 10n ** BigInt(decimals - v.decimals);
  return v.raw / 10n ** BigInt(v.decimals - decimals);
}

function fmt(raw: bigint, decimals: number): string {
  const base = 10n ** BigInt(decimals);
  const frac = (raw % base).toString().padStart(decimals, '0').replace(/0+$/, '');
  return `${raw / base}${frac ? `.${frac}` : ''}`;
}

function formatUsd18(raw: bigint): string {
  return fmt(raw / 10n ** 12n, 6);
}
