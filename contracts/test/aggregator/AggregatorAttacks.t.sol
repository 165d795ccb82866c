// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/tests/MockV3Aggregator.sol";

import {IMarginAggregator} from "../../src/aggregator/interfaces/IMarginAggregator.sol";
import {AggregatorBase, FeeOnTransferToken, ReentrantToken} from "./AggregatorBase.sol";

/// @notice One test per attack the aggregator must stop, named after it (issue 5 acceptance list).
contract AggregatorAttacksTest is AggregatorBase {
    // ================================================================ prices (S2)

    /// S2.10: every rejected price reverts with the feed and the reason, in views and actions alike.
    function test_attack_stalePrice_rejected_S2_2() public {
        _deposit(alice, weth, 1e18);
        _attest(alice, 100e6, 50e6, 0);
        (,,, uint256 updatedAt,) = ethFeed.latestRoundData();
        vm.warp(block.timestamp + HEARTBEAT + 1); // feed not updated
        vm.expectRevert(
            abi.encodeWithSelector(IMarginAggregator.StalePrice.selector, address(ethFeed), updatedAt, HEARTBEAT)
        );
        agg.marginOf(alice);
        vm.roll(block.number + 1);
        _attest(alice, 100e6, 50e6, 0); // a fresh attestation does not help a stale price
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IMarginAggregator.StalePrice.selector, address(ethFeed), updatedAt, HEARTBEAT)
        );
        agg.withdraw(address(weth), 1, alice);
    }

    function test_attack_priceFromTheFuture_rejected_S2_2() public {
        _deposit(alice, weth, 1e18);
        ethFeed.updateRoundData(9, 2_000e8, block.timestamp + 1, block.timestamp + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarginAggregator.StalePrice.selector, address(ethFeed), block.timestamp + 1, HEARTBEAT
            )
        );
        agg.marginOf(alice);
    }

    function test_attack_zeroPrice_rejected_S2_3() public {
        _deposit(alice, weth, 1e18);
        ethFeed.updateAnswer(0);
        vm.expectRevert(
            abi.encodeWithSelector(IMarginAggregator.NonPositivePrice.selector, address(ethFeed), int256(0))
        );
        agg.marginOf(alice);
    }

    function test_attack_negativePrice_rejected_S2_3() public {
        _deposit(alice, weth, 1e18);
        ethFeed.updateAnswer(-1);
        vm.expectRevert(
            abi.encodeWithSelector(IMarginAggregator.NonPositivePrice.selector, address(ethFeed), int256(-1))
        );
        agg.isLiquidatable(alice);
    }

    function test_attack_priceOutsideBounds_rejected_S2_4() public {
        _deposit(alice, weth, 1e18);
        ethFeed.updateAnswer(100_000e8 + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarginAggregator.PriceOutOfBounds.selector,
                address(ethFeed),
                int256(100_000e8 + 1),
                int256(100e8),
                int256(100_000e8)
            )
        );
        agg.freeCollateral(alice);
    }

    // ================================================================ sequencer (S2.8, S2.9)

    function test_attack_sequencerDown_blocksWithdrawFlagLiquidationBadDebt_notDeposit_S2_9() public {
        _deposit(alice, weth, 1e18);
        _attest(alice, 1_500e6, 1_200e6, 0);
        ethFeed.updateAnswer(1_400e8);
        sequencer.updateRoundData(2, 1, block.timestamp, block.timestamp);
        vm.prank(alice);
        vm.expectRevert(IMarginAggregator.SequencerDown.selector);
        agg.withdraw(address(weth), 1, alice);
        vm.expectRevert(IMarginAggregator.SequencerDown.selector);
        agg.flagShortfall(alice);
        vm.prank(liquidator);
        vm.expectRevert(IMarginAggregator.SequencerDown.selector);
        agg.liquidate(alice, address(weth), 1, type(uint256).max);
        vm.expectRevert(IMarginAggregator.SequencerDown.selector);
        agg.resolveBadDebt(alice);
        _deposit(alice, usdc, 100e6); // repayment still works
        assertEq(agg.balanceOf(alice, address(usdc)), 100e6, "deposit accepted");
    }

    function test_attack_sequencerInGracePeriod_blocksWithdraw_S2_9() public {
        _deposit(alice, weth, 1e18);
        uint256 upSince = block.timestamp - GRACE / 2;
        sequencer.updateRoundData(2, 0, block.timestamp, upSince); // back up half a grace period ago
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.SequencerGracePeriod.selector, upSince, GRACE));
        agg.withdraw(address(weth), 1, alice);
        vm.warp(upSince + GRACE + 1);
        vm.prank(alice);
        agg.withdraw(address(weth), 1, alice);
        assertEq(weth.balanceOf(alice), 1, "withdraws after grace");
    }

    // ================================================================ signatures (S3)

    /// @dev With threshold 1, the signer a wrong-domain signature recovers to against the real digest.
    function _wrongDomainSignature(uint256 chainId, address verifyingContract)
        internal
        returns (bytes memory rec, bytes memory sig, address recovered)
    {
        agg.setThreshold(1);
        rec = _record(alice, 1e6, 1e6, 0, uint64(block.number));
        uint64 ts = uint64(block.timestamp);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(signerKeys[0], _digest(rec, ts, ts + 60, chainId, verifyingContract));
        sig = abi.encodePacked(r, s, v);
        recovered = ecrecover(_digest(rec, ts, ts + 60, block.chainid, address(agg)), v, r, s);
    }

    function test_attack_signatureForAnotherChain_rejected_S3_12() public {
        (bytes memory rec, bytes memory sig, address recovered) = _wrongDomainSignature(block.chainid + 1, address(agg));
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.UnknownSigner.selector, recovered));
        agg.postAttestations(PARAMS_HASH, uint64(block.timestamp), uint64(block.timestamp + 60), rec, sig);
    }

    function test_attack_signatureForAnotherContract_rejected_S3_12() public {
        (bytes memory rec, bytes memory sig, address recovered) = _wrongDomainSignature(block.chainid, address(0xBEEF));
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.UnknownSigner.selector, recovered));
        agg.postAttestations(PARAMS_HASH, uint64(block.timestamp), uint64(block.timestamp + 60), rec, sig);
    }

    function test_attack_replayAfterChainFork_rejected_S3_2() public {
        bytes memory rec = _record(alice, 1e6, 1e6, 0, uint64(block.number));
        uint64 ts = uint64(block.timestamp);
        bytes memory sigs = _signSorted(_digest(rec, ts, ts + 60, block.chainid, address(agg)), _twoKeys());
        vm.chainId(block.chainid + 7); // the chain forks; the old-chain batch must not apply here
        vm.expectRevert();
        agg.postAttestations(PARAMS_HASH, ts, ts + 60, rec, sigs);
        assertEq(uint256(agg.attestationOf(alice).blockNumber), 0, "nothing stored");
    }

    function test_attack_expiredDeadline_rejected_S3_5() public {
        bytes memory rec = _record(alice, 1e6, 1e6, 0, uint64(block.number));
        uint64 ts = uint64(block.timestamp);
        bytes memory sigs = _signSorted(_digest(rec, ts, ts + 60, block.chainid, address(agg)), _twoKeys());
        vm.warp(ts + 61);
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.AttestationExpired.selector, ts + 60, ts + 61));
        agg.postAttestations(PARAMS_HASH, ts, ts + 60, rec, sigs);
    }

    function test_attack_olderAttestation_ignoredNotReverted_S3_10() public {
        uint64 oldBlock = uint64(block.number);
        bytes memory oldRec = _record(alice, 9_000e6, 9_000e6, 0, oldBlock); // signed but posted late
        vm.roll(block.number + 5);
        _attest(alice, 100e6, 50e6, 0);
        vm.expectEmit(true, false, false, true, address(agg));
        emit IMarginAggregator.AttestationIgnored(alice, oldBlock, oldBlock + 5);
        assertEq(_post(oldRec), 0, "nothing accepted");
        assertEq(uint256(agg.attestationOf(alice).imUsd6), 100e6, "newer attestation kept");
        assertEq(_post(_record(alice, 7e6, 7e6, 0, oldBlock + 5)), 0, "same block is not newer either");
    }

    function test_attack_removedSigner_rejected_S3_9() public {
        agg.removeSigner(signerAddrs[0]);
        bytes memory rec = _record(alice, 1e6, 1e6, 0, uint64(block.number));
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.UnknownSigner.selector, signerAddrs[0]));
        _post(rec); // signed by keys 0 and 1
    }

    function test_attack_outsiderSigner_rejected_S3_9() public {
        bytes memory rec = _record(alice, 1e6, 1e6, 0, uint64(block.number));
        uint64 ts = uint64(block.timestamp);
        uint256[] memory keys = new uint256[](2);
        keys[0] = signerKeys[0];
        keys[1] = 0xBAD;
        bytes memory sigs = _signSorted(_digest(rec, ts, ts + 60, block.chainid, address(agg)), keys);
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.UnknownSigner.selector, vm.addr(0xBAD)));
        agg.postAttestations(PARAMS_HASH, ts, ts + 60, rec, sigs);
    }

    function test_attack_duplicateSigner_rejected_S3_8() public {
        bytes memory rec = _record(alice, 1e6, 1e6, 0, uint64(block.number));
        uint64 ts = uint64(block.timestamp);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(signerKeys[0], _digest(rec, ts, ts + 60, block.chainid, address(agg)));
        bytes memory twice = abi.encodePacked(r, s, v, r, s, v);
        vm.expectRevert(
            abi.encodeWithSelector(IMarginAggregator.SignersNotIncreasing.selector, signerAddrs[0], signerAddrs[0])
        );
        agg.postAttestations(PARAMS_HASH, ts, ts + 60, rec, twice);
    }

    function test_attack_highSSignature_rejected_S3_7() public {
        bytes memory rec = _record(alice, 1e6, 1e6, 0, uint64(block.number));
        uint64 ts = uint64(block.timestamp);
        bytes32 digest = _digest(rec, ts, ts + 60, block.chainid, address(agg));
        bytes memory malleated = _malleateFirst(digest, _signSorted(digest, _twoKeys()));
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.HighSSignature.selector, 0));
        agg.postAttestations(PARAMS_HASH, ts, ts + 60, rec, malleated);
    }

    /// @dev Replaces the first signature by its malleable twin (n − s, other v), which ecrecover accepts.
    function _malleateFirst(bytes32 digest, bytes memory sigs) internal pure returns (bytes memory out) {
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly {
            r := mload(add(sigs, 0x20))
            s := mload(add(sigs, 0x40))
            v := byte(0, mload(add(sigs, 0x60)))
        }
        bytes32 highS = bytes32(SECP256K1_N - uint256(s));
        uint8 flippedV = v == 27 ? 28 : 27;
        assertEq(ecrecover(digest, flippedV, r, highS), ecrecover(digest, v, r, s), "the twin is valid ECDSA");
        out = abi.encodePacked(r, highS, flippedV);
        for (uint256 i = 65; i < sigs.length; i++) {
            out = abi.encodePacked(out, sigs[i]);
        }
    }

    function test_attack_compact64ByteSignature_rejected_S3_7() public {
        agg.setThreshold(1);
        bytes memory rec = _record(alice, 1e6, 1e6, 0, uint64(block.number));
        uint64 ts = uint64(block.timestamp);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(signerKeys[0], _digest(rec, ts, ts + 60, block.chainid, address(agg)));
        bytes32 vs = bytes32(uint256(s) | (uint256(v - 27) << 255)); // EIP-2098
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.InvalidSignatureLength.selector, 64));
        agg.postAttestations(PARAMS_HASH, ts, ts + 60, rec, abi.encodePacked(r, vs));
        // the same signature in 65-byte form is accepted
        assertEq(agg.postAttestations(PARAMS_HASH, ts, ts + 60, rec, abi.encodePacked(r, s, v)), 1, "65-byte ok");
    }

    function test_attack_tamperedRecord_rejected_S3_3() public {
        bytes memory rec = _record(alice, 1_000e6, 900e6, 0, uint64(block.number));
        uint64 ts = uint64(block.timestamp);
        bytes memory sigs = _signSorted(_digest(rec, ts, ts + 60, block.chainid, address(agg)), _twoKeys());
        rec[27] = bytes1(uint8(rec[27]) ^ 1); // lowest byte of imUsd6
        vm.expectRevert();
        agg.postAttestations(PARAMS_HASH, ts, ts + 60, rec, sigs);
        assertEq(uint256(agg.attestationOf(alice).blockNumber), 0, "nothing stored");
    }

    // ================================================================ liquidation (S6)

    function test_attack_selfLiquidation_rejected_S6_8() public {
        _deposit(alice, weth, 1e18);
        _attest(alice, 1_500e6, 1_200e6, 0);
        ethFeed.updateAnswer(1_400e8);
        agg.flagShortfall(alice);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IMarginAggregator.SelfLiquidation.selector, alice));
        agg.liquidate(alice, address(weth), type(uint256).max, type(uint256).max);
    }

    // ================================================================ tokens (S1)

    function test_attack_reentrantToken_rejected_S1_6() public {
        ReentrantToken hook = new ReentrantToken();
        agg.configureAsset(address(hook), _config(ethFeed, 2_000, 100e8, 100_000e8, false));
        hook.mint(alice, 2e18);
        vm.prank(alice);
        hook.approve(address(agg), type(uint256).max);
        // During alice's deposit the token tries to withdraw on its own behalf and to deposit again.
        hook.arm(address(agg), abi.encodeCall(agg.withdraw, (address(hook), 1, address(hook))));
        vm.prank(alice);
        agg.deposit(alice, address(hook), 1e18);
        assertTrue(hook.reentered(), "hook ran");
        assertTrue(hook.reentryRejected(), "re-entrant withdraw rejected with Reentrancy()");
        assertEq(agg.balanceOf(alice, address(hook)), 1e18, "credited once");
        // and during a withdrawal
        hook.arm(address(agg), abi.encodeCall(agg.deposit, (address(hook), address(hook), 1)));
        vm.prank(alice);
        agg.withdraw(address(hook), 1e18, alice);
        assertTrue(hook.reentryRejected(), "re-entrant deposit rejected with Reentrancy()");
        assertEq(agg.totalBalance(address(hook)), 0, "nothing left behind");
    }

    function test_attack_readDuringWithdrawalSeesDebitedBalance_S1_10() public {
        ReentrantToken hook = new ReentrantToken();
        agg.configureAsset(address(hook), _config(ethFeed, 2_000, 100e8, 100_000e8, false));
        hook.mint(alice, 1e18);
        vm.startPrank(alice);
        hook.approve(address(agg), type(uint256).max);
        agg.deposit(alice, address(hook), 1e18);
        vm.stopPrank();
        // While the token leaves, a view read from inside the transfer already sees the debit.
        hook.arm(address(agg), abi.encodeCall(agg.balanceOf, (alice, address(hook))));
        vm.prank(alice);
        agg.withdraw(address(hook), 0.4e18, alice);
        assertTrue(hook.reentered(), "hook ran");
        assertEq(abi.decode(hook.reentryReturn(), (uint256)), 0.6e18, "debited before the transfer");
    }

    function test_attack_feeOnTransferToken_creditsReceivedAmountOnly_S1_2() public {
        FeeOnTransferToken fee = new FeeOnTransferToken(100); // 1%
        agg.configureAsset(address(fee), _config(ethFeed, 2_000, 100e8, 100_000e8, false));
        fee.mint(alice, 100e18);
        vm.startPrank(alice);
        fee.approve(address(agg), type(uint256).max);
        uint256 credited = agg.deposit(alice, address(fee), 100e18);
        assertEq(credited, 99e18, "credited what arrived");
        assertEq(agg.balanceOf(alice, address(fee)), 99e18, "internal balance");
        assertEq(fee.balanceOf(address(agg)), agg.totalBalance(address(fee)), "fully backed");
        agg.withdraw(address(fee), 99e18, alice);
        vm.stopPrank();
        assertEq(fee.balanceOf(address(agg)), 0, "emptied without touching others");
        assertEq(agg.totalBalance(address(fee)), 0, "total zero");
    }

    function test_attack_donation_changesNoAccounting_S1_5() public {
        _deposit(alice, weth, 1e18);
        _attest(alice, 1_500e6, 1_200e6, 0);
        (,, uint256 before,,,) = agg.marginOf(alice);
        weth.mint(address(agg), 50e18); // donation straight to the contract
        aUsdc.mint(address(agg), 1_000e6);
        (,, uint256 afterDonation,,,) = agg.marginOf(alice);
        assertEq(afterDonation, before, "valuation unchanged");
        assertEq(agg.balanceOf(alice, address(weth)), 1e18, "balance unchanged");
        assertEq(agg.totalBalance(address(weth)), 1e18, "total unchanged");
        _deposit(bob, weth, 1e18);
        assertEq(agg.balanceOf(bob, address(weth)), 1e18, "next depositor credited exactly");
        ethFeed.updateAnswer(1_400e8); // donation does not shield alice from liquidation either
        assertTrue(agg.isLiquidatable(alice), "still liquidatable");
    }

    function test_attack_unlistedFeedlessSequencerRoundTreatedAsDown_S2_8() public {
        MockV3Aggregator fresh = new MockV3Aggregator(0, 0);
        fresh.updateRoundData(1, 0, block.timestamp, 0); // startedAt 0: uninitialised
        agg.setRiskParams(MAX_AGE, fresh, GRACE);
        _deposit(alice, weth, 1e18);
        vm.prank(alice);
        vm.expectRevert(IMarginAggregator.SequencerDown.selector);
        agg.withdraw(address(weth), 1, alice);
    }
}
