import { InvalidInputError } from '../../common/errors';
import { computePmrm2, DERIVE_DEFAULT_PARAMS, type Pmrm2Portfolio } from './index';

const empty: Pmrm2Portfolio = {
  cashUsd: 0,
  collaterals: [],
  spotUsd: 3000,
  spotConfidence: 1,
  perpAmount: 0,
  perpPriceUsd: 0,
  perpConfidence: 1,
  unrealisedPerpPnlUsd: 0,
  unrealisedFundingUsd: 0,
  stablePriceUsd: 1,
  stableConfidence: 1,
  options: [],
  expiryFeeds: [],
};

const feed = {
  timeToExpirySec: 30 * 86_400,
  forwardUsd: 3010,
  forwardConfidence: 1,
  rateAnnual: 0.05,
  rateConfidence: 1,
  svi: { a: 0.01, b: 0.05, rho: -0.3, m: 0, sigma: 0.1, forwardUsd: 3010, tauYears: 30 / 365 },
  volConfidence: 1,
};

describe('computePmrm2', () => {
  it('gives MM = IM = cash for a cash-only account', () => {
    const r = computePmrm2({ ...empty, cashUsd: 1234.5 }, DERIVE_DEFAULT_PARAMS);
    expect(r.mm).toBe(1234.5);
    expect(r.im).toBe(1234.5);
    expect(r.scenarioLosses).toHaveLength(DERIVE_DEFAULT_PARAMS.scenarios.length);
    expect(Array.from(r.scenarioLosses).every((x) => x === 0)).toBe(true);
  });

  it('margins a long perp by its worst spot-down move, factor and perp contingency', () => {
    const r = computePmrm2({ ...empty, perpAmount: 2, perpPriceUsd: 3100 }, DERIVE_DEFAULT_PARAMS);
    const worst = 2 * (0.8200000000000001 - 1) * 3100; // -18% scenario
    expect(r.worstLoss).toBeCloseTo(worst, 9);
    expect(r.mm).toBeCloseTo(worst * 0.8 - 2 * 3000 * 0.015, 9);
    expect(r.im).toBeCloseTo(worst * 1 - 2 * 3000 * 0.015 - 2 * 3000 * 0.005000000000000001, 9);
  });

  it('adds a naked-short option contingency only for uncovered shorts', () => {
    const option = { timeToExpirySec: feed.timeToExpirySec, strikeUsd: 3200, isCall: true };
    const naked = computePmrm2(
      { ...empty, options: [{ ...option, amount: -1 }], expiryFeeds: [feed] },
      DERIVE_DEFAULT_PARAMS,
    );
    expect(naked.mmOptionContingency).toBeCloseTo(3000 * 0.003, 12);
    const covered = computePmrm2(
      {
        ...empty,
        options: [
          { ...option, amount: -1 },
          { ...option, isCall: false, amount: 1 },
        ],
        expiryFeeds: [feed],
      },
      DERIVE_DEFAULT_PARAMS,
    );
    expect(covered.mmOptionContingency).toBe(0);
    expect(naked.mm).toBeLessThan(0);
  });

  it('is deterministic: identical inputs give bit-identical outputs', () => {
    const portfolio = {
      ...empty,
      cashUsd: 5000,
      perpAmount: -0.5,
      perpPriceUsd: 3001,
      options: [
        { timeToExpirySec: feed.timeToExpirySec, strikeUsd: 2800, isCall: false, amount: -3 },
        { timeToExpirySec: feed.timeToExpirySec, strikeUsd: 3300, isCall: true, amount: 2 },
      ],
      expiryFeeds: [feed],
    };
    const a = computePmrm2(portfolio, DERIVE_DEFAULT_PARAMS);
    const b = computePmrm2(portfolio, DERIVE_DEFAULT_PARAMS);
    expect(Object.is(a.mm, b.mm) && Object.is(a.im, b.im)).toBe(true);
    expect(Buffer.from(a.scenarioLosses.buffer).equals(Buffer.from(b.scenarioLosses.buffer))).toBe(true);
  });

  it('rejects an option whose expiry has no feed, naming the field', () => {
    const call = (): unknown =>
      computePmrm2(
        { ...empty, options: [{ timeToExpirySec: 99, strikeUsd: 1, isCall: true, amount: 1 }] },
        DERIVE_DEFAULT_PARAMS,
      );
    expect(call).toThrow(InvalidInputError);
    expect(call).toThrow(/^options:/);
  });

  it.each([
    ['spotUsd', { spotUsd: NaN }],
    ['cashUsd', { cashUsd: Infinity }],
    ['stablePriceUsd', { stablePriceUsd: 0 }],
    ['spotConfidence', { spotConfidence: 1.5 }],
  ] as const)('rejects a bad %s', (field, patch) => {
    expect(() => computePmrm2({ ...empty, ...patch }, DERIVE_DEFAULT_PARAMS)).toThrow(
      new RegExp(`^${field}:`),
    );
  });

  it('rejects an empty scenario grid and non-finite parameters', () => {
    expect(() => computePmrm2(empty, { ...DERIVE_DEFAULT_PARAMS, scenarios: [] })).toThrow(/^scenarios:/);
    expect(() =>
      computePmrm2(empty, {
        ...DERIVE_DEFAULT_PARAMS,
        margin: { ...DERIVE_DEFAULT_PARAMS.margin, mmFactor: NaN },
      }),
    ).toThrow(/^margin\.mmFactor:/);
  });
});
