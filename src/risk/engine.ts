/**
 * Account-level risk engine, fast path: a market context prepared once per block (`market.ts`),
 * books of accounts prepared when positions change (`book.ts`), and an account step that only sums
 * `amount x row` over an account's positions (`step.ts`).
 *
 *   prepareMarket(snapshot, params)        -> MarketContext (EWMA, correlations, Monte Carlo paths,
 *                                             every instrument valued under every scenario)
 *   computeAccountRiskIn(ctx, account)     -> AccountRiskResult (one account, every output)
 *   prepareBook(ctx, accounts)             -> PreparedBook (positions validated once, struct of arrays)
 *   computeBookRisk(ctx, book)             -> BookRiskResult (MM, IM, MTM, equity, free collateral,
 *                                             shortfall, worst scenario per account, typed arrays)
 *   materializeAccountRisk(ctx, book, a)   -> AccountRiskResult of one account of a book
 *   computeAccountRisk(input, params)      -> one-shot: prepare + compute
 *
 * The model is the one of `reference.ts` (docs/risk-model.md, "Cross-underlying aggregation" and
 * "Fast engine"), and every result is the reference's bit for bit.
 */
import {
  allocateBookRiskResult,
  checkBookAgainst,
  prepareBook,
  type BookRiskResult,
  type PreparedBook,
} from './book';
import { prepareMarket, type MarketContext } from './market';
import { DEFAULT_RISK_PARAMS, validateRiskParams, type RiskParams } from './params';
import { AccountStep } from './step';
import type { AccountPositions, AccountRiskInput, AccountRiskResult } from './types';
import { checkInputHeader } from './validate';

export { completeMarket, prepareMarket, registerListedOptions, type MarketContext } from './market';
export { allocateBookRiskResult, prepareBook, type BookRiskResult, type PreparedBook } from './book';
export { AccountStep, largestK } from './step';

const steps = new WeakMap<MarketContext, AccountStep>();
function stepOf(ctx: MarketContext, positions: number): AccountStep {
  let s = steps.get(ctx);
  if (!s) {
    s = new AccountStep(ctx, Math.max(64, positions));
    steps.set(ctx, s);
  }
  return s;
}

/** Margin of one account against a prepared market. Throws `InvalidInputError` naming the field. */
export function computeAccountRiskIn(ctx: MarketContext, account: AccountPositions): AccountRiskResult {
  // One-account books are reused per context: the call allocates little besides its result.
  const book = prepareBook(ctx, [account], singleBooks.get(ctx));
  singleBooks.set(ctx, book);
  return stepOf(ctx, book.maxPositions).materialize(book, 0);
}
const singleBooks = new WeakMap<MarketContext, PreparedBook>();

/**
 * Compact margin figures of every account of a book: a prepared book (positions validated once,
 * the usual case at every block) or the accounts themselves (prepared here first).
 */
export function computeBookRisk(
  ctx: MarketContext,
  bookOrAccounts: PreparedBook | readonly AccountPositions[],
  out?: BookRiskResult,
): BookRiskResult {
  const book = isPreparedBook(bookOrAccounts) ? bookOrAccounts : prepareBook(ctx, bookOrAccounts);
  const result = out ?? allocateBookRiskResult(book.count);
  checkBookAgainst(ctx, book);
  const step = stepOf(ctx, book.maxPositions);
  for (let a = 0; a < book.count; a++) step.evaluate(book, a, result);
  return result;
}

function isPreparedBook(x: PreparedBook | readonly AccountPositions[]): x is PreparedBook {
  return !Array.isArray(x);
}

/** Full result of account a of a prepared book (what `computeAccountRiskIn` would return). */
export function materializeAccountRisk(ctx: MarketContext, book: PreparedBook, a: number): AccountRiskResult {
  checkBookAgainst(ctx, book);
  return stepOf(ctx, book.maxPositions).materialize(book, a);
}

/** Computes the account's margin (one shot: prepare the market, then the account step). */
export function computeAccountRisk(
  input: AccountRiskInput,
  params: RiskParams = DEFAULT_RISK_PARAMS,
): AccountRiskResult {
  validateRiskParams(params);
  checkInputHeader(input);
  return computeAccountRiskIn(prepareMarket(input, params), input);
}
