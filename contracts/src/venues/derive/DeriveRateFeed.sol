// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IInterestRateFeed, ILyraRateFeed} from "./interfaces/IFeeds.sol";
import {LyraFeedBase} from "./LyraFeedBase.sol";

/// @title DeriveRateFeed
/// @notice Stand-in for Derive's `LyraRateFeed`: per-expiry annualised rates (18 decimals) posted by a
/// whitelisted signer, read through `IInterestRateFeed.getInterestRate`.
contract DeriveRateFeed is LyraFeedBase, ILyraRateFeed {
    mapping(uint64 expiry => RateDetail) internal _rates;

    constructor(address initialOwner, uint64 heartbeatSec) LyraFeedBase(initialOwner, heartbeatSec) {}

    /// @inheritdoc ILyraRateFeed
    function setRate(uint64 expiry, int96 rate, uint64 confidence, uint64 timestamp) external onlySigner {
        if (!_checkPost(expiry, timestamp, _rates[expiry].timestamp, confidence)) return;
        _rates[expiry] = RateDetail(rate, confidence, timestamp);
        emit RateUpdated(expiry, rate, confidence, timestamp);
    }

    /// @inheritdoc IInterestRateFeed
    function getInterestRate(uint64 expiry) external view returns (int256 interestRate, uint256 confidence) {
        RateDetail memory detail = _rates[expiry];
        if (detail.timestamp == 0) revert LRF_MissingExpiryData(expiry);
        _checkNotStale(detail.timestamp);
        return (detail.rate, detail.confidence);
    }

    /// @inheritdoc ILyraRateFeed
    function getRateDetail(uint64 expiry) external view returns (RateDetail memory) {
        return _rates[expiry];
    }
}
