/**
 * A book of accounts laid out for the account step: positions validated and converted once
 * (bigint token units to float64, options resolved to the market context's instrument ids) into a
 * struct of arrays, and the compact per-account result arrays of `computeBookRisk`. Positions
 * change on trades, not on every block, so a book is prepared once and evaluated at every block
 * against that block's market context (prepared with the same option listing).
 */
import { InvalidInputError } from '../common/errors';
import { optionInstrument, type MarketContext } from './market';
import type { AccountPositions, Protocol } from './types';
import { checkAccountHeader, normalizePositions, raiseUnderlyingErrors } from './validate';

/** Protocols in sorted order; a position's protocol is stored as its index here. */
export const PROTOCOLS: readonly Protocol[] = ['aave-v3', 'options', 'perps', 'wallet'];
export const KIND_LINEAR = 0;
export const KIND_PERP = 1;
export const KIND_OPTION = 2;

/** Validated positions of many accounts, struct of arrays; `start[a]..start[a+1]` are account a's. */
export interface PreparedBook {
  count: number;
  /** The inputs (kept by reference, for hashes and collateral lines). */
  sources: readonly AccountPositions[];
  start: Int32Array;
  kind: Uint8Array;
  protocol: Uint8Array;
  /** Universe index of the position's underlying. */
  und: Int32Array;
  /** Option instrument id in the context, -1 for linear positions and perps. */
  inst: Int32Array;
  /** Linear: signed quantity; perp: signed size; option: signed contracts. */
  amount: Float64Array;
  isCollateral: Uint8Array;
  lastPriceUsd: Float64Array;
  entryPriceUsd: Float64Array;
  cashUsd: Float64Array;
  /** Index of the position in its account's input. */
  positionIndex: Int32Array;
  /** Asset symbol of linear positions, '' otherwise. */
  asset: string[];
  maxPositions: number;
  /**
   * The context's option keys (shared array) and how many existed when the book was prepared: ids
   * are only valid against a context with the same listing.
   */
  optionKeys: readonly string[];
  optionCount: number;
}

/** Compact per-account results of `computeBookRisk`. */
export interface BookRiskResult {
  count: number;
  mtmUsd: Float64Array;
  haircutUsd: Float64Array;
  adjustedEquityUsd: Float64Array;
  mmUsd: Float64Array;
  imUsd: Float64Array;
  freeCollateralUsd: Float64Array;
  shortfallUsd: Float64Array;
  scenarioMarginUsd: Float64Array;
  coreMarginUsd: Float64Array;
  /** Universe index of the worst scenario's underlying, -1 if no loss. */
  worstUnderlying: Int32Array;
  /** Index in that underlying's grid; the grid length means PMRM_2's basis contingency. */
  worstScenario: Int32Array;
  worstPnlUsd: Float64Array;
  /** 1 where the VaR / ES floors were computed, 0 where the exact bound showed they do not bind. */
  floorsComputed: Uint8Array;
}

/** Validates accounts against the context and lays their positions out as arrays. */
export function prepareBook(ctx: MarketContext, accounts: readonly AccountPositions[]): PreparedBook {
  const count = accounts.length;
  const start = new Int32Array(count + 1);
  const kind: number[] = [];
  const protocol: number[] = [];
  const und: number[] = [];
  const inst: number[] = [];
  const amount: number[] = [];
  const isCollateral: number[] = [];
  const last: number[] = [];
  const entry: number[] = [];
  const cash: number[] = [];
  const positionIndex: number[] = [];
  const asset: string[] = [];
  let maxPositions = 0;
  accounts.forEach((account, a) => {
    start[a] = kind.length;
    checkAccountHeader(account);
    const positions = normalizePositions(account.positions, ctx.asOfSec, ctx.market, ctx.params);
    const names = [...new Set(positions.map((p) => p.underlying))].sort();
    raiseUnderlyingErrors(names.map((n) => ctx.checks.get(n)!));
    if (ctx.universeError !== null) throw ctx.universeError;
    maxPositions = Math.max(maxPositions, positions.length);
    for (const p of positions) {
      protocol.push(PROTOCOLS.indexOf(p.protocol));
      und.push(ctx.byName.get(p.underlying)!.u);
      positionIndex.push(p.index);
      if (p.kind === 'linear') {
        kind.push(KIND_LINEAR);
        inst.push(-1);
        amount.push(p.quantity);
        isCollateral.push(p.isCollateral ? 1 : 0);
        last.push(0);
        entry.push(0);
        cash.push(0);
        asset.push(p.asset);
      } else if (p.kind === 'perp') {
        kind.push(KIND_PERP);
        inst.push(-1);
        amount.push(p.size);
        isCollateral.push(0);
        last.push(p.lastPriceUsd);
        entry.push(p.entryPriceUsd);
        cash.push(p.cashUsd);
        asset.push('');
      } else {
        kind.push(KIND_OPTION);
        inst.push(optionInstrument(ctx, p));
        amount.push(p.amount);
        isCollateral.push(0);
        last.push(0);
        entry.push(0);
        cash.push(0);
        asset.push('');
      }
    }
  });
  start[count] = kind.length;
  return {
    count,
    sources: accounts,
    start,
    kind: Uint8Array.from(kind),
    protocol: Uint8Array.from(protocol),
    und: Int32Array.from(und),
    inst: Int32Array.from(inst),
    amount: Float64Array.from(amount),
    isCollateral: Uint8Array.from(isCollateral),
    lastPriceUsd: Float64Array.from(last),
    entryPriceUsd: Float64Array.from(entry),
    cashUsd: Float64Array.from(cash),
    positionIndex: Int32Array.from(positionIndex),
    asset,
    maxPositions,
    optionKeys: ctx.optionKeys,
    optionCount: ctx.optionKeys.length,
  };
}

/** Refuses a book whose option ids mean other instruments in this context. */
export function checkBookAgainst(ctx: MarketContext, book: PreparedBook): void {
  if (book.optionKeys === ctx.optionKeys) return;
  const n = book.optionCount;
  if (ctx.optionKeys.length < n || book.optionKeys.some((k, i) => i < n && k !== ctx.optionKeys[i])) {
    throw new InvalidInputError(
      'book',
      'was prepared against a market context with a different option listing',
      {
        hint: 'Prepare the market with the same listedOptions, in the same order, or prepare the book again.',
      },
    );
  }
}

export function allocateBookRiskResult(count: number): BookRiskResult {
  return {
    count,
    mtmUsd: new Float64Array(count),
    haircutUsd: new Float64Array(count),
    adjustedEquityUsd: new Float64Array(count),
    mmUsd: new Float64Array(count),
    imUsd: new Float64Array(count),
    freeCollateralUsd: new Float64Array(count),
    shortfallUsd: new Float64Array(count),
    scenarioMarginUsd: new Float64Array(count),
    coreMarginUsd: new Float64Array(count),
    worstUnderlying: new Int32Array(count),
    worstScenario: new Int32Array(count),
    worstPnlUsd: new Float64Array(count),
    floorsComputed: new Uint8Array(count),
  };
}
