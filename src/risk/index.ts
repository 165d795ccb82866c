/**
 * Public API of the account-level risk engine. Callers hand in accounts' positions and the market
 * data at a block and get margin, breakdowns and hashes back; nothing here does I/O.
 *
 * One account: `computeAccountRisk(input, params)`. Many accounts at one block: `prepareMarket`
 * once, then `computeAccountRiskIn` per account, or `prepareBook` + `computeBookRisk` for the whole
 * book (compact figures) and `materializeAccountRisk` for the full result of one of its accounts.
 * `computeAccountRiskReference` is the straightforward implementation the fast path must equal.
 */
export {
  computeAccountRisk,
  computeAccountRiskIn,
  computeBookRisk,
  materializeAccountRisk,
  prepareBook,
  prepareMarket,
  completeMarket,
  registerListedOptions,
  allocateBookRiskResult,
  type MarketContext,
  type PreparedBook,
  type BookRiskResult,
} from './engine';
export { computeAccountRiskReference } from './reference';
export { computeScenarioGrid, type ScenarioGrid } from './scenario-grid';
export { normalizeAccount, fixedToNumber } from './validate';
export { hashInputs, hashMarket, hashParams, canonicalize } from './hash';
export { DEFAULT_RISK_PARAMS, validateRiskParams, RISK_TIER_ORDER } from './params';
export type { RiskParams, RiskTier, TierParams, UnderlyingParams, StressReplayParams } from './params';
export type * from './types';
