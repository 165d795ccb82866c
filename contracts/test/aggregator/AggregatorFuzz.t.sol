// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/tests/MockV3Aggregator.sol";

import {IMarginAggregator} from "../../src/aggregator/interfaces/IMarginAggregator.sol";
import {MockERC20} from "../utils/MockERC20.sol";
import {AggregatorBase} from "./AggregatorBase.sol";

/// @notice Fuzz tests: decimals 6/8/18, amounts and prices for valuation; record encoding; withdrawal
/// and liquidation properties over random accounts.
contract AggregatorFuzzTest is AggregatorBase {
    function _decimals(uint256 seed) internal pure returns (uint8) {
        uint256 k = seed % 3;
        return k == 0 ? 6 : k == 1 ? 8 : 18;
    }

    /// S2.5: the same number of whole tokens at the same price is worth the same whatever the token's
    /// decimals, and equals tokens × price × (1 − haircut) computed from whole-unit figures.
    function testFuzz_S2_5_valuationIndependentOfTokenDecimals(uint256 wholeSeed, uint256 priceSeed, uint256 centsSeed)
        public
    {
        uint256 whole = bound(wholeSeed, 1, 1e9); // up to a billion tokens
        int256 priceE8 = int256(bound(priceSeed, 1e6, 1e13)); // 0.01 .. 100,000 USD
        uint256 cents = bound(centsSeed, 0, 99); // a fractional part, in hundredths
        MockV3Aggregator feed = new MockV3Aggregator(8, priceE8);
        uint256[3] memory valueUsd6;
        uint8[3] memory decs = [uint8(6), 8, 18];
        for (uint256 k = 0; k < 3; k++) {
            MockERC20 token = new MockERC20("T", "T", decs[k]);
            agg.configureAsset(address(token), _config(feed, 2_000, 1, type(int192).max, false));
            address holder = address(uint160(0x7000 + k));
            _deposit(holder, token, whole * 10 ** decs[k] + cents * 10 ** (decs[k] - 2));
            (,, valueUsd6[k],,,) = agg.marginOf(holder);
        }
        assertEq(valueUsd6[0], valueUsd6[1], "6 vs 8 decimals");
        assertEq(valueUsd6[1], valueUsd6[2], "8 vs 18 decimals");
        // whole-unit reference: (whole + cents/100) × price × 0.8, in USD6, rounded down twice as the contract does
        uint256 raw = ((whole * 100 + cents) * uint256(priceE8)) / 100; // USD × 1e8
        uint256 expected = ((raw / 100) * 8_000) / 10_000;
        assertApproxEqAbs(valueUsd6[0], expected, 1, "matches whole-unit reference");
    }

    /// S2.5: valuation never exceeds the exact value and is off by at most 1 µUSD before haircut.
    function testFuzz_S2_5_valuationRoundsDown(uint256 decSeed, uint256 amountSeed, uint256 priceSeed) public {
        uint8 dec = _decimals(decSeed);
        uint256 amount = bound(amountSeed, 1, 1e12 * 10 ** dec);
        uint256 priceE8 = bound(priceSeed, 1e6, 1e13);
        MockV3Aggregator feed = new MockV3Aggregator(8, int256(priceE8));
        MockERC20 token = new MockERC20("T", "T", dec);
        // haircut must exceed the 5% max discount; use 5.01% and compare to the exact rational value
        agg.configureAsset(address(token), _config(feed, 501, 1, type(int192).max, false));
        _deposit(alice, token, amount);
        (,, uint256 got,,,) = agg.marginOf(alice);
        // exact value × 1e6 scale, times 9,499/10,000, all in one division
        uint256 num = amount * priceE8 * 9_499;
        uint256 den = 10 ** (uint256(dec) + 8) * 10_000 / 1e6;
        uint256 exactFloor = num / den;
        assertTrue(got <= exactFloor, "never above the exact value");
        assertTrue(exactFloor - got <= 1, "within 1 uUSD of it");
    }

    /// S2.6: an aToken deposit is valued at scaled × index, whatever the index, rounded down.
    function testFuzz_S2_6_aTokenValueFollowsIndex(uint256 amountSeed, uint256 index1Seed, uint256 growthSeed) public {
        uint256 amount = bound(amountSeed, 1e6, 1e15); // 1 .. 1e9 USDC
        uint256 index1 = bound(index1Seed, 1e27, 3e27);
        uint256 index2 = index1 + bound(growthSeed, 0, 1e27);
        aavePool.setIndex(address(usdc), index1);
        aUsdc.mint(alice, amount);
        vm.startPrank(alice);
        aUsdc.approve(address(agg), type(uint256).max);
        agg.deposit(alice, address(aUsdc), aUsdc.balanceOf(alice));
        vm.stopPrank();
        uint256 scaled = agg.balanceOf(alice, address(aUsdc));
        assertEq(scaled, aUsdc.scaledBalanceOf(address(agg)), "credited the scaled delta exactly");
        aavePool.setIndex(address(usdc), index2);
        (,, uint256 got,,,) = agg.marginOf(alice);
        uint256 underlying = (scaled * index2) / RAY;
        assertEq(got, (underlying * 9_000) / 10_000, "scaled x index x (1 - 10%)");
        assertTrue(got <= (aUsdc.balanceOf(address(agg)) * 9_000) / 10_000, "never above what the aTokens are worth");
    }

    /// S3.3, S3.11: any record round-trips through packing, signing and storage, negative MTM included.
    function testFuzz_S3_11_recordRoundTrip(address account, uint64 im, uint64 mmSeed, int64 mtm) public {
        vm.assume(account != address(0));
        uint64 mm = uint64(bound(mmSeed, 0, im));
        assertEq(_post(_record(account, im, mm, mtm, uint64(block.number))), 1, "accepted");
        IMarginAggregator.Attestation memory a = agg.attestationOf(account);
        assertEq(uint256(a.imUsd6), im, "im");
        assertEq(uint256(a.mmUsd6), mm, "mm");
        assertEq(int256(a.mtmUsd6), mtm, "mtm");
    }

    /// S1.8: whatever is asked, a withdrawal that succeeds leaves net margin ≥ IM.
    function testFuzz_S1_8_withdrawNeverEndsBelowIM(
        uint256 depositSeed,
        uint256 imSeed,
        int256 mtmSeed,
        uint256 askSeed
    ) public {
        uint256 deposited = bound(depositSeed, 1e15, 1_000e18);
        _deposit(alice, weth, deposited);
        uint64 im = uint64(bound(imSeed, 0, 3_000_000e6));
        int64 mtm = int64(bound(mtmSeed, -1_000_000e6, 1_000_000e6));
        _attest(alice, im, im / 2, mtm);
        uint256 ask = bound(askSeed, 1, deposited);
        vm.prank(alice);
        try agg.withdraw(address(weth), ask, alice) {
            assertTrue(_netMargin(alice) >= int256(uint256(im)), "net margin >= IM after withdrawal");
        } catch (bytes memory err) {
            assertEq(bytes32(bytes4(err)), bytes32(IMarginAggregator.WouldBreachInitialMargin.selector), "only IM");
            // and it was refused only because the rest would really have fallen below IM
            uint256 restUsd6 = ((deposited - ask) * 1_600) / 1e12;
            assertTrue(int256(restUsd6) + mtm < int256(uint256(im)), "refused a withdrawal that kept IM");
        }
    }

    /// S6.5, S6.7: a liquidation strictly reduces the shortfall, and does not push net margin past the
    /// buffered target by more than rounding (unless it ran out of collateral).
    function testFuzz_S6_7_liquidationReducesShortfall(
        uint256 wethSeed,
        uint256 priceSeed,
        int256 mtmSeed,
        uint256 elapsedSeed,
        uint256 maxSeizeSeed
    ) public {
        uint256 wethAmount = bound(wethSeed, 1e16, 100e18);
        _deposit(alice, weth, wethAmount);
        _deposit(alice, wbtc, 1e6); // a second asset the liquidation leaves alone
        int64 mtm = int64(bound(mtmSeed, -50_000e6, 50_000e6));
        uint256 weightedBefore = (wethAmount * 2_000 * 8_000) / 10_000 / 1e12 + 510e6;
        // MM just above the weighted collateral + mtm so that a price fall makes it short
        int256 healthyNet = int256(weightedBefore) + mtm;
        vm.assume(healthyNet > 10e6);
        uint64 mm = uint64(uint256(healthyNet) * 95 / 100);
        _attest(alice, mm, mm, mtm);
        ethFeed.updateAnswer(int256(bound(priceSeed, 200e8, 1_900e8)));
        vm.assume(agg.isLiquidatable(alice));
        agg.flagShortfall(alice);
        vm.warp(block.timestamp + bound(elapsedSeed, 0, MAX_AGE - 1)); // auction runs while the attestation is fresh
        (,,, uint256 shortfallBefore,,) = agg.marginOf(alice);
        usdc.mint(liquidator, 10_000_000e6);
        vm.startPrank(liquidator);
        usdc.approve(address(agg), type(uint256).max);
        uint256 maxSeize = bound(maxSeizeSeed, 1e12, type(uint128).max);
        try agg.liquidate(alice, address(weth), maxSeize, type(uint256).max) returns (uint256 seized, uint256) {
            (,,, uint256 shortfallAfter,,) = agg.marginOf(alice);
            assertTrue(shortfallAfter < shortfallBefore, "shortfall strictly reduced");
            uint256 target = (uint256(mm) * 10_500 + 9_999) / 10_000;
            if (seized < wethAmount) {
                assertTrue(_netMargin(alice) <= int256(target) + 2, "no more than needed for MM x (1 + buffer)");
            }
            assertEq(agg.balanceOf(alice, address(wbtc)), 1e6, "other collateral untouched");
        } catch (bytes memory err) {
            // Only a bite too small to move the USD6 shortfall may be refused.
            bytes4 sel = bytes4(err);
            assertTrue(
                sel == IMarginAggregator.LiquidationDidNotImprove.selector
                    || sel == IMarginAggregator.NothingToSeize.selector,
                "unexpected liquidation revert"
            );
            assertTrue(maxSeize < 1e15, "refused only tiny bites");
        }
        vm.stopPrank();
    }
}
