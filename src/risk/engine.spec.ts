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
import { computeAccountRisk } from './engine';
import { hashParams } from './hash';
import { DEFAULT_RISK_PARAMS, type RiskParams } from './params';
import { Prng } from './stats/prng';
import type { AccountRiskInput, AccountRiskResult, Position } from './types';

const EXP1 = AS_OF_SEC + 7 * 86_400;
const EXP2 = AS_OF_SEC + 30 * 86_400;
const TOKEN: Record<string, string> = { ETH: 'WETH', BTC: 'WBTC', OP: 'OP', USDC: 'USDC' };
const UNDERLYINGS = ['BTC', 'ETH', 'OP', 'USDC'];

/** Cheap parameters for property runs: few Monte Carlo paths, no add-ons that grow with size. */
const FAST: RiskParams = {
  ...DEFAULT_RISK_PARAMS,
  valueAtRisk: { ...DEFAULT_RISK_PARAMS.valueAtRisk, monteCarloPaths: 100 },
  liquidationImpact: { ...DEFAULT_RISK_PARAMS.liquidationImpact, coefficient: 0 },
};

const round = (x: number, digits = 6) => Number(x.toFixed(digits));

function randomBook(rng: Prng, withOptions: Set<string>): Position[] {
  const positions: Position[] = [];
  for (const u of UNDERLYINGS) {
    const s = DEFAULT_SPOTS[u]!;
    const units = (usd: number) => round(usd / s, 8);
    // Every underlying holds some linear exposure so that all four appear in the result.
    const r = rng.nextFloat();
    if (r < 0.35) positions.push(spot(TOKEN[u]!, units(rng.uniform(1e3, 1e5))));
    else if (r < 0.6) positions.push(lending('debt', TOKEN[u]!, units(rng.uniform(1e3, 5e4))));
    else if (u !== 'USDC') positions.push(perp(u, units(rng.uniform(-1e5, 1e5)), s, { marginUsd: 1e4 }));
    else positions.push(lending('collateral', 'aUSDC', round(rng.uniform(1e3, 1e5), 6)));
    if (withOptions.has(u)) {
      const k = rng.int(3) + 1;
      for (let i = 0; i < k; i++) {
        positions.push(
          option(
            u,
            rng.nextFloat() < 0.5 ? 'call' : 'put',
            round(s * rng.uniform(0.8, 1.2), 2),
            rng.nextFloat() < 0.5 ? EXP1 : EXP2,
            round(rng.uniform(-20, 20) * (3_000 / s), 6),
          ),
        );
      }
    }
  }
  return positions;
}

function surfaces() {
  return {
    ETH: [flatSlice(EXP1, DEFAULT_SPOTS.ETH!, 0.65), flatSlice(EXP2, DEFAULT_SPOTS.ETH!, 0.7)],
    BTC: [flatSlice(EXP1, DEFAULT_SPOTS.BTC!, 0.5), flatSlice(EXP2, DEFAULT_SPOTS.BTC!, 0.55)],
  };
}

function randomAccount(rng: Prng, seed: number): { input: AccountRiskInput; withOptions: Set<string> } {
  const withOptions = new Set(['ETH', 'BTC'].filter(() => rng.nextFloat() < 0.5));
  const input = account({
    positions: randomBook(rng, withOptions),
    volSurfaces: surfaces(),
    correlation: rng.uniform(-0.3, 1),
    historySeed: seed,
  });
  return { input, withOptions };
}

describe('computeAccountRisk: determinism and hashes', () => {
  it('gives byte-identical JSON for the same input, computed twice', () => {
    const rng = new Prng(1);
    for (let run = 0; run < 5; run++) {
      const { input } = randomAccount(rng, run + 1);
      const a = JSON.stringify(computeAccountRisk(input));
      const b = JSON.stringify(computeAccountRisk(structuredClone(input)));
      expect(b).toBe(a);
    }
  });

  it('reports the parameter hash and an input hash that moves with the input', () => {
    const input = account({ positions: [spot('WETH', '1')] });
    const r = computeAccountRisk(input, FAST);
    expect(r.paramsHash).toBe(hashParams(FAST));
    expect(r.inputHash).toMatch(/^0x[0-9a-f]{64}$/);
    const other = computeAccountRisk(account({ positions: [spot('WETH', '1.000000000000000001')] }), FAST);
    expect(other.inputHash).not.toBe(r.inputHash);
  });
});

