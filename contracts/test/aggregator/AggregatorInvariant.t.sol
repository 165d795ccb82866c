// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/tests/MockV3Aggregator.sol";

import {MarginAggregator} from "../../src/aggregator/MarginAggregator.sol";
import {IMarginAggregator} from "../../src/aggregator/interfaces/IMarginAggregator.sol";
import {MockERC20} from "../utils/MockERC20.sol";
import {Vm} from "../utils/Test.sol";
import {AggregatorBase, MockAToken, MockAavePool} from "./AggregatorBase.sol";

/// @notice What the handler needs from the test fixture: batch signatures by the signer set.
interface IBatchSigner {
    function signBatch(bytes calldata records, uint64 timestampSec, uint64 deadlineSec)
        external
        view
        returns (bytes memory);
}

/// @notice Drives the aggregator with random deposits, withdrawals, price moves, attestations, time,
/// interest, flags, liquidations, donations, insurance funding and bad-debt resolution across three
/// accounts and four assets. It records in ghost flags any step that breaks a health-transition rule
/// (docs/specs.md S7.2–S7.4); the invariant contract asserts the flags stay down and the token backing
/// (S7.1) holds after every step.
contract AggregatorHandler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    MarginAggregator public agg;
    IBatchSigner public signer;
    MockERC20 public usdc;
    MockERC20 public weth;
    MockERC20 public wbtc;
    MockAToken public aUsdc;
    MockAavePool public pool;
    MockV3Aggregator public usdcFeed;
    MockV3Aggregator public ethFeed;
    MockV3Aggregator public btcFeed;
    MockV3Aggregator public sequencer;

    address[3] public actors = [address(0xA1), address(0xA2), address(0xA3)];
    address public constant LIQUIDATOR = address(0x11D0);

    // ghost flags: each names the rule it would break
    bool public brokeStayAboveIM; // S7.2
    bool public brokeHealthTransition; // S7.3
    bool public brokeLiquidationReduces; // S7.4
    bool public brokeDepositsAlwaysWork; // S1.4
    uint256 public liquidations;
    uint256 public withdrawals;
    string public lastViolation;

    constructor(
        MarginAggregator agg_,
        IBatchSigner signer_,
        MockERC20[3] memory plain,
        MockAToken aUsdc_,
        MockAavePool pool_,
        MockV3Aggregator[3] memory feeds,
        MockV3Aggregator sequencer_
    ) {
        sequencer = sequencer_;
        agg = agg_;
        signer = signer_;
        (usdc, weth, wbtc) = (plain[0], plain[1], plain[2]);
        aUsdc = aUsdc_;
        pool = pool_;
        (usdcFeed, ethFeed, btcFeed) = (feeds[0], feeds[1], feeds[2]);
        usdc.mint(LIQUIDATOR, 1e30);
        vm.prank(LIQUIDATOR);
        usdc.approve(address(agg), type(uint256).max);
        for (uint256 i = 0; i < 3; i++) {
            vm.startPrank(actors[i]);
            usdc.approve(address(agg), type(uint256).max);
            weth.approve(address(agg), type(uint256).max);
            wbtc.approve(address(agg), type(uint256).max);
            aUsdc.approve(address(agg), type(uint256).max);
            vm.stopPrank();
        }
    }

    // ------------------------------------------------------------ helpers

    function _asset(uint256 seed) internal view returns (address) {
        uint256 k = seed % 4;
        return k == 0 ? address(usdc) : k == 1 ? address(weth) : k == 2 ? address(wbtc) : address(aUsdc);
    }

    function _unit(address asset) internal view returns (uint256) {
        return asset == address(weth) ? 1e18 : asset == address(wbtc) ? 1e8 : 1e6;
    }

    /// @dev Health of every actor: (ok, liquidatable, shortfall). ok = false if the views reverted.
    function _snapshot() internal view returns (bool[3] memory ok, bool[3] memory liq, uint256[3] memory sf) {
        for (uint256 i = 0; i < 3; i++) {
            try agg.isLiquidatable(actors[i]) returns (bool l) {
                (,,, uint256 s,,) = agg.marginOf(actors[i]);
                (ok[i], liq[i], sf[i]) = (true, l, s);
            } catch {}
        }
    }

    /// @dev For actions that may not make anyone unhealthy (S7.3).
    /// @dev Per actor: a fresh attestation exists and net margin ≥ IM (false if the views revert).
    function _aboveIm() internal view returns (bool[3] memory above) {
        for (uint256 i = 0; i < 3; i++) {
            try agg.marginOf(actors[i]) returns (uint256 im, uint256, uint256 col, uint256, uint64, bool stale) {
                above[i] = !stale && int256(col) + agg.attestationOf(actors[i]).mtmUsd6 >= int256(im);
            } catch {}
        }
    }

    /// @dev For actions that may neither make anyone unhealthy (S7.3) nor take anyone from ≥ IM to
    /// < IM under a still-fresh attestation (S7.2).
    function _checkNoneTurnedUnhealthy(
        bool[3] memory okB,
        bool[3] memory liqB,
        bool[3] memory imB,
        string memory action
    ) internal {
        (bool[3] memory okA, bool[3] memory liqA,) = _snapshot();
        for (uint256 i = 0; i < 3; i++) {
            if (okB[i] && okA[i] && !liqB[i] && liqA[i]) {
                brokeHealthTransition = true;
                lastViolation = action;
            }
            if (imB[i] && okA[i]) {
                (uint256 im,, uint256 col,,, bool stale) = agg.marginOf(actors[i]);
                if (!stale && int256(col) + agg.attestationOf(actors[i]).mtmUsd6 < int256(im)) {
                    brokeStayAboveIM = true;
                    lastViolation = string.concat(action, " took an account below IM");
                }
            }
        }
    }

    function _netMargin(address account) internal view returns (int256) {
        (,, uint256 col,,,) = agg.marginOf(account);
        return int256(col) + agg.attestationOf(account).mtmUsd6;
    }

    // ------------------------------------------------------------ actions

    function deposit(uint256 actorSeed, uint256 assetSeed, uint256 amountSeed) external {
        address who = actors[actorSeed % 3];
        address asset = _asset(assetSeed);
        uint256 amount = 1 + (amountSeed % (50 * _unit(asset)));
        MockERC20(asset).mint(who, amount);
        (bool[3] memory okB, bool[3] memory liqB,) = _snapshot();
        bool[3] memory imB = _aboveIm();
        vm.prank(who);
        try agg.deposit(who, asset, amount) {}
        catch {
            brokeDepositsAlwaysWork = true; // whatever the pause or sequencer state (S1.4)
            lastViolation = "deposit reverted";
        }
        _checkNoneTurnedUnhealthy(okB, liqB, imB, "deposit");
    }

    function withdraw(uint256 actorSeed, uint256 assetSeed, uint256 amountSeed) external {
        address who = actors[actorSeed % 3];
        address asset = _asset(assetSeed);
        uint256 held = asset == address(aUsdc)
            ? (agg.balanceOf(who, asset) * pool.getReserveNormalizedIncome(address(usdc))) / 1e27
            : agg.balanceOf(who, asset);
        if (held == 0) return;
        uint256 amount = 1 + (amountSeed % held);
        (bool[3] memory okB, bool[3] memory liqB,) = _snapshot();
        bool[3] memory imB = _aboveIm();
        vm.prank(who);
        try agg.withdraw(asset, amount, who) {
            withdrawals++;
            IMarginAggregator.Attestation memory a = agg.attestationOf(who);
            if (a.blockNumber != 0 && _netMargin(who) < int256(uint256(a.imUsd6))) {
                brokeStayAboveIM = true;
                lastViolation = "withdraw below IM";
            }
        } catch {}
        _checkNoneTurnedUnhealthy(okB, liqB, imB, "withdraw");
    }

    /// @dev Price moves are allowed to make accounts unhealthy.
    function movePrice(uint256 which, uint256 bpsSeed) external {
        MockV3Aggregator feed = which % 2 == 0 ? ethFeed : btcFeed;
        (, int256 p,,,) = feed.latestRoundData();
        int256 next = (p * int256(7_000 + (bpsSeed % 6_001))) / 10_000; // −30% .. +30%
        int256 lo = which % 2 == 0 ? int256(200e8) : int256(2_000e8);
        int256 hi = which % 2 == 0 ? int256(50_000e8) : int256(500_000e8);
        if (next < lo) next = lo;
        if (next > hi) next = hi;
        feed.updateAnswer(next);
    }

    /// @dev New attestations are allowed to make accounts unhealthy.
    function attest(uint256 actorSeed, uint256 imSeed, int256 mtmSeed) external {
        address who = actors[actorSeed % 3];
        vm.roll(block.number + 1);
        uint64 im = uint64(imSeed % 200_000e6);
        int64 mtm = int64(mtmSeed % 100_000e6);
        bytes memory rec =
            abi.encodePacked(who, im, im * 4 / 5, mtm, uint64(block.number), keccak256(abi.encode(who, block.number)));
        uint64 ts = uint64(block.timestamp);
        bytes memory sigs = signer.signBatch(rec, ts, ts + 600);
        agg.postAttestations(keccak256("pmrm2-params-v1"), ts, ts + 600, rec, sigs);
    }

    /// @dev Time passes; feeds republish (same answers). Attestations may go stale, which only lowers
    /// liquidatability, so this is checked like a neutral action.
    function passTime(uint256 secondsSeed) external {
        (bool[3] memory okB, bool[3] memory liqB,) = _snapshot();
        bool[3] memory imB = _aboveIm();
        uint256 dt = 1 + (secondsSeed % 20 minutes);
        vm.warp(block.timestamp + dt);
        vm.roll(block.number + 1 + dt / 2);
        MockV3Aggregator[3] memory feeds = [usdcFeed, ethFeed, btcFeed];
        for (uint256 i = 0; i < 3; i++) {
            (, int256 p,,,) = feeds[i].latestRoundData();
            feeds[i].updateAnswer(p);
        }
        _checkNoneTurnedUnhealthy(okB, liqB, imB, "passTime");
    }

    /// @dev Interest accrues to aToken holders: value can only rise.
    function accrueInterest(uint256 bpsSeed) external {
        (bool[3] memory okB, bool[3] memory liqB,) = _snapshot();
        bool[3] memory imB = _aboveIm();
        uint256 i = pool.getReserveNormalizedIncome(address(usdc));
        pool.setIndex(address(usdc), i + (i * (bpsSeed % 50)) / 10_000);
        _checkNoneTurnedUnhealthy(okB, liqB, imB, "accrueInterest");
    }

    function flag(uint256 actorSeed) external {
        (bool[3] memory okB, bool[3] memory liqB,) = _snapshot();
        bool[3] memory imB = _aboveIm();
        try agg.flagShortfall(actors[actorSeed % 3]) {} catch {}
        _checkNoneTurnedUnhealthy(okB, liqB, imB, "flag");
    }

    function clear(uint256 actorSeed) external {
        (bool[3] memory okB, bool[3] memory liqB,) = _snapshot();
        bool[3] memory imB = _aboveIm();
        try agg.clearShortfall(actors[actorSeed % 3]) {} catch {}
        _checkNoneTurnedUnhealthy(okB, liqB, imB, "clear");
    }

    function liquidate(uint256 actorSeed, uint256 assetSeed, uint256 maxSeizeSeed) external {
        uint256 k = actorSeed % 3;
        address who = actors[k];
        address asset = _asset(1 + (assetSeed % 3)); // weth, wbtc or aUsdc
        (bool[3] memory okB,, uint256[3] memory sfB) = _snapshot();
        uint256 maxSeize = maxSeizeSeed % 4 == 0 ? type(uint256).max : 1 + (maxSeizeSeed % (10 * _unit(asset)));
        vm.prank(LIQUIDATOR);
        try agg.liquidate(who, asset, maxSeize, type(uint256).max) {
            liquidations++;
            (bool[3] memory okA,, uint256[3] memory sfA) = _snapshot();
            if (!(okB[k] && okA[k] && sfA[k] < sfB[k])) {
                brokeLiquidationReduces = true;
                lastViolation = "liquidation did not reduce shortfall";
            }
        } catch {}
    }

    function donate(uint256 assetSeed, uint256 amountSeed) external {
        address asset = _asset(assetSeed);
        (bool[3] memory okB, bool[3] memory liqB,) = _snapshot();
        bool[3] memory imB = _aboveIm();
        MockERC20(asset).mint(address(agg), 1 + (amountSeed % (100 * _unit(asset))));
        _checkNoneTurnedUnhealthy(okB, liqB, imB, "donate");
    }

    function fundInsurance(uint256 amountSeed) external {
        uint256 amount = 1 + (amountSeed % 10_000e6);
        (bool[3] memory okB, bool[3] memory liqB,) = _snapshot();
        bool[3] memory imB = _aboveIm();
        vm.prank(LIQUIDATOR);
        agg.fundInsurance(amount);
        _checkNoneTurnedUnhealthy(okB, liqB, imB, "fundInsurance");
    }

    function resolveBadDebt(uint256 actorSeed) external {
        (bool[3] memory okB, bool[3] memory liqB,) = _snapshot();
        bool[3] memory imB = _aboveIm();
        try agg.resolveBadDebt(actors[actorSeed % 3]) {} catch {}
        _checkNoneTurnedUnhealthy(okB, liqB, imB, "resolveBadDebt");
    }

    /// @dev The sequencer goes down, comes back (inside or past its grace period), or the guardian
    /// pauses / the owner unpauses. None of these may block deposits (S1.4, S4.5).
    function outage(uint256 seed) external {
        uint256 k = seed % 4;
        (uint80 round,,,,) = sequencer.latestRoundData();
        if (k == 0) {
            sequencer.updateRoundData(round + 1, 1, block.timestamp, block.timestamp); // down
        } else if (k == 1) {
            sequencer.updateRoundData(round + 1, 0, block.timestamp, block.timestamp - 10 minutes); // in grace
        } else if (k == 2) {
            sequencer.updateRoundData(round + 1, 0, block.timestamp, block.timestamp - 2 hours); // up
        } else {
            bool wasPaused = agg.paused();
            address owner = agg.owner();
            vm.prank(owner);
            if (wasPaused) agg.unpause();
            else agg.pause();
        }
    }

    function actorList() external view returns (address[3] memory) {
        return actors;
    }
}

