import { DEFAULT_RISK_PARAMS } from '../params';
import { concentrationAddonUsd, liquidationImpactUsd, oracleAddonUsd } from './addons';

const P = DEFAULT_RISK_PARAMS;

describe('concentration add-on', () => {
  it('is zero within the free share of open interest and grows beyond it', () => {
    const c = P.concentration; // free 2 %, 0.5 per unit of excess share
    expect(concentrationAddonUsd(1_000, 100_000, c)).toBe(0);
    // 10 % of OI: rate 0.5 * (0.10 - 0.02) = 4 %.
    expect(concentrationAddonUsd(-10_000, 100_000, c)).toBeCloseTo(400, 9);
    expect(concentrationAddonUsd(10_000_000, 100_000, c)).toBeCloseTo(10_000_000 * c.maxAddonPct, 6);
    expect(concentrationAddonUsd(5, 0, c)).toBe(5 * c.maxAddonPct);
  });
});

describe('square-root liquidation impact', () => {
  it('costs c sqrt(N / depth) of the notional, so 4x the size costs 8x', () => {
    const i = P.liquidationImpact; // c = 0.1
    expect(liquidationImpactUsd(10_000, 1_000_000, i)).toBeCloseTo(10_000 * 0.1 * 0.1, 9);
    const small = liquidationImpactUsd(1_000, 1e9, i);
    expect(liquidationImpactUsd(-4_000, 1e9, i) / small).toBeCloseTo(8, 9);
    expect(liquidationImpactUsd(1e12, 1, i)).toBe(1e12 * i.maxImpactPct);
  });
});

describe('oracle add-on', () => {
  it('charges per hour of staleness beyond the fresh window and for wide confidence', () => {
    const o = P.oracle; // fresh 120 s, 2 %/h, free confidence 0.2 %
    expect(oracleAddonUsd(50_000, 60, 0.001, o)).toBe(0);
    expect(oracleAddonUsd(50_000, 120 + 1_800, 0, o)).toBeCloseTo(50_000 * 0.02 * 0.5, 9);
    expect(oracleAddonUsd(50_000, 0, 0.01, o)).toBeCloseTo(50_000 * 0.008, 9);
  });
});
