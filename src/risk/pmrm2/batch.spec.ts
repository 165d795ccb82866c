import {
  allocatePmrm2BookResult,
  bookEntryToPortfolio,
  createPmrm2Scratch,
  evaluatePmrm2Book,
  preparePmrm2Market,
  validatePmrm2Book,
  type Pmrm2Market,
} from './batch';
import { computePmrm2 } from './model';
import { DERIVE_DEFAULT_PARAMS } from './params';
import {
  mulberry32,
  SYNTHETIC_PARAMS,
  SYNTHETIC_UNDERLYINGS,
  syntheticBook,
  syntheticMarket,
} from './synthetic';

function close(expected: number, got: number): boolean {
  return Math.abs(expected - got) <= 1e-9 * Math.max(Math.abs(expected), 1);
}

function compareBook(markets: Pmrm2Market[], accounts: number, seed: number): number {
  const prepared = markets.map(preparePmrm2Market);
  const { book } = syntheticBook(markets, accounts, 10, seed);
  validatePmrm2Book(book, prepared);
  const out = allocatePmrm2BookResult(book.count);
  evaluatePmrm2Book(book, prepared, out, createPmrm2Scratch(prepared));
  for (let j = 0; j < book.count; j++) {
    const ref = computePmrm2(bookEntryToPortfolio(book, prepared, j), markets[book.market[j]!]!.params);
    const ok =
      close(ref.mm, out.mm[j]!) &&
      close(ref.im, out.im[j]!) &&
      close(ref.mtm, out.mtm[j]!) &&
      close(ref.worstLoss, out.worstLoss[j]!);
    if (!ok) {
      throw new Error(
        `sub-portfolio ${j}: mm ${ref.mm} vs ${out.mm[j]}, im ${ref.im} vs ${out.im[j]}, mtm ${ref.mtm} vs ${out.mtm[j]}`,
      );
    }
    expect(ok).toBe(true);
  }
  return book.count;
}

describe('evaluatePmrm2Book', () => {
  it('agrees with computePmrm2 per sub-portfolio to 1e-9 on a random book', () => {
    const rand = mulberry32(7);
    const markets = SYNTHETIC_UNDERLYINGS.map((u) => syntheticMarket({ ...u, strikesPerExpiry: 8, rand }));
    expect(compareBook(markets, 400, 11)).toBeGreaterThan(400);
  });

  it('agrees under stressed feeds: low confidences, a de-pegged stable, expiries inside settlement averaging', () => {
    const rand = mulberry32(99);
    const markets = SYNTHETIC_UNDERLYINGS.slice(0, 3).map((u) => {
      const m = syntheticMarket({ ...u, expiryDays: [0, 600 / 86_400, 3, 45], strikesPerExpiry: 5, rand });
      return {
        ...m,
        params: {
          ...SYNTHETIC_PARAMS,
          scenarios: [
            ...DERIVE_DEFAULT_PARAMS.scenarios,
            { spotShock: 1.1, volShock: 'linear', dampeningFactor: 2 },
          ],
        },
        spotConfidence: 0.9,
        perpConfidence: 0.4,
        stablePriceUsd: 0.95,
        expiryFeeds: m.expiryFeeds.map((f, i) => ({ ...f, volConfidence: i % 2 === 0 ? 0.3 : 0.9 })),
        collateralAssets: m.collateralAssets.map((c, i) => ({
          ...c,
          confidence: i === 1 ? 0.2 : c.confidence,
        })),
      } satisfies Pmrm2Market;
    });
    compareBook(markets, 300, 5);
  });

  it('nets calls and puts at one strike for the naked-short contingency, like computePmrm2', () => {
    const market = syntheticMarket({ spotUsd: 2000, atmVol: 0.6, strikesPerExpiry: 3 });
    const prepared = [preparePmrm2Market(market)];
    // instrument 0 = call, 1 = put at the same strike and expiry
    const book = {
      count: 1,
      market: Int32Array.of(0),
      cashUsd: Float64Array.of(1000),
      perpAmount: Float64Array.of(0),
      perpValueUsd: Float64Array.of(0),
      optionStart: Int32Array.of(0, 2),
      optionInstrument: Int32Array.of(0, 1),
      optionAmount: Float64Array.of(-3, 2),
      collateralStart: Int32Array.of(0, 0),
      collateralAsset: new Int32Array(0),
      collateralAmount: new Float64Array(0),
    };
    const out = allocatePmrm2BookResult(1);
    evaluatePmrm2Book(book, prepared, out, createPmrm2Scratch(prepared));
    const ref = computePmrm2(bookEntryToPortfolio(book, prepared, 0), market.params);
    expect(ref.mmOptionContingency).toBeCloseTo(1 * 2000 * market.params.other.mmOptionPercent, 9);
    expect(close(ref.mm, out.mm[0]!)).toBe(true);
  });

  it('rejects a position that references an unknown instrument, naming it', () => {
    const market = syntheticMarket({ spotUsd: 2000, atmVol: 0.6, strikesPerExpiry: 3 });
    const prepared = [preparePmrm2Market(market)];
    const { book } = syntheticBook([market], 5, 10, 1);
    book.optionInstrument[0] = 10_000;
    expect(() => validatePmrm2Book(book, prepared)).toThrow(/^book\.optionInstrument\[0\]:/);
  });
});
