// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/tests/MockV3Aggregator.sol";

import {ChainlinkPrice} from "../../src/venues/common/ChainlinkPrice.sol";
import {Owned} from "../../src/venues/common/Owned.sol";
import {SafeTransfer} from "../../src/venues/common/SafeTransfer.sol";
import {ERC721Lite} from "../../src/venues/common/ERC721Lite.sol";
import {SnxPerpsMarket} from "../../src/venues/synthetix/SnxPerpsMarket.sol";
import {SnxAccountNft} from "../../src/venues/synthetix/SnxAccountNft.sol";
import {AsyncOrder} from "../../src/venues/synthetix/interfaces/AsyncOrder.sol";
import {IAccountModule} from "../../src/venues/synthetix/interfaces/IAccountModule.sol";
import {IAsyncOrderModule} from "../../src/venues/synthetix/interfaces/IAsyncOrderModule.sol";
import {IAsyncOrderSettlementPythModule} from
    "../../src/venues/synthetix/interfaces/IAsyncOrderSettlementPythModule.sol";
import {ILiquidationModule} from "../../src/venues/synthetix/interfaces/ILiquidationModule.sol";
import {IPerpsAccountModule} from "../../src/venues/synthetix/interfaces/IPerpsAccountModule.sol";
import {IPerpsMarketConfiguration} from "../../src/venues/synthetix/interfaces/IPerpsMarketConfiguration.sol";
import {IPerpsMarketModule} from "../../src/venues/synthetix/interfaces/IPerpsMarketModule.sol";
import {FalseReturningERC20} from "../utils/MockERC20.sol";
import {PerpsBase} from "./PerpsBase.sol";

