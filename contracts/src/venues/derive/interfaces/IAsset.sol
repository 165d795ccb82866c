// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ISubAccounts} from "./ISubAccounts.sol";
import {IManager} from "./IManager.sol";

/// @title IAsset (Derive v2)
/// @notice An asset is asked by SubAccounts to approve every change of one of its balances and returns
/// the balance to record.
interface IAsset {
    /// @param adjustment Account, asset, subId, signed amount and asset data of the change.
    /// @param tradeId Id shared by all adjustments of one transfer batch.
    /// @param preBalance Balance before the change.
    /// @param manager Manager of the account.
    /// @param caller Address that initiated the transfer.
    /// @return finalBalance Balance to record.
    /// @return needAllowance Whether a non-owner caller needs allowance (the stand-in ignores it).
    function handleAdjustment(
        ISubAccounts.AssetAdjustment memory adjustment,
        uint256 tradeId,
        int256 preBalance,
        IManager manager,
        address caller
    ) external returns (int256 finalBalance, bool needAllowance);
}
