/**
 * Public API of the account-level risk engine. Callers hand in one account's normalized positions
 * and market data and get margin, breakdowns and hashes back; nothing here does I/O.
 */
export { computeAccountRisk } from './engine';
export { normalizeAccount, fixedToNumber } from './validate';
export { hashInputs, hashParams, canonicalize } from './hash';
export { DEFAULT_RISK_PARAMS, validateRiskParams, RISK_TIER_ORDER } from './params';
export type { RiskParams, RiskTier, TierParams, UnderlyingParams, StressReplayParams } from './params';
export type * from './types';