/// @notice Accounts, collateral, orders, PnL, margins and liquidation of the Synthetix v3 perps stand-in.
/// Expected numbers are worked by hand from the formulas in docs/venues.md.
contract SnxPerpsMarketTest is PerpsBase {
    uint128 internal constant FIRST_GENERATED_ID = type(uint128).max / 2 + 1;

    // ----- accounts -----

    function test_CreateAccount_GeneratesSynthetixStyleIdsAndMintsToken() public {
        vm.expectEmit(true, true, false, true, address(market));
        emit IAccountModule.AccountCreated(FIRST_GENERATED_ID, alice);
        vm.prank(alice);
        uint128 first = market.createAccount();
        vm.prank(bob);
        uint128 second = market.createAccount();
        assertEq(uint256(first), uint256(FIRST_GENERATED_ID), "first id");
        assertEq(uint256(second), uint256(FIRST_GENERATED_ID) + 1, "second id");
        assertEq(nft.ownerOf(first), alice, "token owner");
        assertEq(market.getAccountOwner(second), bob, "account owner");
    }

    function test_CreateAccount_WithRequestedId() public {
        vm.prank(alice);
        market.createAccount(42);
        assertEq(market.getAccountOwner(42), alice, "owner of requested id");
    }

    function test_RevertWhen_RequestedIdIsInGeneratedRange() public {
        vm.expectRevert(abi.encodeWithSelector(IAccountModule.InvalidAccountId.selector, FIRST_GENERATED_ID));
        vm.prank(alice);
        market.createAccount(FIRST_GENERATED_ID);
    }

    function test_RevertWhen_RequestedIdAlreadyExists() public {
        vm.prank(alice);
        market.createAccount(7);
        vm.expectRevert(abi.encodeWithSelector(ERC721Lite.TokenAlreadyMinted.selector, uint256(7)));
        vm.prank(bob);
        market.createAccount(7);
    }

    function test_AccountOwnerFollowsTokenTransfer() public {
        uint128 id = _account(alice, 1000);
        vm.prank(alice);
        nft.transferFrom(alice, bob, id);
        assertEq(market.getAccountOwner(id), bob, "owner after transfer");

        vm.expectRevert(
            abi.encodeWithSelector(IAccountModule.PermissionDenied.selector, id, bytes32("PERPS_MODIFY_COLLATERAL"), alice)
        );
        vm.prank(alice);
        market.modifyCollateral(id, 0, -1e18);

        vm.prank(bob);
        market.modifyCollateral(id, 0, -100e18);
        assertEq(usdc.balanceOf(bob), 100e6, "new owner withdrew");
    }

    function test_AccountTokenEnumeratesAccountsPerOwner() public {
        vm.startPrank(alice);
        uint128 a1 = market.createAccount();
        uint128 a2 = market.createAccount();
        uint128 a3 = market.createAccount();
        nft.transferFrom(alice, bob, a1);
        nft.transferFrom(alice, alice, a2); // self-transfer changes nothing
        vm.stopPrank();
        assertEq(nft.totalSupply(), 3, "total accounts");
        assertEq(nft.tokenByIndex(2), uint256(a3), "creation order");
        assertEq(nft.balanceOf(alice), 2, "alice holds two");
        uint256 x = nft.tokenOfOwnerByIndex(alice, 0);
        uint256 y = nft.tokenOfOwnerByIndex(alice, 1);
        assertTrue((x == a2 && y == a3) || (x == a3 && y == a2), "alice's accounts listed");
        assertEq(nft.tokenOfOwnerByIndex(bob, 0), uint256(a1), "bob's account listed");
        vm.expectRevert(abi.encodeWithSelector(SnxAccountNft.IndexOverrun.selector, 1, 1));
        nft.tokenOfOwnerByIndex(bob, 1);
        assertTrue(nft.supportsInterface(0x780e9d63), "ERC721Enumerable");
    }

    // ----- collateral -----

    function test_Deposit_PullsTokensAndCreditsEighteenDecimals() public {
        uint128 id = _account(alice, 0);
        usdc.mint(alice, 1000e6);
        vm.expectEmit(true, true, true, true, address(market));
        emit IPerpsAccountModule.CollateralModified(id, 0, 1000e18, alice);
        vm.prank(alice);
        market.modifyCollateral(id, 0, 1000e18);
        assertEq(market.getCollateralAmount(id, 0), 1000e18, "collateral 18 dec");
        assertEq(market.totalCollateralValue(id), 1000e18, "collateral value");
        assertEq(usdc.balanceOf(alice), 0, "tokens pulled");
        assertEq(market.getAccountCollateralIds(id).length, 1, "collateral ids");
        assertEq(market.getAvailableMargin(id), int256(1000e18), "available margin");
    }

    function test_Withdraw_SendsTokensBack() public {
        uint128 id = _account(alice, 1000);
        vm.prank(alice);
        market.modifyCollateral(id, 0, -250e18);
        assertEq(usdc.balanceOf(alice), 250e6, "tokens received");
        assertEq(market.getCollateralAmount(id, 0), 750e18, "collateral left");
    }

    function test_RevertWhen_AmountIsNotTokenAligned() public {
        uint128 id = _account(alice, 10);
        vm.expectRevert(abi.encodeWithSelector(IPerpsAccountModule.AmountNotTokenAligned.selector, int256(1e11), 1e12));
        vm.prank(alice);
        market.modifyCollateral(id, 0, 1e11);
    }

    function test_RevertWhen_CollateralIdIsNotZero() public {
        uint128 id = _account(alice, 10);
        vm.expectRevert(abi.encodeWithSelector(IPerpsAccountModule.InvalidCollateralId.selector, uint128(1)));
        vm.prank(alice);
        market.modifyCollateral(id, 1, 1e18);
    }

    function test_RevertWhen_AmountDeltaIsZero() public {
        uint128 id = _account(alice, 10);
        vm.expectRevert(abi.encodeWithSelector(IPerpsAccountModule.InvalidAmountDelta.selector, int256(0)));
        vm.prank(alice);
        market.modifyCollateral(id, 0, 0);
    }

    function test_RevertWhen_WithdrawingMoreThanCollateral() public {
        uint128 id = _account(alice, 10);
        vm.expectRevert(abi.encodeWithSelector(IPerpsAccountModule.InsufficientCollateral.selector, 0, 10e18, 11e18));
        vm.prank(alice);
        market.modifyCollateral(id, 0, -11e18);
    }

    function test_RevertWhen_WithdrawBreaksInitialMargin() public {
        uint128 id = _account(alice, 1000);
        _trade(alice, id, 10e18);
        // requiredInitial = 420.4 (see test_RequiredMargins_MatchSynthetixFormula), pnl = -0.1
        vm.expectRevert(
            abi.encodeWithSelector(
                IPerpsAccountModule.InsufficientCollateralAvailableForWithdraw.selector,
                uint256(1000e18 - 0.1e18 - 420.4e18),
                600e18
            )
        );
        vm.prank(alice);
        market.modifyCollateral(id, 0, -600e18);
    }

    function test_RevertWhen_TokenTransferReturnsFalse() public {
        FalseReturningERC20 bad = new FalseReturningERC20();
        SnxPerpsMarket badMarket = new SnxPerpsMarket(admin, address(bad));
        vm.prank(alice);
        uint128 id = badMarket.createAccount();
        vm.expectRevert(
            abi.encodeWithSelector(SafeTransfer.TokenTransferFailed.selector, address(bad), alice, address(badMarket), 1e6)
        );
        vm.prank(alice);
        badMarket.modifyCollateral(id, 0, 1e18);
    }

    // ----- orders and PnL -----

    function test_CommitOrder_SettlesAtFillPriceWithSkewPremium() public {
        uint128 id = _account(alice, 10_000);
        // fill = 2000 · (1 + (0 + 10/1e6) / 2) = 2000.01
        vm.expectEmit(true, true, true, true, address(market));
        emit IAsyncOrderSettlementPythModule.OrderSettled(
            ETH, id, 2000.01e18, 0, 0, 10e18, 10e18, 0, 0, 0, 0, bytes32("netmargin"), alice
        );
        vm.prank(alice);
        (AsyncOrder.Data memory order, uint256 fees) = market.commitOrder(_request(id, 10e18));
        assertEq(order.commitmentTime, block.timestamp, "commitment time");
        assertEq(fees, 0, "fees");
        assertEq(int256(market.getOpenPositionSize(id, ETH)), int256(10e18), "position size");
        assertEq(market.skew(ETH), int256(10e18), "skew");
        assertEq(market.size(ETH), 10e18, "size");
        uint256[] memory open = market.getAccountOpenPositions(id);
        assertEq(open.length, 1, "one open position");
        assertEq(open[0], uint256(ETH), "open market id");
        (int256 totalPnl,, int128 positionSize, uint256 owedInterest) = market.getOpenPosition(id, ETH);
        assertEq(totalPnl, -0.1e18, "premium shows as pnl at index");
        assertEq(int256(positionSize), int256(10e18), "size read");
        assertEq(owedInterest, 0, "no interest");
    }

    function test_Pnl_FollowsChainlinkPrice() public {
        uint128 id = _account(alice, 10_000);
        _trade(alice, id, 10e18);
        _price(2100e8);
        (int256 totalPnl, int256 funding,,) = market.getOpenPosition(id, ETH);
        assertEq(funding, 0, "no time, no funding");
        assertEq(totalPnl, 999.9e18, "10 * (2100 - 2000.01)");
        assertEq(market.getAvailableMargin(id), int256(10_999.9e18), "available margin");
        assertEq(market.totalAccountOpenInterest(id), 21_000e18, "open interest at index");
    }

    function test_ClosingRealizesPnlIntoCollateral() public {
        uint128 id = _account(alice, 10_000);
        _trade(alice, id, 10e18);
        _price(2100e8);
        // close: fill = 2100 · (1 + (10/1e6 + 0) / 2) = 2100.0105; pnl = 10 · (2100.0105 − 2000.01)
        vm.expectEmit(true, true, true, true, address(market));
        emit IAsyncOrderSettlementPythModule.OrderSettled(
            ETH, id, 2100.0105e18, 1000.005e18, 0, -10e18, 0, 0, 0, 0, 0, bytes32("netmargin"), alice
        );
        _trade(alice, id, -10e18);
        assertEq(market.getCollateralAmount(id, 0), 11_000.005e18, "realised into collateral");
        assertEq(market.getAccountOpenPositions(id).length, 0, "no open positions");
        assertEq(market.skew(ETH), 0, "skew back to zero");
        (uint256 im, uint256 mm, uint256 reward) = market.getRequiredMargins(id);
        assertEq(im + mm + reward, 0, "no requirements without positions");
        vm.prank(alice);
        market.modifyCollateral(id, 0, -11_000e18);
        assertEq(usdc.balanceOf(alice), 11_000e6, "winnings withdrawn");
    }

    function test_RevertWhen_AcceptablePriceExceeded() public {
        uint128 id = _account(alice, 10_000);
        AsyncOrder.OrderCommitmentRequest memory req = _request(id, 10e18);
        req.acceptablePrice = 2000e18;
        vm.expectRevert(abi.encodeWithSelector(IAsyncOrderModule.AcceptablePriceExceeded.selector, 2000.01e18, 2000e18));
        vm.prank(alice);
        market.commitOrder(req);
    }

    function test_RevertWhen_OrderExceedsInitialMargin() public {
        uint128 id = _account(alice, 1000);
        vm.expectRevert(); // InsufficientMargin(available, required); values checked in the margin test
        _trade(alice, id, 100e18);
    }

    function test_RevertWhen_MaxOpenInterestReached() public {
        uint128 id = _account(alice, 10_000_000);
        vm.expectRevert(
            abi.encodeWithSelector(IAsyncOrderModule.MaxOpenInterestReached.selector, ETH, MAX_MARKET_SIZE, int256(10_001e18))
        );
        _trade(alice, id, 10_001e18);
    }

    function test_RevertWhen_OrderSizeIsZero() public {
        uint128 id = _account(alice, 1000);
        vm.expectRevert(IAsyncOrderModule.ZeroSizeOrder.selector);
        _trade(alice, id, 0);
    }

    function test_RevertWhen_CallerDoesNotOwnAccount() public {
        uint128 id = _account(alice, 1000);
        vm.expectRevert(
            abi.encodeWithSelector(IAccountModule.PermissionDenied.selector, id, bytes32("PERPS_COMMIT_ASYNC_ORDER"), bob)
        );
        _trade(bob, id, 1e18);
    }

    function test_RevertWhen_PriceIsStale() public {
        uint128 id = _account(alice, 1000);
        vm.warp(block.timestamp + HEARTBEAT + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                ChainlinkPrice.StalePrice.selector, address(ethFeed), block.timestamp - HEARTBEAT - 1, HEARTBEAT, block.timestamp
            )
        );
        _trade(alice, id, 1e18);
    }

    function test_RevertWhen_PriceIsNonPositive() public {
        uint128 id = _account(alice, 1000);
        _price(0);
        vm.expectRevert(abi.encodeWithSelector(ChainlinkPrice.NonPositivePrice.selector, address(ethFeed), int256(0)));
        _trade(alice, id, 1e18);
        _price(-5);
        vm.expectRevert(abi.encodeWithSelector(ChainlinkPrice.NonPositivePrice.selector, address(ethFeed), int256(-5)));
        market.indexPrice(ETH);
    }

    function test_RevertWhen_MarketIsNotConfigured() public {
        vm.prank(admin);
        market.createMarket(200, "Bitcoin", "BTC");
        uint128 id = _account(alice, 1000);
        AsyncOrder.OrderCommitmentRequest memory req = _request(id, 1e18);
        req.marketId = 200;
        vm.expectRevert(abi.encodeWithSelector(IPerpsMarketConfiguration.InvalidMarket.selector, uint128(200)));
        vm.prank(alice);
        market.commitOrder(req);
    }

    function test_RevertWhen_NonOwnerConfiguresMarket() public {
        vm.expectRevert(abi.encodeWithSelector(Owned.Unauthorized.selector, alice));
        vm.prank(alice);
        market.setMaxMarketSize(ETH, 1);
    }

    function test_MarketSummaryAndMetadata() public {
        uint128 a = _account(alice, 100_000);
        uint128 b = _account(bob, 100_000);
        _trade(alice, a, 30e18);
        _trade(bob, b, -10e18);
        IPerpsMarketModule.MarketSummary memory s = market.getMarketSummary(ETH);
        assertEq(s.skew, int256(20e18), "skew");
        assertEq(s.size, 40e18, "size");
        assertEq(s.maxOpenInterest, MAX_MARKET_SIZE, "max OI");
        assertEq(s.indexPrice, 2000e18, "index price 18 dec");
        assertEq(s.currentFundingVelocity, int256(0.00018e18), "20/1e6 * 9");
        (string memory name, string memory symbol) = market.metadata(ETH);
        assertEq(name, "Ether", "name");
        assertEq(symbol, "ETH", "symbol");
        assertEq(market.getMarkets().length, 1, "markets");
    }

    // ----- margins -----

    function test_RequiredMargins_MatchSynthetixFormula() public {
        uint128 id = _account(alice, 1000);
        _trade(alice, id, 10e18);
        // initialRatio = 10/1e6 · 2 + 0.02 = 0.02002; maintenance = 0.01001; notional = 20,000
        // initial = 400.4 + 10; maintenance = 200.2 + 10; reward = 20,000 · 0.0005 = 10
        (uint256 im, uint256 mm, uint256 reward) = market.getRequiredMargins(id);
        assertEq(reward, 10e18, "max liquidation reward");
        assertEq(im, 420.4e18, "required initial incl. reward");
        assertEq(mm, 220.2e18, "required maintenance incl. reward");
        assertEq(market.getWithdrawableMargin(id), int256(1000e18 - 0.1e18 - 420.4e18), "withdrawable");
    }

    function test_RequiredMarginForOrder_MatchesMarginsAfterTheOrder() public {
        uint128 id = _account(alice, 1000);
        // no position yet: a 10 ETH order needs 410.4 initial + 10 reward (see above)
        assertEq(market.requiredMarginForOrder(id, ETH, 10e18), 420.4e18, "fresh order");
        _trade(alice, id, 10e18);
        (uint256 im,,) = market.getRequiredMargins(id);
        assertEq(market.requiredMarginForOrder(id, ETH, 0), im, "zero order = current requirement");
        // adding 10 more: initialRatio = 20/1e6 · 2 + 0.02 = 0.02004 on 40,000 → 801.6 + 10, reward 20
        assertEq(market.requiredMarginForOrder(id, ETH, 10e18), 831.6e18, "increased position");
        assertEq(market.requiredMarginForOrder(id, ETH, -10e18), 0, "closing order");
    }

    function test_GetOrder_IsEmptyBecauseOrdersSettleAtCommit() public {
        uint128 id = _account(alice, 1000);
        _trade(alice, id, 1e18);
        AsyncOrder.Data memory order = market.getOrder(id);
        assertEq(int256(order.request.sizeDelta), 0, "no pending order");
        assertEq(order.commitmentTime, 0, "no commitment time");
        assertEq(uint256(market.interestRate()), 0, "no interest");
    }

    function test_RevertWhen_MarketHasNoPriceFeed() public {
        vm.prank(admin);
        market.createMarket(300, "Optimism", "OP");
        vm.expectRevert(abi.encodeWithSelector(IPerpsMarketConfiguration.PriceFeedNotSet.selector, uint128(300)));
        market.indexPrice(300);
    }

    // ----- liquidation -----

    function test_Liquidation_ClosesPositionsAndPaysKeeper() public {
        uint128 id = _account(alice, 1000);
        _trade(alice, id, 10e18);
        assertFalse(market.canLiquidate(id), "healthy at entry");
        _price(1920e8);
        // available = 1000 − 10 · (2000.01 − 1920) = 199.9; maintenance = 19,200 · 0.01001 + 10 + 9.6
        (, uint256 mm, uint256 reward) = market.getRequiredMargins(id);
        assertEq(mm, 211.792e18, "maintenance at 1920");
        assertEq(reward, 9.6e18, "reward at 1920");
        assertTrue(market.canLiquidate(id), "below maintenance");

        vm.expectEmit(true, false, false, true, address(market));
        emit ILiquidationModule.AccountFlaggedForLiquidation(id, 199.9e18, 211.792e18, 9.6e18, 9.6e18);
        vm.expectEmit(true, true, false, true, address(market));
        emit ILiquidationModule.PositionLiquidated(id, ETH, 10e18, 0);
        vm.expectEmit(true, false, false, true, address(market));
        emit ILiquidationModule.AccountLiquidationAttempt(id, 9.6e18, true);
        vm.prank(keeper);
        uint256 paid = market.liquidate(id);

        assertEq(paid, 9.6e18, "reward returned");
        assertEq(usdc.balanceOf(keeper), 9.6e6, "keeper paid in USDC");
        assertEq(market.getAccountOpenPositions(id).length, 0, "positions closed");
        assertEq(market.getCollateralAmount(id, 0), 0, "collateral seized");
        assertEq(market.skew(ETH), 0, "skew");
        assertEq(market.size(ETH), 0, "size");
        assertFalse(market.canLiquidate(id), "nothing left to liquidate");
    }

    function test_RevertWhen_LiquidatingHealthyAccount() public {
        uint128 id = _account(alice, 1000);
        _trade(alice, id, 10e18);
        vm.expectRevert(abi.encodeWithSelector(ILiquidationModule.NotEligibleForLiquidation.selector, id));
        market.liquidate(id);
    }

    function test_RevertWhen_LiquidatableAccountTradesOrWithdraws() public {
        uint128 id = _account(alice, 1000);
        _trade(alice, id, 10e18);
        _price(1920e8);
        vm.expectRevert(abi.encodeWithSelector(IPerpsAccountModule.AccountLiquidatable.selector, id));
        _trade(alice, id, -1e18);
        vm.expectRevert(abi.encodeWithSelector(IPerpsAccountModule.AccountLiquidatable.selector, id));
        vm.prank(alice);
        market.modifyCollateral(id, 0, -1e18);
    }

    function test_AvailableMarginGoesNegativeWhenUnderwater() public {
        uint128 id = _account(alice, 1000);
        uint128 other = _account(bob, 100_000);
        _trade(alice, id, 10e18);
        _trade(bob, other, -10e18);
        _price(1850e8);
        // alice: 10 · (1850 − 2000.01) = −1500.1 against 1000 of collateral
        assertEq(market.getAvailableMargin(id), int256(1000e18) - 1500.1e18, "available = collateral + pnl");
        assertTrue(market.canLiquidate(id), "deep underwater");
        // bob (short at 2000.01) gains the mirror image
        (int256 bobPnl,,,) = market.getOpenPosition(other, ETH);
        assertEq(bobPnl, 1500.1e18, "short pnl");
    }

    function test_TwoMarkets_PositionsAggregateAndLiquidateTogether() public {
        MockV3Aggregator btcFeed = new MockV3Aggregator(8, 40_000e8);
        vm.startPrank(admin);
        market.createMarket(200, "Bitcoin", "BTC");
        market.setPriceFeed(200, AggregatorV3Interface(address(btcFeed)), HEARTBEAT);
        market.setFundingParameters(200, 100_000e18, 9e18);
        market.setMaxMarketSize(200, 1_000e18);
        market.setLiquidationParameters(200, 2e18, 0.02e18, 0.5e18, 0.0005e18, 10e18);
        vm.stopPrank();
        uint128 id = _account(alice, 2000);
        _trade(alice, id, 10e18); // ETH long 20,000 notional
        AsyncOrder.OrderCommitmentRequest memory req = _request(id, -0.5e18);
        req.marketId = 200;
        vm.prank(alice);
        market.commitOrder(req); // BTC short 20,000 notional
        uint256[] memory open = market.getAccountOpenPositions(id);
        assertEq(open.length, 2, "two markets");
        assertEq(market.totalAccountOpenInterest(id), 40_000e18, "OI summed across markets");
        (,, uint256 reward) = market.getRequiredMargins(id);
        assertEq(reward, 20e18, "rewards summed: 10 + 10");

        btcFeed.updateAnswer(44_000e8); // short BTC loses 0.5 · 4,000 = 2,000
        assertTrue(market.canLiquidate(id), "losses in one market make the account liquidatable");
        vm.prank(keeper);
        market.liquidate(id);
        assertEq(market.getAccountOpenPositions(id).length, 0, "both closed");
        assertEq(market.skew(200), 0, "BTC skew cleared");
        assertEq(market.skew(ETH), 0, "ETH skew cleared");
    }

    // ----- fuzz -----

    /// @dev PnL at the index equals size · (index − fill) for any size and price move, and closing
    /// realises exactly the PnL at the closing fill price.
    function testFuzz_PnlMatchesPriceMove(uint256 sizeSeed, uint256 p0Seed, uint256 p1Seed, bool isLong) public {
        int256 sizeAbs = int256(bound(sizeSeed, 1e15, 5_000e18));
        int128 sizeDelta = int128(isLong ? sizeAbs : -sizeAbs);
        int256 p0 = int256(bound(p0Seed, 100e8, 100_000e8));
        int256 p1 = int256(bound(p1Seed, uint256(p0) / 2, uint256(p0) * 2));
        _price(p0);
        vm.prank(admin);
        market.setMaxMarketSize(ETH, 1e30);
        uint128 id = _account(alice, 1_000_000_000);

        uint256 fill0 = market.fillPrice(ETH, sizeDelta, uint256(p0) * 1e10);
        _trade(alice, id, sizeDelta);
        _price(p1);
        (int256 totalPnl,,,) = market.getOpenPosition(id, ETH);
        int256 expected = (int256(sizeDelta) * (p1 * 1e10 - int256(fill0))) / 1e18;
        assertEq(totalPnl, expected, "pnl at index");

        uint256 fill1 = market.fillPrice(ETH, -sizeDelta, uint256(p1) * 1e10);
        uint256 before = market.getCollateralAmount(id, 0);
        _trade(alice, id, -sizeDelta);
        int256 realised = (int256(sizeDelta) * (int256(fill1) - int256(fill0))) / 1e18;
        assertEq(int256(market.getCollateralAmount(id, 0)) - int256(before), realised, "realised pnl");
        assertEq(market.skew(ETH), 0, "skew restored");
    }

    /// @dev Deposits of any token-aligned size round-trip exactly through 18-decimal accounting.
    function testFuzz_CollateralRoundTrip(uint256 tokensSeed, uint256 withdrawSeed) public {
        uint256 tokens = bound(tokensSeed, 1, 1e15);
        uint256 withdrawTokens = bound(withdrawSeed, 1, tokens);
        uint128 id = _account(alice, 0);
        usdc.mint(alice, tokens);
        vm.startPrank(alice);
        market.modifyCollateral(id, 0, int256(tokens * 1e12));
        market.modifyCollateral(id, 0, -int256(withdrawTokens * 1e12));
        vm.stopPrank();
        assertEq(market.getCollateralAmount(id, 0), (tokens - withdrawTokens) * 1e12, "collateral");
        assertEq(usdc.balanceOf(alice), withdrawTokens, "tokens back");
    }
}
