// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

import {IMarginAggregator, IAavePoolIndex} from "../interfaces/IMarginAggregator.sol";

/// @title ValuationLib
/// @notice Chainlink reads with the checks the venues' `ChainlinkPrice` lacks (per-feed min/max bounds,
/// zero-dated rounds, the L2 sequencer uptime feed) and the conversions between an asset's internal
/// units and USD6. Conversions toward collateral value round down; conversions from a USD amount to the
/// units someone must hand over round up, so rounding never favours the party being paid.
/// @dev Amounts are bounded by supply caps; products stay far below 2^256 for any token and feed with
/// ≤ 36 decimals and balances below 1e30 units (checked arithmetic reverts beyond).
library ValuationLib {
    /// @notice Aave's ray (liquidity index unit).
    uint256 internal constant RAY = 1e27;
    uint256 internal constant USD6 = 1e6;
    uint256 internal constant BPS = 10_000;

    /// @notice A validated feed answer (feed decimals) and, for aTokens, the liquidity index (ray).
    struct Quote {
        uint256 answer;
        uint256 indexRay;
    }

    /// @notice Latest answer of the asset's feed after the staleness, sign and bounds checks (S2.2–S2.4).
    function readAnswer(IMarginAggregator.AssetConfig memory c) internal view returns (uint256) {
        (, int256 answer,, uint256 updatedAt,) = c.feed.latestRoundData();
        if (answer <= 0) revert IMarginAggregator.NonPositivePrice(address(c.feed), answer);
        if (updatedAt == 0 || updatedAt > block.timestamp || block.timestamp - updatedAt > c.heartbeatSec) {
            revert IMarginAggregator.StalePrice(address(c.feed), updatedAt, c.heartbeatSec);
        }
        if (answer < c.minAnswer || answer > c.maxAnswer) {
            revert IMarginAggregator.PriceOutOfBounds(address(c.feed), answer, c.minAnswer, c.maxAnswer);
        }
        return uint256(answer);
    }

    /// @notice The feed answer and (for aTokens) the pool's liquidity index.
    function quote(IMarginAggregator.AssetConfig memory c) internal view returns (Quote memory q) {
        q.answer = readAnswer(c);
        q.indexRay = c.isAToken ? IAavePoolIndex(c.aavePool).getReserveNormalizedIncome(c.underlying) : RAY;
    }

    /// @notice Reverts while the sequencer is down or within `gracePeriodSec` of coming back (S2.8, S2.9).
    /// A zero `feed` disables the check (an L1 or a devnet without the feed).
    function checkSequencer(AggregatorV3Interface feed, uint256 gracePeriodSec) internal view {
        if (address(feed) == address(0)) return;
        (, int256 answer, uint256 startedAt,,) = feed.latestRoundData();
        // startedAt == 0 is an uninitialised round: treat it as down rather than as up since 1970.
        if (answer != 0 || startedAt == 0) revert IMarginAggregator.SequencerDown();
        if (block.timestamp - startedAt <= gracePeriodSec) {
            revert IMarginAggregator.SequencerGracePeriod(startedAt, gracePeriodSec);
        }
    }

    /// @notice USD6 value of `internalAmount` (scaled units for aTokens), rounded down, before haircut.
    function valueUsd6(IMarginAggregator.AssetConfig memory c, Quote memory q, uint256 internalAmount)
        internal
        pure
        returns (uint256)
    {
        uint256 tokens = c.isAToken ? (internalAmount * q.indexRay) / RAY : internalAmount;
        return (tokens * q.answer * USD6) / 10 ** (uint256(c.tokenDecimals) + c.feedDecimals);
    }

    /// @notice Haircut-weighted USD6 value, rounded down (S2.7).
    function weightedUsd6(IMarginAggregator.AssetConfig memory c, Quote memory q, uint256 internalAmount)
        internal
        pure
        returns (uint256)
    {
        return (valueUsd6(c, q, internalAmount) * (BPS - c.haircutBps)) / BPS;
    }

    /// @notice Smallest internal amount worth at least `usd6` before haircut (rounded up).
    function internalForUsd6(IMarginAggregator.AssetConfig memory c, Quote memory q, uint256 usd6)
        internal
        pure
        returns (uint256 internalAmount)
    {
        uint256 tokens = _divUp(usd6 * 10 ** (uint256(c.tokenDecimals) + c.feedDecimals), q.answer * USD6);
        internalAmount = c.isAToken ? _divUp(tokens * RAY, q.indexRay) : tokens;
    }

    /// @notice Token units (not scaled) for an internal amount, rounded down: what leaves the contract.
    function tokensForInternal(IMarginAggregator.AssetConfig memory c, Quote memory q, uint256 internalAmount)
        internal
        pure
        returns (uint256)
    {
        return c.isAToken ? (internalAmount * q.indexRay) / RAY : internalAmount;
    }

    /// @notice Internal units to debit for `tokens` leaving the contract, rounded up.
    function internalForTokens(IMarginAggregator.AssetConfig memory c, Quote memory q, uint256 tokens)
        internal
        pure
        returns (uint256)
    {
        return c.isAToken ? _divUp(tokens * RAY, q.indexRay) : tokens;
    }

    function _divUp(uint256 a, uint256 b) private pure returns (uint256) {
        return a == 0 ? 0 : (a - 1) / b + 1;
    }
}
