/**
 * Comparison of the engine against one golden case, shared by the conformance script and the jest
 * suite so both apply exactly the same rule: MM, IM and every scenario P&L must agree to a relative
 * 1e-8, or an absolute 1e-8 where the expected magnitude is below 1e-8.
 */
import { pmrm2CaseFromJson } from './json';
import { computePmrm2 } from './model';

export const PMRM2_TOLERANCE = 1e-8;

export function withinTolerance(expected: number, got: number, tol = PMRM2_TOLERANCE): boolean {
  if (!Number.isFinite(got)) return false;
  const diff = Math.abs(expected - got);
  return Math.abs(expected) < tol ? diff <= tol : diff <= tol * Math.abs(expected);
}

/** Returns the list of quantities that differ (empty when the case passes). */
export function checkPmrm2Case(json: unknown): string[] {
  const { portfolio, params, expected } = pmrm2CaseFromJson(json);
  const result = computePmrm2(portfolio, params);
  const problems: string[] = [];
  const check = (what: string, exp: number, got: number): void => {
    if (!withinTolerance(exp, got)) problems.push(`${what}: expected ${exp} got ${got}`);
  };
  check('MM', expected.mm, result.mm);
  check('IM', expected.im, result.im);
  expected.scenarioLosses.forEach((exp, i) => {
    const s = params.scenarios[i]!;
    check(`scenario[${i}] (spot x${s.spotShock} vol ${s.volShock})`, exp, result.scenarioLosses[i] ?? NaN);
  });
  return problems;
}
