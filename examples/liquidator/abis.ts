/**
 * The few functions the liquidator calls, as human-readable ABIs (viem `parseAbi`), so the example
 * has no build step and no generated files. They match netmargin's `MarginAggregator`
 * (contracts/src/aggregator/interfaces/IMarginAggregator.sol), Aave V3's `Pool`, and ERC-20 /
 * Chainlink AggregatorV3.
 */
import { parseAbi } from 'viem';

export const aggregatorAbi = parseAbi([
  'function isLiquidatable(address account) view returns (bool)',
  'function marginOf(address account) view returns (uint256 imUsd6, uint256 mmUsd6, uint256 collateralUsd6, uint256 shortfallUsd6, uint64 attestedBlock, bool stale)',
  'function flaggedAtSec(address account) view returns (uint256)',
  'function currentDiscountBps(address account) view returns (uint256)',
  'function settlementAsset() view returns (address)',
  'function assets() view returns (address[])',
  'function balanceOf(address account, address asset) view returns (uint256)',
  'function assetConfig(address asset) view returns ((address feed, uint32 heartbeatSec, uint8 tokenDecimals, uint8 feedDecimals, uint16 haircutBps, bool isAToken, bool listed, int256 minAnswer, int256 maxAnswer, uint256 supplyCap, address aavePool, address underlying))',
  'function flagShortfall(address account)',
  'function liquidate(address account, address asset, uint256 maxSeize, uint256 maxPay) returns (uint256 seized, uint256 paid)',
  // The reverts a liquidator meets, so they are logged by name.
  'error AssetNotListed(address asset)',
  'error StalePrice(address feed, uint256 updatedAtSec, uint256 heartbeatSec)',
  'error SequencerDown()',
  'error SequencerGracePeriod(uint256 upSinceSec, uint256 gracePeriodSec)',
  'error NotLiquidatable(address account)',
  'error AlreadyFlagged(address account)',
  'error NotFlagged(address account)',
  'error SelfLiquidation(address account)',
  'error CannotSeizeSettlementAsset()',
  'error PaymentAboveMax(uint256 pay, uint256 maxPay)',
  'error NothingToSeize(address account, address asset)',
  'error LiquidationDidNotImprove(uint256 shortfallBeforeUsd6, uint256 shortfallAfterUsd6)',
  'error TokenTransferFailed(address token, address from, address to, uint256 amount)',
]);

export const aavePoolAbi = parseAbi([
  'function ADDRESSES_PROVIDER() view returns (address)',
  'function getUserAccountData(address user) view returns (uint256 totalCollateralBase, uint256 totalDebtBase, uint256 availableBorrowsBase, uint256 currentLiquidationThreshold, uint256 ltv, uint256 healthFactor)',
  'function getReservesList() view returns (address[])',
  'function getUserConfiguration(address user) view returns ((uint256 data))',
  'function getReserveData(address asset) view returns (((uint256 data) configuration, uint128 liquidityIndex, uint128 currentLiquidityRate, uint128 variableBorrowIndex, uint128 currentVariableBorrowRate, uint128 currentStableBorrowRate, uint40 lastUpdateTimestamp, uint16 id, address aTokenAddress, address stableDebtTokenAddress, address variableDebtTokenAddress, address interestRateStrategyAddress, uint128 accruedToTreasury, uint128 unbacked, uint128 isolationModeTotalDebt))',
  'function getReserveNormalizedIncome(address asset) view returns (uint256)',
  'function liquidationCall(address collateralAsset, address debtAsset, address user, uint256 debtToCover, bool receiveAToken)',
]);

export const addressesProviderAbi = parseAbi(['function getPriceOracle() view returns (address)']);

export const aaveOracleAbi = parseAbi([
  'function getAssetPrice(address asset) view returns (uint256)',
  'function BASE_CURRENCY_UNIT() view returns (uint256)',
]);

export const erc20Abi = parseAbi([
  'function symbol() view returns (string)',
  'function decimals() view returns (uint8)',
  'function balanceOf(address owner) view returns (uint256)',
  'function allowance(address owner, address spender) view returns (uint256)',
  'function approve(address spender, uint256 amount) returns (bool)',
]);

export const chainlinkAbi = parseAbi([
  'function latestRoundData() view returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)',
]);
