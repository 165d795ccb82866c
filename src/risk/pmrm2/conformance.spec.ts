import { checkPmrm2Case, withinTolerance } from './conformance';

/** A minimal case in Derive's JSON format: cash and one long perp, two regular scenarios + one skew. */
function perpCase(mm: number, im: number, losses: [number, number, number]): unknown {
  return {
    Scenario: {
      Cash: 1000,
      Collaterals: [],
      SpotPrice: 2000,
      SpotConfidence: 1,
      NumPerps: 1,
      PerpPrice: 2000,
      PerpConfidence: 1,
      UnrealisedPerpPNL: 0,
      UnrealisedFunding: 0,
      StablePrice: 1,
      StableConfidence: 1,
      Options: [],
      OptionFeeds: [],
    },
    Parameters: {
      Scenarios: [
        { SpotShock: 1.1, VolShockDirection: 'Up', DampeningFactor: 1 },
        { SpotShock: '0.9', VolShockDirection: 'None', DampeningFactor: 1 },
        { SpotShock: 1, VolShockDirection: 'LINEAR', DampeningFactor: 1 },
      ],
      SkewShock: {
        LINEAR_SCALE_CAP: 0.15,
        LINEAR_CBASE: -0.05,
        ABS_SCALE_CAP: 0.15,
        ABS_CBASE: -0.05,
        MIN_K_STAR: 0.01,
        MIN_WIDTH_SCALE: 4,
        VOL_PARAM_STATIC: 0.6,
        VOL_PARAM_SCALE: -0.1,
      },
      VolShock: {
        VOLRANGEUP: 0.5,
        MIN_VOL_EVAL_SHOCKED: 0.45,
        VOLRANGEDOWN: 0.275,
        SHORTTERMPOWER: 0.3,
        LONGTERMPOWER: 0.13,
        DTE_FLOOR: 1,
      },
      Margin: {
        MM_LOSS_FACTOR: 0.8,
        IM_LOSS_FACTOR: 1,
        SHORT_RATE_MULTSCALE: 0.5,
        LONG_RATE_MULTSCALE: 1,
        SHORT_RATE_ADDSCALE: 0.08,
        LONG_RATE_ADDSCALE: 0.08,
        BASE_STATIC_DISCOUNT: 0.95,
        BASE_STATIC_DISCOUNT_NEG: 1.04,
      },
      BasisContingency: {
        SCENARIO_SPOT_UP: 1.045,
        SCENARIO_SPOT_DOWN: 0.955,
        BASIS_CONT_ADD_FACTOR: 0.5,
        BASIS_CONT_MULT_FACTOR: 2,
      },
      OtherContingency: {
        PEG_LOSS_THRESHOLD: 0.98,
        PEG_LOSS_FACTOR: 2,
        CONF_THRESHOLD: 0.55,
        CONF_MARGIN: 1,
        MM_PERP_PERCENT: 0.01,
        IM_PERP_PERCENT: 0.005,
        MM_OPTION_PERCENT: 0.003,
        IM_OPTION_PERCENT: 0.002,
      },
    },
    Result: {
      reg_losses: [
        ['0.1', 1, String(losses[0])],
        ['-0.1', 0, String(losses[1])],
      ],
      tail_losses: [],
      skew_losses: [['LINEAR', String(losses[2])]],
      MM: mm,
      IM: im,
    },
  };
}

// Long 1 perp at 2000: worst scenario is spot -10% = -200. MM = -200 * 0.8 - 20 + 1000 = 820,
// IM = -200 - 20 - 10 + 1000 = 770.
describe('checkPmrm2Case', () => {
  it('passes a hand-computed case', () => {
    expect(checkPmrm2Case(perpCase(820, 770, [200, -200, 0]))).toEqual([]);
  });

  it('reports each quantity that differs beyond 1e-8 relative', () => {
    const problems = checkPmrm2Case(perpCase(820 * (1 + 2e-8), 770, [200, -199, 0]));
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^MM: expected/);
    expect(problems[1]).toMatch(/^scenario\[1\]/);
  });

  it('rejects a case whose loss lists do not match the scenario count', () => {
    const bad = perpCase(820, 770, [200, -200, 0]) as { Result: { skew_losses: unknown[] } };
    bad.Result.skew_losses = [];
    expect(() => checkPmrm2Case(bad)).toThrow(/^Result: has 2 scenario losses/);
  });
});

describe('withinTolerance', () => {
  it('is relative above 1e-8 and absolute below', () => {
    expect(withinTolerance(1e6, 1e6 + 0.009)).toBe(true);
    expect(withinTolerance(1e6, 1e6 + 0.011)).toBe(false);
    expect(withinTolerance(0, 9e-9)).toBe(true);
    expect(withinTolerance(0, 2e-8)).toBe(false);
    expect(withinTolerance(1, NaN)).toBe(false);
  });
});
