// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// Chainlink's own MockV3Aggregator, compiled from @chainlink/contracts so the devnet's price feeds
// are Chainlink's reference implementation of AggregatorV3Interface, not a look-alike.
import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/tests/MockV3Aggregator.sol";
