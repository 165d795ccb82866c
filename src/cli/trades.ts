/**
 * The what-if trade syntax of the command line: one argument per trade, fields separated by `:`,
 * mapped onto the API's trades (`src/api/accounts/trades.ts`), so `netmargin what-if` and
 * `POST /v1/margin/what-if` apply the same trades the same way.
 *
 * | Argument | API trade |
 * | --- | --- |
 * | `perp:<UNDERLYING>:<size>` (`+2.5` long, `-1` short) | `{ type: 'perp', underlying, size }` |
 * | `call:<UNDERLYING>:<expiry>:<strike>:<contracts>` (or `put:`; `-1` sells, `+1` buys) | `{ type: 'option', side, underlying, expirySec, strikeUsd, optionType, amount }` |
 * | `supply` (alias `deposit`), `withdraw`, `borrow`, `repay` `:<ASSET>:<amount>` | `{ type: 'aave', action, asset, amount }` |
 *
 * The expiry is `YYYY-MM-DD` (UTC) or unix seconds; a date is resolved against the expiries the
 * market lists (`resolveTrades`). Numbers are plain decimals (a sign only on sizes and contracts): no
 * exponent, no hex, no thousands separators. Refusals are `UsageError`s naming `trades[i].<field>`,
 * the API's field names.
 */
import type { Trade } from '../api/accounts/trades';
import type { MarketData } from '../risk/types';
import { UsageError } from './args';

const UNSIGNED = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/;
const SIGNED = /^[+-]?(0|[1-9][0-9]*)(\.[0-9]+)?$/;
const SYMBOL = /^[A-Za-z][A-Za-z0-9.]{0,15}$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

const AAVE_ACTIONS = {
  supply: 'supply',
  deposit: 'supply',
  withdraw: 'withdraw',
  borrow: 'borrow',
  repay: 'repay',
} as const;

/** A trade as typed: the API's trade, except that an option's expiry may still be a date. */
export type ParsedTrade =
  | { text: string; trade: Exclude<Trade, { type: 'option' }> }
  | {
      text: string;
      trade: Omit<Extract<Trade, { type: 'option' }>, 'expirySec'>;
      expiry: { date: string } | { sec: number };
    };

export const TRADE_SYNTAX =
  'perp:<UNDERLYING>:<±size>, call|put:<UNDERLYING>:<YYYY-MM-DD|unix sec>:<strike USD>:<±contracts>, ' +
  'supply|withdraw|borrow|repay:<ASSET>:<amount>';

function fail(field: string, problem: string, hint?: string): never {
  throw new UsageError(field, problem, { hint: hint ?? `Trades are written ${TRADE_SYNTAX}.` });
}

function symbol(field: string, v: string): string {
  if (!SYMBOL.test(v))
    fail(field, `"${v}" is not a symbol`, 'Write the symbol the market lists, e.g. ETH, BTC, USDC, WETH.');
  return v.toUpperCase();
}

/** A signed decimal without its `+` (the API's form), refusing zero. */
function signed(field: string, v: string): string {
  if (!SIGNED.test(v))
    fail(
      field,
      `"${v}" is not a plain signed decimal`,
      'Write sizes like +2.5 or -1: no exponent, hex or separators.',
    );
  if (/^[+-]?0(\.0+)?$/.test(v)) fail(field, 'is zero: the trade changes nothing', 'Give a non-zero size.');
  return v.replace(/^\+/, '');
}

function unsigned(field: string, v: string): string {
  if (!UNSIGNED.test(v))
    fail(
      field,
      `"${v}" is not a plain decimal`,
      'Write amounts like 1000 or 2.5: no sign, exponent, hex or separators.',
    );
  if (/^0(\.0+)?$/.test(v)) fail(field, 'is zero: the trade changes nothing', 'Give an amount above 0.');
  return v;
}

function expiry(field: string, v: string): { date: string } | { sec: number } {
  const d = DATE.exec(v);
  if (d) {
    const t = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]));
    if (new Date(t).toISOString().slice(0, 10) !== v) fail(field, `"${v}" is not a calendar date`);
    return { date: v };
  }
  if (/^[1-9][0-9]{0,10}$/.test(v)) return { sec: Number(v) };
  return fail(field, `"${v}" is not an expiry`, 'Write the expiry as YYYY-MM-DD (UTC) or unix seconds.');
}

/** Parses one trade argument; `index` names it in errors (`trades[0]`). */
export function parseTrade(text: string, index: number): ParsedTrade {
  const field = `trades[${index}]`;
  const parts = text.split(':');
  const kind = (parts[0] ?? '').toLowerCase();
  const want = (n: number, form: string): void => {
    if (parts.length !== n) fail(field, `"${text}" has ${parts.length} fields, expected ${n} (${form})`);
  };
  if (kind === 'perp') {
    want(3, 'perp:<UNDERLYING>:<±size>');
    return {
      text,
      trade: {
        type: 'perp',
        underlying: symbol(`${field}.underlying`, parts[1]!),
        size: signed(`${field}.size`, parts[2]!),
      },
    };
  }
  if (kind === 'call' || kind === 'put') {
    want(5, `${kind}:<UNDERLYING>:<expiry>:<strike>:<±contracts>`);
    const contracts = signed(`${field}.amount`, parts[4]!);
    return {
      text,
      trade: {
        type: 'option',
        side: contracts.startsWith('-') ? 'sell' : 'buy',
        underlying: symbol(`${field}.underlying`, parts[1]!),
        strikeUsd: unsigned(`${field}.strikeUsd`, parts[3]!),
        optionType: kind,
        amount: contracts.replace(/^-/, ''),
      },
      expiry: expiry(`${field}.expirySec`, parts[2]!),
    };
  }
  if (kind in AAVE_ACTIONS) {
    want(3, `${kind}:<ASSET>:<amount>`);
    return {
      text,
      trade: {
        type: 'aave',
        action: AAVE_ACTIONS[kind as keyof typeof AAVE_ACTIONS],
        asset: symbol(`${field}.asset`, parts[1]!),
        amount: unsigned(`${field}.amount`, parts[2]!),
      },
    };
  }
  return fail(field, `"${text}" does not start with a trade kind`);
}

function utcDate(sec: number): string {
  return new Date(sec * 1000).toISOString().slice(0, 10);
}

/**
 * The API's trades: option expiries given as a date become the one listed expiry on that UTC day
 * (none or several is refused, the hint listing them); seconds pass through for the API to check.
 */
export function resolveTrades(
  parsed: readonly ParsedTrade[],
  market: Pick<MarketData, 'volSurfaces'>,
): Trade[] {
  return parsed.map((p, i) => {
    if (!('expiry' in p)) return p.trade;
    const wanted = p.expiry;
    if ('sec' in wanted) return { ...p.trade, expirySec: wanted.sec };
    const listed = (market.volSurfaces[p.trade.underlying] ?? []).map((s) => s.expirySec);
    const matches = listed.filter((s) => utcDate(s) === wanted.date);
    if (matches.length !== 1)
      fail(
        `trades[${i}].expirySec`,
        matches.length === 0
          ? `no ${p.trade.underlying} expiry is listed on ${wanted.date}`
          : `${wanted.date} matches ${matches.length} expiries`,
        `Listed ${p.trade.underlying} expiries: ${listed.map((s) => `${utcDate(s)} (${s})`).join(', ') || 'none'}.`,
      );
    return { ...p.trade, expirySec: matches[0]! };
  });
}
