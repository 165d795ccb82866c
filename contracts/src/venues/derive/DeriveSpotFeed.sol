// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

import {ChainlinkPrice} from "../common/ChainlinkPrice.sol";
import {ISpotFeed} from "./interfaces/IFeeds.sol";

/// @title DeriveSpotFeed
/// @notice Derive's `ISpotFeed` backed by a Chainlink aggregator (Derive's own spot feed is signed data;
/// its ChainlinkSpotFeed adapter has this shape). Returns the answer normalised to 18 decimals with full
/// confidence; stale or non-positive answers revert.
contract DeriveSpotFeed is ISpotFeed {
    AggregatorV3Interface public immutable aggregator;
    /// @notice Maximum age of the Chainlink answer, seconds.
    uint64 public immutable heartbeat;

    error SF_InvalidHeartbeat();

    constructor(address aggregator_, uint64 heartbeatSec) {
        if (heartbeatSec == 0) revert SF_InvalidHeartbeat();
        aggregator = AggregatorV3Interface(aggregator_);
        heartbeat = heartbeatSec;
    }

    /// @inheritdoc ISpotFeed
    function getSpot() external view returns (uint256 spotPrice, uint256 confidence) {
        return (ChainlinkPrice.read18(aggregator, heartbeat), 1e18);
    }
}
