import { DEFAULT_RISK_PARAMS, RISK_TIER_ORDER } from '../params';
import { effectiveTier, haircutPct } from './haircuts';

const p = DEFAULT_RISK_PARAMS.collateral;

describe('volatility-adaptive haircuts', () => {
  it('are monotone non-decreasing in volatility for every tier', () => {
    for (const tier of RISK_TIER_ORDER) {
      let prev = -1;
      let prevRank = -1;
      for (let vol = 0; vol <= 5; vol += 0.01) {
        const h = haircutPct(tier, vol, p);
        expect(h.haircutPct).toBeGreaterThanOrEqual(prev);
        const rank = RISK_TIER_ORDER.indexOf(h.effectiveTier);
        expect(rank).toBeGreaterThanOrEqual(prevRank);
        prev = h.haircutPct;
        prevRank = rank;
      }
    }
  });

  it('demote a tier once realized volatility exceeds its ceiling, never promote', () => {
    expect(effectiveTier('A', 0.9, p.tiers)).toBe('A');
    expect(effectiveTier('A', 1.2, p.tiers)).toBe('B');
    expect(effectiveTier('A', 2.0, p.tiers)).toBe('C');
    expect(effectiveTier('C', 0, p.tiers)).toBe('C');
    expect(haircutPct('A', 1.2, p).haircutPct).toBe(p.tiers.B.baseHaircutPct);
  });

  it('grow with the liquidation-horizon move once it exceeds the tier base', () => {
    // 3 sigma over 1 h at vol 0.8: 3 * 0.8 * sqrt(1/8760) = 2.56 %: below tier A's 5 %.
    expect(haircutPct('A', 0.8, p).haircutPct).toBe(0.05);
    const params = { ...p, liquidationHorizonSec: 86_400 };
    // Over a day: 3 * 0.8 * sqrt(1/365) = 12.56 %.
    expect(haircutPct('A', 0.8, params).haircutPct).toBeCloseTo(3 * 0.8 * Math.sqrt(1 / 365), 12);
    expect(haircutPct('C', 100, params).haircutPct).toBe(1);
  });
});
