// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IPerpsAccountModule (Synthetix v3 Perps)
/// @notice Margin collateral and per-account reads. All USD values and sizes carry 18 decimals, as
/// in Synthetix. The only collateral is the venue's USD stablecoin, id 0 (Synthetix's id for
/// snxUSD); its 18-decimal amounts map to token units by dividing by 10^(18 - token decimals).
interface IPerpsAccountModule {
    /// @notice Emitted on a deposit (positive delta) or withdrawal (negative delta).
    /// @param accountId Account.
    /// @param synthMarketId Collateral id (always 0, Synthetix's id for its USD collateral).
    /// @param amountDelta Change, USD 18 decimals.
    /// @param sender Caller (the account owner).
    event CollateralModified(
        uint128 indexed accountId, uint128 indexed synthMarketId, int256 amountDelta, address indexed sender
    );

    /// @notice amountDelta is zero.
    error InvalidAmountDelta(int256 amountDelta);
    /// @notice amountDelta has precision below the token's smallest unit (e.g. not a multiple of 1e12 for 6-decimal USDC).
    error AmountNotTokenAligned(int256 amountDelta, uint256 tokenUnitD18);
    /// @notice The collateral id is not 0.
    error InvalidCollateralId(uint128 synthMarketId);
    /// @notice The withdrawal is larger than the account's collateral.
    error InsufficientCollateral(uint128 synthMarketId, uint256 collateralAmount, uint256 withdrawAmount);
    /// @notice The withdrawal would leave available margin below the required initial margin.
    /// @param availableUsdDenominated Withdrawable margin (0 when negative), USD 18 decimals.
    /// @param requiredUsdDenominated Requested withdrawal, USD 18 decimals.
    error InsufficientCollateralAvailableForWithdraw(uint256 availableUsdDenominated, uint256 requiredUsdDenominated);
    /// @notice The account is below maintenance margin; it can only be liquidated.
    error AccountLiquidatable(uint128 accountId);

    /// @notice Deposits (positive) or withdraws (negative) collateral; owner only.
    /// @param accountId Account.
    /// @param synthMarketId Must be 0.
    /// @param amountDelta USD 18 decimals; must be a whole number of token units.
    function modifyCollateral(uint128 accountId, uint128 synthMarketId, int256 amountDelta) external;

    /// @notice Collateral held, USD 18 decimals (the stablecoin is valued at 1 USD).
    function getCollateralAmount(uint128 accountId, uint128 synthMarketId) external view returns (uint256);

    /// @notice Ids of collaterals with a non-zero balance ([] or [0]).
    function getAccountCollateralIds(uint128 accountId) external view returns (uint256[] memory);

    /// @notice Market ids in which the account has a non-zero position.
    function getAccountOpenPositions(uint128 accountId) external view returns (uint256[] memory);

    /// @notice Total collateral value, USD 18 decimals.
    function totalCollateralValue(uint128 accountId) external view returns (uint256);

    /// @notice Sum over positions of |size| × index price, USD 18 decimals.
    function totalAccountOpenInterest(uint128 accountId) external view returns (uint256);

    /// @notice One position valued at the current index price.
    /// @return totalPnl Price PnL plus accrued funding minus owed interest, USD 18 decimals.
    /// @return accruedFunding Funding accrued since the last interaction, USD 18 decimals.
    /// @return positionSize Signed size, base units 18 decimals.
    /// @return owedInterest Interest owed (always 0: the stand-in charges no interest).
    function getOpenPosition(uint128 accountId, uint128 marketId)
        external
        view
        returns (int256 totalPnl, int256 accruedFunding, int128 positionSize, uint256 owedInterest);

    /// @notice Signed position size, base units 18 decimals; needs no fresh price.
    function getOpenPositionSize(uint128 accountId, uint128 marketId) external view returns (int128 positionSize);

    /// @notice Collateral value + total PnL of all positions − debt, USD 18 decimals (may be negative).
    function getAvailableMargin(uint128 accountId) external view returns (int256 availableMargin);

    /// @notice Available margin − required initial margin, USD 18 decimals (may be negative).
    function getWithdrawableMargin(uint128 accountId) external view returns (int256 withdrawableMargin);

    /// @notice Margin requirements over all positions, USD 18 decimals; both include maxLiquidationReward.
    /// @return requiredInitialMargin Needed to open/increase positions and to withdraw.
    /// @return requiredMaintenanceMargin Below this the account can be liquidated.
    /// @return maxLiquidationReward Reward a liquidator would receive for the whole account.
    function getRequiredMargins(uint128 accountId)
        external
        view
        returns (uint256 requiredInitialMargin, uint256 requiredMaintenanceMargin, uint256 maxLiquidationReward);

    /// @notice Realised losses not covered by collateral, USD 18 decimals.
    function debt(uint128 accountId) external view returns (uint256 accountDebt);
}
