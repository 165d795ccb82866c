/**
 * Full revaluation of a normalized account under joint spot moves, a volatility multiplier and the
 * passage of time — the one pricing loop shared by Monte Carlo and historical VaR, stress replays
 * and the liquidation-distance search. Options are priced with the shared Black-76 (`../math`) at
 * their smile vol (sticky strike), forward moving with spot.
 *
 * The book is laid out in typed arrays once so the hot loop allocates nothing.
 */
import { black76PricesUnchecked, black76Greeks, SECONDS_PER_YEAR } from '../math';
import type { Greeks, NormalizedAccount } from '../types';

export interface RevaluationBook {
  n: number;
  spotUsd: Float64Array;
  /** Net units of spot-like exposure per underlying (collateral + spot - debt). */
  linearQty: Float64Array;
  /** Held collateral units per underlying (haircut base). */
  collateralQty: Float64Array;
  cashUsd: number;
  perpU: Int32Array;
  perpSize: Float64Array;
  perpLast: Float64Array;
  perpEntry: Float64Array;
  optU: Int32Array;
  optIsCall: Uint8Array;
  optStrike: Float64Array;
  optAmount: Float64Array;
  optYears: Float64Array;
  optForward: Float64Array;
  optRate: Float64Array;
  optVol: Float64Array;
}

export function buildBook(account: NormalizedAccount): RevaluationBook {
  const n = account.underlyings.length;
  const index = new Map(account.underlyings.map((u, i) => [u.name, i]));
  const perps = account.positions.filter((p) => p.kind === 'perp');
  const opts = account.positions.filter((p) => p.kind === 'option');
  const book: RevaluationBook = {
    n,
    spotUsd: Float64Array.from(account.underlyings.map((u) => u.spotUsd)),
    linearQty: new Float64Array(n),
    collateralQty: new Float64Array(n),
    cashUsd: 0,
    perpU: Int32Array.from(perps.map((p) => index.get(p.underlying)!)),
    perpSize: Float64Array.from(perps.map((p) => p.size)),
    perpLast: Float64Array.from(perps.map((p) => p.lastPriceUsd)),
    perpEntry: Float64Array.from(perps.map((p) => p.entryPriceUsd)),
    optU: Int32Array.from(opts.map((p) => index.get(p.underlying)!)),
    optIsCall: Uint8Array.from(opts.map((p) => (p.isCall ? 1 : 0))),
    optStrike: Float64Array.from(opts.map((p) => p.strikeUsd)),
    optAmount: Float64Array.from(opts.map((p) => p.amount)),
    optYears: Float64Array.from(opts.map((p) => p.expiryYears)),
    optForward: Float64Array.from(opts.map((p) => p.forwardUsd)),
    optRate: Float64Array.from(opts.map((p) => p.rateAnnual)),
    optVol: Float64Array.from(opts.map((p) => p.volAnnual)),
  };
  for (const p of account.positions) {
    if (p.kind === 'linear') {
      const i = index.get(p.underlying)!;
      book.linearQty[i] = book.linearQty[i]! + p.quantity;
      if (p.isCollateral) book.collateralQty[i] = book.collateralQty[i]! + p.quantity;
    } else if (p.kind === 'perp') {
      book.cashUsd += p.cashUsd;
    }
  }
  return book;
}

/**
 * Account value with spot of underlying i multiplied by `spotMult[i]`, every implied vol multiplied by
 * `volMult`, and `elapsedYears` of time passed (options past expiry are worth intrinsic).
 */
export function bookValue(b: RevaluationBook, spotMult: Float64Array, volMult = 1, elapsedYears = 0): number {
  let v = b.cashUsd;
  for (let i = 0; i < b.n; i++) v += b.linearQty[i]! * b.spotUsd[i]! * spotMult[i]!;
  for (let k = 0; k < b.perpSize.length; k++) {
    v += b.perpSize[k]! * (b.perpLast[k]! * spotMult[b.perpU[k]!]! - b.perpEntry[k]!);
  }
  for (let k = 0; k < b.optAmount.length; k++) {
    const t = Math.max(0, b.optYears[k]! - elapsedYears);
    const f = b.optForward[k]! * spotMult[b.optU[k]!]!;
    const p = black76PricesUnchecked(
      t,
      b.optVol[k]! * volMult,
      f,
      b.optStrike[k]!,
      Math.exp(-b.optRate[k]! * t),
    );
    v += b.optAmount[k]! * (b.optIsCall[k] === 1 ? p.call : p.put);
  }
  return v;
}

/** P&L of joint log spot moves relative to the unshocked value `baseValue`. */
export function bookPnl(
  b: RevaluationBook,
  baseValue: number,
  volMult = 1,
): (logMoves: Float64Array) => number {
  const mult = new Float64Array(b.n);
  return (logMoves) => {
    for (let i = 0; i < b.n; i++) mult[i] = Math.exp(logMoves[i]!);
    return bookValue(b, mult, volMult) - baseValue;
  };
}

/** Analytic greeks per underlying (delta w.r.t. spot: forward delta x F/S). */
export function bookGreeks(b: RevaluationBook): Greeks[] {
  const out: Greeks[] = [];
  for (let i = 0; i < b.n; i++) {
    out.push({ delta: b.linearQty[i]!, deltaUsd: 0, gamma: 0, vegaUsdPerVolPoint: 0, thetaUsdPerDay: 0 });
  }
  for (let k = 0; k < b.perpSize.length; k++) {
    const g = out[b.perpU[k]!]!;
    g.delta += (b.perpSize[k]! * b.perpLast[k]!) / b.spotUsd[b.perpU[k]!]!;
  }
  for (let k = 0; k < b.optAmount.length; k++) {
    const u = b.optU[k]!;
    const g = out[u]!;
    const years = b.optYears[k]!;
    const fOverS = b.optForward[k]! / b.spotUsd[u]!;
    const r = black76Greeks({
      timeToExpirySec: years * SECONDS_PER_YEAR,
      volAnnual: b.optVol[k]!,
      forwardUsd: b.optForward[k]!,
      strikeUsd: b.optStrike[k]!,
      discount: Math.exp(-b.optRate[k]! * years),
    });
    const a = b.optAmount[k]!;
    g.delta += a * (b.optIsCall[k] === 1 ? r.callDelta : r.putDelta) * fOverS;
    g.gamma += a * r.gamma * fOverS * fOverS;
    g.vegaUsdPerVolPoint += a * r.vega * 0.01;
    g.thetaUsdPerDay += (a * (b.optIsCall[k] === 1 ? r.callTheta : r.putTheta)) / 365;
  }
  for (let i = 0; i < b.n; i++) out[i]!.deltaUsd = out[i]!.delta * b.spotUsd[i]!;
  return out;
}
