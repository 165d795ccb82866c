/**
 * The contract of the fast engine: for every account it returns exactly what the straightforward
 * reference (`reference.ts`) returns — every figure, breakdown, Greek, VaR / ES, stress replay and
 * liquidation distance, compared as JSON bytes — and the compact book path agrees with both.
 */
import {
  account,
  AS_OF_SEC,
  DEFAULT_SPOTS,
  feed,
  flatSlice,
  lending,
  option,
  perp,
  spot,
} from '../../test/vectors/fixtures';
import {
  computeAccountRisk,
  computeAccountRiskIn,
  computeBookRisk,
  materializeAccountRisk,
  prepareBook,
  prepareMarket,
} from './engine';
import { DEFAULT_RISK_PARAMS, type RiskParams } from './params';
import { computeAccountRiskReference } from './reference';
import { Prng } from './stats/prng';
import type { AccountPositions, AccountRiskInput, MarketData, OptionPosition, Position } from './types';
import golden0 from '../../test/vectors/aave-collateral-against-stable-debt.json';
import golden1 from '../../test/vectors/addons-concentration-impact-oracle.json';
import golden2 from '../../test/vectors/anticorrelated-hedge-earns-no-credit.json';
import golden3 from '../../test/vectors/partial-hedge-nets-the-difference.json';
import golden4 from '../../test/vectors/perfect-correlation-nets-fully.json';
import golden5 from '../../test/vectors/same-direction-no-diversification.json';
import golden6 from '../../test/vectors/three-underlyings-net-exposure.json';
import golden7 from '../../test/vectors/volatile-collateral-demoted-to-tier-c.json';

const EXPIRIES = [
  AS_OF_SEC + 1_200,
  AS_OF_SEC + 7 * 86_400,
  AS_OF_SEC + 30 * 86_400,
  AS_OF_SEC + 90 * 86_400,
];
const TOKENS: Record<string, string[]> = {
  ETH: ['WETH', 'aWETH'],
  BTC: ['WBTC', 'aWBTC'],
  OP: ['OP'],
  USDC: ['USDC', 'aUSDC'],
};
const UNDERLYINGS = ['BTC', 'ETH', 'OP', 'USDC'];

/** Cheaper Monte Carlo so hundreds of reference runs stay fast; same code paths. */
const PARAMS: RiskParams = {
  ...DEFAULT_RISK_PARAMS,
  valueAtRisk: { ...DEFAULT_RISK_PARAMS.valueAtRisk, monteCarloPaths: 400 },
};

const round = (x: number, digits: number) => Number(x.toFixed(digits));

function skewedSlice(expirySec: number, forwardUsd: number, volAnnual: number, rateAnnual: number) {
  const s = flatSlice(expirySec, forwardUsd, volAnnual);
  return { ...s, rateAnnual, svi: { ...s.svi, b: 0.05 * Math.sqrt(s.svi.a), rho: -0.4, sigma: 0.2 } };
}

function sharedMarket(seed: number): MarketData {
  const base = account({ positions: [], correlation: 0.6, historySeed: seed });
  return {
    ...base.market,
    volSurfaces: {
      ETH: EXPIRIES.map((e, i) => skewedSlice(e, DEFAULT_SPOTS.ETH! * (1 + 0.001 * i), 0.6 + 0.05 * i, 0.03)),
      BTC: EXPIRIES.map((e, i) => skewedSlice(e, DEFAULT_SPOTS.BTC!, 0.5 + 0.04 * i, -0.01)),
      OP: EXPIRIES.map((e) => flatSlice(e, DEFAULT_SPOTS.OP!, 1.1)),
    },
    prices: { ...base.market.prices, OP: feed(DEFAULT_SPOTS.OP!, { ageSec: 900, confidencePct: 0.004 }) },
    liquidity: {
      ETH: { openInterestUsd: 5e7, depthUsd: 2e7 },
      BTC: { openInterestUsd: 1e8, depthUsd: 5e7 },
      OP: { openInterestUsd: 2e6, depthUsd: 1e6 },
      USDC: { openInterestUsd: 1e9, depthUsd: 1e9 },
    },
  };
}

