import { InvalidInputError } from '../../common/errors';
import { sviClampedLogMoneyness, sviTotalVariance, sviVol, type SviParams } from './svi';

const p: SviParams = { a: 0.04, b: 0.1, rho: -0.5, m: 0, sigma: 0.1, forwardUsd: 100, tauYears: 0.5 };

describe('sviTotalVariance', () => {
  it('matches hand-computed values', () => {
    // K = F: k = 0, w = 0.04 + 0.1 * (-0.5 * 0 + sqrt(0 + 0.01)) = 0.05
    expect(sviTotalVariance(100, p)).toBeCloseTo(0.05, 15);
    // K = 110: k = ln 1.1 = 0.0953101798; sqrt(k^2 + 0.01) = 0.1381449615
    // w = 0.04 + 0.1 * (0.1381449615 - 0.0476550899) = 0.0490489872
    expect(sviTotalVariance(110, p)).toBeCloseTo(0.0490489872, 9);
    // K = 90: k = -0.1053605157; sqrt(k^2 + 0.01) = 0.1452612758
    // w = 0.04 + 0.1 * (0.1452612758 + 0.0526802578) = 0.0597941534
    expect(sviTotalVariance(90, p)).toBeCloseTo(0.0597941534, 9);
  });

  it('converts to an annualised vol sqrt(w / tau)', () => {
    expect(sviVol(100, p)).toBeCloseTo(Math.sqrt(0.05 / 0.5), 15);
  });

  it('clamps log-moneyness to +-4 sqrt(a + b sigma) so the wings are flat', () => {
    const bound = 4 * Math.sqrt(0.04 + 0.1 * 0.1); // 0.8944
    expect(sviClampedLogMoneyness(1e6, p)).toBeCloseTo(bound, 15);
    expect(sviClampedLogMoneyness(1e-6, p)).toBeCloseTo(-bound, 15);
    expect(sviVol(500, p)).toBe(sviVol(1e9, p));
    expect(sviVol(20, p)).toBe(sviVol(1e-9, p));
    expect(sviVol(0, p)).toBe(0);
  });

  it('caps total variance at 144', () => {
    expect(sviTotalVariance(100, { ...p, a: 1000 })).toBe(144);
  });

  it('rejects parameters that give a negative variance', () => {
    expect(() => sviTotalVariance(100, { ...p, a: -1 })).toThrow(InvalidInputError);
  });

  it.each([
    ['svi.a', { a: NaN }],
    ['svi.b', { b: -0.1 }],
    ['svi.rho', { rho: 1.5 }],
    ['svi.sigma', { sigma: Infinity }],
    ['svi.forwardUsd', { forwardUsd: 0 }],
    ['svi.tauYears', { tauYears: -1 }],
  ] as const)('rejects a bad %s naming the field', (field, patch) => {
    expect(() => sviVol(100, { ...p, ...patch })).toThrow(new RegExp(`^${field.replace('.', '\\.')}:`));
  });

  it('rejects a negative or non-finite strike', () => {
    expect(() => sviVol(-1, p)).toThrow(/^strikeUsd:/);
    expect(() => sviVol(NaN, p)).toThrow(/^strikeUsd:/);
  });
});
