import { InvalidInputError } from '../common/errors';
import {
  account,
  AS_OF_SEC,
  feed,
  flatSlice,
  lending,
  option,
  perp,
  spot,
} from '../../test/vectors/fixtures';
import { DEFAULT_RISK_PARAMS } from './params';
import type { AccountRiskInput } from './types';
import { fixedToNumber, normalizeAccount } from './validate';

const EXP = AS_OF_SEC + 7 * 86_400;

function base(): AccountRiskInput {
  return account({
    positions: [
      lending('collateral', 'aWETH', '2.5'),
      lending('debt', 'USDC', '1000'),
      perp('BTC', -0.1, 60_000, { marginUsd: 1_000 }),
      option('ETH', 'call', 3_200, EXP, -1),
      spot('USDC', '10'),
    ],
    volSurfaces: { ETH: [flatSlice(EXP, 3_000, 0.6)] },
  });
}

function expectRejected(mutate: (i: AccountRiskInput) => void, field: string | RegExp, code?: string): void {
  const input = base();
  mutate(input);
  let caught: unknown;
  try {
    normalizeAccount(input, DEFAULT_RISK_PARAMS);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(InvalidInputError);
  const err = caught as InvalidInputError;
  if (typeof field === 'string') expect(err.field).toBe(field);
  else expect(err.field).toMatch(field);
  if (code) expect(err.code).toBe(code);
}

const pos = (i: AccountRiskInput, k: number) => i.positions[k] as unknown as Record<string, unknown>;

describe('normalizeAccount', () => {
  it('converts token units once: aTokens at their underlying, debt negative', () => {
    const n = normalizeAccount(base(), DEFAULT_RISK_PARAMS);
    expect(n.underlyings.map((u) => u.name)).toEqual(['BTC', 'ETH', 'USDC']);
    expect(n.positions[0]).toMatchObject({
      kind: 'linear',
      underlying: 'ETH',
      quantity: 2.5,
      isCollateral: true,
    });
    expect(n.positions[1]).toMatchObject({
      kind: 'linear',
      underlying: 'USDC',
      quantity: -1000,
      isCollateral: false,
    });
    expect(n.positions[2]).toMatchObject({ kind: 'perp', size: -0.1, cashUsd: 1_000 });
    expect(n.positions[3]).toMatchObject({ kind: 'option', amount: -1, strikeUsd: 3_200 });
    expect((n.positions[3] as { volAnnual: number }).volAnnual).toBeCloseTo(0.6, 12);
    expect(n.underlyings[1]!.spotUsd).toBe(3_000);
  });

  it('keeps full double precision of 18-decimal amounts', () => {
    expect(fixedToNumber({ raw: 123_456_789_123_456_789_123_456_789n, decimals: 18 })).toBe(
      123456789.12345679,
    );
    expect(fixedToNumber({ raw: -1n, decimals: 18 })).toBe(-1e-18);
  });

  it('rejects NaN and infinite numbers naming the field', () => {
    expectRejected(
      (i) => (i.market.volSurfaces.ETH![0]!.forwardUsd = NaN),
      'market.volSurfaces.ETH[0].forwardUsd',
    );
    expectRejected(
      (i) => (i.market.volSurfaces.ETH![0]!.svi.a = Infinity),
      'market.volSurfaces.ETH[0].svi.a',
    );
    expectRejected(
      (i) => (i.market.history.closesUsdByUnderlying.ETH![5] = -Infinity),
      'market.history.closesUsdByUnderlying.ETH[5]',
    );
    expectRejected((i) => (i.asOfSec = NaN), 'asOfSec');
  });

  it('rejects malformed amounts (Number instead of bigint, bad decimals, negative balance)', () => {
    expectRejected(
      (i) => ((pos(i, 3).strikeUsd as Record<string, unknown>).raw = 3200),
      'positions[3].strikeUsd.raw',
      'INVALID_AMOUNT',
    );
    expectRejected(
      (i) => (pos(i, 3).strikeUsd = { raw: 0n, decimals: 18 }),
      'positions[3].strikeUsd.raw',
      'INVALID_AMOUNT',
    );
    expectRejected((i) => (pos(i, 0).amount = { raw: -1n, decimals: 18 }), 'positions[0].amount.raw');
    expectRejected((i) => (pos(i, 0).amount = { raw: 1n, decimals: 6 }), 'positions[0].amount.decimals');
    expectRejected((i) => (pos(i, 2).size = { raw: 1n, decimals: 1.5 }), 'positions[2].size.decimals');
    expectRejected((i) => (pos(i, 2).size = '1'), 'positions[2].size');
  });

  it('rejects negative or zero prices, negative vol and time running backwards', () => {
    expectRejected(
      (i) => (i.market.prices.ETH = { ...feed(3_000), answer: 0n }),
      'market.prices.ETH.answer',
      'INVALID_PRICE',
    );
    expectRejected(
      (i) => (i.market.prices.USDC = { ...feed(1), answer: -5n }),
      'market.prices.USDC.answer',
      'INVALID_PRICE',
    );
    expectRejected(
      (i) => (pos(i, 2).entryPriceUsd = { raw: -1n, decimals: 18 }),
      'positions[2].entryPriceUsd.raw',
    );
    expectRejected(
      (i) => (i.market.volSurfaces.ETH![0]!.svi.sigma = -0.1),
      /^market\.volSurfaces\.ETH\[0\]\.svi/,
    );
    expectRejected((i) => (pos(i, 3).expirySec = AS_OF_SEC - 1), 'positions[3].expirySec');
    expectRejected(
      (i) => (i.market.prices.ETH = feed(3_000, { ageSec: -10 })),
      'market.prices.ETH.updatedAtSec',
    );
  });

  it('rejects unknown assets and underlyings', () => {
    expectRejected((i) => (pos(i, 0).asset = 'aDOGE'), 'positions[0].asset', 'UNKNOWN_ASSET');
    expectRejected((i) => (pos(i, 2).underlying = 'SOL'), 'positions[2].underlying', 'UNKNOWN_ASSET');
    expectRejected((i) => delete i.market.prices.BTC, 'market.prices.BTC', 'UNKNOWN_ASSET');
  });

  it('rejects stale and low-confidence oracle prices, and missing market data', () => {
    expectRejected(
      (i) => (i.market.prices.ETH = feed(3_000, { ageSec: 7_200 })),
      'market.prices.ETH.updatedAtSec',
      'STALE_PRICE',
    );
    expectRejected(
      (i) => (i.market.prices.ETH = feed(3_000, { confidencePct: 0.2 })),
      'market.prices.ETH.confidence',
      'LOW_CONFIDENCE',
    );
    expectRejected((i) => (i.market.volSurfaces = {}), 'market.volSurfaces.ETH');
    expectRejected((i) => (pos(i, 3).expirySec = EXP + 1), 'positions[3].expirySec', 'MISSING_MARKET_DATA');
    expectRejected((i) => delete i.market.liquidity.BTC, 'market.liquidity.BTC');
    expectRejected(
      (i) => (i.market.history.closesUsdByUnderlying.BTC = [60_000]),
      'market.history.closesUsdByUnderlying.BTC',
    );
  });

  it('rejects a position with an unknown kind or a protocol it cannot come from', () => {
    expectRejected((i) => (pos(i, 4).kind = 'swap'), 'positions[4].kind');
    expectRejected((i) => (pos(i, 2).protocol = 'aave-v3'), 'positions[2].protocol');
    expectRejected((i) => (pos(i, 0).side = 'both'), 'positions[0].side');
  });
});