/** A random account: any mix of protocols, same-strike pairs, short expiries, hedges and naked shorts. */
function randomPositions(rng: Prng): Position[] {
  const positions: Position[] = [];
  const count = rng.int(12);
  for (let k = 0; k < count; k++) {
    const u = UNDERLYINGS[rng.int(UNDERLYINGS.length)]!;
    const s = DEFAULT_SPOTS[u]!;
    const units = (usd: number) => round(usd / s, 8);
    const r = rng.nextFloat();
    const tokens = TOKENS[u]!;
    const token = tokens[rng.int(tokens.length)]!;
    if (r < 0.2)
      positions.push(spot(token, units(rng.uniform(100, 1e5)), rng.nextFloat() < 0.8 ? 'wallet' : 'perps'));
    else if (r < 0.3)
      positions.push(lending('collateral', tokens[tokens.length - 1]!, units(rng.uniform(100, 1e5))));
    else if (r < 0.42) positions.push(lending('debt', token, units(rng.uniform(100, 5e4))));
    else if (r < 0.62 && u !== 'USDC') {
      const last = round(s * rng.uniform(0.97, 1.03), 6);
      positions.push(
        perp(u, units(rng.uniform(-1e5, 1e5)), last, {
          entryUsd: round(s * rng.uniform(0.8, 1.2), 6),
          marginUsd: round(rng.uniform(0, 2e4), 2),
          fundingUsd: round(rng.uniform(-50, 50), 4),
        }),
      );
    } else if (u !== 'USDC') {
      const strike = round(s * [0.8, 0.9, 1, 1.1, 1.2][rng.int(5)]!, 6);
      const expiry = EXPIRIES[rng.int(EXPIRIES.length)]!;
      const amount = round(rng.uniform(-30, 30) * (3_000 / s), 6) || 1;
      positions.push(option(u, rng.nextFloat() < 0.5 ? 'call' : 'put', strike, expiry, amount));
      if (rng.nextFloat() < 0.3) {
        // Same strike and expiry, other type or side: exercises the naked-short netting.
        positions.push(
          option(
            u,
            rng.nextFloat() < 0.5 ? 'call' : 'put',
            strike,
            expiry,
            round(-amount * rng.uniform(0.2, 1.5), 6),
          ),
        );
      }
    }
  }
  return positions;
}

function inputOf(market: MarketData, positions: Position[], i: number | string): AccountRiskInput {
  const name = typeof i === 'string' ? i : `0x${i.toString(16).padStart(40, '0')}`;
  return { account: name, asOfSec: AS_OF_SEC, positions, market };
}

/** The golden vectors' inputs (bigints travel as digit strings in JSON). */
const GOLDEN: { input: unknown }[] = [golden0, golden1, golden2, golden3, golden4, golden5, golden6, golden7];
function goldenInputs(): AccountRiskInput[] {
  return GOLDEN.map(
    (v) =>
      JSON.parse(JSON.stringify(v.input), (key, value: unknown) =>
        ['raw', 'answer', 'confidence'].includes(key) && typeof value === 'string' ? BigInt(value) : value,
      ) as AccountRiskInput,
  );
}

