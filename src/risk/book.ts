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

/**
 * Validates accounts against the context and lays their positions out as arrays. `reuse`, a book
 * with room for them, is overwritten instead of allocating a new one (the one-account path).
 */
export function prepareBook(
  ctx: MarketContext,
  accounts: readonly AccountPositions[],
  reuse?: PreparedBook,
): PreparedBook {
  const count = accounts.length;
  let total = 0;
  for (const account of accounts) {
    checkAccountHeader(account);
    total += account.positions.length; // one normalized position per input position
  }
  const fits = reuse !== undefined && reuse.start.length >= count + 1 && reuse.kind.length >= total;
  const start = fits ? reuse.start : new Int32Array(count + 1);
  const kind = fits ? reuse.kind : new Uint8Array(total);
  const protocol = fits ? reuse.protocol : new Uint8Array(total);
  const und = fits ? reuse.und : new Int32Array(total);
  const inst = fits ? reuse.inst : new Int32Array(total);
  const amount = fits ? reuse.amount : new Float64Array(total);
  const isCollateral = fits ? reuse.isCollateral : new Uint8Array(total);
  const lastPriceUsd = fits ? reuse.lastPriceUsd : new Float64Array(total);
  const entryPriceUsd = fits ? reuse.entryPriceUsd : new Float64Array(total);
  const cashUsd = fits ? reuse.cashUsd : new Float64Array(total);
  const positionIndex = fits ? reuse.positionIndex : new Int32Array(total);
  const asset: string[] = fits ? reuse.asset : new Array<string>(total);
  let maxPositions = 0;
  let j = 0;
  accounts.forEach((account, a) => {
    start[a] = j;
    const positions = normalizePositions(account.positions, ctx.asOfSec, ctx.market, ctx.params);
    const names = [...new Set(positions.map((p) => p.underlying))].sort();
    raiseUnderlyingErrors(names.map((n) => ctx.checks.get(n)!));
    if (ctx.universeError !== null) throw ctx.universeError;
    maxPositions = Math.max(maxPositions, positions.length);
    for (const p of positions) {
      protocol[j] = PROTOCOLS.indexOf(p.protocol);
      und[j] = ctx.byName.get(p.underlying)!.u;
      positionIndex[j] = p.index;
      inst[j] = -1;
      amount[j] = 0;
      isCollateral[j] = 0;
      lastPriceUsd[j] = 0;
      entryPriceUsd[j] = 0;
      cashUsd[j] = 0;
      asset[j] = '';
      if (p.kind === 'linear') {
        kind[j] = KIND_LINEAR;
        amount[j] = p.quantity;
        isCollateral[j] = p.isCollateral ? 1 : 0;
        asset[j] = p.asset;
      } else if (p.kind === 'perp') {
        kind[j] = KIND_PERP;
        amount[j] = p.size;
        lastPriceUsd[j] = p.lastPriceUsd;
        entryPriceUsd[j] = p.entryPriceUsd;
        cashUsd[j] = p.cashUsd;
      } else {
        kind[j] = KIND_OPTION;
        inst[j] = optionInstrument(ctx, p);
        amount[j] = p.amount;
      }
      j++;
    }
  });
  start[count] = j;
  return {
    count,
    sources: accounts,
    start,
    kind,
    protocol,
    und,
    inst,
    amount,
    isCollateral,
    lastPriceUsd,
    entryPriceUsd,
    cashUsd,
    positionIndex,
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
