// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/tests/MockV3Aggregator.sol";

import {ChainlinkPrice} from "../../src/venues/common/ChainlinkPrice.sol";
import {DeriveForwardFeed} from "../../src/venues/derive/DeriveForwardFeed.sol";
import {DeriveRateFeed} from "../../src/venues/derive/DeriveRateFeed.sol";
import {DeriveSpotFeed} from "../../src/venues/derive/DeriveSpotFeed.sol";
import {DeriveVolFeed} from "../../src/venues/derive/DeriveVolFeed.sol";
import {SviMath} from "../../src/venues/derive/SviMath.sol";
import {
    IBaseLyraFeed, ILyraForwardFeed, ILyraRateFeed, ILyraVolFeed
} from "../../src/venues/derive/interfaces/IFeeds.sol";
import {Test} from "../utils/Test.sol";

/// @notice Spot (Chainlink), forward, rate and SVI vol feeds of the Derive stand-in: read shapes,
/// signer whitelist, timestamp rules, SVI validation, staleness and decimals normalisation.
contract DeriveFeedsTest is Test {
    address internal admin = address(0xAD);
    address internal publisher = address(0x9B);
    uint64 internal constant HEARTBEAT = 3600;

    MockV3Aggregator internal ethFeed;
    DeriveSpotFeed internal spot;
    DeriveForwardFeed internal fwd;
    DeriveRateFeed internal rates;
    DeriveVolFeed internal vols;
    uint64 internal expiry;

    function setUp() public {
        vm.warp(1_700_000_000);
        ethFeed = new MockV3Aggregator(8, 2000e8);
        spot = new DeriveSpotFeed(address(ethFeed), HEARTBEAT);
        fwd = new DeriveForwardFeed(admin, address(spot), HEARTBEAT);
        rates = new DeriveRateFeed(admin, HEARTBEAT);
        vols = new DeriveVolFeed(admin, HEARTBEAT);
        vm.startPrank(admin);
        fwd.addSigner(publisher, true);
        rates.addSigner(publisher, true);
        vols.addSigner(publisher, true);
        vm.stopPrank();
        expiry = uint64(block.timestamp + 28 days);
    }

    function _svi() internal view returns (ILyraVolFeed.VolDetails memory) {
        return ILyraVolFeed.VolDetails({
            SVI_a: 0.02e18,
            SVI_b: 0.2e18,
            SVI_rho: -0.3e18,
            SVI_m: 0.05e18,
            SVI_sigma: 0.15e18,
            SVI_fwd: 2000e18,
            SVI_refTao: 0.25e18,
            confidence: 1e18,
            timestamp: uint64(block.timestamp)
        });
    }

    // ----- spot -----

    function test_Spot_NormalisesChainlinkToEighteenDecimals() public view {
        (uint256 price, uint256 confidence) = spot.getSpot();
        assertEq(price, 2000e18, "spot 18 dec");
        assertEq(confidence, 1e18, "full confidence");
    }

    function test_RevertWhen_SpotIsStale() public {
        vm.warp(block.timestamp + HEARTBEAT + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                ChainlinkPrice.StalePrice.selector, address(ethFeed), 1_700_000_000, uint256(HEARTBEAT), block.timestamp
            )
        );
        spot.getSpot();
    }

    function test_RevertWhen_SpotIsNonPositive() public {
        ethFeed.updateAnswer(-1);
        vm.expectRevert(abi.encodeWithSelector(ChainlinkPrice.NonPositivePrice.selector, address(ethFeed), int256(-1)));
        spot.getSpot();
    }

    function testFuzz_SpotNormalisesAnyFeedDecimals(uint8 decimalsSeed, uint256 answerSeed) public {
        uint8 decimals = uint8(bound(decimalsSeed, 0, 18));
        uint256 answer = bound(answerSeed, 1, 1e30);
        MockV3Aggregator feed = new MockV3Aggregator(decimals, int256(answer));
        DeriveSpotFeed s = new DeriveSpotFeed(address(feed), HEARTBEAT);
        (uint256 price,) = s.getSpot();
        assertEq(price, answer * 10 ** (18 - decimals), "scaled to 18 decimals");
    }

    function test_RevertWhen_FeedHasMoreThan18Decimals() public {
        MockV3Aggregator feed = new MockV3Aggregator(19, 1);
        DeriveSpotFeed s = new DeriveSpotFeed(address(feed), HEARTBEAT);
        vm.expectRevert(abi.encodeWithSelector(ChainlinkPrice.UnsupportedFeedDecimals.selector, address(feed), uint8(19)));
        s.getSpot();
    }

    // ----- forward -----

    function test_Forward_IsSpotPlusPostedDifferenceAndFollowsSpot() public {
        vm.expectEmit(true, false, false, true, address(fwd));
        emit ILyraForwardFeed.ForwardDataUpdated(
            expiry, ILyraForwardFeed.ForwardDetails(12e18, 0.9e18, uint64(block.timestamp)), ILyraForwardFeed.SettlementDetails(0, 0)
        );
        vm.prank(publisher);
        fwd.setForwardData(expiry, 12e18, 0.9e18, uint64(block.timestamp));
        (uint256 forward, uint256 confidence) = fwd.getForwardPrice(expiry);
        assertEq(forward, 2012e18, "spot + difference");
        assertEq(confidence, 0.9e18, "confidence");
        ethFeed.updateAnswer(2500e8);
        (forward,) = fwd.getForwardPrice(expiry);
        assertEq(forward, 2512e18, "moves with spot");
        (uint256 fixedPortion, uint256 variablePortion,) = fwd.getForwardPricePortions(expiry);
        assertEq(fixedPortion, 0, "no settlement averaging");
        assertEq(variablePortion, 2512e18, "variable portion");
    }

    function test_RevertWhen_ForwardPostedByNonSigner() public {
        vm.expectRevert(abi.encodeWithSelector(IBaseLyraFeed.BLF_InvalidSigner.selector, address(this)));
        fwd.setForwardData(expiry, 0, 1e18, uint64(block.timestamp));
    }

    function test_UpdateNotNewerThanStoredIsIgnored() public {
        vm.startPrank(publisher);
        fwd.setForwardData(expiry, 1e18, 1e18, uint64(block.timestamp));
        fwd.setForwardData(expiry, 2e18, 1e18, uint64(block.timestamp)); // same timestamp: ignored
        (uint256 forward,) = fwd.getForwardPrice(expiry);
        assertEq(forward, 2001e18, "first post kept");
        vm.warp(block.timestamp + 10);
        ethFeed.updateAnswer(2000e8);
        fwd.setForwardData(expiry, 3e18, 1e18, uint64(block.timestamp - 20)); // older: ignored
        (forward,) = fwd.getForwardPrice(expiry);
        assertEq(forward, 2001e18, "older post ignored");
        fwd.setForwardData(expiry, 3e18, 1e18, uint64(block.timestamp)); // newer: stored
        vm.stopPrank();
        (forward,) = fwd.getForwardPrice(expiry);
        assertEq(forward, 2003e18, "newer post stored");
    }

    function test_RevertWhen_PostTimestampIsInTheFutureOrOlderThanHeartbeat() public {
        vm.startPrank(publisher);
        vm.expectRevert(
            abi.encodeWithSelector(
                IBaseLyraFeed.BLF_PostTimestampOutOfRange.selector, uint64(block.timestamp + 1), HEARTBEAT, block.timestamp
            )
        );
        fwd.setForwardData(expiry, 0, 1e18, uint64(block.timestamp + 1));
        uint64 old = uint64(block.timestamp - HEARTBEAT - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IBaseLyraFeed.BLF_PostTimestampOutOfRange.selector, old, HEARTBEAT, block.timestamp)
        );
        rates.setRate(expiry, 0.05e18, 1e18, old);
        vm.stopPrank();
    }

    function test_RevertWhen_ReadingDataOlderThanHeartbeat() public {
        vm.startPrank(publisher);
        fwd.setForwardData(expiry, 1e18, 1e18, uint64(block.timestamp));
        rates.setRate(expiry, 0.05e18, 1e18, uint64(block.timestamp));
        vols.setVolDetails(expiry, _svi());
        vm.stopPrank();
        vm.warp(block.timestamp + HEARTBEAT + 1);
        ethFeed.updateAnswer(2000e8); // spot is fresh; the posted data is not
        vm.expectRevert(IBaseLyraFeed.BLF_DataTooOld.selector);
        fwd.getForwardPrice(expiry);
        vm.expectRevert(IBaseLyraFeed.BLF_DataTooOld.selector);
        rates.getInterestRate(expiry);
        vm.expectRevert(IBaseLyraFeed.BLF_DataTooOld.selector);
        vols.getVol(2000e18, expiry);
    }

    function test_RevertWhen_ConfidenceAboveOne() public {
        vm.expectRevert(abi.encodeWithSelector(IBaseLyraFeed.BLF_InvalidConfidence.selector, uint256(1e18 + 1)));
        vm.prank(publisher);
        fwd.setForwardData(expiry, 0, 1e18 + 1, uint64(block.timestamp));
    }

    function test_RevertWhen_ForwardWouldBeNonPositive() public {
        vm.expectRevert(abi.encodeWithSelector(ILyraForwardFeed.LFF_InvalidForward.selector, 2000e18, int96(-2000e18)));
        vm.prank(publisher);
        fwd.setForwardData(expiry, -2000e18, 1e18, uint64(block.timestamp));
    }

    function test_RevertWhen_ExpiryWasNeverPosted() public {
        vm.expectRevert(abi.encodeWithSelector(ILyraForwardFeed.LFF_MissingExpiryData.selector, expiry));
        fwd.getForwardPrice(expiry);
        vm.expectRevert(abi.encodeWithSelector(ILyraRateFeed.LRF_MissingExpiryData.selector, expiry));
        rates.getInterestRate(expiry);
        vm.expectRevert(abi.encodeWithSelector(ILyraVolFeed.LVF_MissingExpiryData.selector, expiry));
        vols.getVol(2000e18, expiry);
    }

    function test_RemovedSignerCannotPost() public {
        vm.prank(admin);
        fwd.addSigner(publisher, false);
        vm.expectRevert(abi.encodeWithSelector(IBaseLyraFeed.BLF_InvalidSigner.selector, publisher));
        vm.prank(publisher);
        fwd.setForwardData(expiry, 0, 1e18, uint64(block.timestamp));
    }

    // ----- rate -----

    function test_Rate_PostAndRead() public {
        vm.expectEmit(true, false, false, true, address(rates));
        emit ILyraRateFeed.RateUpdated(expiry, 0.05e18, 0.8e18, uint64(block.timestamp));
        vm.prank(publisher);
        rates.setRate(expiry, 0.05e18, 0.8e18, uint64(block.timestamp));
        (int256 rate, uint256 confidence) = rates.getInterestRate(expiry);
        assertEq(rate, 0.05e18, "rate");
        assertEq(confidence, 0.8e18, "confidence");
    }

    // ----- vol -----

    function test_Vol_ComputesSviOnChainAndKeepsRawParams() public {
        ILyraVolFeed.VolDetails memory d = _svi();
        vm.expectEmit(true, true, false, true, address(vols));
        emit ILyraVolFeed.VolDataUpdated(publisher, expiry, d);
        vm.prank(publisher);
        vols.setVolDetails(expiry, d);
        (uint256 vol, uint256 confidence) = vols.getVol(2400e18, expiry);
        assertApproxEqAbs(vol, 456356016880546200, 1e9, "SVI vol at 2400 (reference)");
        assertEq(confidence, 1e18, "confidence");
        ILyraVolFeed.VolDetails memory raw = vols.getVolDetails(expiry);
        assertEq(raw.SVI_rho, -0.3e18, "raw rho");
        assertEq(uint256(raw.SVI_refTao), 0.25e18, "raw tau");
        assertEq(vols.getExpiryMinConfidence(expiry), 1e18, "expiry confidence");
    }

    function test_RevertWhen_SviRhoIsNotInsideUnitInterval() public {
        ILyraVolFeed.VolDetails memory d = _svi();
        d.SVI_rho = 1e18;
        vm.expectRevert(abi.encodeWithSelector(ILyraVolFeed.LVF_InvalidSviParams.selector, "|rho| must be < 1"));
        vm.prank(publisher);
        vols.setVolDetails(expiry, d);
    }

    function test_RevertWhen_SviSigmaIsZero() public {
        ILyraVolFeed.VolDetails memory d = _svi();
        d.SVI_sigma = 0;
        vm.expectRevert(abi.encodeWithSelector(ILyraVolFeed.LVF_InvalidSviParams.selector, "sigma must be > 0"));
        vm.prank(publisher);
        vols.setVolDetails(expiry, d);
    }

    function test_RevertWhen_SviMinimumVarianceIsNegative() public {
        ILyraVolFeed.VolDetails memory d = _svi();
        d.SVI_a = -0.03e18; // −0.03 + 0.2 · 0.15 · sqrt(0.91) ≈ −0.0014 < 0
        vm.expectRevert(
            abi.encodeWithSelector(ILyraVolFeed.LVF_InvalidSviParams.selector, "a + b*sigma*sqrt(1-rho^2) must be >= 0")
        );
        vm.prank(publisher);
        vols.setVolDetails(expiry, d);
    }

    /// @dev Any parameters that pass validation (minimum total variance > 0) give a positive vol no
    /// larger than the total-variance cap allows, at any strike.
    function testFuzz_ValidSviGivesFiniteVol(uint256 aSeed, uint256 bSeed, int256 rhoSeed, uint256 strikeSeed)
        public
    {
        ILyraVolFeed.VolDetails memory d = _svi();
        d.SVI_b = bound(bSeed, 0, 1e18);
        d.SVI_rho = bound(rhoSeed, -0.99e18, 0.99e18);
        int256 minW = SviMath.minTotalVariance(0, d.SVI_b, d.SVI_rho, d.SVI_sigma);
        d.SVI_a = -minW + int256(bound(aSeed, 1e14, 0.5e18)); // keep a + b·σ·sqrt(1−ρ²) > 0
        vm.prank(publisher);
        vols.setVolDetails(expiry, d);
        uint128 strike = uint128(bound(strikeSeed, 100e18, 20_000e18));
        (uint256 vol,) = vols.getVol(strike, expiry);
        assertTrue(vol > 0, "positive vol");
        assertTrue(vol <= 10e18, "capped by max total variance 25 over tau 0.25");
    }
}
