// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title AsyncOrder
/// @notice The order structs of Synthetix v3 Perps (`storage/AsyncOrder.sol`), field for field, so
/// `commitOrder` has the deployed ABI.
library AsyncOrder {
    /// @notice An order as the trader submits it.
    struct OrderCommitmentRequest {
        /// @dev Market to trade.
        uint128 marketId;
        /// @dev Trader's account id.
        uint128 accountId;
        /// @dev Change in position size, base-asset units with 18 decimals; positive buys.
        int128 sizeDelta;
        /// @dev Settlement strategy (only 0 exists in the stand-in).
        uint128 settlementStrategyId;
        /// @dev Worst fill price accepted, USD with 18 decimals: a maximum for buys, a minimum for sells.
        uint256 acceptablePrice;
        /// @dev Integrator tag, echoed in events.
        bytes32 trackingCode;
        /// @dev Referrer address (no referral fees in the stand-in).
        address referrer;
    }

    /// @notice A committed order.
    struct Data {
        /// @dev Commitment time, unix seconds.
        uint256 commitmentTime;
        /// @dev The request as submitted.
        OrderCommitmentRequest request;
    }
}
