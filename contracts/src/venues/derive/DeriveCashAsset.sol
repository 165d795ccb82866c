// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ReentrancyGuard} from "../common/ReentrancyGuard.sol";
import {IERC20Minimal, SafeTransfer} from "../common/SafeTransfer.sol";
import {IManager} from "./interfaces/IManager.sol";
import {ICashAsset} from "./interfaces/ICashAsset.sol";
import {ISubAccounts} from "./interfaces/ISubAccounts.sol";

interface IAccountOwnerOf {
    function ownerOf(uint256 accountId) external view returns (address);
}

/// @title DeriveCashAsset
/// @notice Devnet stand-in for Derive v2's (v2-core, as deployed on Derive Chain) `CashAsset`: USDC in, an 18-decimal cash balance (subId 0)
/// in SubAccounts out. Faithful: deposit/withdraw signatures and events, 18-decimal cash, owner-only
/// withdrawals. Left out: the interest-rate model and accrual, borrowing through withdraw, the
/// insolvency withdraw fee and settled-cash tracking.
contract DeriveCashAsset is ReentrancyGuard, ICashAsset {
    using SafeTransfer for IERC20Minimal;

    ISubAccounts public immutable subAccounts;
    IERC20Minimal public immutable stableAsset;
    /// @notice 10^(18 − stable decimals): cash per stable token unit.
    uint256 public immutable stableUnitD18;

    /// @notice The stable token reports more than 18 decimals.
    error CA_UnsupportedDecimals(uint8 decimals);

    constructor(address subAccounts_, address stableAsset_) {
        subAccounts = ISubAccounts(subAccounts_);
        stableAsset = IERC20Minimal(stableAsset_);
        uint8 decimals = IERC20Minimal(stableAsset_).decimals();
        if (decimals > 18) revert CA_UnsupportedDecimals(decimals);
        stableUnitD18 = 10 ** (18 - decimals);
    }

    /// @inheritdoc ICashAsset
    /// @dev Tokens are pulled before the account is credited so cash never exists unbacked; the lock
    /// covers the token call and the SubAccounts round trip.
    function deposit(uint256 recipientAccount, uint256 amount) external nonReentrant {
        if (amount == 0) revert CA_ZeroAmount();
        uint256 cash = amount * stableUnitD18;
        stableAsset.safeTransferFrom(msg.sender, address(this), amount);
        subAccounts.assetAdjustment(
            ISubAccounts.AssetAdjustment(recipientAccount, this, 0, int256(cash), bytes32(0)), true, ""
        );
        emit Deposit(recipientAccount, msg.sender, cash, amount);
    }

    /// @inheritdoc ICashAsset
    function withdraw(uint256 accountId, uint256 amount, address recipient) external nonReentrant {
        if (IAccountOwnerOf(address(subAccounts)).ownerOf(accountId) != msg.sender) revert CA_OnlyAccountOwner();
        if (amount == 0) revert CA_ZeroAmount();
        uint256 cash = amount * stableUnitD18;
        int256 balance = subAccounts.getBalance(accountId, this, 0);
        if (balance < int256(cash)) revert CA_InsufficientCash(accountId, balance, cash);
        subAccounts.assetAdjustment(
            ISubAccounts.AssetAdjustment(accountId, this, 0, -int256(cash), bytes32(0)), true, ""
        );
        emit Withdraw(accountId, recipient, cash, amount);
        stableAsset.safeTransfer(recipient, amount);
    }

    /// @inheritdoc ICashAsset
    function getCashToStableExchangeRate() external pure returns (uint256) {
        return 1e18;
    }

    /// @notice SubAccounts hook: cash has one subId (0) and no interest, so the balance moves by `amount`.
    function handleAdjustment(
        ISubAccounts.AssetAdjustment memory adjustment,
        uint256,
        int256 preBalance,
        IManager,
        address
    ) external view returns (int256 finalBalance, bool needAllowance) {
        if (msg.sender != address(subAccounts)) revert CA_NotAccount();
        if (adjustment.subId != 0) revert CA_InvalidSubId(adjustment.subId);
        return (preBalance + adjustment.amount, adjustment.amount < 0);
    }
}
