// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

/// @title IPerpsMarketConfiguration
/// @notice Admin setup of the stand-in. `createMarket`, `setFundingParameters`, `setMaxMarketSize`,
/// `setLiquidationParameters` and their getters have Synthetix's names and argument order
/// (IPerpsMarketFactoryModule / IMarketConfigurationModule); `setPriceFeed` replaces Synthetix's
/// oracle-manager node (`updatePriceData`) with a Chainlink aggregator and a heartbeat.
interface IPerpsMarketConfiguration {
    event MarketCreated(uint128 indexed perpsMarketId, string marketName, string marketSymbol);
    /// @notice Stand-in event (Synthetix emits MarketPriceDataUpdated with a Pyth feed id instead).
    event MarketChainlinkFeedSet(uint128 indexed marketId, address feed, uint256 heartbeatSec);
    event FundingParametersSet(uint128 indexed marketId, uint256 skewScale, uint256 maxFundingVelocity);
    event MaxMarketSizeSet(uint128 indexed marketId, uint256 maxMarketSize);
    event LiquidationParametersSet(
        uint128 indexed marketId,
        uint256 initialMarginRatioD18,
        uint256 maintenanceMarginScalarD18,
        uint256 minimumInitialMarginRatioD18,
        uint256 flagRewardRatioD18,
        uint256 minimumPositionMargin
    );

    /// @notice The market id is 0, already used, or (for the other calls) not created.
    error InvalidMarket(uint128 marketId);
    /// @notice A configuration value is out of range; `parameter` names it.
    error InvalidParameter(string parameter, string reason);
    /// @notice The market has no price feed yet (call setPriceFeed).
    error PriceFeedNotSet(uint128 marketId);

    /// @notice Creates a market (owner only). Configure its feed, funding and margins before trading.
    function createMarket(uint128 requestedMarketId, string memory marketName, string memory marketSymbol)
        external
        returns (uint128);

    /// @notice Sets the Chainlink feed and its heartbeat (max age, seconds) of a market (owner only).
    function setPriceFeed(uint128 marketId, AggregatorV3Interface feed, uint256 heartbeatSec) external;

    /// @notice skewScale (base units, 18 dec) and maxFundingVelocity (per day², 18 dec). Funding is
    /// recomputed at the current price first, so the change applies from now on.
    function setFundingParameters(uint128 marketId, uint256 skewScale, uint256 maxFundingVelocity) external;

    /// @notice Maximum open interest per side, base units 18 decimals (0 blocks new exposure).
    function setMaxMarketSize(uint128 marketId, uint256 maxMarketSize) external;

    /// @notice Margin parameters, all 18 decimals (minimumPositionMargin in USD).
    /// initialRatio = |size| / skewScale × initialMarginRatioD18 + minimumInitialMarginRatioD18;
    /// maintenanceRatio = initialRatio × maintenanceMarginScalarD18;
    /// margin = |size| × price × ratio + minimumPositionMargin;
    /// liquidation reward = |size| × price × flagRewardRatioD18.
    function setLiquidationParameters(
        uint128 marketId,
        uint256 initialMarginRatioD18,
        uint256 minimumInitialMarginRatioD18,
        uint256 maintenanceMarginScalarD18,
        uint256 flagRewardRatioD18,
        uint256 minimumPositionMargin
    ) external;

    function getPriceFeed(uint128 marketId) external view returns (address feed, uint256 heartbeatSec);

    function getFundingParameters(uint128 marketId)
        external
        view
        returns (uint256 skewScale, uint256 maxFundingVelocity);

    function getMaxMarketSize(uint128 marketId) external view returns (uint256 maxMarketSize);

    function getLiquidationParameters(uint128 marketId)
        external
        view
        returns (
            uint256 initialMarginRatioD18,
            uint256 minimumInitialMarginRatioD18,
            uint256 maintenanceMarginScalarD18,
            uint256 flagRewardRatioD18,
            uint256 minimumPositionMargin
        );

    /// @notice Ids of all created markets.
    function getMarkets() external view returns (uint256[] memory marketIds);

    /// @notice Interest rate on open interest (always 0: the stand-in charges no interest).
    function interestRate() external view returns (uint128);
}
