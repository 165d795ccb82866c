// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IMarketEvents (Synthetix v3 Perps)
interface IMarketEvents {
    /// @notice Emitted when a market's size changes through an order or a liquidation.
    /// @param marketId Market.
    /// @param price Index price used, USD 18 decimals.
    /// @param skew Long minus short open interest after the update, base units 18 decimals.
    /// @param size Long plus short open interest after the update, base units 18 decimals.
    /// @param sizeDelta Change of the market's skew in this update.
    /// @param currentFundingRate Funding rate per day, 18 decimals (0.001e18 = 0.1%/day).
    /// @param currentFundingVelocity Change of the funding rate per day, 18 decimals.
    /// @param interestRate Interest rate charged on open interest (always 0 in the stand-in).
    event MarketUpdated(
        uint128 marketId,
        uint256 price,
        int256 skew,
        uint256 size,
        int256 sizeDelta,
        int256 currentFundingRate,
        int256 currentFundingVelocity,
        uint128 interestRate
    );
}
