// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/tests/MockV3Aggregator.sol";

import {Owned} from "../../src/venues/common/Owned.sol";
import {DeriveCashAsset} from "../../src/venues/derive/DeriveCashAsset.sol";
import {DeriveOptionAsset} from "../../src/venues/derive/DeriveOptionAsset.sol";
import {DerivePerpAsset} from "../../src/venues/derive/DerivePerpAsset.sol";
import {DeriveSpotFeed} from "../../src/venues/derive/DeriveSpotFeed.sol";
import {DeriveSubAccounts} from "../../src/venues/derive/DeriveSubAccounts.sol";
import {OptionEncoding} from "../../src/venues/derive/OptionEncoding.sol";
import {IAsset} from "../../src/venues/derive/interfaces/IAsset.sol";
import {ICashAsset} from "../../src/venues/derive/interfaces/ICashAsset.sol";
import {IManager} from "../../src/venues/derive/interfaces/IManager.sol";
import {IOptionAsset} from "../../src/venues/derive/interfaces/IOptionAsset.sol";
import {IPerpAsset} from "../../src/venues/derive/interfaces/IPerpAsset.sol";
import {ISubAccounts} from "../../src/venues/derive/interfaces/ISubAccounts.sol";
import {MockERC20} from "../utils/MockERC20.sol";
import {Test, Vm} from "../utils/Test.sol";

