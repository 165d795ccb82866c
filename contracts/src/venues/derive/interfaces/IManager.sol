// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ISubAccounts} from "./ISubAccounts.sol";

/// @title IManager (Derive v2)
/// @notice Risk manager of a subaccount. The stand-in records the manager of each account (it is part
/// of `AccountCreated` and `BalanceAdjusted`) but never calls these hooks: there is no on-chain margin
/// check, netmargin computes risk off-chain.
interface IManager {
    function handleAdjustment(
        uint256 accountId,
        uint256 tradeId,
        address caller,
        ISubAccounts.AssetDelta[] memory deltas,
        bytes memory data
    ) external;

    function handleManagerChange(uint256 accountId, IManager newManager) external;
}
