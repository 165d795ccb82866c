// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/tests/MockV3Aggregator.sol";
import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

import {SnxPerpsMarket} from "../../src/venues/synthetix/SnxPerpsMarket.sol";
import {AsyncOrder} from "../../src/venues/synthetix/interfaces/AsyncOrder.sol";
import {MockERC20} from "../utils/MockERC20.sol";
import {Test, Vm} from "../utils/Test.sol";

/// @notice Drives the perps stand-in with random trades, deposits, withdrawals, price moves, time
/// and liquidations; every call is bounded so most succeed, and failures are simply skipped.
contract PerpsHandler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    uint128 internal constant ETH = 100;

    SnxPerpsMarket public market;
    MockERC20 public usdc;
    MockV3Aggregator public feed;
    address[3] public traders = [address(0x1001), address(0x1002), address(0x1003)];
    uint128[3] public accounts;
    uint256 public successfulTrades;

    constructor(SnxPerpsMarket market_, MockERC20 usdc_, MockV3Aggregator feed_) {
        market = market_;
        usdc = usdc_;
        feed = feed_;
        for (uint256 i = 0; i < 3; i++) {
            usdc.mint(traders[i], 10_000_000e6);
            vm.startPrank(traders[i]);
            accounts[i] = market.createAccount();
            usdc.approve(address(market), type(uint256).max);
            market.modifyCollateral(accounts[i], 0, 100_000e18);
            vm.stopPrank();
        }
    }

    function trade(uint256 who, int256 sizeSeed) external {
        uint256 i = who % 3;
        int128 sizeDelta = int128(sizeSeed % 200e18);
        if (sizeDelta == 0) return;
        vm.prank(traders[i]);
        try market.commitOrder(
            AsyncOrder.OrderCommitmentRequest(ETH, accounts[i], sizeDelta, 0, sizeDelta > 0 ? type(uint256).max : 0, 0, address(0))
        ) {
            successfulTrades++;
        } catch {}
    }

    function deposit(uint256 who, uint256 usdSeed) external {
        uint256 i = who % 3;
        vm.prank(traders[i]);
        try market.modifyCollateral(accounts[i], 0, int256((usdSeed % 50_000 + 1) * 1e18)) {} catch {}
    }

    function withdraw(uint256 who, uint256 usdSeed) external {
        uint256 i = who % 3;
        vm.prank(traders[i]);
        try market.modifyCollateral(accounts[i], 0, -int256((usdSeed % 50_000 + 1) * 1e18)) {} catch {}
    }

    function movePrice(uint256 priceSeed) external {
        feed.updateAnswer(int256(1500e8 + priceSeed % 1000e8));
    }

    function passTime(uint256 secondsSeed) external {
        vm.warp(block.timestamp + secondsSeed % 1 days);
        (, int256 answer,,,) = feed.latestRoundData();
        feed.updateAnswer(answer);
    }

    function liquidate(uint256 who) external {
        try market.liquidate(accounts[who % 3]) {} catch {}
    }
}

/// @notice Market bookkeeping stays consistent with the positions whatever the handler does.
contract PerpsInvariantTest is Test {
    PerpsHandler internal handler;
    SnxPerpsMarket internal market;

    function setUp() public {
        vm.warp(1_700_000_000);
        MockERC20 usdc = new MockERC20("USD Coin", "USDC", 6);
        MockV3Aggregator feed = new MockV3Aggregator(8, 2000e8);
        market = new SnxPerpsMarket(address(this), address(usdc));
        market.createMarket(100, "Ether", "ETH");
        market.setPriceFeed(100, AggregatorV3Interface(address(feed)), 1 days + 1);
        market.setFundingParameters(100, 1_000_000e18, 9e18);
        market.setMaxMarketSize(100, 10_000e18);
        market.setLiquidationParameters(100, 2e18, 0.02e18, 0.5e18, 0.0005e18, 10e18);
        usdc.mint(address(market), 100_000_000e6);
        handler = new PerpsHandler(market, usdc, feed);
    }

    /// @dev forge reads this to know which contract to call during invariant runs.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function invariant_SkewAndSizeMatchPositions() public view {
        int256 skew;
        uint256 size;
        for (uint256 i = 0; i < 3; i++) {
            int128 s = market.getOpenPositionSize(handler.accounts(i), 100);
            skew += s;
            size += s >= 0 ? uint256(int256(s)) : uint256(-int256(s));
        }
        assertEq(market.skew(100), skew, "skew = sum of sizes");
        assertEq(market.size(100), size, "size = sum of |sizes|");
    }

    function invariant_OpenPositionListMatchesSizes() public view {
        for (uint256 i = 0; i < 3; i++) {
            uint128 id = handler.accounts(i);
            bool hasPosition = market.getOpenPositionSize(id, 100) != 0;
            assertEq(market.getAccountOpenPositions(id).length, hasPosition ? 1 : 0, "open list");
        }
    }

    function invariant_OpenInterestPerSideWithinMax() public view {
        int256 skew = market.skew(100);
        uint256 size = market.size(100);
        assertTrue(uint256((int256(size) + skew) / 2) <= 10_000e18, "long OI");
        assertTrue(uint256((int256(size) - skew) / 2) <= 10_000e18, "short OI");
    }
}
