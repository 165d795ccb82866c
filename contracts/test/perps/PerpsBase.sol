// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/tests/MockV3Aggregator.sol";
import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

import {SnxPerpsMarket} from "../../src/venues/synthetix/SnxPerpsMarket.sol";
import {SnxAccountNft} from "../../src/venues/synthetix/SnxAccountNft.sol";
import {AsyncOrder} from "../../src/venues/synthetix/interfaces/AsyncOrder.sol";
import {Test} from "../utils/Test.sol";
import {MockERC20} from "../utils/MockERC20.sol";

/// @notice Shared setup for the perps stand-in tests: 6-decimal USDC, an 8-decimal Chainlink ETH/USD
/// mock at 2000 USD, market 100 (ETH) with Base-like parameters, a funded liquidity balance, and
/// helpers to open accounts and trade.
abstract contract PerpsBase is Test {
    uint128 internal constant ETH = 100;
    uint256 internal constant HEARTBEAT = 3600;
    uint256 internal constant SKEW_SCALE = 1_000_000e18;
    uint256 internal constant MAX_VELOCITY = 9e18;
    uint256 internal constant MAX_MARKET_SIZE = 10_000e18;
    uint256 internal constant IM_RATIO = 2e18;
    uint256 internal constant MIN_IM_RATIO = 0.02e18;
    uint256 internal constant MM_SCALAR = 0.5e18;
    uint256 internal constant FLAG_REWARD = 0.0005e18;
    uint256 internal constant MIN_POSITION_MARGIN = 10e18;

    address internal admin = address(0xA11CE0);
    address internal alice = address(0xA1);
    address internal bob = address(0xB0B);
    address internal keeper = address(0x4EE9E4);

    MockERC20 internal usdc;
    MockV3Aggregator internal ethFeed;
    SnxPerpsMarket internal market;
    SnxAccountNft internal nft;

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        usdc = new MockERC20("USD Coin", "USDC", 6);
        ethFeed = new MockV3Aggregator(8, 2000e8);
        market = new SnxPerpsMarket(admin, address(usdc));
        nft = SnxAccountNft(market.getAccountTokenAddress());
        vm.startPrank(admin);
        market.createMarket(ETH, "Ether", "ETH");
        market.setPriceFeed(ETH, AggregatorV3Interface(address(ethFeed)), HEARTBEAT);
        market.setFundingParameters(ETH, SKEW_SCALE, MAX_VELOCITY);
        market.setMaxMarketSize(ETH, MAX_MARKET_SIZE);
        market.setLiquidationParameters(ETH, IM_RATIO, MIN_IM_RATIO, MM_SCALAR, FLAG_REWARD, MIN_POSITION_MARGIN);
        vm.stopPrank();
        usdc.mint(address(market), 10_000_000e6); // liquidity backing winners
        vm.label(address(market), "market");
        vm.label(alice, "alice");
        vm.label(bob, "bob");
    }

    /// @dev Creates an account for `who` and deposits `usd` (whole dollars) of USDC.
    function _account(address who, uint256 usd) internal returns (uint128 accountId) {
        usdc.mint(who, usd * 1e6);
        vm.startPrank(who);
        accountId = market.createAccount();
        usdc.approve(address(market), type(uint256).max);
        if (usd != 0) market.modifyCollateral(accountId, 0, int256(usd * 1e18));
        vm.stopPrank();
    }

    function _request(uint128 accountId, int128 sizeDelta)
        internal
        pure
        returns (AsyncOrder.OrderCommitmentRequest memory)
    {
        return AsyncOrder.OrderCommitmentRequest({
            marketId: ETH,
            accountId: accountId,
            sizeDelta: sizeDelta,
            settlementStrategyId: 0,
            acceptablePrice: sizeDelta > 0 ? type(uint256).max : 0,
            trackingCode: bytes32("netmargin"),
            referrer: address(0)
        });
    }

    function _trade(address who, uint128 accountId, int128 sizeDelta) internal {
        vm.prank(who);
        market.commitOrder(_request(accountId, sizeDelta));
    }

    /// @dev Sets the ETH price (8-decimal USD) and refreshes the feed timestamp.
    function _price(int256 usd8) internal {
        ethFeed.updateAnswer(usd8);
    }
}
