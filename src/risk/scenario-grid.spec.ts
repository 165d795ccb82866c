import {
  account,
  AS_OF_SEC,
  DEFAULT_SPOTS,
  flatSlice,
  lending,
  option,
  perp,
  spot,
} from '../../test/vectors/fixtures';
import { computeAccountRiskIn, prepareMarket } from './engine';
import type { MarketContext } from './market';
import { DEFAULT_RISK_PARAMS, type RiskParams } from './params';
import { computePmrm2, type Pmrm2Portfolio } from './pmrm2';
import { scenarioGrid, scenarioName } from './reference';
import { computeScenarioGrid, type ScenarioGrid } from './scenario-grid';
import { Prng } from './stats/prng';
import type { AccountRiskInput, Position } from './types';
import { normalizeAccount } from './validate';

const EXP1 = AS_OF_SEC + 7 * 86_400;
const EXP2 = AS_OF_SEC + 30 * 86_400;

/** Few Monte Carlo paths: the grid does not read them, the margin results compared here do. */
const FAST: RiskParams = {
  ...DEFAULT_RISK_PARAMS,
  valueAtRisk: { ...DEFAULT_RISK_PARAMS.valueAtRisk, monteCarloPaths: 100 },
};

function input(positions: Position[], correlation = 0.8): AccountRiskInput {
  return account({
    positions,
    correlation,
    volSurfaces: {
      ETH: [flatSlice(EXP1, DEFAULT_SPOTS.ETH!, 0.65), flatSlice(EXP2, DEFAULT_SPOTS.ETH!, 0.7)],
      BTC: [flatSlice(EXP1, DEFAULT_SPOTS.BTC!, 0.5), flatSlice(EXP2, DEFAULT_SPOTS.BTC!, 0.55)],
    },
  });
}

function gridOf(x: AccountRiskInput, params = FAST): { ctx: MarketContext; grid: ScenarioGrid } {
  const ctx = prepareMarket(x, params);
  return { ctx, grid: computeScenarioGrid(ctx, x) };
}

const LINEAR: Position[] = [
  spot('WETH', 12.5),
  lending('debt', 'USDC', 20_000),
  lending('collateral', 'aWBTC', 0.4),
  perp('BTC', -0.3, DEFAULT_SPOTS.BTC!, { marginUsd: 5_000 }),
  perp('OP', 40_000, DEFAULT_SPOTS.OP!, { marginUsd: 2_000 }),
];

const OPTIONS_ETH: Position[] = [
  perp('ETH', 4, DEFAULT_SPOTS.ETH!, { marginUsd: 3_000 }),
  option('ETH', 'call', 3_300, EXP1, -10),
  option('ETH', 'put', 2_700, EXP1, 6),
  option('ETH', 'put', 2_900, EXP2, -3),
  option('ETH', 'call', 3_100, EXP2, 2.5),
];

