import {
  forwardPrice,
  listExpiries,
  nextFriday0800,
  optionPremium,
  sviParams,
  sviVol,
} from './option-market';

describe('devnet option market data', () => {
  it('lists three Friday 08:00 UTC expiries, the first at least three days out', () => {
    const now = Date.UTC(2026, 10, 21, 10, 0, 0) / 1000; // Saturday
    const [a, b, c] = listExpiries(now);
    for (const e of [a!, b!, c!]) {
      const d = new Date(e * 1000);
      expect(d.getUTCDay()).toBe(5);
      expect(d.getUTCHours()).toBe(8);
    }
    expect(a! - now).toBeGreaterThanOrEqual(3 * 86_400);
    expect(b! - a!).toBe(28 * 86_400);
    expect(c! - a!).toBe(91 * 86_400);
  });

  it('nextFriday0800 returns the same instant when already on it', () => {
    const friday = Date.UTC(2026, 10, 27, 8, 0, 0) / 1000;
    expect(nextFriday0800(friday)).toBe(friday);
    expect(nextFriday0800(friday + 1)).toBe(friday + 7 * 86_400);
  });

  it('SVI smile gives the ATM vol × multiplier at the forward and a put skew', () => {
    const tau = 30 / 365;
    const fwd = forwardPrice(3000, tau);
    const p = sviParams('ETH', tau, 2);
    expect(sviVol(p, fwd, fwd, tau)).toBeCloseTo(1.2, 10);
    expect(sviVol(p, fwd * 0.8, fwd, tau)).toBeGreaterThan(sviVol(p, fwd * 1.2, fwd, tau));
    // The venue's no-arbitrage basic: a + bσ√(1−ρ²) ≥ 0.
    expect(p.a + p.b * p.sigma * Math.sqrt(1 - p.rho * p.rho)).toBeGreaterThanOrEqual(0);
  });

  it('Black-76 satisfies put-call parity and matches a reference price', () => {
    const f = 3000;
    const k = 3200;
    const t = 0.25;
    const v = 0.6;
    const r = 0.05;
    const call = optionPremium(f, k, t, v, true, r);
    const put = optionPremium(f, k, t, v, false, r);
    expect(call - put).toBeCloseTo(Math.exp(-r * t) * (f - k), 6);
    // By hand: d1 = −0.0651, d2 = −0.3651, N(d1) = 0.4740, N(d2) = 0.3575 → e^(−rT)(3000·N(d1) − 3200·N(d2)) ≈ 274.6.
    expect(call).toBeCloseTo(274.6, 0);
  });
});
