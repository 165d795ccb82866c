/**
 * Add-ons on top of the core margin, per underlying; none of them is offset across underlyings.
 *
 * - Concentration: a position that is large against the market's open interest cannot be closed at
 *   the oracle price. On net notional N and open interest OI:
 *     rate = min(max, k x max(0, |N| / OI - free)),  add-on = |N| x rate   (OI = 0: rate = max)
 * - Liquidation price impact, square-root law (Almgren et al., Tóth et al.): closing |N| against depth D
 *   moves the price by c sqrt(|N| / D), and the whole position pays roughly that:
 *     add-on = |N| x min(max, c sqrt(|N| / D))
 * - Oracle: a stale or uncertain price may already be wrong by the time margin is called:
 *     add-on = gross x (s x max(0, age - fresh) / 1 h + max(0, conf - freeConf))
 */
import type { RiskParams } from '../params';

export function concentrationAddonUsd(
  netNotionalUsd: number,
  openInterestUsd: number,
  p: RiskParams['concentration'],
): number {
  const n = Math.abs(netNotionalUsd);
  if (n === 0) return 0;
  const rate =
    openInterestUsd > 0
      ? Math.min(
          p.maxAddonPct,
          p.addonPctPerExcessFraction * Math.max(0, n / openInterestUsd - p.freeOpenInterestFraction),
        )
      : p.maxAddonPct;
  return n * rate;
}

export function liquidationImpactUsd(
  netNotionalUsd: number,
  depthUsd: number,
  p: RiskParams['liquidationImpact'],
): number {
  const n = Math.abs(netNotionalUsd);
  if (n === 0) return 0;
  return n * Math.min(p.maxImpactPct, p.coefficient * Math.sqrt(n / depthUsd));
}

export function oracleAddonUsd(
  grossExposureUsd: number,
  priceAgeSec: number,
  confidencePct: number,
  p: RiskParams['oracle'],
): number {
  const staleHours = Math.max(0, priceAgeSec - p.freshAgeSec) / 3_600;
  const rate = p.stalenessAddonPctPerHour * staleHours + Math.max(0, confidencePct - p.freeConfidencePct);
  return Math.abs(grossExposureUsd) * rate;
}
