/**
 * "A hedge lowers the requirement", stated precisely (docs/risk-model.md, "Hedges"). With the
 * account's directional parts d_i, the sign-dependent correlation ρ*, Q = Σ ρ*_ij d_i d_j and the
 * marginal exposure g_j(σ) = σ Σ_i ρ*_ij d_i of underlying j in direction σ = ±1, a position added
 * on an underlying j that holds no options is a hedge when
 *   (H1) it moves d_j in a direction σ with g_j(σ) < 0 (opposite delta, correlation-weighted),
 *   (H2) it moves d_j by t with 0 < t <= |g_j(σ)| (within the minimum-variance hedge) and does not
 *        carry d_j through zero,
 *   (H3) for a perp, whose 1.5 % contingency is charged in full, its effective correlation
 *        ρ_eff = |g_j| / sqrt(Q) exceeds 2 c / shock_j (c = perpContingencyPctNotional).
 * Then the scenario margin and MM strictly fall (proof in the docs: sqrt(Q) falls by at least
 * t ρ_eff / 2, the contingency rises by at most c t / shock_j). A protective option is a hedge when
 * the account is net long (short) q > 0 units of delta-one exposure on the underlying, holds no
 * options there, and buys a put (call) of 0 < a <= q contracts struck between spot and half the
 * grid shock out of the money, expiring in 7 to 90 days: then the underlying's standalone loss
 * strictly falls, and so do the scenario margin and MM when the underlying's directional exposure
 * was not offset against another underlying (an option turns part of the directional loss into
 * convexity, which is never offset, so it can undo a cross-underlying offset).
 */
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
import { DEFAULT_RISK_PARAMS, type RiskParams } from './params';
import { Prng } from './stats/prng';
import type { AccountRiskInput, AccountRiskResult, Position } from './types';

const FAST: RiskParams = {
  ...DEFAULT_RISK_PARAMS,
  valueAtRisk: { ...DEFAULT_RISK_PARAMS.valueAtRisk, monteCarloPaths: 100 },
  liquidationImpact: { ...DEFAULT_RISK_PARAMS.liquidationImpact, coefficient: 0 },
};
const TOKEN: Record<string, string> = { ETH: 'WETH', BTC: 'WBTC', OP: 'OP', USDC: 'USDC' };
const VOLATILE = ['BTC', 'ETH', 'OP'];
const round = (x: number, digits: number) => Number(x.toFixed(digits));
const C = FAST.scenario.perpContingencyPctNotional;

/** Linear-only random book over the volatile underlyings (and some USDC). */
function linearBook(rng: Prng): Position[] {
  const positions: Position[] = [];
  for (const u of [...VOLATILE, 'USDC']) {
    if (rng.nextFloat() < 0.25) continue;
    const s = DEFAULT_SPOTS[u]!;
    const units = (usd: number) => round(usd / s, 8);
    const r = rng.nextFloat();
    if (r < 0.35) positions.push(spot(TOKEN[u]!, units(rng.uniform(1e3, 1e5))));
    else if (r < 0.6) positions.push(lending('debt', TOKEN[u]!, units(rng.uniform(1e3, 5e4))));
    else if (u !== 'USDC') positions.push(perp(u, units(rng.uniform(-1e5, 1e5)), s, { marginUsd: 1e4 }));
    else positions.push(lending('collateral', 'aUSDC', round(rng.uniform(1e3, 1e5), 6)));
  }
  if (positions.length === 0) positions.push(spot('WETH', 5));
  return positions;
}

interface Exposure {
  names: string[];
  d: number[];
  rho: number[][];
  q: number;
}

function exposure(r: AccountRiskResult): Exposure {
  const names = r.hedgeCorrelation.underlyings;
  const d = r.byUnderlying.map((u) => u.directionalLossUsd);
  const rho = r.hedgeCorrelation.matrix;
  let q = 0;
  d.forEach((di, i) => d.forEach((dj, j) => (q += (i === j || di * dj > 0 ? 1 : rho[i]![j]!) * di * dj)));
  return { names, d, rho, q };
}