describe('computeAccountRisk: correlation properties over random portfolios', () => {
  it('nets perfectly correlated underlyings fully', () => {
    const rng = new Prng(7);
    for (let run = 0; run < 40; run++) {
      const spec = {
        correlation: 1,
        historySeed: 100 + run,
        volsAnnual: { ETH: 0.9, BTC: 0.9, OP: 1.2, USDC: 0.02 },
      };
      const ethUnits = round(rng.uniform(1, 50), 6);
      const probe = computeAccountRisk(
        account({ ...spec, positions: [perp('ETH', ethUnits, 3_000), perp('BTC', -0.01, 60_000)] }),
        FAST,
      );
      const [btc, eth] = probe.byUnderlying;
      // Size the BTC short so its full-shock loss equals the ETH long's.
      const btcUnits = round((ethUnits * 3_000 * eth!.spotShockPct) / (60_000 * btc!.spotShockPct), 12);
      const r = computeAccountRisk(
        account({ ...spec, positions: [perp('ETH', ethUnits, 3_000), perp('BTC', -btcUnits, 60_000)] }),
        FAST,
      );
      expect(r.hedgeCorrelation.matrix[0]![1]).toBeCloseTo(1, 9);
      expect(r.components.aggregatedLossUsd).toBeLessThan(1e-6 * r.components.undiversifiedLossUsd + 1e-6);
      expect(Math.abs(r.components.scenarioMarginUsd - r.components.contingencyUsd)).toBeLessThan(
        1e-6 * r.components.undiversifiedLossUsd + 1e-6,
      );
    }
  });

  it('never makes the requirement negative nor below the worst single-underlying contingency', () => {
    const rng = new Prng(8);
    for (let run = 0; run < 150; run++) {
      const { input } = randomAccount(rng, run + 1);
      const r = computeAccountRisk(input, FAST);
      const worstContingency = Math.max(...r.byUnderlying.map((u) => u.contingencyUsd));
      expect(r.components.aggregatedLossUsd).toBeGreaterThanOrEqual(0);
      expect(r.components.aggregatedLossUsd).toBeLessThanOrEqual(r.components.undiversifiedLossUsd + 1e-9);
      expect(r.components.scenarioMarginUsd).toBeGreaterThanOrEqual(worstContingency);
      expect(r.mmUsd).toBeGreaterThanOrEqual(r.components.scenarioMarginUsd);
      expect(r.imUsd).toBeGreaterThanOrEqual(r.mmUsd);
    }
  });

  it('lowers the requirement when a hedge is added (a linear position up to the minimum-variance size)', () => {
    const rng = new Prng(9);
    let tested = 0;
    for (let run = 0; run < 150; run++) {
      const { input, withOptions } = randomAccount(rng, run + 1);
      const base = computeAccountRisk(input, FAST);
      const names = base.hedgeCorrelation.underlyings;
      const d = base.byUnderlying.map((u) => u.directionalLossUsd);
      const candidates = names.map((_, j) => j).filter((j) => !withOptions.has(names[j]!));
      const j = candidates[rng.int(candidates.length)]!;
      const rho = base.hedgeCorrelation.matrix;
      for (const sigma of [1, -1]) {
        // Marginal effect of moving d_j in direction sigma; a hedge exists where it is negative.
        let g = 0;
        d.forEach((di, i) => {
          if (i === j) g += sigma * di;
          else g += sigma * di * (Math.sign(di) === sigma ? 1 : rho[i]![j]!);
        });
        if (g >= 0) continue;
        // Stay on the same side of zero for d_j and within the minimum-variance size.
        let size = rng.uniform(0.05, 0.95) * -g;
        if (Math.sign(d[j]!) === -sigma) size = Math.min(size, 0.95 * Math.abs(d[j]!));
        const u = base.byUnderlying[j]!;
        const units = round(size / (u.spotUsd * u.spotShockPct), 8);
        if (units === 0) continue;
        const token = TOKEN[names[j]!]!;
        const hedge = sigma > 0 ? spot(token, units) : lending('debt', token, units);
        const hedged = computeAccountRisk({ ...input, positions: [...input.positions, hedge] }, FAST);
        expect(hedged.components.aggregatedLossUsd).toBeLessThan(base.components.aggregatedLossUsd);
        expect(hedged.components.scenarioMarginUsd).toBeLessThan(base.components.scenarioMarginUsd);
        // The 1 h VaR / ES floor sits far below the one-day scenario margin, so MM falls too.
        expect(hedged.mmUsd).toBeLessThan(base.mmUsd);
        tested++;
        break;
      }
    }
    expect(tested).toBeGreaterThan(50);
  });
});

