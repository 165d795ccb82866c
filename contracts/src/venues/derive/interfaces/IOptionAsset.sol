// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAsset} from "./IAsset.sol";

/// @title IOptionAsset (stand-in)
/// @notice Options of one underlying; subId = OptionEncoding.toSubId(expiry, strike, isCall). A balance is
/// a number of contracts, 18 decimals, positive long, negative short. Settlement at expiry is left out.
interface IOptionAsset is IAsset {
    /// @notice The option's expiry has passed; it can no longer be traded.
    error OA_AssetExpired(uint256 subId, uint256 expirySec, uint256 nowSec);
    error OA_NotAccount();
    /// @notice The subId has a zero strike (stand-in error).
    error OA_InvalidStrike(uint256 subId);

    /// @notice Underlying symbol, e.g. "ETH".
    function underlying() external view returns (string memory);

    /// @notice Convenience for off-chain readers: OptionEncoding.toSubId.
    function getSubId(uint256 expirySec, uint256 strikeD18, bool isCall) external pure returns (uint96 subId);

    /// @notice Convenience for off-chain readers: OptionEncoding.fromSubId.
    function getOptionDetails(uint96 subId) external pure returns (uint256 expirySec, uint256 strikeD18, bool isCall);
}
