// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IAsyncOrderSettlementPythModule (Synthetix v3 Perps), events only
/// @notice The settlement event, with the deployed shape (Synthetix types `settlementReward` as a
/// USD-unit wrapper of uint256, which is uint256 in the ABI).
interface IAsyncOrderSettlementPythModule {
    /// @notice Emitted when an order settles.
    /// @param fillPrice Fill price, USD 18 decimals.
    /// @param pnl Price PnL realised on the previous position, USD 18 decimals.
    /// @param accruedFunding Funding realised on the previous position, USD 18 decimals.
    /// @param sizeDelta Order size, base units 18 decimals.
    /// @param newSize Position size after the order.
    /// @param totalFees Fees charged (0 in the stand-in).
    /// @param referralFees Referral fees (0 in the stand-in).
    /// @param collectedFees Fees sent to the fee collector (0 in the stand-in).
    /// @param settlementReward Keeper reward (0 in the stand-in).
    /// @param trackingCode Integrator tag from the order.
    /// @param settler Address that settled (the committer, in the stand-in).
    event OrderSettled(
        uint128 indexed marketId,
        uint128 indexed accountId,
        uint256 fillPrice,
        int256 pnl,
        int256 accruedFunding,
        int128 sizeDelta,
        int128 newSize,
        uint256 totalFees,
        uint256 referralFees,
        uint256 collectedFees,
        uint256 settlementReward,
        bytes32 indexed trackingCode,
        address settler
    );
}
