import { InvalidInputError } from '../common/errors';
import { assertMarketPathName, buildMarketPath, MARKET_PATH_NAMES } from './market-paths';

describe('market paths', () => {
  it('are deterministic for a name and seed, and differ across seeds', () => {
    const a = buildMarketPath('calm', { seed: 7 });
    const b = buildMarketPath('calm', { seed: 7 });
    const c = buildMarketPath('calm', { seed: 8 });
    expect(a).toEqual(b);
    expect(a.steps[10]!.priceMultiplier.WETH).not.toBe(c.steps[10]!.priceMultiplier.WETH);
  });

  it('crash ends exactly at ETH −30 %, BTC −25 %, OP −40 % with vols 2.5x, falling all along', () => {
    const p = buildMarketPath('crash', { steps: 60 });
    const last = p.steps[59]!;
    expect(last.tSec).toBe(600);
    expect(last.priceMultiplier.WETH).toBeCloseTo(0.7, 12);
    expect(last.priceMultiplier.WBTC).toBeCloseTo(0.75, 12);
    expect(last.priceMultiplier.OP).toBeCloseTo(0.6, 12);
    expect(last.priceMultiplier.USDC).toBe(1);
    expect(last.volMultiplier).toBeCloseTo(2.5, 12);
    // Noise never undoes the slide: each tenth of the path is lower than the one before.
    for (let i = 6; i < 60; i += 6) {
      expect(p.steps[i]!.priceMultiplier.WETH).toBeLessThan(p.steps[i - 6]!.priceMultiplier.WETH);
    }
  });

  it('depeg takes USDC to 0.87 half-way and back to 0.95', () => {
    const p = buildMarketPath('depeg', { steps: 10 });
    expect(p.steps[4]!.priceMultiplier.USDC).toBeCloseTo(0.87, 12);
    expect(p.steps[9]!.priceMultiplier.USDC).toBeCloseTo(0.95, 12);
    expect(Math.min(...p.steps.map((s) => s.priceMultiplier.USDC))).toBeCloseTo(0.87, 12);
  });

  it('calm stays within a few percent and keeps vols unchanged', () => {
    for (const s of buildMarketPath('calm').steps) {
      expect(Math.abs(s.priceMultiplier.WETH - 1)).toBeLessThan(0.05);
      expect(s.volMultiplier).toBe(1);
    }
  });

  it('rejects an unknown path naming every valid one', () => {
    let err: unknown;
    try {
      assertMarketPathName('sideways');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidInputError);
    const e = err as InvalidInputError;
    expect(e.field).toBe('path');
    expect(e.shortMessage).toContain('sideways');
    for (const n of MARKET_PATH_NAMES) expect(e.hint).toContain(n);
  });

  it('rejects a step count outside 1..10000', () => {
    expect(() => buildMarketPath('calm', { steps: 0 })).toThrow(/steps/);
    expect(() => buildMarketPath('calm', { steps: 2.5 })).toThrow(InvalidInputError);
  });
});
