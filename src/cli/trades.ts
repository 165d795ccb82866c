/**
 * The what-if trade syntax: one argument per trade, fields separated by `:`.
 *
 * | Trade | Meaning |
 * | --- | --- |
 * | `perp:<UNDERLYING>:<size>` | open or add to a perp; signed size in units of the underlying (`+2.5` long, `-1` short), entered at the oracle price |
 * | `call:<UNDERLYING>:<expiry>:<strike>:<contracts>` (or `put:`) | buy (`+`) or sell (`-`) options; expiry `YYYY-MM-DD` (UTC) or unix seconds, one the market lists; strike in USD |
 * | `deposit:<ASSET>:<amount>` / `withdraw:<ASSET>:<amount>` | Aave collateral (`deposit:WETH:2` adds aWETH) |
 * | `borrow:<ASSET>:<amount>` / `repay:<ASSET>:<amount>` | Aave variable debt; repaid from funds outside the portfolio |
 *
 * Numbers are plain decimals (`1000`, `2.5`; a sign only where a size is signed): no exponent, no
 * hex, no thousands separators. Parsing (`parseTrade`) needs nothing but the text; applying
 * (`applyTrades`) needs the market, to find the asset's decimals, the oracle price and the listed
 * expiries. Both are pure and refuse with a `UsageError` naming the trade and the field.
 */
import { InvalidInputError } from '../common/errors';
import { formatUnits, parseDecimalUnits } from '../common/amount';
import type { FixedPoint, MarketData, OptionPosition, Position } from '../risk/types';
import { UsageError } from './args';

/** The venues' sizes and prices carry 18 decimals; option strikes 8 (as packed in Derive subIds). */
const SIZE_DECIMALS = 18;
const STRIKE_DECIMALS = 8;
const UNSIGNED = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/;
const SIGNED = /^[+-]?(0|[1-9][0-9]*)(\.[0-9]+)?$/;
const SYMBOL = /^[A-Za-z][A-Za-z0-9.]{0,15}$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export type LendingAction = 'deposit' | 'withdraw' | 'borrow' | 'repay';

export type Trade =
  | { kind: 'perp'; text: string; underlying: string; size: string }
  | {
      kind: 'option';
      text: string;
      optionType: 'call' | 'put';
      underlying: string;
      expiry: { date: string } | { sec: number };
      strike: string;
      contracts: string;
    }
  | { kind: 'lending'; text: string; action: LendingAction; asset: string; amount: string };

export const TRADE_SYNTAX =
  'perp:<UNDERLYING>:<±size>, call|put:<UNDERLYING>:<YYYY-MM-DD|unix sec>:<strike USD>:<±contracts>, ' +
  'deposit|withdraw|borrow|repay:<ASSET>:<amount>';

function fail(field: string, problem: string, hint?: string): never {
  throw new UsageError(field, problem, { hint: hint ?? `Trades are written ${TRADE_SYNTAX}.` });
}

function symbol(field: string, v: string): string {
  if (!SYMBOL.test(v))
    fail(field, `"${v}" is not a symbol`, 'Write the symbol the market lists, e.g. ETH, BTC, USDC, WETH.');
  return v;
}