/// @notice The four safety properties of issue 5 (docs/specs.md S7) under random handler sequences.
contract AggregatorInvariantTest is AggregatorBase, IBatchSigner {
    AggregatorHandler internal handler;

    function setUp() public override {
        super.setUp();
        handler = new AggregatorHandler(
            agg,
            IBatchSigner(address(this)),
            [usdc, weth, wbtc],
            aUsdc,
            aavePool,
            [usdcFeed, ethFeed, btcFeed],
            sequencer
        );
    }

    function signBatch(bytes calldata records, uint64 timestampSec, uint64 deadlineSec)
        external
        view
        returns (bytes memory)
    {
        return _signSorted(_digest(records, timestampSec, deadlineSec, block.chainid, address(agg)), _twoKeys());
    }

    /// @dev forge reads this to know which contract to call during invariant runs.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @dev All four properties in one campaign (forge runs one campaign per invariant function, and
    /// one campaign of 1,000 × 20 keeps the suite fast on a small machine).
    /// forge-config: default.invariant.runs = 1000
    /// forge-config: default.invariant.depth = 20
    /// forge-config: default.invariant.fail-on-revert = false
    function invariant_S7_aggregatorSafety() public view {
        _assertBacking(); // S7.1
        assertFalse(handler.brokeStayAboveIM(), string.concat("S7.2: ", handler.lastViolation()));
        assertFalse(
            handler.brokeHealthTransition(), string.concat("S7.3: turned unhealthy by ", handler.lastViolation())
        );
        assertFalse(handler.brokeLiquidationReduces(), "S7.4: a liquidation did not reduce the shortfall");
        assertFalse(handler.brokeDepositsAlwaysWork(), "S7.5 / S1.4: a deposit reverted");
    }

    /// S7.1 (S1.7): for every asset, tokens held ≥ Σ internal balances (+ insurance), and the total matches that sum.
    function _assertBacking() internal view {
        address[3] memory actors = handler.actorList();
        address[4] memory assetList = [address(usdc), address(weth), address(wbtc), address(aUsdc)];
        for (uint256 j = 0; j < 4; j++) {
            address asset = assetList[j];
            uint256 sum = asset == address(usdc) ? agg.insuranceFund() : 0;
            for (uint256 i = 0; i < 3; i++) {
                sum += agg.balanceOf(actors[i], asset);
            }
            assertEq(agg.totalBalance(asset), sum, "S7.1: total = sum of balances");
            uint256 held = asset == address(aUsdc)
                ? aUsdc.scaledBalanceOf(address(agg))
                : MockERC20(asset).balanceOf(address(agg));
            assertGe(held, sum, "S7.1: token balance >= sum of internal balances");
        }
    }
}
