/**
 * Derive's production-style PMRM_2 parameters, as used by most of its published portfolio cases:
 * 23 regular scenarios (spot +-18% in 4.5% steps x vol up / none / down), 6 dampened tail scenarios
 * (spot x0.34 .. x4) and the linear and absolute skew shocks.
 */
import type { Pmrm2Params, Pmrm2Scenario, VolShockDirection } from './types';

const s = (spotShock: number, volShock: VolShockDirection, dampeningFactor = 1): Pmrm2Scenario => ({
  spotShock,
  volShock,
  dampeningFactor,
});

const REGULAR: Pmrm2Scenario[] = [
  s(1.18, 'up'),
  ...[1.135, 1.09, 1.045, 1, 0.955, 0.91, 0.865].flatMap((x) => [s(x, 'down'), s(x, 'none'), s(x, 'up')]),
  s(0.8200000000000001, 'up'),
];

const TAIL: Pmrm2Scenario[] = [
  s(0.33999999999999997, 'up', 0.054545454545454536),
  s(0.6699999999999999, 'up', 0.10909090909090907),
  s(1.5, 'up', 0.072),
  s(2.0, 'up', 0.036),
  s(3.0, 'up', 0.018),
  s(4.0, 'up', 0.011999999999999999),
];

export const DERIVE_DEFAULT_PARAMS: Pmrm2Params = {
  scenarios: [...REGULAR, ...TAIL, s(1, 'linear'), s(1, 'abs')],
  volShock: {
    volRangeUp: 0.5,
    volRangeDown: 0.275,
    shortTermPower: 0.3,
    longTermPower: 0.13,
    dteFloorDays: 1,
    minVolUpShock: 0.45,
  },
  skewShock: {
    linearBaseCap: 0.15,
    absBaseCap: 0.15,
    linearCBase: -0.05,
    absCBase: -0.05,
    minKStar: 0.01,
    widthScale: 4,
    volParamStatic: 0.6,
    volParamScale: -0.1,
  },
  margin: {
    mmFactor: 0.8,
    imFactor: 1,
    shortRateMultScale: 0.5,
    longRateMultScale: 1,
    shortRateAddScale: 0.08,
    longRateAddScale: 0.08,
    longBaseStaticDiscount: 0.95,
    shortBaseStaticDiscount: 1.04,
  },
  basis: { scenarioSpotUp: 1.045, scenarioSpotDown: 0.955, addFactor: 0.5, multFactor: 2 },
  other: {
    pegLossThreshold: 0.98,
    pegLossFactor: 2,
    confThreshold: 0.55,
    confMargin: 1,
    mmPerpPercent: 0.015,
    imPerpPercent: 0.005000000000000001,
    mmOptionPercent: 0.003,
    imOptionPercent: 0.002,
  },
};
