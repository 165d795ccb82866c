import { InvalidInputError } from '../../common/errors';
import {
  black76,
  black76Greeks,
  black76PricesUnchecked,
  black76PriceUnchecked,
  SECONDS_PER_YEAR,
  type Black76Input,
} from './black76';

const base: Black76Input = {
  timeToExpirySec: 0.5 * SECONDS_PER_YEAR,
  volAnnual: 0.6,
  forwardUsd: 2000,
  strikeUsd: 2100,
  discount: Math.exp(-0.05 * 0.5),
};

describe('black76', () => {
  it('prices a known case (hand-checked with d1, d2 from the closed form)', () => {
    // sigma sqrt(T) = 0.6 sqrt(0.5) = 0.4242641; d1 = (ln(2000/2100) + 0.09) / 0.4242641 = 0.0971325,
    // d2 = -0.3271316; C = e^-0.025 (2000 N(d1) - 2100 N(d2)) = 289.30816 (checked with an independent erfc).
    const { call } = black76(base);
    expect(call).toBeCloseTo(289.30816, 4);
  });

  it('satisfies put-call parity C - P = D (F - K)', () => {
    for (const strikeUsd of [500, 1500, 2000, 2600, 8000]) {
      for (const volAnnual of [0.05, 0.6, 2.5]) {
        const { call, put } = black76({ ...base, strikeUsd, volAnnual });
        const parity = base.discount * (base.forwardUsd - strikeUsd);
        expect(Math.abs(call - put - parity)).toBeLessThan(1e-9 * Math.max(1, Math.abs(parity)));
      }
    }
  });

  it('gives intrinsic value as T -> 0 and at zero volatility', () => {
    for (const p of [
      { ...base, timeToExpirySec: 0 },
      { ...base, volAnnual: 0 },
      { ...base, timeToExpirySec: 1, volAnnual: 0.5 },
    ]) {
      const itmCall = black76({ ...p, strikeUsd: 1800 });
      expect(itmCall.call).toBeCloseTo(p.discount * 200, 6);
      expect(itmCall.put).toBeCloseTo(0, 6);
      const itmPut = black76({ ...p, strikeUsd: 2300 });
      expect(itmPut.put).toBeCloseTo(p.discount * 300, 6);
      expect(itmPut.call).toBeCloseTo(0, 6);
    }
  });

  it('deep ITM call tends to D (F - K) and deep OTM call to a tiny non-negative value', () => {
    const deepItm = black76({ ...base, strikeUsd: 10, volAnnual: 0.3 });
    expect(deepItm.call).toBeCloseTo(base.discount * 1990, 8);
    const deepOtm = black76({ ...base, strikeUsd: 1e6, volAnnual: 0.3 });
    expect(deepOtm.call).toBeGreaterThanOrEqual(0);
    expect(deepOtm.call).toBeLessThan(1e-100);
    expect(deepOtm.put).toBeCloseTo(base.discount * (1e6 - 2000), 6);
  });

  it('keeps a relative accuracy deep out of the money (no cancellation to zero)', () => {
    // 5 standard deviations OTM: the call is ~1e-4 of the forward and must not collapse to 0.
    const { call } = black76({
      ...base,
      strikeUsd: 2000 * Math.exp(5 * 0.6 * Math.sqrt(0.5)),
      volAnnual: 0.6,
    });
    expect(call).toBeGreaterThan(0);
    expect(call).toBeLessThan(5);
  });

  it('bounds prices under extreme volatility: call <= D F, put <= D K', () => {
    for (const volAnnual of [10, 100, 1e6]) {
      const { call, put } = black76({ ...base, volAnnual });
      expect(call).toBeLessThanOrEqual(base.discount * base.forwardUsd);
      expect(put).toBeLessThanOrEqual(base.discount * base.strikeUsd);
      expect(Number.isNaN(call) || Number.isNaN(put)).toBe(false);
    }
    const huge = black76({ ...base, volAnnual: 1e6 });
    expect(huge.call).toBeCloseTo(base.discount * base.forwardUsd, 9);
  });

  it('handles zero strike and zero forward', () => {
    expect(black76({ ...base, strikeUsd: 0 })).toEqual({ call: base.discount * 2000, put: 0 });
    expect(black76({ ...base, forwardUsd: 0 })).toEqual({ call: 0, put: base.discount * 2100 });
  });

  it('never returns NaN over a grid of valid inputs', () => {
    for (const t of [0, 1, 3600, SECONDS_PER_YEAR, 10 * SECONDS_PER_YEAR]) {
      for (const v of [0, 1e-9, 0.2, 5, 1e4]) {
        for (const k of [0, 1e-9, 1, 2000, 1e9]) {
          const { call, put } = black76({ ...base, timeToExpirySec: t, volAnnual: v, strikeUsd: k });
          expect(Number.isFinite(call) && Number.isFinite(put)).toBe(true);
          expect(call).toBeGreaterThanOrEqual(0);
          expect(put).toBeGreaterThanOrEqual(0);
        }
      }
    }
  });

  it.each([
    ['timeToExpirySec', -1],
    ['volAnnual', -0.1],
    ['forwardUsd', -5],
    ['strikeUsd', -5],
    ['discount', -0.5],
    ['volAnnual', NaN],
    ['forwardUsd', Infinity],
    ['strikeUsd', -Infinity],
    ['timeToExpirySec', NaN],
  ] as const)('rejects %s = %p with an InvalidInputError naming the field', (field, value) => {
    const call = (): unknown => black76({ ...base, [field]: value });
    expect(call).toThrow(InvalidInputError);
    expect(call).toThrow(new RegExp(`^${field}:`));
  });
});