describe('computeScenarioGrid', () => {
  it('has the parameter set’s axes and one cell per fraction and vol shock', () => {
    const { grid } = gridOf(input(LINEAR));
    const { spotShockFractions, volShocks } = FAST.scenario;
    expect(grid.spotShockFractions).toEqual(spotShockFractions);
    expect(grid.volShocks).toEqual(volShocks);
    expect(grid.pnlUsd.map((row) => row.length)).toEqual(volShocks.map(() => spotShockFractions.length));
  });

  it('is 0 at the centre (no spot move, vol unchanged) for a book without options', () => {
    const { grid } = gridOf(input(LINEAR));
    const centre =
      grid.pnlUsd[FAST.scenario.volShocks.indexOf('none')]![FAST.scenario.spotShockFractions.indexOf(0)]!;
    expect(Math.abs(centre)).toBe(0);
    // ...and not 0 anywhere a spot move happens.
    expect(grid.pnlUsd.flat().filter((x) => x !== 0).length).toBe(
      grid.pnlUsd.length * (grid.spotShockFractions.length - 1),
    );
  });

  it('is linear in the fraction for a linear book, the same under every vol shock', () => {
    const { grid } = gridOf(input(LINEAR));
    const full = grid.spotShockFractions.indexOf(1);
    grid.pnlUsd.forEach((row) => {
      expect(row).toEqual(grid.pnlUsd[0]);
      const slope = row[full]!;
      expect(Math.abs(slope)).toBeGreaterThan(100);
      grid.spotShockFractions.forEach((f, s) => {
        expect(Math.abs(row[s]! - f * slope)).toBeLessThanOrEqual(1e-9 * Math.abs(slope));
      });
    });
  });

  it('for one underlying, equals that underlying’s PMRM_2 scenario P&Ls (every vol row)', () => {
    const x = input(OPTIONS_ETH);
    const { ctx, grid } = gridOf(x);
    // The underlying's PMRM_2 portfolio, built from the normalized account as the reference does.
    const acct = normalizeAccount(x, FAST);
    const eth = acct.underlyings.find((u) => u.name === 'ETH')!;
    const und = ctx.byName.get('ETH')!;
    let perpAmount = 0;
    const options: Pmrm2Portfolio['options'][number][] = [];
    const feeds = new Map<number, Pmrm2Portfolio['expiryFeeds'][number]>();
    for (const p of acct.positions) {
      if (p.kind === 'perp') perpAmount += (p.size * p.lastPriceUsd) / eth.spotUsd;
      if (p.kind !== 'option') continue;
      const timeToExpirySec = p.expirySec - acct.asOfSec;
      options.push({ timeToExpirySec, strikeUsd: p.strikeUsd, isCall: p.isCall, amount: p.amount });
      if (!feeds.has(p.expirySec))
        feeds.set(p.expirySec, {
          timeToExpirySec,
          forwardUsd: p.forwardUsd,
          forwardConfidence: 1,
          rateAnnual: p.rateAnnual,
          rateConfidence: 1,
          svi: { ...p.svi, forwardUsd: p.forwardUsd, tauYears: p.expiryYears },
          volConfidence: 1,
        });
    }
    const scenarios = scenarioGrid(und.spotShockPct, FAST);
    const r = computePmrm2(
      {
        cashUsd: 0,
        collaterals: [],
        spotUsd: eth.spotUsd,
        spotConfidence: 1,
        perpAmount,
        perpPriceUsd: eth.spotUsd,
        perpConfidence: 1,
        unrealisedPerpPnlUsd: 0,
        unrealisedFundingUsd: 0,
        stablePriceUsd: 1,
        stableConfidence: 1,
        options,
        expiryFeeds: [...feeds.keys()].sort((a, b) => a - b).map((k) => feeds.get(k)!),
      },
      { ...FAST.scenario.pmrm2, scenarios },
    );
    const nV = FAST.scenario.volShocks.length;
    const expected = FAST.scenario.volShocks.map((_, v) =>
      FAST.scenario.spotShockFractions.map((_f, s) => r.scenarioLosses[s * nV + v]! * r.mmLossFactor),
    );
    expect(grid.pnlUsd).toEqual(expected);
    // Options make the vol rows differ.
    expect(grid.pnlUsd[0]).not.toEqual(grid.pnlUsd[nV - 1]);
    // The worst cell is the engine's worst scenario when that scenario is a grid cell.
    const res = computeAccountRiskIn(ctx, x);
    const w = res.worstScenario!;
    const f = grid.spotShockFractions[grid.worst.spotIndex]!;
    const volShock = FAST.scenario.volShocks[grid.worst.volIndex]!;
    const name = scenarioName({ spotShock: 1 + f * und.spotShockPct, volShock, dampeningFactor: 1 });
    expect({ name: w.name, pnl: w.pnlUsd }).toEqual({ name, pnl: grid.worst.pnlUsd });
  });

  it('marks the lowest cell as the worst, first in row-major order on a tie', () => {
    const { grid } = gridOf(input([...LINEAR, ...OPTIONS_ETH]));
    const cells = grid.pnlUsd.flat();
    const min = Math.min(...cells);
    const first = cells.indexOf(min);
    const n = grid.spotShockFractions.length;
    expect(grid.worst).toEqual({ volIndex: Math.floor(first / n), spotIndex: first % n, pnlUsd: min });
  });

  it('never goes below −undiversifiedLossUsd; equals it for one linear underlying', () => {
    // One underlying, linear: its worst scenario is a full spot shock, a grid corner.
    const single = input([spot('WETH', 7), perp('ETH', -2, DEFAULT_SPOTS.ETH!, { marginUsd: 1_000 })]);
    const one = gridOf(single);
    const oneRes = computeAccountRiskIn(one.ctx, single);
    expect(oneRes.components.undiversifiedLossUsd).toBeGreaterThan(0);
    expect(one.grid.worst.pnlUsd).toBe(-oneRes.components.undiversifiedLossUsd);

    // A hedge across underlyings moving together: the grid's worst is strictly less severe.
    const hedged = input([spot('WETH', 20), perp('BTC', -1, DEFAULT_SPOTS.BTC!, { marginUsd: 10_000 })]);
    const h = gridOf(hedged);
    const hRes = computeAccountRiskIn(h.ctx, hedged);
    expect(h.grid.worst.pnlUsd).toBeGreaterThan(-hRes.components.undiversifiedLossUsd);

    // Random books with options: the bound holds cell by cell.
    const rng = new Prng(7);
    for (let i = 0; i < 12; i++) {
      const positions: Position[] = [
        perp('ETH', rng.uniform(-20, 20), DEFAULT_SPOTS.ETH!, { marginUsd: 1e4 }),
        perp('BTC', rng.uniform(-1, 1), DEFAULT_SPOTS.BTC!, { marginUsd: 1e4 }),
        option('ETH', rng.nextFloat() < 0.5 ? 'call' : 'put', 3_000, EXP1, rng.uniform(-20, 20)),
        option('BTC', rng.nextFloat() < 0.5 ? 'call' : 'put', 62_000, EXP2, rng.uniform(-1, 1)),
      ];
      const x = input(positions, rng.uniform(-0.3, 1));
      const { ctx, grid } = gridOf(x);
      const res = computeAccountRiskIn(ctx, x);
      for (const cell of grid.pnlUsd.flat())
        expect(cell).toBeGreaterThanOrEqual(-res.components.undiversifiedLossUsd);
    }
  });

  it('is deterministic: bit-identical twice, in one context and in a fresh one', () => {
    const x = input([...LINEAR, ...OPTIONS_ETH]);
    const { ctx, grid } = gridOf(x);
    const again = computeScenarioGrid(ctx, x);
    const fresh = gridOf(x).grid;
    const bits = (g: ScenarioGrid) => Buffer.from(Float64Array.from(g.pnlUsd.flat()).buffer).toString('hex');
    expect(bits(again)).toBe(bits(grid));
    expect(bits(fresh)).toBe(bits(grid));
    expect(JSON.stringify(fresh)).toBe(JSON.stringify(grid));
  });

  it('leaves the margin result unchanged and raises what the engine raises', () => {
    const x = input([...LINEAR, ...OPTIONS_ETH]);
    const ctx = prepareMarket(x, FAST);
    const before = JSON.stringify(computeAccountRiskIn(ctx, x));
    computeScenarioGrid(ctx, x);
    expect(JSON.stringify(computeAccountRiskIn(ctx, x))).toBe(before);
    const bad = { ...x, positions: [option('DOGE', 'call', 1, EXP1, 1)] };
    expect(() => computeScenarioGrid(ctx, bad)).toThrow(
      (() => {
        try {
          computeAccountRiskIn(ctx, bad);
        } catch (e) {
          return (e as Error).message;
        }
        return 'no error';
      })(),
    );
  });
});
