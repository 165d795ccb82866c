/**
 * When a stored risk result is worth a shortfall event: the feed's threshold rule, pure.
 *
 * An account is "short" when its class is `below-mm` or `liquidatable` (adjusted equity < MM). A new
 * result `next`, compared with the result it replaced (`previous`, none for an account's first), is
 * published when:
 * 1. `entered`: it is short and the previous was not (or there was none);
 * 2. `left`: it is not short and the previous was (the bots can stop watching the account);
 * 3. `class-changed`: both are short but the class changed (`below-mm` ↔ `liquidatable`, e.g. stale
 *    inputs became fresh);
 * 4. `shortfall-changed`: both are short, same class, and the shortfall moved by at least
 *    max(`minChangeUsd6`, `minChangeBps` × previous shortfall) — 100 USD and 10 % by default.
 * Anything else (healthy ↔ warning ↔ below IM, or a short account whose shortfall barely moved) is not
 * published: the feed is about liquidation, and a recompute every block must not flood it.
 */
import { InvalidInputError } from '../../common/errors';
import type { HealthClass, RiskRecord } from '../types';

export type CrossingReason = 'entered' | 'left' | 'class-changed' | 'shortfall-changed';

export interface ThresholdRule {
  /** Smallest shortfall change (USD6) that is material while the account stays short. */
  minChangeUsd6: bigint;
  /** Smallest shortfall change relative to the previous shortfall, in basis points. */
  minChangeBps: bigint;
}

export const DEFAULT_THRESHOLD_RULE: ThresholdRule = { minChangeUsd6: 100_000_000n, minChangeBps: 1_000n };

const SHORT: ReadonlySet<HealthClass> = new Set<HealthClass>(['below-mm', 'liquidatable']);

export const isShort = (health: HealthClass): boolean => SHORT.has(health);

export function validateThresholdRule(rule: ThresholdRule): ThresholdRule {
  if (rule.minChangeUsd6 < 0n)
    throw new InvalidInputError('minChangeUsd6', `${rule.minChangeUsd6} is negative`, {
      hint: 'Give the smallest material shortfall change in USD6 (1 USD = 1000000), 0 or more.',
    });
  if (rule.minChangeBps < 0n || rule.minChangeBps > 10_000n)
    throw new InvalidInputError('minChangeBps', `${rule.minChangeBps} is not in [0, 10000]`, {
      hint: 'Give the relative change in basis points (1000 = 10 %).',
    });
  return rule;
}

/** Why `next` crosses a threshold relative to `previous`, or null when it is not published. */
export function crossing(
  next: Pick<RiskRecord, 'health' | 'shortfallUsd6'>,
  previous: Pick<RiskRecord, 'health' | 'shortfallUsd6'> | undefined,
  rule: ThresholdRule = DEFAULT_THRESHOLD_RULE,
): CrossingReason | null {
  const nowShort = isShort(next.health);
  const wasShort = previous !== undefined && isShort(previous.health);
  if (nowShort && !wasShort) return 'entered';
  if (!nowShort) return wasShort ? 'left' : null;
  // Both short from here on.
  if (next.health !== previous!.health) return 'class-changed';
  const before = previous!.shortfallUsd6;
  const delta = next.shortfallUsd6 > before ? next.shortfallUsd6 - before : before - next.shortfallUsd6;
  const relative = (before * rule.minChangeBps) / 10_000n;
  const threshold = relative > rule.minChangeUsd6 ? relative : rule.minChangeUsd6;
  return delta > 0n && delta >= threshold ? 'shortfall-changed' : null;
}
