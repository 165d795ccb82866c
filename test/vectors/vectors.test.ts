/**
 * Golden cross-underlying cases: every `test/vectors/*.json` holds an account input (bigints as
 * decimal strings), the expected margin figures and the closed-form derivation they came from. The
 * expected numbers were worked out by hand from the model's formulas (docs/risk-model.md), not by
 * running the engine, so a change in the engine that moves them is a change in the model.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeAccountRisk, DEFAULT_RISK_PARAMS } from '../../src/risk';
import type { AccountRiskInput, AccountRiskResult } from '../../src/risk';

interface GoldenVector {
  name: string;
  description: string;
  derivation: string;
  input: unknown;
  expected: Record<string, number>;
  toleranceUsd: number;
  tolerancePct: number;
}

/** JSON has no bigint: fixed-point `raw` and oracle `answer` / `confidence` travel as digit strings. */
const BIGINT_KEYS = new Set(['raw', 'answer', 'confidence']);
export function reviveVectorInput(json: unknown): AccountRiskInput {
  return JSON.parse(JSON.stringify(json), (key, value: unknown) => {
    if (BIGINT_KEYS.has(key)) {
      if (typeof value !== 'string' || !/^-?[0-9]+$/.test(value))
        throw new Error(`${key}: expected a digit string, got ${String(value)}`);
      return BigInt(value);
    }
    return value;
  }) as AccountRiskInput;
}

const ACTUAL: Record<string, (r: AccountRiskResult) => number | null> = {
  mtmUsd: (r) => r.mtmUsd,
  haircutUsd: (r) => r.haircutUsd,
  undiversifiedLossUsd: (r) => r.components.undiversifiedLossUsd,
  aggregatedLossUsd: (r) => r.components.aggregatedLossUsd,
  offsetUsd: (r) => r.components.offsetUsd,
  contingencyUsd: (r) => r.components.contingencyUsd,
  mmUsd: (r) => r.mmUsd,
  imUsd: (r) => r.imUsd,
  freeCollateralUsd: (r) => r.freeCollateralUsd,
  shortfallUsd: (r) => r.shortfallUsd,
  addonsUsd: (r) => r.components.addonsUsd,
  liquidationDownMovePct: (r) => r.liquidationDistance.downMovePct,
};

const dir = __dirname;
const vectors: GoldenVector[] = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as GoldenVector);

describe('golden cross-underlying vectors', () => {
  it('has at least six cases, each with a derivation', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(6);
    for (const v of vectors) expect(v.derivation.length).toBeGreaterThan(20);
  });

  describe.each(vectors.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    const result = computeAccountRisk(reviveVectorInput(v.input), DEFAULT_RISK_PARAMS);

    it.each(Object.entries(v.expected))('%s matches the hand-derived value', (key, expected) => {
      const read = ACTUAL[key];
      expect(read).toBeDefined();
      const actual = read!(result);
      expect(actual).not.toBeNull();
      const tolerance = key.endsWith('Pct') ? 1e-6 : v.toleranceUsd + v.tolerancePct * Math.abs(expected);
      expect(Math.abs(actual! - expected)).toBeLessThanOrEqual(tolerance);
    });

    it('has its VaR / ES floors below the scenario margin, as the derivation assumes', () => {
      const c = result.components;
      expect(
        Math.max(c.historicalVarUsd, c.historicalEsUsd, c.monteCarloVarUsd, c.monteCarloEsUsd),
      ).toBeLessThan(c.scenarioMarginUsd);
    });
  });
});