describe('black76Greeks', () => {
  it('matches finite differences of the price', () => {
    const g = black76Greeks(base);
    const h = 0.01;
    const up = black76({ ...base, forwardUsd: base.forwardUsd + h });
    const dn = black76({ ...base, forwardUsd: base.forwardUsd - h });
    expect(g.callDelta).toBeCloseTo((up.call - dn.call) / (2 * h), 6);
    expect(g.putDelta).toBeCloseTo((up.put - dn.put) / (2 * h), 6);
    expect(g.gamma).toBeCloseTo((up.call - 2 * g.call + dn.call) / (h * h), 5);
    const vh = 1e-5;
    const vUp = black76({ ...base, volAnnual: base.volAnnual + vh });
    const vDn = black76({ ...base, volAnnual: base.volAnnual - vh });
    expect(g.vega).toBeCloseTo((vUp.call - vDn.call) / (2 * vh), 4);
    // theta: one day passes, discount held fixed
    const day = 86_400;
    const later = black76({ ...base, timeToExpirySec: base.timeToExpirySec - day });
    expect(g.callTheta / 365).toBeCloseTo(later.call - g.call, 2);
  });

  it('gives intrinsic greeks at expiry instead of NaN', () => {
    const g = black76Greeks({ ...base, timeToExpirySec: 0, strikeUsd: 1500 });
    expect(g.callDelta).toBe(base.discount);
    expect(g.putDelta).toBe(0);
    expect(g.gamma).toBe(0);
    expect(g.vega).toBe(0);
  });
});

describe('black76PriceUnchecked', () => {
  it('returns exactly the call or the put of black76PricesUnchecked', () => {
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 5_000; i++) {
      const t = i % 97 === 0 ? 0 : next() * 2;
      const vol = i % 89 === 0 ? 0 : next() * 3;
      const f = i % 83 === 0 ? 0 : 100 * (0.2 + 2 * next());
      const k = i % 79 === 0 ? 0 : 100 * (0.2 + 2 * next());
      const d = 0.8 + 0.2 * next();
      const pair = black76PricesUnchecked(t, vol, f, k, d);
      expect(Object.is(black76PriceUnchecked(true, t, vol, f, k, d), pair.call)).toBe(true);
      expect(Object.is(black76PriceUnchecked(false, t, vol, f, k, d), pair.put)).toBe(true);
    }
  });
});
