// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MarginAggregator} from "../../src/aggregator/MarginAggregator.sol";
import {IMarginAggregator} from "../../src/aggregator/interfaces/IMarginAggregator.sol";
import {MockERC20} from "../utils/MockERC20.sol";
import {AggregatorBase} from "./AggregatorBase.sol";

/// @notice Unit tests per feature; names cite docs/specs.md requirement numbers.
contract MarginAggregatorTest is AggregatorBase {
    // ================================================================ S1 collateral

    function test_S1_2_depositCreditsAccountAndTotal() public {
        _deposit(alice, weth, 1e18);
        assertEq(agg.balanceOf(alice, address(weth)), 1e18, "alice balance");
        assertEq(agg.totalBalance(address(weth)), 1e18, "total");
        assertEq(weth.balanceOf(address(agg)), 1e18, "held");
    }

    function test_S1_2_depositForAnotherAccount() public {
        weth.mint(bob, 1e18);
        vm.startPrank(bob);
        weth.approve(address(agg), 1e18);
        agg.deposit(alice, address(weth), 1e18);
        vm.stopPrank();
        assertEq(agg.balanceOf(alice, address(weth)), 1e18, "credited to alice");
        assertEq(agg.balanceOf(bob, address(weth)), 0, "not to bob");
    }

    function test_S1_1_depositOfUnlistedAssetReverts() public {
        MockERC20 other = new MockERC20("Other", "OTH", 18);
        other.mint(alice, 1e18);
        vm.startPrank(alice);
        other.approve(address(agg), 1e18);
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.AssetNotListed.selector, address(other)));
        agg.deposit(alice, address(other), 1e18);
        vm.stopPrank();
    }

    function test_S1_3_depositAboveSupplyCapReverts() public {
        IMarginAggregator.AssetConfig memory c = _config(ethFeed, 2_000, 100e8, 100_000e8, false);
        c.supplyCap = 5e18;
        agg.configureAsset(address(weth), c);
        _deposit(alice, weth, 5e18);
        weth.mint(bob, 1);
        vm.startPrank(bob);
        weth.approve(address(agg), 1);
        vm.expectRevert(
            abi.encodeWithSelector(IMarginAggregator.SupplyCapExceeded.selector, address(weth), 5e18 + 1, 5e18)
        );
        agg.deposit(bob, address(weth), 1);
        vm.stopPrank();
    }

    function test_S1_4_depositWorksWhilePausedAndSequencerDown() public {
        vm.prank(guardian);
        agg.pause();
        sequencer.updateRoundData(2, 1, block.timestamp, block.timestamp); // down
        _deposit(alice, usdc, 100e6);
        assertEq(agg.balanceOf(alice, address(usdc)), 100e6, "deposit credited");
    }

    function test_S1_8_neverAttestedAccountWithdrawsFreely() public {
        _deposit(alice, weth, 1e18);
        vm.prank(alice);
        agg.withdraw(address(weth), 1e18, alice);
        assertEq(weth.balanceOf(alice), 1e18, "tokens back");
        assertEq(agg.balanceOf(alice, address(weth)), 0, "balance zero");
    }

    function test_S1_8_withdrawKeepsNetMarginAboveIM() public {
        _deposit(alice, weth, 1e18); // weighted 1,600 USD
        _attest(alice, 1_000e6, 500e6, 0);
        vm.prank(alice);
        agg.withdraw(address(weth), 0.3e18, alice); // leaves 1,120 ≥ 1,000
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IMarginAggregator.WouldBreachInitialMargin.selector, alice, int256(960e6), 1_000e6)
        );
        agg.withdraw(address(weth), 0.1e18, alice); // would leave 960 < 1,000
    }

    function test_S1_8_negativeMarkToMarketCountsAgainstWithdrawal() public {
        _deposit(alice, usdc, 1_000e6);
        _attest(alice, 100e6, 50e6, -800e6); // net 200, IM 100: 100 free
        vm.startPrank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IMarginAggregator.WouldBreachInitialMargin.selector, alice, int256(99e6), 100e6)
        );
        agg.withdraw(address(usdc), 101e6, alice);
        agg.withdraw(address(usdc), 100e6, alice);
        vm.stopPrank();
        assertEq(agg.freeCollateral(alice), 0, "nothing free left");
    }

    function test_S1_8_withdrawWithStaleAttestationReverts() public {
        _deposit(alice, weth, 1e18);
        _attest(alice, 100e6, 50e6, 0);
        uint256 attestedAt = block.timestamp;
        _advance(MAX_AGE + 1);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.AttestationStale.selector, alice, attestedAt, MAX_AGE));
        agg.withdraw(address(weth), 1, alice);
    }

    function test_S1_9_withdrawRevertsWhilePaused() public {
        _deposit(alice, weth, 1e18);
        vm.prank(guardian);
        agg.pause();
        vm.prank(alice);
        vm.expectRevert(IMarginAggregator.Paused.selector);
        agg.withdraw(address(weth), 1, alice);
        agg.unpause();
        vm.prank(alice);
        agg.withdraw(address(weth), 1, alice);
        assertEq(weth.balanceOf(alice), 1, "withdrawn after unpause");
    }

    function test_S1_8_withdrawMoreThanBalanceReverts() public {
        _deposit(alice, weth, 1e18);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IMarginAggregator.InsufficientBalance.selector, alice, address(weth), 1e18, 1e18 + 1)
        );
        agg.withdraw(address(weth), 1e18 + 1, alice);
    }

    // ================================================================ S2 valuation

    /// S2.1: each asset is priced by its own configured feed.
    function test_S2_5_valuesEachDecimalsExactly() public {
        _deposit(alice, weth, 1e18); // 2,000 × 0.8
        _deposit(bob, wbtc, 0.5e8); // 30,000 × 0.85
        (,, uint256 aliceUsd6,,,) = agg.marginOf(alice);
        (,, uint256 bobUsd6,,,) = agg.marginOf(bob);
        assertEq(aliceUsd6, 1_600e6, "weth weighted");
        assertEq(bobUsd6, 25_500e6, "wbtc weighted");
    }

    function test_S2_6_aTokenValuedThroughLiquidityIndex() public {
        aavePool.setIndex(address(usdc), 1.1e27);
        aUsdc.mint(alice, 1_100e6);
        vm.startPrank(alice);
        aUsdc.approve(address(agg), type(uint256).max);
        agg.deposit(alice, address(aUsdc), 1_100e6);
        vm.stopPrank();
        assertEq(agg.balanceOf(alice, address(aUsdc)), 1_000e6, "scaled units credited");
        (,, uint256 v1,,,) = agg.marginOf(alice);
        assertEq(v1, 990e6, "1,100 USDC x 0.9");
        aavePool.setIndex(address(usdc), 1.21e27); // interest accrues to the depositor
        (,, uint256 v2,,,) = agg.marginOf(alice);
        assertEq(v2, 1_089e6, "1,210 USDC x 0.9");
        uint256 all = aUsdc.balanceOf(address(agg));
        vm.prank(alice);
        agg.withdraw(address(aUsdc), all, alice);
        assertEq(aUsdc.balanceOf(alice), 1_210e6, "withdrew principal plus interest");
        assertEq(agg.balanceOf(alice, address(aUsdc)), 0, "scaled balance cleared");
    }

    function test_S1_8_withdrawMaxTakesWholeATokenBalanceDespiteRounding() public {
        aavePool.setIndex(address(usdc), 1.123456789123456789123456789e27); // an index that does not divide evenly
        aUsdc.mint(alice, 1_000e6 + 7);
        vm.startPrank(alice);
        aUsdc.approve(address(agg), type(uint256).max);
        agg.deposit(alice, address(aUsdc), aUsdc.balanceOf(alice));
        aavePool.setIndex(address(usdc), 1.2e27);
        uint256 scaled = agg.balanceOf(alice, address(aUsdc));
        agg.withdraw(address(aUsdc), type(uint256).max, alice);
        vm.stopPrank();
        assertEq(agg.balanceOf(alice, address(aUsdc)), 0, "balance emptied");
        assertEq(agg.totalBalance(address(aUsdc)), 0, "total emptied");
        assertTrue(aUsdc.scaledBalanceOf(address(agg)) <= 1, "at most one scaled unit of rounding dust left");
        assertApproxEqAbs(aUsdc.balanceOf(alice), (scaled * 12) / 10, 1, "principal plus interest at index 1.2");
    }

    function test_S2_7_configRejectsSettlementHaircutAndBadFields() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarginAggregator.InvalidAssetConfig.selector, address(usdc), "settlement haircutBps/isAToken"
            )
        );
        agg.configureAsset(address(usdc), _config(usdcFeed, 100, 0.9e8, 1.1e8, false));
        vm.expectRevert(
            abi.encodeWithSelector(IMarginAggregator.InvalidAssetConfig.selector, address(weth), "minAnswer")
        );
        agg.configureAsset(address(weth), _config(ethFeed, 2_000, 0, 100_000e8, false));
        vm.expectRevert(
            abi.encodeWithSelector(IMarginAggregator.InvalidAssetConfig.selector, address(weth), "haircutBps")
        );
        agg.configureAsset(address(weth), _config(ethFeed, 10_000, 1, 100_000e8, false));
    }

    function test_S1_11_unitsOfAnAssetCannotChangeWhileHeld() public {
        _deposit(alice, weth, 1e18);
        IMarginAggregator.AssetConfig memory c = _config(ethFeed, 2_000, 100e8, 100_000e8, true);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarginAggregator.InvalidAssetConfig.selector,
                address(weth),
                "isAToken/underlying fixed while balances exist"
            )
        );
        agg.configureAsset(address(weth), c);
    }

    // ================================================================ S3 attestations

    function test_S3_11_postStoresAttestationAndEmits() public {
        bytes memory rec = _record(alice, 1_000e6, 600e6, -25e6, uint64(block.number));
        vm.expectEmit(true, false, false, true, address(agg));
        emit IMarginAggregator.MarginUpdated(
            alice, 1_000e6, 600e6, -25e6, uint64(block.number), keccak256(abi.encode(alice, uint64(block.number)))
        );
        assertEq(_post(rec), 1, "accepted");
        IMarginAggregator.Attestation memory a = agg.attestationOf(alice);
        assertEq(uint256(a.imUsd6), 1_000e6, "im");
        assertEq(uint256(a.mmUsd6), 600e6, "mm");
        assertEq(int256(a.mtmUsd6), -25e6, "mtm");
        assertEq(uint256(a.blockNumber), block.number, "block");
        assertEq(uint256(a.timestampSec), block.timestamp, "timestamp");
    }

    function test_S3_1_batchUpdatesManyAccounts() public {
        bytes memory recs;
        for (uint160 i = 1; i <= 20; i++) {
            recs = abi.encodePacked(recs, _record(address(i), uint64(i) * 1e6, uint64(i) * 5e5, int64(int160(i)), 999));
        }
        assertEq(_post(recs), 20, "all accepted");
        assertEq(uint256(agg.attestationOf(address(7)).imUsd6), 7e6, "account 7 im");
        assertEq(int256(agg.attestationOf(address(20)).mtmUsd6), 20, "account 20 mtm");
    }

    function test_S3_11_batchPostedCarriesDigestParamsAndCount() public {
        bytes memory recs = abi.encodePacked(
            _record(alice, 3e6, 2e6, -1, uint64(block.number)), _record(bob, 5e6, 4e6, 7, uint64(block.number))
        );
        uint64 ts = uint64(block.timestamp);
        bytes32 digest = _digest(recs, ts, ts + 600, block.chainid, address(agg));
        vm.expectEmit(true, false, false, true, address(agg));
        emit IMarginAggregator.BatchPosted(digest, PARAMS_HASH, ts, 2);
        _post(recs);
    }

    function test_S3_1_thresholdOfSignaturesRequired() public {
        bytes memory rec = _record(alice, 1e6, 1e6, 0, uint64(block.number));
        uint64 ts = uint64(block.timestamp);
        uint256[] memory one = new uint256[](1);
        one[0] = signerKeys[0];
        bytes memory sigs = _signSorted(_digest(rec, ts, ts + 60, block.chainid, address(agg)), one);
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.NotEnoughSignatures.selector, 1, 2));
        agg.postAttestations(PARAMS_HASH, ts, ts + 60, rec, sigs);
    }

    function test_S3_1_allThreeSignersAlsoAccepted() public {
        bytes memory rec = _record(alice, 1e6, 1e6, 0, uint64(block.number));
        uint64 ts = uint64(block.timestamp);
        uint256[] memory keys = new uint256[](3);
        (keys[0], keys[1], keys[2]) = (signerKeys[0], signerKeys[1], signerKeys[2]);
        bytes memory sigs = _signSorted(_digest(rec, ts, ts + 60, block.chainid, address(agg)), keys);
        assertEq(agg.postAttestations(PARAMS_HASH, ts, ts + 60, rec, sigs), 1, "accepted");
    }

    function test_S3_2_domainSeparatorFollowsLiveChainId() public {
        bytes32 expected = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("netmargin MarginAggregator"),
                keccak256("1"),
                block.chainid,
                address(agg)
            )
        );
        assertEq(agg.domainSeparator(), expected, "separator on deployment chain");
        vm.chainId(4242);
        bytes32 forked = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("netmargin MarginAggregator"),
                keccak256("1"),
                uint256(4242),
                address(agg)
            )
        );
        assertEq(agg.domainSeparator(), forked, "separator recomputed after fork");
        // and a batch signed for the new chain id is accepted there
        assertEq(_post(_record(alice, 1e6, 1e6, 0, uint64(block.number))), 1, "accepted on fork");
    }

    function test_S3_6_futureTimestampBlockAndMmAboveImRevert() public {
        bytes memory rec = _record(alice, 1e6, 1e6, 0, uint64(block.number + 1));
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.InvalidRecordBlock.selector, alice, block.number + 1));
        _post(rec);

        rec = _record(alice, 1e6, 2e6, 0, uint64(block.number));
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.MaintenanceAboveInitial.selector, alice, 1e6, 2e6));
        _post(rec);

        rec = _record(alice, 1e6, 1e6, 0, uint64(block.number));
        uint64 ts = uint64(block.timestamp + 1);
        bytes memory sigs = _signSorted(_digest(rec, ts, ts + 60, block.chainid, address(agg)), _twoKeys());
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarginAggregator.AttestationFromFuture.selector, block.timestamp + 1, block.timestamp
            )
        );
        agg.postAttestations(PARAMS_HASH, ts, ts + 60, rec, sigs);
    }

    function test_S3_4_recordsMustBeWhole84ByteRecords() public {
        bytes memory rec = _record(alice, 1e6, 1e6, 0, uint64(block.number));
        bytes memory truncated = new bytes(83);
        for (uint256 i = 0; i < 83; i++) {
            truncated[i] = rec[i];
        }
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.InvalidRecordsLength.selector, 83));
        agg.postAttestations(PARAMS_HASH, uint64(block.timestamp), uint64(block.timestamp), truncated, "");
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.InvalidRecordsLength.selector, 0));
        agg.postAttestations(PARAMS_HASH, uint64(block.timestamp), uint64(block.timestamp), "", "");
    }

    function test_S3_14_anyoneMaySubmitASignedBatch() public {
        vm.prank(bob);
        assertEq(_post(_record(alice, 1e6, 1e6, 0, uint64(block.number))), 1, "bob relayed");
    }

    function test_S3_13_postingNeedsNoPrices() public {
        _deposit(alice, weth, 1e18);
        vm.warp(block.timestamp + HEARTBEAT + 1); // every feed stale
        sequencer.updateRoundData(2, 1, block.timestamp, block.timestamp); // and the sequencer down
        assertEq(_post(_record(alice, 1e6, 1e6, 0, uint64(block.number))), 1, "posted");
    }

    // ================================================================ S4 roles

    function test_S4_1_ownershipTransfersInTwoSteps() public {
        agg.transferOwnership(bob);
        assertEq(agg.owner(), address(this), "still owner until accepted");
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.NotPendingOwner.selector, alice));
        agg.acceptOwnership();
        vm.prank(bob);
        agg.acceptOwnership();
        assertEq(agg.owner(), bob, "bob owns");
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.NotOwner.selector, address(this)));
        agg.addSigner(alice);
    }

    function test_S4_2_onlyOwnerManagesSignersAndAssets() public {
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.NotOwner.selector, alice));
        agg.addSigner(alice);
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.NotOwner.selector, alice));
        agg.removeSigner(signerAddrs[0]);
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.NotOwner.selector, alice));
        agg.setThreshold(1);
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.NotOwner.selector, alice));
        agg.configureAsset(address(weth), _config(ethFeed, 2_000, 100e8, 100_000e8, false));
        vm.stopPrank();
    }

    function test_S4_3_thresholdStaysWithinSignerCount() public {
        agg.removeSigner(signerAddrs[2]);
        assertEq(agg.signerCount(), 2, "two left");
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.InvalidThreshold.selector, 2, 1));
        agg.removeSigner(signerAddrs[1]);
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.InvalidThreshold.selector, 0, 2));
        agg.setThreshold(0);
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.InvalidThreshold.selector, 3, 2));
        agg.setThreshold(3);
        agg.addSigner(alice);
        agg.setThreshold(3);
        assertEq(agg.threshold(), 3, "raised");
    }

    function test_S4_4_guardianPausesOnlyOwnerUnpauses() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.NotGuardian.selector, alice));
        agg.pause();
        vm.prank(guardian);
        agg.pause();
        assertTrue(agg.paused(), "paused");
        vm.prank(guardian);
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.NotOwner.selector, guardian));
        agg.unpause();
    }

    function test_S4_5_pauseNeverBlocksDepositsPostingOrLiquidation() public {
        _setUpShortfall();
        vm.prank(guardian);
        agg.pause();
        _deposit(bob, usdc, 10e6);
        _attest(bob, 1e6, 1e6, 0);
        agg.flagShortfall(alice);
        _fundLiquidator(10_000e6);
        vm.prank(liquidator);
        (uint256 seized,) = agg.liquidate(alice, address(weth), type(uint256).max, type(uint256).max);
        assertGt(seized, 0, "liquidated while paused");
    }

    // ================================================================ S5 partner interface

    function test_S5_1_marginOfNeverAttestedIsStale() public {
        _deposit(alice, weth, 1e18);
        (uint256 im, uint256 mm, uint256 col, uint256 sf, uint64 blk, bool stale) = agg.marginOf(alice);
        assertEq(im + mm + sf + blk, 0, "all zero");
        assertEq(col, 1_600e6, "collateral");
        assertTrue(stale, "stale");
        assertFalse(agg.isLiquidatable(alice), "not liquidatable");
        assertEq(agg.freeCollateral(alice), 1_600e6, "all free");
    }

    function test_S5_1_marginOfReportsShortfall() public {
        _deposit(alice, weth, 1e18);
        _attest(alice, 2_000e6, 1_800e6, 100e6); // net 1,700 < MM 1,800
        (uint256 im, uint256 mm, uint256 col, uint256 sf, uint64 blk, bool stale) = agg.marginOf(alice);
        assertEq(im, 2_000e6, "im");
        assertEq(mm, 1_800e6, "mm");
        assertEq(col, 1_600e6, "collateral");
        assertEq(sf, 100e6, "shortfall");
        assertEq(uint256(blk), block.number, "block");
        assertFalse(stale, "fresh");
        assertTrue(agg.isLiquidatable(alice), "liquidatable");
    }

    function test_S5_2_staleAttestationIsNotLiquidatable() public {
        _setUpShortfall();
        assertTrue(agg.isLiquidatable(alice), "liquidatable when fresh");
        _advance(MAX_AGE + 1);
        assertFalse(agg.isLiquidatable(alice), "not on a stale attestation");
    }

    function test_S5_4_viewsIgnoreCaller() public {
        _deposit(alice, weth, 1e18);
        _attest(alice, 2_000e6, 1_800e6, 100e6);
        vm.prank(alice);
        (uint256 imA,, uint256 colA, uint256 sfA,,) = agg.marginOf(alice);
        vm.prank(bob);
        (uint256 imB,, uint256 colB, uint256 sfB,,) = agg.marginOf(alice);
        assertEq(imA, imB, "im");
        assertEq(colA, colB, "collateral");
        assertEq(sfA, sfB, "shortfall");
        vm.prank(alice);
        uint256 freeA = agg.freeCollateral(alice);
        vm.prank(liquidator);
        assertEq(agg.freeCollateral(alice), freeA, "free collateral");
    }

    function test_S5_3_freeCollateralFreshAndStale() public {
        _deposit(alice, weth, 1e18);
        _attest(alice, 1_000e6, 500e6, 50e6);
        assertEq(agg.freeCollateral(alice), 650e6, "1,600 + 50 - 1,000");
        _advance(MAX_AGE + 1);
        assertEq(agg.freeCollateral(alice), 0, "stale: nothing free");
    }

    // ================================================================ S6 liquidation

    /// @dev alice: 1 WETH (weighted 1,600), IM 1,500 / MM 1,200; ETH falls to 1,400 → weighted 1,120.
    function _setUpShortfall() internal {
        _deposit(alice, weth, 1e18);
        _attest(alice, 1_500e6, 1_200e6, 0);
        ethFeed.updateAnswer(1_400e8);
    }

    function _fundLiquidator(uint256 usdcAmount) internal {
        usdc.mint(liquidator, usdcAmount);
        vm.prank(liquidator);
        usdc.approve(address(agg), type(uint256).max);
    }

    function test_S6_1_flagOnlyLiquidatableOnce() public {
        _deposit(alice, weth, 1e18);
        _attest(alice, 1_500e6, 1_200e6, 0);
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.NotLiquidatable.selector, alice));
        agg.flagShortfall(alice);
        ethFeed.updateAnswer(1_400e8);
        vm.expectEmit(true, false, false, true, address(agg));
        emit IMarginAggregator.ShortfallFlagged(alice, 80e6, block.timestamp);
        agg.flagShortfall(alice);
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.AlreadyFlagged.selector, alice));
        agg.flagShortfall(alice);
    }

    function test_S6_1_clearOnlyWhenHealthyAgain() public {
        _setUpShortfall();
        agg.flagShortfall(alice);
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.StillLiquidatable.selector, alice));
        agg.clearShortfall(alice);
        _deposit(alice, usdc, 100e6);
        agg.clearShortfall(alice);
        assertEq(agg.flaggedAtSec(alice), 0, "cleared");
    }

    function test_S6_1_withdrawalOfARecoveredAccountEndsItsAuction() public {
        _setUpShortfall();
        agg.flagShortfall(alice);
        vm.warp(block.timestamp + 2 hours); // discount at its cap
        ethFeed.updateAnswer(2_500e8); // recovers: weighted 2,000 ≥ IM 1,500
        vm.roll(block.number + 1);
        _attest(alice, 1_500e6, 1_200e6, 0);
        vm.prank(alice);
        agg.withdraw(address(weth), 0.01e18, alice);
        assertEq(agg.flaggedAtSec(alice), 0, "auction ended");
        ethFeed.updateAnswer(1_400e8);
        agg.flagShortfall(alice);
        assertEq(agg.currentDiscountBps(alice), 100, "a new shortfall starts at the start discount");
    }

    function test_S6_2_liquidationNeedsFlag() public {
        _setUpShortfall();
        _fundLiquidator(10_000e6);
        vm.prank(liquidator);
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.NotFlagged.selector, alice));
        agg.liquidate(alice, address(weth), type(uint256).max, type(uint256).max);
    }

    function test_S6_3_discountGrowsLinearlyToCap() public {
        _setUpShortfall();
        agg.flagShortfall(alice);
        assertEq(agg.currentDiscountBps(alice), 100, "start");
        vm.warp(block.timestamp + 30 minutes);
        assertEq(agg.currentDiscountBps(alice), 300, "half way");
        vm.warp(block.timestamp + 30 minutes);
        assertEq(agg.currentDiscountBps(alice), 500, "cap");
        vm.warp(block.timestamp + 5 hours);
        assertEq(agg.currentDiscountBps(alice), 500, "stays at cap");
    }

    function test_S6_5_S6_6_partialLiquidationRestoresToBufferedMM() public {
        _setUpShortfall();
        agg.flagShortfall(alice);
        _fundLiquidator(10_000e6);
        vm.prank(liquidator);
        (uint256 seized, uint256 paid) = agg.liquidate(alice, address(weth), type(uint256).max, type(uint256).max);
        // gap to MM × 1.05 = 1,260 − 1,120 = 140; each USD sold raises margin by 20% − 1% = 0.19
        // → sell 736.84 USD of WETH (0.5263 WETH at 1,400) for 99% of it in USDC.
        assertApproxEqAbs(seized, 0.526315789473684211e18, 1e9, "seized WETH (USD6 rounding: 1e-6 USD)");
        assertApproxEqAbs(paid, 729.473685e6, 2, "paid USDC");
        assertEq(agg.balanceOf(alice, address(usdc)), paid, "payment credited to alice");
        assertEq(weth.balanceOf(liquidator), seized, "liquidator got WETH");
        assertEq(usdc.balanceOf(liquidator), 10_000e6 - paid, "liquidator paid");
        assertApproxEqAbs(_netMargin(alice), int256(1_260e6), 2, "restored to MM x 1.05");
        assertGt(agg.balanceOf(alice, address(weth)), 0, "partial: collateral left");
        assertFalse(agg.isLiquidatable(alice), "healthy");
        assertEq(agg.flaggedAtSec(alice), 0, "flag cleared");
    }

    function test_S6_5_liquidatorCapsSeizeAndPay() public {
        _setUpShortfall();
        agg.flagShortfall(alice);
        _fundLiquidator(10_000e6);
        vm.prank(liquidator);
        (uint256 seized,) = agg.liquidate(alice, address(weth), 0.1e18, type(uint256).max);
        assertEq(seized, 0.1e18, "capped by maxSeize");
        assertTrue(agg.isLiquidatable(alice), "still short after a small bite");
        vm.prank(liquidator);
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.PaymentAboveMax.selector, 138.6e6, 1e6));
        agg.liquidate(alice, address(weth), 0.1e18, 1e6);
    }

    function test_S6_4_discountCapMustStayBelowHaircuts() public {
        IMarginAggregator.LiquidationParams memory p = agg.liquidationParams();
        p.maxDiscountBps = 1_000; // aUSDC haircut is 1,000
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarginAggregator.InvalidLiquidationParams.selector,
                "maxDiscountBps must be below every seizable haircut"
            )
        );
        agg.setLiquidationParams(p);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarginAggregator.InvalidAssetConfig.selector, address(weth), "haircutBps must exceed maxDiscountBps"
            )
        );
        agg.configureAsset(address(weth), _config(ethFeed, 500, 100e8, 100_000e8, false));
    }

    function test_S6_9_settlementAssetCannotBeSeized() public {
        _setUpShortfall();
        agg.flagShortfall(alice);
        vm.prank(liquidator);
        vm.expectRevert(IMarginAggregator.CannotSeizeSettlementAsset.selector);
        agg.liquidate(alice, address(usdc), 1, 1);
    }

    function test_S6_10_badDebtCoveredByInsuranceThenWrittenOff() public {
        _deposit(alice, weth, 1e18);
        _attest(alice, 200e6, 100e6, -1_500e6); // net 100 < MM... healthy? 1,600 − 1,500 = 100 ≥ 100
        ethFeed.updateAnswer(1_000e8); // weighted 800 → net −700
        agg.flagShortfall(alice);
        _fundLiquidator(10_000e6);
        vm.prank(liquidator);
        (uint256 seized, uint256 paid) = agg.liquidate(alice, address(weth), type(uint256).max, type(uint256).max);
        assertEq(seized, 1e18, "all collateral sold");
        assertEq(paid, 990e6, "at 1% discount");
        assertEq(_netMargin(alice), -510e6, "990 - 1,500");

        usdc.mint(address(this), 300e6);
        usdc.approve(address(agg), 300e6);
        agg.fundInsurance(300e6);
        vm.expectEmit(true, false, false, true, address(agg));
        emit IMarginAggregator.BadDebtResolved(alice, 510e6, 300e6, 210e6);
        (uint256 covered, uint256 badDebt) = agg.resolveBadDebt(alice);
        assertEq(covered, 300e6, "insurance covered");
        assertEq(badDebt, 210e6, "written off");
        assertEq(agg.totalBadDebtUsd6(), 210e6, "total bad debt");
        assertEq(agg.insuranceFund(), 0, "fund used");
        assertEq(agg.balanceOf(alice, address(usdc)), 1_290e6, "990 + 300");
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.BadDebtNotResolvable.selector, alice));
        agg.resolveBadDebt(alice); // same attestation: once only
    }

    function test_S6_10_badDebtNotResolvableWhileCollateralRemains() public {
        _deposit(alice, weth, 1e18);
        _attest(alice, 200e6, 100e6, -1_500e6);
        ethFeed.updateAnswer(1_000e8);
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.BadDebtNotResolvable.selector, alice));
        agg.resolveBadDebt(alice);
    }
}
