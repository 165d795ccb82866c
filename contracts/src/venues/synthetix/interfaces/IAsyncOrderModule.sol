// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AsyncOrder} from "./AsyncOrder.sol";

/// @title IAsyncOrderModule (Synthetix v3 Perps)
/// @notice Order entry. The real venue commits here and settles later through a Pyth price
/// (`IAsyncOrderSettlementPythModule.settleOrder`); the stand-in settles inside `commitOrder` at the
/// market's Chainlink price, emitting both `OrderCommitted` and `OrderSettled`.
interface IAsyncOrderModule {
    /// @notice Emitted when an order is committed. `orderType` is 0 (Pyth offchain in Synthetix).
    event OrderCommitted(
        uint128 indexed marketId,
        uint128 indexed accountId,
        uint8 orderType,
        int128 sizeDelta,
        uint256 acceptablePrice,
        uint256 commitmentTime,
        uint256 expectedPriceTime,
        uint256 settlementTime,
        uint256 expirationTime,
        bytes32 indexed trackingCode,
        address sender
    );

    /// @notice The fill price is worse than the order's acceptable price.
    error AcceptablePriceExceeded(uint256 fillPrice, uint256 acceptablePrice);
    /// @notice The order's sizeDelta is zero.
    error ZeroSizeOrder();
    /// @notice After the order the account's available margin would be below its initial margin.
    error InsufficientMargin(int256 availableMargin, uint256 minMargin);
    /// @notice The order would push one side's open interest past the market's maximum.
    error MaxOpenInterestReached(uint128 marketId, uint256 maxMarketSize, int256 newSideSize);
    /// @notice The settlement strategy does not exist (only 0 does).
    error InvalidSettlementStrategy(uint256 settlementStrategyId);

    /// @notice Commits an order and, in the stand-in, settles it immediately at the index price.
    /// @param commitment The order (see AsyncOrder.OrderCommitmentRequest).
    /// @return retOrder The order with its commitment time.
    /// @return fees Order fees in USD 18 decimals (always 0 in the stand-in).
    function commitOrder(AsyncOrder.OrderCommitmentRequest memory commitment)
        external
        returns (AsyncOrder.Data memory retOrder, uint256 fees);

    /// @notice The account's pending order. Orders settle inside `commitOrder` in the stand-in, so this
    /// is always empty (sizeDelta 0), as Synthetix's is once an order has settled.
    function getOrder(uint128 accountId) external view returns (AsyncOrder.Data memory order);

    /// @notice Required initial margin of the account (incl. liquidation rewards) if `sizeDelta` were
    /// added to its `marketId` position, at the current index price; USD 18 decimals.
    function requiredMarginForOrder(uint128 accountId, uint128 marketId, int128 sizeDelta)
        external
        view
        returns (uint256 requiredMargin);

    /// @notice Fees and fill price an order of `sizeDelta` would get now.
    /// @return orderFees USD 18 decimals (always 0 in the stand-in).
    /// @return fillPrice USD 18 decimals, including the skew premium.
    function computeOrderFees(uint128 marketId, int128 sizeDelta)
        external
        view
        returns (uint256 orderFees, uint256 fillPrice);
}