/** g_j(σ) for a held underlying j (index in the result) or a new one with correlations `rhoNew`. */
function marginal(e: Exposure, sigma: number, j: number, rhoNew?: number[]): number {
  let g = 0;
  e.d.forEach((di, i) => {
    if (i === j) g += sigma * di;
    else g += sigma * di * (Math.sign(di) === sigma ? 1 : rhoNew ? rhoNew[i]! : e.rho[i]![j]!);
  });
  return g;
}

function withPosition(input: AccountRiskInput, p: Position): AccountRiskInput {
  return { ...input, positions: [...input.positions, p] };
}

describe('hedges lower the requirement (precise definition)', () => {
  it('a perp hedge on a held underlying, within the minimum-variance size and above the correlation threshold', () => {
    const rng = new Prng(41);
    let tested = 0;
    for (let run = 0; run < 200; run++) {
      const input = account({
        positions: linearBook(rng),
        correlation: rng.uniform(0.2, 1),
        historySeed: run + 1,
      });
      const base = computeAccountRisk(input, FAST);
      const e = exposure(base);
      const candidates = e.names.map((n, j) => j).filter((j) => VOLATILE.includes(e.names[j]!));
      if (candidates.length === 0 || e.q <= 0) continue;
      const j = candidates[rng.int(candidates.length)]!;
      const u = base.byUnderlying[j]!;
      for (const sigma of [1, -1]) {
        const g = marginal(e, sigma, j);
        if (g >= 0) continue; // (H1)
        const rhoEff = -g / Math.sqrt(e.q);
        if (!(rhoEff > (2 * C) / u.spotShockPct)) break; // (H3) not met: no claim
        let t = rng.uniform(0.05, 1) * -g; // (H2)
        if (Math.sign(e.d[j]!) === -sigma) t = Math.min(t, 0.95 * Math.abs(e.d[j]!));
        const units = round((sigma * t) / (u.spotUsd * u.spotShockPct), 8);
        if (units === 0) continue;
        const hedged = computeAccountRisk(withPosition(input, perp(e.names[j]!, units, u.spotUsd)), FAST);
        expect(hedged.components.scenarioMarginUsd).toBeLessThan(base.components.scenarioMarginUsd);
        expect(hedged.mmUsd).toBeLessThan(base.mmUsd);
        tested++;
        break;
      }
    }
    expect(tested).toBeGreaterThan(50);
  });

  it('a short perp on a correlated underlying the account does not hold', () => {
    const rng = new Prng(42);
    let tested = 0;
    for (let run = 0; run < 120; run++) {
      // Long ETH (spot or perp); hedge with a BTC perp, a new underlying for the account.
      const ethUnits = round(rng.uniform(2, 40), 6);
      const positions = [
        rng.nextFloat() < 0.5 ? spot('WETH', ethUnits) : perp('ETH', ethUnits, 3_000, { marginUsd: 1e4 }),
      ];
      const rhoHistory = rng.uniform(0.5, 1);
      const input = account({ positions, correlation: rhoHistory, historySeed: 500 + run });
      const base = computeAccountRisk(input, FAST);
      // The hedge correlation of the pair, read off an account holding both.
      const probe = computeAccountRisk(withPosition(input, perp('BTC', 0.001, 60_000)), FAST);
      const rhoHedge = probe.hedgeCorrelation.matrix[0]![1]!;
      const btc = probe.byUnderlying[0]!;
      const e = exposure(base);
      const g = marginal(e, -1, -1, [rhoHedge]);
      const rhoEff = -g / Math.sqrt(e.q);
      if (!(g < 0 && rhoEff > (2 * C) / btc.spotShockPct)) continue;
      const t = rng.uniform(0.05, 1) * -g;
      const units = round(-t / (btc.spotUsd * btc.spotShockPct), 8);
      const hedged = computeAccountRisk(withPosition(input, perp('BTC', units, 60_000)), FAST);
      expect(hedged.components.scenarioMarginUsd).toBeLessThan(base.components.scenarioMarginUsd);
      expect(hedged.mmUsd).toBeLessThan(base.mmUsd);
      tested++;
    }
    expect(tested).toBeGreaterThan(60);
  });

  it('needs the correlation threshold: a weakly correlated perp "hedge" can raise MM by its contingency', () => {
    // Long ETH against a short BTC perp whose hedge correlation is ~0: the offset is nil, the
    // perp contingency is charged in full, so the requirement rises. (H3) excludes this case.
    const input = account({ positions: [spot('WETH', 10)], correlation: 0, historySeed: 3 });
    const base = computeAccountRisk(input, FAST);
    const hedged = computeAccountRisk(withPosition(input, perp('BTC', -0.05, 60_000)), FAST);
    const rho = hedged.hedgeCorrelation.matrix[0]![1]!;
    expect(rho).toBeLessThan((2 * C) / hedged.byUnderlying[0]!.spotShockPct);
    expect(hedged.mmUsd).toBeGreaterThan(base.mmUsd);
  });

  it('a protective put (long delta-one) or call (short delta-one) on the same underlying', () => {
    const rng = new Prng(43);
    const expiries = [7, 30, 90].map((d) => AS_OF_SEC + d * 86_400);
    const surfaces = Object.fromEntries(
      VOLATILE.map((u) => [u, expiries.map((e) => flatSlice(e, DEFAULT_SPOTS[u]!, rng.uniform(0.4, 1.2)))]),
    );
    let tested = 0;
    let offsetCases = 0;
    for (let run = 0; run < 300; run++) {
      const u = VOLATILE[rng.int(3)]!;
      const s = DEFAULT_SPOTS[u]!;
      const long = rng.nextFloat() < 0.5;
      const qty = round(rng.uniform(1e3, 1e5) / s, 8);
      const kind = rng.nextFloat();
      const held: Position =
        kind < 0.4
          ? long
            ? spot(TOKEN[u]!, qty)
            : lending('debt', TOKEN[u]!, qty)
          : perp(u, long ? qty : -qty, s, { marginUsd: 1e4 });
      const others = linearBook(rng).filter(
        (p) => !('underlying' in p && p.underlying === u) && !('asset' in p && p.asset === TOKEN[u]),
      );
      const input = account({ positions: [held, ...others], volSurfaces: surfaces, historySeed: 900 + run });
      const base = computeAccountRisk(input, FAST);
      const i = base.byUnderlying.findIndex((b) => b.underlying === u);
      const shock = base.byUnderlying[i]!.spotShockPct;
      // Precondition: u's directional exposure is not offset against another underlying.
      const du = base.byUnderlying[i]!.directionalLossUsd;
      const offset = base.byUnderlying.some((b) => b.directionalLossUsd * du < 0);
      const moneyness = rng.uniform(0, shock / 2);
      const strike = round(s * (long ? 1 - moneyness : 1 + moneyness), 6);
      const contracts = round(qty * rng.uniform(0.05, 1), 6);
      if (contracts === 0) continue;
      const hedge = option(u, long ? 'put' : 'call', strike, expiries[rng.int(3)]!, contracts);
      const hedged = computeAccountRisk(withPosition(input, hedge), FAST);
      // The underlying's own loss falls in every case ...
      expect(hedged.byUnderlying[i]!.standaloneLossUsd).toBeLessThan(base.byUnderlying[i]!.standaloneLossUsd);
      if (offset) {
        offsetCases++;
        continue;
      }
      // ... and with no cross-underlying offset to undo, the requirement falls with it.
      expect(hedged.components.scenarioMarginUsd).toBeLessThan(base.components.scenarioMarginUsd);
      expect(hedged.mmUsd).toBeLessThan(base.mmUsd);
      tested++;
    }
    expect(tested).toBeGreaterThan(60);
    expect(offsetCases).toBeGreaterThan(20);
  });
});