describe('computeAccountRisk: edge cases', () => {
  it('margins an empty account at zero without NaN', () => {
    const r = computeAccountRisk(account({ positions: [] }), FAST);
    expect([r.mtmUsd, r.mmUsd, r.imUsd, r.freeCollateralUsd]).toEqual([0, 0, 0, 0]);
    expect(r.worstScenario).toBeNull();
    expect(r.liquidationDistance).toEqual({ downMovePct: null, upMovePct: null });
  });

  it('reports a liquidation distance of 0 for an account already below MM', () => {
    const r = computeAccountRisk(account({ positions: [perp('ETH', 10, 3_000, { marginUsd: 100 })] }), FAST);
    expect(r.shortfallUsd).toBeGreaterThan(0);
    expect(r.liquidationDistance.downMovePct).toBe(0);
  });
});

describe('computeAccountRisk: account-level outputs', () => {
  const input = account({
    positions: [lending('collateral', 'aWETH', '10'), lending('debt', 'USDC', '15000'), spot('USDC', '500')],
  });
  let r: AccountRiskResult;
  beforeAll(() => {
    r = computeAccountRisk(input);
  });

  it('values aTokens at the underlying price and debt negatively', () => {
    expect(r.mtmUsd).toBeCloseTo(10 * 3_000 - 15_000 + 500, 9);
    expect(r.collateral.map((c) => [c.asset, c.valueUsd])).toEqual([
      ['aWETH', 30_000],
      ['USDC', 500],
    ]);
    expect(r.adjustedEquityUsd).toBeCloseTo(r.mtmUsd - r.haircutUsd, 9);
    expect(r.freeCollateralUsd).toBeCloseTo(r.adjustedEquityUsd - r.imUsd, 9);
  });

  it('finds the market move that takes adjusted equity down to MM', () => {
    const x = r.liquidationDistance.downMovePct!;
    const ethHaircut = r.collateral[0]!.haircutPct;
    const usdcHaircut = r.collateral[1]!.haircutUsd;
    // Only ETH moves: 30 000 (1 + x)(1 - h) + 500 - usdcHaircut - 15 000 = MM.
    const expected = (r.mmUsd + 15_000 - 500 + usdcHaircut) / (30_000 * (1 - ethHaircut)) - 1;
    expect(x).toBeCloseTo(expected, 9);
    expect(r.liquidationDistance.upMovePct).toBeNull();
  });

  it('replays stress paths by full revaluation', () => {
    const crash = r.stressReplays.find((s) => s.name === 'eth-crash-30pct-vol-spike')!;
    const depeg = r.stressReplays.find((s) => s.name === 'stablecoin-depeg-10pct')!;
    expect(crash.pnlUsd).toBeCloseTo(-0.3 * 30_000, 9);
    expect(depeg.pnlUsd).toBeCloseTo(-0.1 * (500 - 15_000), 9);
  });

  it('reports linear greeks as units held', () => {
    const eth = r.byUnderlying.find((u) => u.underlying === 'ETH')!;
    expect(eth.greeks).toEqual({
      delta: 10,
      deltaUsd: 30_000,
      gamma: 0,
      vegaUsdPerVolPoint: 0,
      thetaUsdPerDay: 0,
    });
  });

  it('converges to the analytic normal VaR for a linear book', () => {
    const params: RiskParams = {
      ...DEFAULT_RISK_PARAMS,
      valueAtRisk: {
        ...DEFAULT_RISK_PARAMS.valueAtRisk,
        monteCarloPaths: 40_000,
        studentTDegreesOfFreedom: 0,
      },
    };
    const book = computeAccountRisk(account({ positions: [perp('ETH', 20, 3_000)] }), params);
    const vol = book.byUnderlying[0]!.volAnnual;
    const sigmaH = vol * Math.sqrt(3_600 / (365 * 86_400));
    // Loss = 60 000 (1 - e^{-z σ_h}) at the 99 % quantile z.
    const analytic = 60_000 * (1 - Math.exp(-2.3263478740408408 * sigmaH));
    expect(Math.abs(book.components.monteCarloVarUsd / analytic - 1)).toBeLessThan(0.03);
  });

  it('prices options through the shared Black-76 and reports their greeks', () => {
    const o = computeAccountRisk(
      account({ positions: [option('ETH', 'call', 3_000, EXP2, 1)], volSurfaces: surfaces() }),
      FAST,
    );
    const eth = o.byUnderlying[0]!;
    expect(o.mtmUsd).toBeGreaterThan(0);
    expect(eth.greeks.delta).toBeGreaterThan(0.45);
    expect(eth.greeks.delta).toBeLessThan(0.6);
    expect(eth.greeks.gamma).toBeGreaterThan(0);
    expect(eth.greeks.vegaUsdPerVolPoint).toBeGreaterThan(0);
    expect(eth.greeks.thetaUsdPerDay).toBeLessThan(0);
    // A long call can lose at most its premium.
    expect(eth.standaloneLossUsd).toBeLessThanOrEqual(o.mtmUsd * 1.0001);
  });
});
