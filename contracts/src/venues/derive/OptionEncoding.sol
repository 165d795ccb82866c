// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title OptionEncoding
/// @notice Derive's option subId layout (lyra-utils `OptionEncoding`), bit for bit, so subIds on the
/// devnet decode exactly as on Derive:
///   uint96 subId = [ 1 bit isCall ][ 63 bits strike, 8 decimals ][ 32 bits expiry, unix seconds ]
/// Expiries up to year 2106, strikes in steps of 1e-8 USD up to ~92 billion USD.
library OptionEncoding {
    uint256 internal constant UINT32_MAX = 0xffffffff;
    uint256 internal constant UINT63_MAX = 0x7fffffffffffffff;
    /// @dev An 18-decimal strike is stored with 8 decimals.
    uint256 internal constant STRIKE_SCALE = 1e10;

    error OE_ExpiryTooLarge(uint256 expiry);
    error OE_ZeroExpiry();
    error OE_StrikeTooLarge(uint256 strike);
    error OE_StrikeTooGranular(uint256 strike);

    /// @param expiry Unix seconds, 1..2^32−1.
    /// @param strike USD 18 decimals, a multiple of 1e10.
    /// @param isCall True for a call.
    function toSubId(uint256 expiry, uint256 strike, bool isCall) internal pure returns (uint96 subId) {
        if (expiry > UINT32_MAX) revert OE_ExpiryTooLarge(expiry);
        if (expiry == 0) revert OE_ZeroExpiry();
        if (strike % STRIKE_SCALE != 0) revert OE_StrikeTooGranular(strike);
        uint256 strike8 = strike / STRIKE_SCALE;
        if (strike8 > UINT63_MAX) revert OE_StrikeTooLarge(strike8);
        subId = uint96(expiry) | (uint96(strike8) << 32) | (uint96(isCall ? 1 : 0) << 95);
    }

    /// @return expiry Unix seconds.
    /// @return strike USD 18 decimals.
    /// @return isCall True for a call.
    function fromSubId(uint96 subId) internal pure returns (uint256 expiry, uint256 strike, bool isCall) {
        expiry = subId & UINT32_MAX;
        strike = ((subId >> 32) & UINT63_MAX) * STRIKE_SCALE;
        isCall = (subId >> 95) != 0;
    }
}
