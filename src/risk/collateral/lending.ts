/**
 * Valuation of held collateral (wallet tokens, venue cash, Aave aTokens) and of Aave debt at oracle
 * prices. An aToken redeems 1:1 for its underlying, so it is valued at the underlying's price; its
 * accrued interest is already in the balance. Debt counts negatively in mark-to-market and is not
 * haircut (its price risk is in the scenarios).
 */
import type { RiskParams } from '../params';
import type { CollateralLine, NormalizedAccount } from '../types';
import { haircutPct } from './haircuts';

export interface LendingValuation {
  collateralUsd: number;
  debtUsd: number;
  haircutUsd: number;
  lines: CollateralLine[];
  /** Haircut fraction per underlying (engine order), applied to collateral in revaluations. */
  haircutPctByUnderlying: Float64Array;
}

export function valueCollateral(
  account: NormalizedAccount,
  volAnnualByUnderlying: Float64Array,
  params: RiskParams,
): LendingValuation {
  const index = new Map(account.underlyings.map((u, i) => [u.name, i]));
  const haircuts = account.underlyings.map((u, i) =>
    haircutPct(params.underlyings[u.name]!.tier, volAnnualByUnderlying[i]!, params.collateral),
  );
  const lines: CollateralLine[] = [];
  let collateralUsd = 0;
  let debtUsd = 0;
  let haircutUsd = 0;
  for (const p of account.positions) {
    if (p.kind !== 'linear') continue;
    const i = index.get(p.underlying)!;
    const valueUsd = p.quantity * account.underlyings[i]!.spotUsd;
    if (!p.isCollateral) {
      debtUsd -= valueUsd;
      continue;
    }
    const h = haircuts[i]!;
    const lineHaircut = valueUsd * h.haircutPct;
    collateralUsd += valueUsd;
    haircutUsd += lineHaircut;
    lines.push({
      positionIndex: p.index,
      asset: p.asset,
      underlying: p.underlying,
      valueUsd,
      tier: params.underlyings[p.underlying]!.tier,
      effectiveTier: h.effectiveTier,
      haircutPct: h.haircutPct,
      haircutUsd: lineHaircut,
    });
  }
  return {
    collateralUsd,
    debtUsd,
    haircutUsd,
    lines,
    haircutPctByUnderlying: Float64Array.from(haircuts.map((h) => h.haircutPct)),
  };
}
