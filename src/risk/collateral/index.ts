export { effectiveTier, haircutPct } from './haircuts';
export { valueCollateral, type LendingValuation } from './lending';
