/**
 * Volatility-adaptive collateral haircuts by risk tier.
 *
 * Each underlying has a configured tier (S best .. C worst). Realized volatility can only make things
 * worse: while the annualized vol exceeds the tier's `maxVolAnnual` the asset is demoted one tier.
 * The haircut is then the larger of the (effective) tier's base haircut and a liquidation-horizon
 * price move of `liquidationSigmas` standard deviations:
 *
 *   haircut = min(1, max(base(effectiveTier), k σ_annual sqrt(h / year)))
 *
 * Both terms rise with σ, so haircuts are monotone in volatility. Haircuts price the discount of
 * turning collateral into cash in a hurry; price risk over the margin horizon is in the scenarios.
 */
import { SECONDS_PER_YEAR } from '../math';
import { RISK_TIER_ORDER, type RiskParams, type RiskTier } from '../params';

export function effectiveTier(
  tier: RiskTier,
  volAnnual: number,
  tiers: RiskParams['collateral']['tiers'],
): RiskTier {
  let i = RISK_TIER_ORDER.indexOf(tier);
  while (i < RISK_TIER_ORDER.length - 1 && volAnnual > tiers[RISK_TIER_ORDER[i]!].maxVolAnnual) i++;
  return RISK_TIER_ORDER[i]!;
}

export function haircutPct(
  tier: RiskTier,
  volAnnual: number,
  p: RiskParams['collateral'],
): { effectiveTier: RiskTier; haircutPct: number } {
  const eff = effectiveTier(tier, volAnnual, p.tiers);
  const volTerm = p.liquidationSigmas * volAnnual * Math.sqrt(p.liquidationHorizonSec / SECONDS_PER_YEAR);
  return { effectiveTier: eff, haircutPct: Math.min(1, Math.max(p.tiers[eff].baseHaircutPct, volTerm)) };
}
