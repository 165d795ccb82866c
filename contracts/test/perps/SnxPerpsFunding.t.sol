// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAsyncOrderSettlementPythModule} from
    "../../src/venues/synthetix/interfaces/IAsyncOrderSettlementPythModule.sol";
import {PerpsBase} from "./PerpsBase.sol";

/// @notice Funding of the Synthetix v3 perps stand-in against hand-computed values:
/// velocity = clamp(skew / skewScale, −1, 1) · maxFundingVelocity per day, the rate drifts linearly,
/// and funding per unit is the integral of −rate × price over time.
contract SnxPerpsFundingTest is PerpsBase {
    function test_FundingAccrual_OneDayMatchesHandComputedValue() public {
        uint128 id = _account(alice, 1_000_000);
        _trade(alice, id, 1000e18);
        // velocity = 1000 / 1e6 · 9 = 0.009 per day
        assertEq(market.currentFundingVelocity(ETH), int256(0.009e18), "velocity");
        assertEq(market.currentFundingRate(ETH), 0, "rate at t0");

        vm.warp(block.timestamp + 1 days);
        _price(2000e8);
        assertEq(market.currentFundingRate(ETH), int256(0.009e18), "rate after one day");
        // funding per unit = −(0 + 0.009) / 2 · 1 day · 2000 = −9; long 1000 pays 9000
        (, int256 accrued,,) = market.getOpenPosition(id, ETH);
        assertEq(accrued, -9000e18, "accrued funding");
    }

    function test_FundingAccrual_TwoPeriodsWithSkewChange() public {
        uint128 a = _account(alice, 1_000_000);
        uint128 b = _account(bob, 1_000_000);
        _trade(alice, a, 1000e18);
        vm.warp(block.timestamp + 1 days);
        _price(2000e8);
        _trade(bob, b, -500e18); // funding recomputed: rate 0.009, value −9; new velocity 0.0045
        assertEq(market.currentFundingVelocity(ETH), int256(0.0045e18), "velocity after bob");

        vm.warp(block.timestamp + 1 days);
        _price(2000e8);
        // rate = 0.009 + 0.0045 = 0.0135; value = −9 − (0.009 + 0.0135) / 2 · 2000 = −31.5
        assertEq(market.currentFundingRate(ETH), int256(0.0135e18), "rate after two days");
        (, int256 aliceFunding,,) = market.getOpenPosition(a, ETH);
        (, int256 bobFunding,,) = market.getOpenPosition(b, ETH);
        assertEq(aliceFunding, -31_500e18, "alice pays 1000 * 31.5");
        assertEq(bobFunding, 11_250e18, "bob receives 500 * 22.5");
    }

    function test_FundingUsesPriceAtRecomputation() public {
        uint128 id = _account(alice, 1_000_000);
        _trade(alice, id, 1000e18);
        vm.warp(block.timestamp + 1 days);
        _price(3000e8);
        // same rate path, priced at 3000: −0.0045 · 3000 · 1000
        (, int256 accrued,,) = market.getOpenPosition(id, ETH);
        assertEq(accrued, -13_500e18, "accrued at 3000");
    }

    function test_VelocityIsClampedAtFullSkewScale() public {
        vm.startPrank(admin);
        market.setFundingParameters(ETH, 100e18, MAX_VELOCITY);
        market.setMaxMarketSize(ETH, 1e30);
        vm.stopPrank();
        uint128 id = _account(alice, 100_000_000);
        _trade(alice, id, 300e18);
        assertEq(market.currentFundingVelocity(ETH), int256(MAX_VELOCITY), "clamped to max velocity");
    }

    function test_FundingIsRealisedIntoCollateralOnClose() public {
        uint128 id = _account(alice, 1_000_000);
        _trade(alice, id, 1000e18); // fill 2000 · (1 + 0.0005) = 2001
        vm.warp(block.timestamp + 1 days);
        _price(2000e8);
        // close: fill = 2000 · (1 + 0.0005) = 2001 too (skew 1000 → 0), so price pnl is 0
        vm.expectEmit(true, true, true, true, address(market));
        emit IAsyncOrderSettlementPythModule.OrderSettled(
            ETH, id, 2001e18, 0, -9000e18, -1000e18, 0, 0, 0, 0, 0, bytes32("netmargin"), alice
        );
        _trade(alice, id, -1000e18);
        assertEq(market.getCollateralAmount(id, 0), 991_000e18, "funding paid out of collateral");
    }

    function test_BalancedMarketAccruesNoFunding() public {
        uint128 a = _account(alice, 1_000_000);
        uint128 b = _account(bob, 1_000_000);
        _trade(alice, a, 1000e18);
        _trade(bob, b, -1000e18); // skew 0: funding rate stays at its last value (0)
        vm.warp(block.timestamp + 1 days);
        _price(2000e8);
        (, int256 accrued,,) = market.getOpenPosition(a, ETH);
        assertEq(accrued, 0, "balanced market accrues nothing");
    }

    /// @dev One position of any size held for any time at any price: accrued funding equals the closed
    /// form −size · v · days² / 2 · price (rate starts at 0 and drifts at velocity v).
    function testFuzz_FundingMatchesClosedForm(uint256 sizeSeed, uint256 dtSeed, uint256 priceSeed, bool isLong)
        public
    {
        vm.prank(admin);
        market.setMaxMarketSize(ETH, 1e30);
        int256 sizeAbs = int256(bound(sizeSeed, 1e18, 10_000e18));
        int256 size = isLong ? sizeAbs : -sizeAbs;
        uint256 dt = bound(dtSeed, 1, 30 days);
        int256 price8 = int256(bound(priceSeed, 100e8, 100_000e8));
        uint128 id = _account(alice, 1_000_000_000);
        _trade(alice, id, int128(size));

        vm.warp(block.timestamp + dt);
        _price(price8);
        int256 velocity = (size * 1e18 / int256(SKEW_SCALE)) * int256(MAX_VELOCITY) / 1e18;
        int256 daysD18 = int256(dt * 1e18 / 1 days);
        assertEq(market.currentFundingRate(ETH), velocity * daysD18 / 1e18, "rate = v * days");

        // closed form in wide precision: size · (−v · days² / 2) · price
        int256 expected = -size * velocity / 1e18 * daysD18 / 1e18 * daysD18 / 1e18 * (price8 * 1e10) / 2e18;
        (, int256 accrued,,) = market.getOpenPosition(id, ETH);
        // the contract truncates at each 18-decimal step in another order: allow 1e-9 relative + 1e-6 USD
        uint256 tolerance = uint256(expected < 0 ? -expected : expected) / 1e9 + 1e12;
        assertApproxEqAbs(accrued, expected, tolerance, "accrued vs closed form");
        assertTrue(accrued <= 0, "the side that makes the skew pays");
    }
}
