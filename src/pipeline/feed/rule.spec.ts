import type { HealthClass } from '../types';
import { crossing, DEFAULT_THRESHOLD_RULE, validateThresholdRule } from './rule';

const USD = 1_000_000n;
const r = (health: HealthClass, shortfallUsd = 0n) => ({ health, shortfallUsd6: shortfallUsd * USD });

describe('the shortfall threshold rule', () => {
  it('publishes an account entering below MM, from any safer class or from no previous result', () => {
    for (const before of ['healthy', 'warning', 'below-im'] as const) {
      expect(crossing(r('below-mm', 50n), r(before))).toBe('entered');
      expect(crossing(r('liquidatable', 50n), r(before))).toBe('entered');
    }
    expect(crossing(r('liquidatable', 1n), undefined)).toBe('entered');
  });

  it('publishes an account leaving below MM, and nothing for moves among the safe classes', () => {
    expect(crossing(r('below-im'), r('liquidatable', 500n))).toBe('left');
    expect(crossing(r('healthy'), r('below-mm', 500n))).toBe('left');
    expect(crossing(r('warning'), r('healthy'))).toBeNull();
    expect(crossing(r('below-im'), r('warning'))).toBeNull();
    expect(crossing(r('healthy'), undefined)).toBeNull();
  });

  it('publishes a class change while short (stale inputs become fresh and back)', () => {
    expect(crossing(r('liquidatable', 500n), r('below-mm', 500n))).toBe('class-changed');
    expect(crossing(r('below-mm', 500n), r('liquidatable', 500n))).toBe('class-changed');
  });

  it('publishes a shortfall change of at least max(100 USD, 10 %) while the class stays', () => {
    // Small shortfall: the 100 USD floor decides.
    expect(crossing(r('liquidatable', 599n), r('liquidatable', 500n))).toBeNull();
    expect(crossing(r('liquidatable', 600n), r('liquidatable', 500n))).toBe('shortfall-changed');
    expect(crossing(r('liquidatable', 400n), r('liquidatable', 500n))).toBe('shortfall-changed');
    // Large shortfall: 10 % decides (10,000 USD → 1,000 USD).
    expect(crossing(r('below-mm', 10_999n), r('below-mm', 10_000n))).toBeNull();
    expect(crossing(r('below-mm', 11_000n), r('below-mm', 10_000n))).toBe('shortfall-changed');
    expect(crossing(r('below-mm', 9_000n), r('below-mm', 10_000n))).toBe('shortfall-changed');
    expect(crossing(r('below-mm', 10_000n), r('below-mm', 10_000n))).toBeNull();
  });

  it('follows a configured rule, and refuses a negative or out-of-range one', () => {
    const rule = { minChangeUsd6: 1n, minChangeBps: 0n };
    expect(crossing(r('liquidatable', 501n), r('liquidatable', 500n), rule)).toBe('shortfall-changed');
    expect(crossing(r('liquidatable', 501n), r('liquidatable', 500n), DEFAULT_THRESHOLD_RULE)).toBeNull();
    expect(() => validateThresholdRule({ minChangeUsd6: -1n, minChangeBps: 0n })).toThrow(/minChangeUsd6/);
    expect(() => validateThresholdRule({ minChangeUsd6: 0n, minChangeBps: 10_001n })).toThrow(/minChangeBps/);
  });
});
