// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ISpotFeed} from "./interfaces/IFeeds.sol";
import {IManager} from "./interfaces/IManager.sol";
import {IPerpAsset} from "./interfaces/IPerpAsset.sol";
import {ISubAccounts} from "./interfaces/ISubAccounts.sol";

/// @title DerivePerpAsset
/// @notice Devnet stand-in for Derive v2's (v2-core, as deployed on Derive Chain) `PerpAsset` of one underlying: subId 0, balance = signed size
/// in base units with 18 decimals; index price from the spot feed. Left out: funding, impact prices and
/// realising PnL into cash (Derive settles perps into cash through the manager).
contract DerivePerpAsset is IPerpAsset {
    ISubAccounts public immutable subAccounts;
    ISpotFeed public immutable spotFeed;
    string public underlying;

    constructor(address subAccounts_, string memory underlying_, address spotFeed_) {
        subAccounts = ISubAccounts(subAccounts_);
        underlying = underlying_;
        spotFeed = ISpotFeed(spotFeed_);
    }

    /// @notice SubAccounts hook: only subId 0 exists.
    function handleAdjustment(
        ISubAccounts.AssetAdjustment memory adjustment,
        uint256,
        int256 preBalance,
        IManager,
        address
    ) external view returns (int256 finalBalance, bool needAllowance) {
        if (msg.sender != address(subAccounts)) revert PA_NotAccount();
        if (adjustment.subId != 0) revert PA_InvalidSubId(adjustment.subId);
        return (preBalance + adjustment.amount, true);
    }

    /// @inheritdoc IPerpAsset
    function getIndexPrice() external view returns (uint256 price, uint256 confidence) {
        return spotFeed.getSpot();
    }
}
