// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IMarginAggregator} from "../interfaces/IMarginAggregator.sol";

/// @title AuctionLib
/// @notice Dutch-auction arithmetic for liquidations (docs/specs.md S6, docs/aggregator.md "Liquidation").
/// @dev Selling collateral of weight (1 − h) for settlement cash of weight 1 at a discount d raises the
/// account's weighted collateral by (h − d) per dollar sold. So the dollar value to sell to close a gap G
/// is G / (h − d), and d must stay below h (S6.4), which the contract enforces when parameters are set.
library AuctionLib {
    uint256 internal constant BPS = 10_000;

    /// @notice Discount in bps after `elapsedSec` since the flag: linear from start to max, then flat (S6.3).
    function discountBps(IMarginAggregator.LiquidationParams memory p, uint256 elapsedSec)
        internal
        pure
        returns (uint256)
    {
        if (elapsedSec >= p.auctionDurationSec) return p.maxDiscountBps;
        return
            p.startDiscountBps + ((uint256(p.maxDiscountBps) - p.startDiscountBps) * elapsedSec) / p.auctionDurationSec;
    }

    /// @notice Net margin the liquidation aims for: MM × (1 + buffer), rounded up (S6.5).
    function targetMarginUsd6(uint256 mmUsd6, uint256 bufferBps) internal pure returns (uint256) {
        return _divUp(mmUsd6 * (BPS + bufferBps), BPS);
    }

    /// @notice USD6 value of collateral to sell to raise net margin by `gapUsd6`, rounded up.
    /// @param haircutBps Haircut of the sold asset; must exceed `discount`.
    function valueToSellUsd6(uint256 gapUsd6, uint256 haircutBps, uint256 discount) internal pure returns (uint256) {
        return _divUp(gapUsd6 * BPS, haircutBps - discount);
    }

    /// @notice What the liquidator pays for collateral worth `valueUsd6`: value × (1 − discount), rounded up.
    function priceUsd6(uint256 valueUsd6, uint256 discount) internal pure returns (uint256) {
        return _divUp(valueUsd6 * (BPS - discount), BPS);
    }

    function _divUp(uint256 a, uint256 b) private pure returns (uint256) {
        return a == 0 ? 0 : (a - 1) / b + 1;
    }
}