describe('fast engine equals the reference', () => {
  it('on every golden vector', () => {
    const inputs = goldenInputs();
    expect(inputs.length).toBeGreaterThanOrEqual(6);
    for (const input of inputs) {
      expect(JSON.stringify(computeAccountRisk(input))).toBe(
        JSON.stringify(computeAccountRiskReference(input)),
      );
    }
  });

  const market = sharedMarket(11);
  const rng = new Prng(2024);
  const accounts: AccountPositions[] = [];
  for (let i = 0; i < 300; i++)
    accounts.push({ account: `0x${i.toString(16).padStart(40, '0')}`, positions: randomPositions(rng) });
  // Edge cases: empty, already breached, stablecoins only.
  accounts.push({ account: '0xempty', positions: [] });
  accounts.push({ account: '0xbreached', positions: [perp('ETH', 10, 3_000, { marginUsd: 100 })] });
  accounts.push({
    account: '0xstable',
    positions: [lending('collateral', 'aUSDC', 5_000), lending('debt', 'USDC', 4_000)],
  });
  const ctx = prepareMarket({ asOfSec: AS_OF_SEC, market }, PARAMS);

  it('gives byte-identical results on 300+ random accounts against one prepared market', () => {
    let withOptions = 0;
    for (const a of accounts) {
      const input = inputOf(market, a.positions, a.account);
      const fast = computeAccountRiskIn(ctx, a);
      const ref = computeAccountRiskReference(input, PARAMS);
      expect(JSON.stringify(fast)).toBe(JSON.stringify(ref));
      if (a.positions.some((p) => p.kind === 'option')) withOptions++;
    }
    expect(withOptions).toBeGreaterThan(100);
  });

  it('gives the same from the one-shot entry point with default parameters', () => {
    for (const [i, a] of accounts.slice(0, 25).entries()) {
      const input = inputOf(market, a.positions, i);
      expect(JSON.stringify(computeAccountRisk(input))).toBe(
        JSON.stringify(computeAccountRiskReference(input)),
      );
    }
  });

  it('computes the book in compact form with the reference figures, skipping only floors that cannot bind', () => {
    const book = prepareBook(ctx, accounts);
    const out = computeBookRisk(ctx, book);
    let skipped = 0;
    for (let a = 0; a < accounts.length; a++) {
      const ref = computeAccountRiskReference(
        inputOf(market, accounts[a]!.positions, accounts[a]!.account),
        PARAMS,
      );
      expect(out.mmUsd[a]).toBe(ref.mmUsd);
      expect(out.imUsd[a]).toBe(ref.imUsd);
      expect(out.mtmUsd[a]).toBe(ref.mtmUsd);
      expect(out.haircutUsd[a]).toBe(ref.haircutUsd);
      expect(out.adjustedEquityUsd[a]).toBe(ref.adjustedEquityUsd);
      expect(out.freeCollateralUsd[a]).toBe(ref.freeCollateralUsd);
      expect(out.shortfallUsd[a]).toBe(ref.shortfallUsd);
      expect(out.coreMarginUsd[a]).toBe(ref.components.coreMarginUsd);
      expect(out.worstPnlUsd[a]).toBe(ref.worstScenario?.pnlUsd ?? 0);
      const u = out.worstUnderlying[a]!;
      expect(u < 0 ? null : ctx.underlyings[u]!.name).toBe(ref.worstScenario?.underlying ?? null);
      if (u >= 0)
        expect(ctx.underlyings[u]!.scenarioNames[out.worstScenario[a]!]).toBe(ref.worstScenario!.name);
      if (out.floorsComputed[a] === 0) {
        skipped++;
        const c = ref.components;
        expect(
          Math.max(c.historicalVarUsd, c.historicalEsUsd, c.monteCarloVarUsd, c.monteCarloEsUsd),
        ).toBeLessThanOrEqual(c.scenarioMarginUsd);
      }
      expect(JSON.stringify(materializeAccountRisk(ctx, book, a))).toBe(JSON.stringify(ref));
    }
    // The screen is exercised both ways.
    expect(skipped).toBeGreaterThan(accounts.length / 2);
    expect(skipped).toBeLessThan(accounts.length);
  });

  it('is deterministic: the same book twice gives bit-identical arrays', () => {
    const book = prepareBook(ctx, accounts);
    const a = computeBookRisk(ctx, book);
    const ctx2 = prepareMarket({ asOfSec: AS_OF_SEC, market: structuredClone(market) }, PARAMS);
    const again = computeBookRisk(ctx2, accounts);
    expect(Buffer.from(again.mmUsd.buffer).equals(Buffer.from(a.mmUsd.buffer))).toBe(true);
    expect(Buffer.from(again.freeCollateralUsd.buffer).equals(Buffer.from(a.freeCollateralUsd.buffer))).toBe(
      true,
    );
  });

  it('evaluates a book prepared at one block against the next block with the same option listing', () => {
    const listing = accounts
      .flatMap((a) => a.positions)
      .filter((p): p is OptionPosition => p.kind === 'option');
    const ctx1 = prepareMarket({ asOfSec: AS_OF_SEC, market }, PARAMS, listing);
    const book = prepareBook(ctx1, accounts);
    const next: MarketData = {
      ...market,
      prices: {
        ...market.prices,
        ETH: feed(DEFAULT_SPOTS.ETH! * 0.97),
        BTC: feed(DEFAULT_SPOTS.BTC! * 1.02),
      },
    };
    const ctx2 = prepareMarket({ asOfSec: AS_OF_SEC, market: next }, PARAMS, listing);
    const out = computeBookRisk(ctx2, book);
    for (let a = 0; a < accounts.length; a += 10) {
      const ref = computeAccountRiskReference(
        inputOf(next, accounts[a]!.positions, accounts[a]!.account),
        PARAMS,
      );
      expect(out.mmUsd[a]).toBe(ref.mmUsd);
      expect(out.freeCollateralUsd[a]).toBe(ref.freeCollateralUsd);
      expect(JSON.stringify(materializeAccountRisk(ctx2, book, a))).toBe(JSON.stringify(ref));
    }
    const reordered = prepareMarket({ asOfSec: AS_OF_SEC, market: next }, PARAMS, [...listing].reverse());
    expect(() => computeBookRisk(reordered, book)).toThrow(/different option listing/);
  });

  it('raises the reference error, naming the same field, for bad accounts and market data', () => {
    const stale = { ...market, prices: { ...market.prices, BTC: feed(60_000, { ageSec: 7_200 }) } };
    const short = {
      ...market,
      history: {
        ...market.history,
        closesUsdByUnderlying: {
          ...market.history.closesUsdByUnderlying,
          OP: market.history.closesUsdByUnderlying.OP!.slice(1),
        },
      },
    };
    const cases: AccountRiskInput[] = [
      inputOf(stale, [spot('WBTC', 1)], 0),
      inputOf(stale, [spot('WETH', 1)], 0), // BTC not held: no error in either
      inputOf(short, [spot('WETH', 1), spot('OP', 10)], 0),
      inputOf(short, [spot('WETH', 1)], 0), // OP not held, but Monte Carlo needs the whole universe
      inputOf(market, [{ ...spot('WETH', 1), asset: 'XYZ' }], 0),
      inputOf(market, [option('ETH', 'call', 3_000, AS_OF_SEC + 86_400, 1)], 0),
      { ...inputOf(market, [], 0), account: '' },
    ];
    let errors = 0;
    for (const input of cases) {
      let expected: unknown = null;
      let actual: unknown = null;
      try {
        expected = JSON.stringify(computeAccountRiskReference(input, PARAMS));
      } catch (e) {
        expected = (e as Error).message;
        errors++;
      }
      try {
        actual = JSON.stringify(computeAccountRisk(input, PARAMS));
      } catch (e) {
        actual = (e as Error).message;
      }
      expect(actual).toBe(expected);
    }
    expect(errors).toBe(6);
  });
});