/// @notice Subaccounts, cash deposits/withdrawals, executor-submitted option trades with cash premium,
/// authorisation, and zero-sum transfers of the Derive v2 stand-in.
contract DeriveSubAccountsTest is Test {
    address internal admin = address(0xAD);
    address internal alice = address(0xA1);
    address internal bob = address(0xB0B);
    address internal carol = address(0xCA);
    address internal executor = address(0xE7);
    IManager internal pmrm = IManager(address(0x9A9A));

    MockERC20 internal usdc;
    MockV3Aggregator internal ethFeed;
    DeriveSubAccounts internal subAccounts;
    DeriveCashAsset internal cash;
    DeriveOptionAsset internal option;
    DerivePerpAsset internal perp;

    uint256 internal aliceAcc;
    uint256 internal bobAcc;
    uint64 internal expiry;
    uint96 internal call2000;

    function setUp() public {
        vm.warp(1_700_000_000);
        usdc = new MockERC20("USD Coin", "USDC", 6);
        ethFeed = new MockV3Aggregator(8, 2000e8);
        subAccounts = new DeriveSubAccounts(admin);
        cash = new DeriveCashAsset(address(subAccounts), address(usdc));
        option = new DeriveOptionAsset(address(subAccounts), "ETH");
        DeriveSpotFeed spot = new DeriveSpotFeed(address(ethFeed), 3600);
        perp = new DerivePerpAsset(address(subAccounts), "ETH", address(spot));
        vm.prank(admin);
        subAccounts.setTrustedExecutor(executor, true);

        aliceAcc = _accountWithCash(alice, 1000);
        bobAcc = _accountWithCash(bob, 1000);
        expiry = uint64(block.timestamp + 7 days);
        call2000 = OptionEncoding.toSubId(expiry, 2000e18, true);
    }

    function _accountWithCash(address who, uint256 usd) internal returns (uint256 id) {
        id = subAccounts.createAccount(who, pmrm);
        usdc.mint(who, usd * 1e6);
        vm.startPrank(who);
        usdc.approve(address(cash), type(uint256).max);
        if (usd != 0) cash.deposit(id, usd * 1e6);
        vm.stopPrank();
    }

    function _xfer(uint256 fromAcc, uint256 toAcc, IAsset asset, uint256 subId, int256 amount)
        internal
        pure
        returns (ISubAccounts.AssetTransfer memory)
    {
        return ISubAccounts.AssetTransfer(fromAcc, toAcc, asset, subId, amount, bytes32(0));
    }

    /// @dev Alice sells `contracts` calls to Bob for `premiumUsd` each, through the executor.
    function _sellCall(int256 contracts, int256 premiumUsd) internal returns (uint256 tradeId) {
        ISubAccounts.AssetTransfer[] memory legs = new ISubAccounts.AssetTransfer[](2);
        legs[0] = _xfer(aliceAcc, bobAcc, option, call2000, contracts);
        legs[1] = _xfer(bobAcc, aliceAcc, cash, 0, (contracts * premiumUsd));
        vm.prank(executor);
        tradeId = subAccounts.submitTransfers(legs, "");
    }

    // ----- accounts -----

    function test_CreateAccount_MintsTokenAndRecordsManager() public {
        vm.expectEmit(true, true, true, true, address(subAccounts));
        emit ISubAccounts.AccountCreated(carol, 3, address(pmrm));
        uint256 id = subAccounts.createAccount(carol, pmrm);
        assertEq(id, 3, "ids count from 1");
        assertEq(subAccounts.ownerOf(id), carol, "token owner");
        assertEq(address(subAccounts.manager(id)), address(pmrm), "manager");
        assertEq(subAccounts.lastAccountId(), 3, "last id");
    }

    // ----- cash -----

    function test_Deposit_CreditsEighteenDecimalCash() public {
        uint256 id = subAccounts.createAccount(carol, pmrm);
        usdc.mint(carol, 250e6);
        vm.startPrank(carol);
        usdc.approve(address(cash), 250e6);
        vm.expectEmit(true, true, true, true, address(subAccounts));
        emit ISubAccounts.BalanceAdjusted(id, address(pmrm), ISubAccounts.HeldAsset(cash, 0), 250e18, 0, 250e18);
        vm.expectEmit(false, false, false, true, address(cash));
        emit ICashAsset.Deposit(id, carol, 250e18, 250e6);
        cash.deposit(id, 250e6);
        vm.stopPrank();
        assertEq(subAccounts.getBalance(id, cash, 0), 250e18, "cash balance");
        ISubAccounts.AssetBalance[] memory all = subAccounts.getAccountBalances(id);
        assertEq(all.length, 1, "one balance");
        assertEq(address(all[0].asset), address(cash), "asset");
        assertEq(all[0].subId, 0, "subId");
        assertEq(all[0].balance, 250e18, "balance");
        assertEq(usdc.balanceOf(address(cash)), 2250e6, "tokens held by cash asset");
    }

    function test_Withdraw_SendsStableToRecipient() public {
        vm.expectEmit(false, false, false, true, address(cash));
        emit ICashAsset.Withdraw(aliceAcc, carol, 400e18, 400e6);
        vm.prank(alice);
        cash.withdraw(aliceAcc, 400e6, carol);
        assertEq(usdc.balanceOf(carol), 400e6, "recipient paid");
        assertEq(subAccounts.getBalance(aliceAcc, cash, 0), 600e18, "cash left");
    }

    function test_RevertWhen_NonOwnerWithdraws() public {
        vm.expectRevert(ICashAsset.CA_OnlyAccountOwner.selector);
        vm.prank(bob);
        cash.withdraw(aliceAcc, 1e6, bob);
    }

    function test_RevertWhen_WithdrawExceedsCash() public {
        vm.expectRevert(
            abi.encodeWithSelector(ICashAsset.CA_InsufficientCash.selector, aliceAcc, int256(1000e18), 1001e18)
        );
        vm.prank(alice);
        cash.withdraw(aliceAcc, 1001e6, alice);
    }

    function test_BalancesFollowAccountTokenTransfer() public {
        vm.prank(alice);
        subAccounts.transferFrom(alice, carol, aliceAcc);
        vm.expectRevert(ICashAsset.CA_OnlyAccountOwner.selector);
        vm.prank(alice);
        cash.withdraw(aliceAcc, 1e6, alice);
        vm.prank(carol);
        cash.withdraw(aliceAcc, 1000e6, carol);
        assertEq(usdc.balanceOf(carol), 1000e6, "new owner withdrew");
    }

    // ----- trades -----

    function test_Trade_ExecutorMovesOptionAndPremiumZeroSum() public {
        vm.expectEmit(true, true, true, true, address(subAccounts));
        emit ISubAccounts.BalanceAdjusted(aliceAcc, address(pmrm), ISubAccounts.HeldAsset(option, call2000), -2e18, 0, -2e18);
        uint256 tradeId = _sellCall(2e18, 150);
        assertTrue(tradeId > 0, "trade id");
        assertEq(subAccounts.getBalance(aliceAcc, option, call2000), -2e18, "alice short 2 calls");
        assertEq(subAccounts.getBalance(bobAcc, option, call2000), 2e18, "bob long 2 calls");
        assertEq(subAccounts.getBalance(aliceAcc, cash, 0), 1300e18, "alice received premium");
        assertEq(subAccounts.getBalance(bobAcc, cash, 0), 700e18, "bob paid premium");

        ISubAccounts.AssetBalance[] memory bobs = subAccounts.getAccountBalances(bobAcc);
        assertEq(bobs.length, 2, "cash and option");
        assertEq(bobs[1].subId, uint256(call2000), "option subId listed");
        (uint256 e, uint256 k, bool isCall) = option.getOptionDetails(uint96(bobs[1].subId));
        assertEq(e, expiry, "decoded expiry");
        assertEq(k, 2000e18, "decoded strike");
        assertTrue(isCall, "decoded call");
    }

    /// @dev Indexers filter BalanceAdjusted by its indexed struct: the topic is keccak256(abi.encode(asset, subId)).
    function test_BalanceAdjustedTopicIsHashOfAssetAndSubId() public {
        vm.recordLogs();
        _sellCall(1e18, 100);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        bytes32 sig = keccak256("BalanceAdjusted(uint256,address,(address,uint96),int256,int256,int256)");
        uint256 seen = 0;
        for (uint256 i = 0; i < logs.length; i++) {
            if (logs[i].topics[0] != sig) continue;
            seen++;
            if (seen == 1) {
                assertEq(logs[i].topics[1], bytes32(aliceAcc), "account topic");
                assertEq(logs[i].topics[2], bytes32(uint256(uint160(address(pmrm)))), "manager topic");
                assertEq(logs[i].topics[3], keccak256(abi.encode(address(option), call2000)), "asset+subId topic");
                (int256 amount, int256 pre, int256 post) = abi.decode(logs[i].data, (int256, int256, int256));
                assertEq(amount, -1e18, "amount");
                assertEq(pre, 0, "pre");
                assertEq(post, -1e18, "post");
            }
        }
        assertEq(seen, 4, "two legs, two sides each");
    }

    function test_ZeroBalanceIsRemovedAndOrderKept() public {
        uint96 put1800 = OptionEncoding.toSubId(expiry, 1800e18, false);
        _sellCall(1e18, 100);
        vm.prank(executor);
        subAccounts.submitTransfer(_xfer(aliceAcc, bobAcc, option, put1800, 3e18), "");
        // bob holds [cash, call, put]; closing the call swaps the put into its slot
        vm.prank(executor);
        subAccounts.submitTransfer(_xfer(bobAcc, aliceAcc, option, call2000, 1e18), "");
        ISubAccounts.AssetBalance[] memory bobs = subAccounts.getAccountBalances(bobAcc);
        assertEq(bobs.length, 2, "call removed");
        assertEq(bobs[1].subId, uint256(put1800), "put moved into the freed slot");
        (int240 bal, uint16 order) = subAccounts.balanceAndOrder(bobAcc, option, put1800);
        assertEq(int256(bal), 3e18, "put balance");
        assertEq(uint256(order), 1, "put order updated");
    }

    function test_OwnerApprovedForBothAccountsCanTransfer() public {
        vm.prank(bob);
        subAccounts.setApprovalForAll(alice, true);
        vm.prank(alice);
        subAccounts.submitTransfer(_xfer(aliceAcc, bobAcc, cash, 0, 10e18), "");
        assertEq(subAccounts.getBalance(bobAcc, cash, 0), 1010e18, "bob credited");
    }

    function test_RevertWhen_CallerIsNotApprovedForBothAccounts() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                ISubAccounts.AC_NotOwnerOrERC721Approved.selector, alice, bobAcc, bob, pmrm, address(0)
            )
        );
        vm.prank(alice);
        subAccounts.submitTransfer(_xfer(aliceAcc, bobAcc, option, call2000, 1e18), "");
    }

    function test_RevertWhen_ExecutorIsRemoved() public {
        vm.prank(admin);
        subAccounts.setTrustedExecutor(executor, false);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISubAccounts.AC_NotOwnerOrERC721Approved.selector, executor, aliceAcc, alice, pmrm, address(0)
            )
        );
        _sellCall(1e18, 100);
    }

    function test_RevertWhen_NonAdminSetsExecutor() public {
        vm.expectRevert(abi.encodeWithSelector(Owned.Unauthorized.selector, alice));
        vm.prank(alice);
        subAccounts.setTrustedExecutor(alice, true);
    }

    function test_RevertWhen_OptionIsExpired() public {
        vm.warp(expiry);
        vm.expectRevert(abi.encodeWithSelector(IOptionAsset.OA_AssetExpired.selector, uint256(call2000), uint256(expiry), uint256(expiry)));
        _sellCall(1e18, 100);
    }

    function test_RevertWhen_TransferToSameAccount() public {
        vm.expectRevert(abi.encodeWithSelector(ISubAccounts.AC_CannotTransferAssetToOneself.selector, executor, aliceAcc));
        vm.prank(executor);
        subAccounts.submitTransfer(_xfer(aliceAcc, aliceAcc, cash, 0, 1e18), "");
    }

    function test_RevertWhen_CashSubIdIsNotZero() public {
        vm.expectRevert(abi.encodeWithSelector(ICashAsset.CA_InvalidSubId.selector, uint256(1)));
        vm.prank(executor);
        subAccounts.submitTransfer(_xfer(aliceAcc, bobAcc, cash, 1, 1e18), "");
    }

    function test_RevertWhen_SubIdExceeds96Bits() public {
        vm.expectRevert(abi.encodeWithSelector(ISubAccounts.AC_SubIdTooLarge.selector, uint256(1) << 96));
        vm.prank(executor);
        subAccounts.submitTransfer(_xfer(aliceAcc, bobAcc, option, uint256(1) << 96, 1e18), "");
    }

    function test_RevertWhen_AssetAdjustmentIsNotFromTheAsset() public {
        vm.expectRevert(ISubAccounts.AC_OnlyAsset.selector);
        vm.prank(bob);
        subAccounts.assetAdjustment(ISubAccounts.AssetAdjustment(bobAcc, cash, 0, 1e24, bytes32(0)), true, "");
    }

    function test_RevertWhen_HookIsCalledDirectly() public {
        vm.expectRevert(ICashAsset.CA_NotAccount.selector);
        cash.handleAdjustment(ISubAccounts.AssetAdjustment(bobAcc, cash, 0, 1e24, bytes32(0)), 1, 0, pmrm, bob);
    }

    function test_PerpAsset_TradesSubIdZeroAndReadsIndex() public {
        vm.prank(executor);
        subAccounts.submitTransfer(_xfer(aliceAcc, bobAcc, perp, 0, 5e18), "");
        assertEq(subAccounts.getBalance(bobAcc, perp, 0), 5e18, "bob long perp");
        (uint256 price, uint256 confidence) = perp.getIndexPrice();
        assertEq(price, 2000e18, "index 18 dec");
        assertEq(confidence, 1e18, "confidence");
        vm.expectRevert(abi.encodeWithSelector(IPerpAsset.PA_InvalidSubId.selector, uint256(7)));
        vm.prank(executor);
        subAccounts.submitTransfer(_xfer(aliceAcc, bobAcc, perp, 7, 5e18), "");
    }

    // ----- fuzz -----

    /// @dev Any sequence of executor transfers among three accounts keeps every (asset, subId) zero-sum
    /// (cash sums to the deposits) and getAccountBalances agrees with getBalance.
    function testFuzz_TransfersAreZeroSum(uint256[8] memory seeds) public {
        uint256 carolAcc = _accountWithCash(carol, 0);
        uint256[3] memory accs = [aliceAcc, bobAcc, carolAcc];
        uint96 put1800 = OptionEncoding.toSubId(expiry, 1800e18, false);
        for (uint256 i = 0; i < seeds.length; i++) {
            uint256 s = seeds[i];
            uint256 from = s % 3;
            uint256 to = (from + 1 + (s >> 8) % 2) % 3;
            uint256 kind = (s >> 16) % 3;
            int256 amount = bound(int256(uint256(uint128(s >> 32))), -1e24, 1e24);
            vm.assume(amount != 0);
            IAsset asset = kind == 0 ? IAsset(address(cash)) : IAsset(address(option));
            uint256 subId = kind == 0 ? 0 : (kind == 1 ? call2000 : put1800);
            vm.prank(executor);
            subAccounts.submitTransfer(_xfer(accs[from], accs[to], asset, subId, amount), "");
        }
        int256 cashSum;
        int256 callSum;
        int256 putSum;
        for (uint256 a = 0; a < 3; a++) {
            cashSum += subAccounts.getBalance(accs[a], cash, 0);
            callSum += subAccounts.getBalance(accs[a], option, call2000);
            putSum += subAccounts.getBalance(accs[a], option, put1800);
            ISubAccounts.AssetBalance[] memory all = subAccounts.getAccountBalances(accs[a]);
            for (uint256 j = 0; j < all.length; j++) {
                assertTrue(all[j].balance != 0, "only non-zero balances listed");
                assertEq(all[j].balance, subAccounts.getBalance(accs[a], all[j].asset, all[j].subId), "listing agrees");
            }
        }
        assertEq(cashSum, 2000e18, "cash sums to deposits");
        assertEq(callSum, 0, "calls zero-sum");
        assertEq(putSum, 0, "puts zero-sum");
    }
}
