import { InvalidInputError } from '../common/errors';
import { DEFAULT_RISK_PARAMS, validateRiskParams, type RiskParams } from './params';

function rejects(mutate: (p: RiskParams) => void, field: string): void {
  const p = structuredClone(DEFAULT_RISK_PARAMS);
  mutate(p);
  let caught: unknown;
  try {
    validateRiskParams(p);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(InvalidInputError);
  expect((caught as InvalidInputError).field).toBe(`params.${field}`);
  expect((caught as InvalidInputError).code).toBe('INVALID_PARAMS');
}

describe('validateRiskParams', () => {
  it('accepts the default set, which carries a version', () => {
    expect(() => validateRiskParams(DEFAULT_RISK_PARAMS)).not.toThrow();
    expect(DEFAULT_RISK_PARAMS.version).toMatch(/^netmargin-portfolio-risk\/\d+\.\d+\.\d+$/);
  });

  it('names the first bad field', () => {
    rejects((p) => (p.correlation.ewmaLambda = 1), 'correlation.ewmaLambda');
    rejects((p) => (p.volatility.ewmaLambda = NaN), 'volatility.ewmaLambda');
    rejects((p) => (p.valueAtRisk.studentTDegreesOfFreedom = 2.5), 'valueAtRisk.studentTDegreesOfFreedom');
    rejects((p) => (p.valueAtRisk.varConfidence = 1), 'valueAtRisk.varConfidence');
    rejects((p) => (p.scenario.spotShockFractions = [-0.5, 0, 0.5]), 'scenario.spotShockFractions');
    rejects((p) => (p.underlyings.ETH!.maxSpotShockPct = 0.01), 'underlyings.ETH.maxSpotShockPct');
    rejects((p) => (p.collateral.tiers.B.baseHaircutPct = -0.1), 'collateral.tiers.B.baseHaircutPct');
    rejects((p) => (p.imToMmMultiplier = 0.9), 'imToMmMultiplier');
    rejects((p) => (p.version = ''), 'version');
  });
});
