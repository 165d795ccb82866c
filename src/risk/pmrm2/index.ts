/**
 * Public API of the per-underlying scenario margin model (Derive PMRM_2-compatible).
 * See docs/risk-model.md, section "Per-underlying scenario margin".
 */
export type {
  Pmrm2Portfolio,
  Pmrm2Params,
  Pmrm2Result,
  Pmrm2Scenario,
  Pmrm2Collateral,
  Pmrm2Option,
  Pmrm2ExpiryFeed,
  Pmrm2ExpiryResult,
  Pmrm2VolShockParams,
  Pmrm2SkewShockParams,
  Pmrm2MarginParams,
  Pmrm2BasisParams,
  Pmrm2OtherParams,
  VolShockDirection,
  SviParams,
} from './types';
export { computePmrm2, validatePortfolio, validateParams } from './model';
export { pmrm2CaseFromJson, type Pmrm2Case, type Pmrm2Expected } from './json';
export { DERIVE_DEFAULT_PARAMS } from './params';
export {
  preparePmrm2Market,
  evaluatePmrm2Book,
  validatePmrm2Book,
  createPmrm2Scratch,
  allocatePmrm2BookResult,
  bookEntryToPortfolio,
  type Pmrm2Market,
  type Pmrm2Instrument,
  type Pmrm2CollateralAsset,
  type Pmrm2Book,
  type Pmrm2BookResult,
  type PreparedPmrm2Market,
  type Pmrm2Scratch,
} from './batch';
export { checkPmrm2Case, withinTolerance, PMRM2_TOLERANCE } from './conformance';
