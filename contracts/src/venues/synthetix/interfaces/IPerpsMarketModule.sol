// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IPerpsMarketModule (Synthetix v3 Perps)
/// @notice Per-market reads. Sizes in base units with 18 decimals, prices in USD with 18 decimals,
/// funding rates per day with 18 decimals.
interface IPerpsMarketModule {
    struct MarketSummary {
        int256 skew;
        uint256 size;
        uint256 maxOpenInterest;
        int256 currentFundingRate;
        int256 currentFundingVelocity;
        uint256 indexPrice;
    }

    /// @notice Market name and symbol as set at creation.
    function metadata(uint128 marketId) external view returns (string memory name, string memory symbol);

    /// @notice Long minus short open interest, base units.
    function skew(uint128 marketId) external view returns (int256);

    /// @notice Long plus short open interest, base units.
    function size(uint128 marketId) external view returns (uint256);

    /// @notice Maximum open interest per side, base units.
    function maxOpenInterest(uint128 marketId) external view returns (uint256);

    /// @notice Funding rate now, per day (lastRate + velocity × days since last update).
    function currentFundingRate(uint128 marketId) external view returns (int256);

    /// @notice clamp(skew / skewScale, −1, 1) × maxFundingVelocity, per day per day.
    function currentFundingVelocity(uint128 marketId) external view returns (int256);

    /// @notice Chainlink price normalised to 18 decimals; reverts when stale or non-positive.
    function indexPrice(uint128 marketId) external view returns (uint256);

    /// @notice Fill price of an order of `orderSize` at `price`, including the skew premium.
    function fillPrice(uint128 marketId, int128 orderSize, uint256 price) external view returns (uint256);

    /// @notice All of the above in one call.
    function getMarketSummary(uint128 marketId) external view returns (MarketSummary memory summary);
}
