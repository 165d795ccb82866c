// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Owned} from "../common/Owned.sol";
import {IBaseLyraFeed} from "./interfaces/IFeeds.sol";

/// @title LyraFeedBase
/// @notice What Derive's `BaseLyraFeed` checks on signed data, applied to direct posts: a whitelisted
/// signer (here msg.sender instead of an EIP-712 signature), a timestamp not in the future and within the
/// heartbeat, and confidence ≤ 1. Posts not newer than the stored data are ignored by the feeds, and
/// reads of data older than the heartbeat revert, both as in Derive.
abstract contract LyraFeedBase is Owned, IBaseLyraFeed {
    mapping(address signer => bool) public isSigner;
    uint64 public heartbeat;

    constructor(address initialOwner, uint64 heartbeatSec) Owned(initialOwner) {
        heartbeat = heartbeatSec;
        emit HeartbeatUpdated(heartbeatSec);
    }

    modifier onlySigner() {
        if (!isSigner[msg.sender]) revert BLF_InvalidSigner(msg.sender);
        _;
    }

    /// @inheritdoc IBaseLyraFeed
    function addSigner(address signer, bool isAdded) external onlyOwner {
        if (signer == address(0)) revert ZeroAddress();
        isSigner[signer] = isAdded;
        emit SignerUpdated(signer, isAdded);
    }

    /// @inheritdoc IBaseLyraFeed
    function setHeartbeat(uint64 newHeartbeat) external onlyOwner {
        heartbeat = newHeartbeat;
        emit HeartbeatUpdated(newHeartbeat);
    }

    /// @return accepted False when the post is not newer than the stored data (to be ignored).
    function _checkPost(uint64 expiry, uint64 timestamp, uint64 storedTimestamp, uint256 confidence)
        internal
        view
        returns (bool accepted)
    {
        if (expiry == 0) revert BLF_InvalidExpiry(expiry);
        if (timestamp > block.timestamp || uint256(timestamp) + heartbeat < block.timestamp) {
            revert BLF_PostTimestampOutOfRange(timestamp, heartbeat, block.timestamp);
        }
        if (confidence > 1e18) revert BLF_InvalidConfidence(confidence);
        return timestamp > storedTimestamp;
    }

    function _checkNotStale(uint64 timestamp) internal view {
        if (uint256(timestamp) + heartbeat < block.timestamp) revert BLF_DataTooOld();
    }
}
