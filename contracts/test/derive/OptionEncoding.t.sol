// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {OptionEncoding} from "../../src/venues/derive/OptionEncoding.sol";
import {Test} from "../utils/Test.sol";

/// @dev External wrapper so reverts from the internal library can be expected.
contract OptionEncodingHarness {
    function toSubId(uint256 expiry, uint256 strike, bool isCall) external pure returns (uint96) {
        return OptionEncoding.toSubId(expiry, strike, isCall);
    }

    function fromSubId(uint96 subId) external pure returns (uint256, uint256, bool) {
        return OptionEncoding.fromSubId(subId);
    }
}

/// @notice Derive's option subId layout: [1 bit isCall][63 bits strike, 8 dec][32 bits expiry].
contract OptionEncodingTest is Test {
    OptionEncodingHarness internal h = new OptionEncodingHarness();

    function test_ToSubId_MatchesDeriveBitLayout() public view {
        // golden values worked outside Solidity: expiry | strike8 << 32 | isCall << 95
        assertEq(uint256(h.toSubId(1_700_000_000, 2000e18, true)), 39614082116125627998471975168, "2000 call");
        assertEq(uint256(h.toSubId(1_700_000_000, 1234.56789e18, false)), 530242871225872544000, "1234.56789 put");
    }

    function test_FromSubId_DecodesGoldenValue() public view {
        (uint256 expiry, uint256 strike, bool isCall) = h.fromSubId(39614082116125627998471975168);
        assertEq(expiry, 1_700_000_000, "expiry");
        assertEq(strike, 2000e18, "strike 18 dec");
        assertTrue(isCall, "call");
    }

    function test_RevertWhen_ExpiryIsZero() public {
        vm.expectRevert(OptionEncoding.OE_ZeroExpiry.selector);
        h.toSubId(0, 2000e18, true);
    }

    function test_RevertWhen_ExpiryIsTooLarge() public {
        vm.expectRevert(abi.encodeWithSelector(OptionEncoding.OE_ExpiryTooLarge.selector, uint256(2 ** 32)));
        h.toSubId(2 ** 32, 2000e18, true);
    }

    function test_RevertWhen_StrikeIsTooGranular() public {
        vm.expectRevert(abi.encodeWithSelector(OptionEncoding.OE_StrikeTooGranular.selector, uint256(2000e18 + 1)));
        h.toSubId(1_700_000_000, 2000e18 + 1, true);
    }

    function test_RevertWhen_StrikeIsTooLarge() public {
        uint256 strike8 = uint256(type(uint64).max >> 1) + 1;
        vm.expectRevert(abi.encodeWithSelector(OptionEncoding.OE_StrikeTooLarge.selector, strike8));
        h.toSubId(1_700_000_000, strike8 * 1e10, true);
    }

    function testFuzz_EncodingRoundTrip(uint256 expirySeed, uint256 strikeSeed, bool isCall) public view {
        uint256 expiry = bound(expirySeed, 1, 2 ** 32 - 1);
        uint256 strike = bound(strikeSeed, 0, 2 ** 63 - 1) * 1e10;
        uint96 subId = h.toSubId(expiry, strike, isCall);
        (uint256 e, uint256 s, bool c) = h.fromSubId(subId);
        assertEq(e, expiry, "expiry");
        assertEq(s, strike, "strike");
        assertEq(c, isCall, "isCall");
    }

    function testFuzz_DecodeEncodeIsIdentity(uint96 subId) public view {
        vm.assume(subId & 0xffffffff != 0);
        (uint256 e, uint256 s, bool c) = h.fromSubId(subId);
        assertEq(uint256(h.toSubId(e, s, c)), uint256(subId), "subId");
    }
}
