// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAsset} from "./IAsset.sol";

/// @title IPerpAsset (stand-in)
/// @notice Perp of one underlying, subId 0; balance = position size, 18 decimals. Funding and
/// mark-to-market settlement into cash are left out.
interface IPerpAsset is IAsset {
    error PA_NotAccount();
    error PA_InvalidSubId(uint256 subId);

    function underlying() external view returns (string memory);

    /// @notice Index price (the spot feed), USD 18 decimals, and its confidence (1e18).
    function getIndexPrice() external view returns (uint256 price, uint256 confidence);
}
