// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ILiquidationModule (Synthetix v3 Perps)
/// @notice The real venue flags an account, seizes its collateral and closes positions over
/// liquidation windows; the stand-in closes every position in one call.
interface ILiquidationModule {
    /// @notice The account is not below its maintenance margin.
    error NotEligibleForLiquidation(uint128 accountId);

    /// @notice Emitted first in a liquidation, with the account's state when it was flagged.
    /// @param availableMargin USD 18 decimals.
    /// @param requiredMaintenanceMargin USD 18 decimals, including the liquidation reward.
    /// @param liquidationReward Reward for the whole account, USD 18 decimals.
    /// @param flagReward Same as liquidationReward in the stand-in (one reward, paid to the liquidator).
    event AccountFlaggedForLiquidation(
        uint128 indexed accountId,
        int256 availableMargin,
        uint256 requiredMaintenanceMargin,
        uint256 liquidationReward,
        uint256 flagReward
    );

    /// @notice Emitted for each position closed by a liquidation.
    /// @param amountLiquidated |size| closed, base units 18 decimals.
    /// @param currentPositionSize Size left (always 0 in the stand-in).
    event PositionLiquidated(
        uint128 indexed accountId, uint128 indexed marketId, uint256 amountLiquidated, int128 currentPositionSize
    );

    /// @notice Emitted once per liquidation call.
    /// @param reward USD 18 decimals paid to the liquidator.
    /// @param fullLiquidation Whether every position was closed (always true in the stand-in).
    event AccountLiquidationAttempt(uint128 indexed accountId, uint256 reward, bool fullLiquidation);

    /// @notice Liquidates an eligible account; pays the reward to the caller in the stablecoin.
    /// @return liquidationReward USD 18 decimals.
    function liquidate(uint128 accountId) external returns (uint256 liquidationReward);

    /// @notice Whether available margin < required maintenance margin (with at least one position).
    function canLiquidate(uint128 accountId) external view returns (bool isEligible);
}
