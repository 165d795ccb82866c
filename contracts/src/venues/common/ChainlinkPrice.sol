// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

/// @title ChainlinkPrice
/// @notice Reads a Chainlink `AggregatorV3Interface` feed and returns its answer as an 18-decimal
/// number. Both venues price from Chainlink on the devnet (the real Synthetix settles through Pyth and
/// Derive through signed feeds), so staleness and sign checks live here once.
library ChainlinkPrice {
    /// @notice The feed's latest answer is zero or negative.
    error NonPositivePrice(address feed, int256 answer);
    /// @notice The feed's latest update is older than its heartbeat allows.
    error StalePrice(address feed, uint256 updatedAtSec, uint256 heartbeatSec, uint256 nowSec);
    /// @notice The feed reports more than 18 decimals, which cannot be normalised without loss.
    error UnsupportedFeedDecimals(address feed, uint8 decimals);

    /// @notice Latest answer scaled to 18 decimals, after the staleness and sign checks.
    /// @param feed Chainlink aggregator (8 decimals for USD pairs).
    /// @param heartbeatSec Maximum accepted age of the answer, in seconds.
    function read18(AggregatorV3Interface feed, uint256 heartbeatSec) internal view returns (uint256 priceD18) {
        (, int256 answer,, uint256 updatedAt,) = feed.latestRoundData();
        if (answer <= 0) revert NonPositivePrice(address(feed), answer);
        if (updatedAt > block.timestamp || block.timestamp - updatedAt > heartbeatSec) {
            revert StalePrice(address(feed), updatedAt, heartbeatSec, block.timestamp);
        }
        priceD18 = normalize(uint256(answer), feed.decimals(), address(feed));
    }

    /// @notice Scales `amount` from `decimals` to 18 decimals.
    function normalize(uint256 amount, uint8 decimals, address feed) internal pure returns (uint256) {
        if (decimals > 18) revert UnsupportedFeedDecimals(feed, decimals);
        return amount * 10 ** (18 - decimals);
    }
}
