// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IManager} from "./interfaces/IManager.sol";
import {IOptionAsset} from "./interfaces/IOptionAsset.sol";
import {ISubAccounts} from "./interfaces/ISubAccounts.sol";
import {OptionEncoding} from "./OptionEncoding.sol";

/// @title DeriveOptionAsset
/// @notice Devnet stand-in for Derive v2's (v2-core, as deployed on Derive Chain) `OptionAsset` of one underlying. Balances live in SubAccounts
/// under subId = OptionEncoding.toSubId(expiry, strike, isCall) and count contracts with 18 decimals
/// (positive long, negative short). The hook refuses expired or zero-strike subIds. Left out: open-interest
/// tracking, the settlement feed and settlement at expiry.
contract DeriveOptionAsset is IOptionAsset {
    ISubAccounts public immutable subAccounts;
    string public underlying;

    constructor(address subAccounts_, string memory underlying_) {
        subAccounts = ISubAccounts(subAccounts_);
        underlying = underlying_;
    }

    /// @notice SubAccounts hook: accepts any signed amount of a live option.
    function handleAdjustment(
        ISubAccounts.AssetAdjustment memory adjustment,
        uint256,
        int256 preBalance,
        IManager,
        address
    ) external view returns (int256 finalBalance, bool needAllowance) {
        if (msg.sender != address(subAccounts)) revert OA_NotAccount();
        (uint256 expiry, uint256 strike,) = OptionEncoding.fromSubId(uint96(adjustment.subId));
        if (strike == 0) revert OA_InvalidStrike(adjustment.subId);
        if (block.timestamp >= expiry) revert OA_AssetExpired(adjustment.subId, expiry, block.timestamp);
        return (preBalance + adjustment.amount, true);
    }

    /// @inheritdoc IOptionAsset
    function getSubId(uint256 expirySec, uint256 strikeD18, bool isCall) external pure returns (uint96) {
        return OptionEncoding.toSubId(expirySec, strikeD18, isCall);
    }

    /// @inheritdoc IOptionAsset
    function getOptionDetails(uint96 subId)
        external
        pure
        returns (uint256 expirySec, uint256 strikeD18, bool isCall)
    {
        return OptionEncoding.fromSubId(subId);
    }
}
