// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAsset} from "./IAsset.sol";

/// @title ICashAsset (Derive v2), the part the stand-in implements
/// @notice USDC wrapped into an 18-decimal cash balance (subId 0). No interest accrual, no borrowing
/// through withdraw, no insolvency withdraw fee.
interface ICashAsset is IAsset {
    /// @notice Emitted on deposit: cash minted (18 dec) for stable deposited (token units).
    event Deposit(uint256 accountId, address from, uint256 amountCashMinted, uint256 stableAssetDeposited);
    /// @notice Emitted on withdrawal: cash burned (18 dec) for stable sent (token units).
    event Withdraw(uint256 accountId, address recipient, uint256 amountCashBurn, uint256 stableAssetWidrawn);

    error CA_NotAccount();
    error CA_OnlyAccountOwner();
    /// @notice Cash has a single subId, 0 (stand-in error).
    error CA_InvalidSubId(uint256 subId);
    /// @notice The account holds less cash than the withdrawal (stand-in: withdrawals cannot borrow).
    error CA_InsufficientCash(uint256 accountId, int256 cashBalance, uint256 cashRequested);
    /// @notice Zero amount (stand-in error).
    error CA_ZeroAmount();

    /// @notice Pulls `amount` stable token units from msg.sender and credits the account's cash.
    function deposit(uint256 recipientAccount, uint256 amount) external;

    /// @notice Debits cash and sends `amount` stable token units to `recipient`; account owner only.
    function withdraw(uint256 accountId, uint256 amount, address recipient) external;

    /// @notice Always 1e18 in the stand-in.
    function getCashToStableExchangeRate() external view returns (uint256);
}
