// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {VenueMath} from "../../src/venues/common/VenueMath.sol";
import {SviMath} from "../../src/venues/derive/SviMath.sol";
import {Test} from "../utils/Test.sol";

/// @notice Fixed-point ln/sqrt and the SVI vol, against values computed in double precision.
contract MathAndSviTest is Test {
    function test_Ln_KnownValues() public pure {
        assertEq(VenueMath.lnD18(1e18), 0, "ln 1");
        assertApproxEqAbs(VenueMath.lnD18(2e18), 693147180559945309, 10, "ln 2");
        assertApproxEqAbs(VenueMath.lnD18(10e18), 2302585092994045684, 10, "ln 10");
        assertApproxEqAbs(VenueMath.lnD18(0.5e18), -693147180559945309, 10, "ln 0.5");
        assertApproxEqAbs(VenueMath.lnD18(1.2e18), 182321556793954626, 10, "ln 1.2");
    }

    function testFuzz_LnOfProductIsSumOfLns(uint256 xSeed, uint256 ySeed) public pure {
        int256 x = int256(bound(xSeed, 1e15, 1e24));
        int256 y = int256(bound(ySeed, 1e15, 1e24));
        int256 lhs = VenueMath.lnD18((x * y) / 1e18);
        int256 rhs = VenueMath.lnD18(x) + VenueMath.lnD18(y);
        // (x · y) / 1e18 truncates by < 1 wei, a relative error ≤ 1e-12 here, i.e. ≤ 1e6 wei of ln
        assertApproxEqAbs(lhs, rhs, 2e6, "ln(xy) = ln x + ln y");
    }

    function testFuzz_SqrtIsFloorRoot(uint256 x) public pure {
        x = bound(x, 0, type(uint128).max);
        uint256 r = VenueMath.sqrt(x);
        assertTrue(r * r <= x, "r^2 <= x");
        assertTrue((r + 1) * (r + 1) > x, "(r+1)^2 > x");
    }

    function test_SviVol_FlatSmileEqualsSqrtOfAOverTau() public pure {
        // b = 0: w = a = 0.04 for every strike; tau = 1 → vol = 0.2
        assertEq(SviMath.getVol(2500e18, 0.04e18, 0, 0, 0, 0.1e18, 2000e18, 1e18), 0.2e18, "flat vol");
    }

    function test_SviVol_MatchesReferenceValues() public pure {
        // a=0.02 b=0.2 rho=−0.3 m=0.05 sigma=0.15 fwd=2000 tau=0.25 (double-precision reference)
        uint256 call2400 = SviMath.getVol(2400e18, 0.02e18, 0.2e18, -0.3e18, 0.05e18, 0.15e18, 2000e18, 0.25e18);
        uint256 put1500 = SviMath.getVol(1500e18, 0.02e18, 0.2e18, -0.3e18, 0.05e18, 0.15e18, 2000e18, 0.25e18);
        assertApproxEqAbs(call2400, 456356016880546200, 1e9, "vol at 2400");
        assertApproxEqAbs(put1500, 675753313931270900, 1e9, "vol at 1500");
    }

    function test_SviVol_ClampsLogMoneynessForShortExpiries() public pure {
        // tau = 0.01 → k is clamped to [−0.3, 0.3]: 2x and 3x the forward give the same vol
        uint256 at2x = SviMath.getVol(4000e18, 0.001e18, 0.1e18, 0, 0, 0.1e18, 2000e18, 0.01e18);
        uint256 at3x = SviMath.getVol(6000e18, 0.001e18, 0.1e18, 0, 0, 0.1e18, 2000e18, 0.01e18);
        uint256 inside = SviMath.getVol(2200e18, 0.001e18, 0.1e18, 0, 0, 0.1e18, 2000e18, 0.01e18);
        assertEq(at2x, at3x, "clamped wing");
        assertTrue(inside < at2x, "inside the clamp the smile still rises");
    }

    function test_SviVol_ZeroStrikeIsZero() public pure {
        assertEq(SviMath.getVol(0, 0.04e18, 0, 0, 0, 0.1e18, 2000e18, 1e18), 0, "strike 0");
    }

    function test_MinTotalVariance() public pure {
        // a + b·sigma·sqrt(1 − rho²) = −0.01 + 0.2 · 0.1 · 0.8 = 0.006
        assertEq(SviMath.minTotalVariance(-0.01e18, 0.2e18, 0.6e18, 0.1e18), 0.006e18, "min w");
    }
}
