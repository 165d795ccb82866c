/**
 * The portfolio scenario grid: the account's total P&L when every underlying it holds moves by the
 * same fraction of its own spot shock, under each vol shock of the parameter set. It is the
 * cross-underlying picture of the per-underlying PMRM_2 grids (docs/risk-model.md, "Portfolio
 * scenario grid"), for display; no margin figure reads it.
 *
 * Every cell is a sum of per-underlying scenario P&Ls the account step computes for the margin
 * (`AccountStep.underlyingScenarioPnls`: the same instrument tables, the same arithmetic, the MM
 * loss factor applied), added in the fixed order of the underlyings (sorted by name). Nothing is
 * priced here, and no margin output changes.
 *
 * Relation to the margin: a cell adds, per underlying, one scenario of that underlying's own grid,
 * and the underlying's worst P&L (`worstPnlUsd`, basis and skew scenarios included) is at most that
 * scenario's. Hence every cell, the worst one included, is ≥ −`components.undiversifiedLossUsd`
 * (the sum of the standalone losses, max(0, −worst P&L) each). Equality needs every underlying's
 * own worst case in the same cell; otherwise the grid's worst cell is less severe, which is how a
 * hedged book shows up here. It is not bounded by the aggregated loss: correlation offsets and the
 * grid's common moves are different models of diversification.
 */
import { prepareBook, type PreparedBook } from './book';
import type { MarketContext } from './market';
import { AccountStep } from './step';
import type { AccountPositions } from './types';

export interface ScenarioGrid {
  /** Spot moves, as fractions of each underlying's own full spot shock (the parameter set's order). */
  spotShockFractions: number[];
  /** Vol shocks of the parameter set, in its order. */
  volShocks: string[];
  /** `pnlUsd[v][s]`: portfolio P&L (USD) at `spotShockFractions[s]` under `volShocks[v]`. */
  pnlUsd: number[][];
  /** The lowest cell (the first in row-major order on a tie). */
  worst: { volIndex: number; spotIndex: number; pnlUsd: number };
}

const steps = new WeakMap<MarketContext, AccountStep>();
const books = new WeakMap<MarketContext, PreparedBook>();

/**
 * The scenario grid of one account against a prepared market. Throws what `computeAccountRiskIn`
 * throws for the same account (an `InvalidInputError` naming the field, a stale or missing price).
 */
export function computeScenarioGrid(ctx: MarketContext, account: AccountPositions): ScenarioGrid {
  const book = prepareBook(ctx, [account], books.get(ctx));
  books.set(ctx, book);
  let step = steps.get(ctx);
  if (!step) {
    step = new AccountStep(ctx, Math.max(64, book.maxPositions));
    steps.set(ctx, step);
  }
  const perUnderlying = step.underlyingScenarioPnls(book, 0);
  const { spotShockFractions, volShocks } = ctx.params.scenario;
  const nV = volShocks.length;
  // `scenarioGrid` (reference.ts) lists fraction-major, vol shock inner: cell (v, s) is s * nV + v
  // in every underlying's grid.
  const pnlUsd = volShocks.map((_, v) =>
    spotShockFractions.map((_f, s) => {
      let total = 0;
      for (const { pnlUsd: row } of perUnderlying) total += row[s * nV + v]!;
      return total;
    }),
  );
  let worst = { volIndex: 0, spotIndex: 0, pnlUsd: pnlUsd[0]![0]! };
  pnlUsd.forEach((row, v) =>
    row.forEach((x, s) => {
      if (x < worst.pnlUsd) worst = { volIndex: v, spotIndex: s, pnlUsd: x };
    }),
  );
  return { spotShockFractions: [...spotShockFractions], volShocks: [...volShocks], pnlUsd, worst };
}
