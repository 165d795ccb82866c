// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ISpotFeed, IForwardFeed, ILyraForwardFeed} from "./interfaces/IFeeds.sol";
import {LyraFeedBase} from "./LyraFeedBase.sol";

/// @title DeriveForwardFeed
/// @notice Stand-in for Derive's `LyraForwardFeed`: per expiry a signer posts the forward − spot
/// difference; the forward is read as spot + difference, so it follows the spot feed between posts as
/// Derive's does. Left out: settlement-price averaging near expiry (`forwardFixedPortion` is 0).
contract DeriveForwardFeed is LyraFeedBase, ILyraForwardFeed {
    ISpotFeed public immutable spotFeed;
    mapping(uint64 expiry => ForwardDetails) internal _details;

    constructor(address initialOwner, address spotFeed_, uint64 heartbeatSec) LyraFeedBase(initialOwner, heartbeatSec) {
        spotFeed = ISpotFeed(spotFeed_);
    }

    /// @inheritdoc ILyraForwardFeed
    function setForwardData(uint64 expiry, int96 fwdSpotDifference, uint64 confidence, uint64 timestamp)
        external
        onlySigner
    {
        if (!_checkPost(expiry, timestamp, _details[expiry].timestamp, confidence)) return;
        _forward(fwdSpotDifference); // reverts if spot + difference ≤ 0
        ForwardDetails memory details = ForwardDetails(fwdSpotDifference, confidence, timestamp);
        _details[expiry] = details;
        emit ForwardDataUpdated(expiry, details, SettlementDetails(0, 0));
    }

    /// @inheritdoc IForwardFeed
    function getForwardPrice(uint64 expiry) external view returns (uint256 forwardPrice, uint256 confidence) {
        ForwardDetails memory details = _load(expiry);
        return (_forward(details.fwdSpotDifference), details.confidence);
    }

    /// @inheritdoc IForwardFeed
    function getForwardPricePortions(uint64 expiry)
        external
        view
        returns (uint256 forwardFixedPortion, uint256 forwardVariablePortion, uint256 confidence)
    {
        ForwardDetails memory details = _load(expiry);
        return (0, _forward(details.fwdSpotDifference), details.confidence);
    }

    /// @inheritdoc ILyraForwardFeed
    function getForwardDetails(uint64 expiry) external view returns (ForwardDetails memory) {
        return _details[expiry];
    }

    function _load(uint64 expiry) internal view returns (ForwardDetails memory details) {
        details = _details[expiry];
        if (details.timestamp == 0) revert LFF_MissingExpiryData(expiry);
        _checkNotStale(details.timestamp);
    }

    function _forward(int96 fwdSpotDifference) internal view returns (uint256) {
        (uint256 spot,) = spotFeed.getSpot();
        int256 forward = int256(spot) + fwdSpotDifference;
        if (forward <= 0) revert LFF_InvalidForward(spot, fwdSpotDifference);
        return uint256(forward);
    }
}