function signed(field: string, v: string): string {
  if (!SIGNED.test(v))
    fail(
      field,
      `"${v}" is not a plain signed decimal`,
      'Write sizes like +2.5 or -1: no exponent, hex or separators.',
    );
  if (/^[+-]?0(\.0+)?$/.test(v)) fail(field, 'is zero: the trade changes nothing', 'Give a non-zero size.');
  return v;
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

/** Parses one trade argument; `index` names it in errors (`trade[0]`). */
export function parseTrade(text: string, index: number): Trade {
  const field = `trade[${index}]`;
  const parts = text.split(':');
  const kind = parts[0]?.toLowerCase();
  const want = (n: number, form: string): void => {
    if (parts.length !== n) fail(field, `"${text}" has ${parts.length} fields, expected ${n} (${form})`);
  };
  switch (kind) {
    case 'perp':
      want(3, 'perp:<UNDERLYING>:<±size>');
      return {
        kind: 'perp',
        text,
        underlying: symbol(`${field}.underlying`, parts[1]!),
        size: signed(`${field}.size`, parts[2]!),
      };
    case 'call':
    case 'put':
      want(5, `${kind}:<UNDERLYING>:<expiry>:<strike>:<±contracts>`);
      return {
        kind: 'option',
        text,
        optionType: kind,
        underlying: symbol(`${field}.underlying`, parts[1]!),
        expiry: expiry(`${field}.expiry`, parts[2]!),
        strike: unsigned(`${field}.strike`, parts[3]!),
        contracts: signed(`${field}.contracts`, parts[4]!),
      };
    case 'deposit':
    case 'withdraw':
    case 'borrow':
    case 'repay':
      want(3, `${kind}:<ASSET>:<amount>`);
      return {
        kind: 'lending',
        text,
        action: kind,
        asset: symbol(`${field}.asset`, parts[1]!),
        amount: unsigned(`${field}.amount`, parts[2]!),
      };
    default:
      return fail(field, `"${text}" does not start with a trade kind`, `Trades are written ${TRADE_SYNTAX}.`);
  }
}

/** A plain signed decimal in units with `decimals` places; excess precision is refused. */
function units(field: string, v: string, decimals: number): bigint {
  const negative = v.startsWith('-');
  const digits = v.replace(/^[+-]/, '');
  try {
    const n = parseDecimalUnits(field, digits, decimals);
    return negative ? -n : n;
  } catch (e) {
    if (e instanceof InvalidInputError) throw new UsageError(field, e.shortMessage.replace(`${field}: `, ''));
    throw e;
  }
}

/** The key of `name` in `record`, matched without regard to case. */
function lookup(field: string, name: string, keys: readonly string[], what: string): string {
  const hit = keys.find((k) => k.toLowerCase() === name.toLowerCase());
  if (hit === undefined)
    fail(field, `${what} "${name}" is not in the market`, `Known: ${[...keys].sort().join(', ') || 'none'}.`);
  return hit;
}

function utcDate(sec: number): string {
  return new Date(sec * 1000).toISOString().slice(0, 10);
}

function add(a: FixedPoint, delta: bigint): FixedPoint {
  return { raw: a.raw + delta, decimals: a.decimals };
}

/**
 * The account's positions with `trades` applied, in order. New positions are appended; an option
 * of a series held, Aave collateral or debt of an asset held, is changed in place (and dropped
 * when it reaches 0). Withdrawing or repaying more than held is refused.
 */
export function applyTrades(
  positions: readonly Position[],
  trades: readonly Trade[],
  market: Pick<MarketData, 'prices' | 'assets' | 'volSurfaces'>,
): Position[] {
  const out: Position[] = positions.map((p) => ({ ...p }));
  trades.forEach((t, i) => {
    const field = `trade[${i}]`;
    if (t.kind === 'perp') {
      const u = lookup(`${field}.underlying`, t.underlying, Object.keys(market.prices), 'underlying');
      const price = market.prices[u]!;
      if (price.decimals > SIZE_DECIMALS)
        fail(
          `${field}.underlying`,
          `${u}'s price has ${price.decimals} decimals, more than ${SIZE_DECIMALS}`,
        );
      const spot: FixedPoint = {
        raw: price.answer * 10n ** BigInt(SIZE_DECIMALS - price.decimals),
        decimals: SIZE_DECIMALS,
      };
      out.push({
        kind: 'perp',
        protocol: 'perps',
        underlying: u,
        size: { raw: units(`${field}.size`, t.size, SIZE_DECIMALS), decimals: SIZE_DECIMALS },
        entryPriceUsd: spot,
        lastPriceUsd: spot,
        accruedFundingUsd: { raw: 0n, decimals: SIZE_DECIMALS },
        venueMarginUsd: { raw: 0n, decimals: SIZE_DECIMALS },
      });
    } else if (t.kind === 'option') {
      const u = lookup(
        `${field}.underlying`,
        t.underlying,
        Object.keys(market.volSurfaces),
        'options underlying',
      );
      const listed = (market.volSurfaces[u] ?? []).map((s) => s.expirySec);
      const wanted = t.expiry;
      const matches = listed.filter((s) => ('sec' in wanted ? s === wanted.sec : utcDate(s) === wanted.date));
      if (matches.length !== 1)
        fail(
          `${field}.expiry`,
          matches.length === 0
            ? `no ${u} expiry ${'sec' in wanted ? wanted.sec : wanted.date} is listed`
            : `${'sec' in wanted ? wanted.sec : wanted.date} matches ${matches.length} expiries`,
          `Listed ${u} expiries: ${listed.map((s) => `${utcDate(s)} (${s})`).join(', ') || 'none'}.`,
        );
      const expirySec = matches[0]!;
      const strikeUsd: FixedPoint = {
        raw: units(`${field}.strike`, t.strike, STRIKE_DECIMALS),
        decimals: STRIKE_DECIMALS,
      };
      const delta = units(`${field}.contracts`, t.contracts, SIZE_DECIMALS);
      const at = out.findIndex(
        (p) =>
          p.kind === 'option' &&
          p.underlying === u &&
          p.optionType === t.optionType &&
          p.expirySec === expirySec &&
          p.amount.decimals === SIZE_DECIMALS &&
          p.strikeUsd.raw * 10n ** BigInt(STRIKE_DECIMALS) ===
            strikeUsd.raw * 10n ** BigInt(p.strikeUsd.decimals),
      );
      if (at >= 0) {
        const held = out[at] as OptionPosition;
        const next = add(held.amount, delta);
        if (next.raw === 0n) out.splice(at, 1);
        else out[at] = { ...held, amount: next };
      } else
        out.push({
          kind: 'option',
          protocol: 'options',
          underlying: u,
          optionType: t.optionType,
          strikeUsd,
          expirySec,
          amount: { raw: delta, decimals: SIZE_DECIMALS },
        });
    } else {
      const collateral = t.action === 'deposit' || t.action === 'withdraw';
      const wanted = collateral ? `a${t.asset}` : t.asset;
      const asset = lookup(`${field}.asset`, wanted, Object.keys(market.assets), 'asset');
      const info = market.assets[asset]!;
      if (collateral && !info.isAToken) fail(`${field}.asset`, `${asset} is not an Aave aToken`);
      const amount = units(`${field}.amount`, t.amount, info.decimals);
      const side = collateral ? 'collateral' : 'debt';
      const at = out.findIndex(
        (p) =>
          p.kind === 'lending' && p.side === side && p.asset === asset && p.amount.decimals === info.decimals,
      );
      const increase = t.action === 'deposit' || t.action === 'borrow';
      if (increase) {
        if (at >= 0) {
          const held = out[at]!;
          if (held.kind === 'lending') out[at] = { ...held, amount: add(held.amount, amount) };
        } else
          out.push({
            kind: 'lending',
            protocol: 'aave-v3',
            side,
            asset,
            amount: { raw: amount, decimals: info.decimals },
          });
      } else {
        const held = at >= 0 ? out[at]! : undefined;
        const have = held?.kind === 'lending' ? held.amount.raw : 0n;
        if (held?.kind !== 'lending' || amount > have)
          fail(
            `${field}.amount`,
            `${t.action} ${t.amount} ${t.asset} exceeds the ${side} held (${formatUnits(have, info.decimals)})`,
            `${t.action === 'repay' ? 'Repay' : 'Withdraw'} at most what the account holds.`,
          );
        const next = have - amount;
        if (next === 0n) out.splice(at, 1);
        else out[at] = { ...held, amount: { raw: next, decimals: info.decimals } };
      }
    }
  });
  return out;
}
