// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAsset} from "./IAsset.sol";
import {IManager} from "./IManager.sol";

/// @title ISubAccounts (Derive v2), the part the stand-in implements
/// @notice Subaccounts are ERC-721 tokens; each holds signed balances of (asset, subId) pairs.
/// Structs, events, errors and read functions have Derive's shapes. Write-side differences: transfers
/// may be submitted by the owner/ERC-721-approved address of BOTH accounts or by an owner-set trusted
/// executor (Derive's Matching module role); per-asset allowances, permits and manager hooks are left out.
interface ISubAccounts {
    struct HeldAsset {
        IAsset asset;
        uint96 subId;
    }

    struct AssetDelta {
        IAsset asset;
        uint96 subId;
        int256 delta;
    }

    struct AssetBalance {
        IAsset asset;
        uint256 subId;
        int256 balance;
    }

    /// @notice fromAcc's balance moves by −amount, toAcc's by +amount.
    struct AssetTransfer {
        uint256 fromAcc;
        uint256 toAcc;
        IAsset asset;
        uint256 subId;
        int256 amount;
        bytes32 assetData;
    }

    struct AssetAdjustment {
        uint256 acc;
        IAsset asset;
        uint256 subId;
        int256 amount;
        bytes32 assetData;
    }

    /// @notice Emitted when an account is created.
    event AccountCreated(address indexed owner, uint256 indexed accountId, address indexed manager);

    /// @notice Emitted for every balance change (each side of a transfer, deposits, withdrawals).
    event BalanceAdjusted(
        uint256 indexed accountId,
        address indexed manager,
        HeldAsset indexed assetAndSubId,
        int256 amount,
        int256 preBalance,
        int256 postBalance
    );

    /// @notice Emitted when the admin adds or removes a trusted executor (stand-in only).
    event TrustedExecutorSet(address indexed executor, bool trusted);

    error AC_OnlyAsset();
    error AC_NotOwnerOrERC721Approved(
        address spender, uint256 accountId, address owner, IManager manager, address approved
    );
    error AC_CannotTransferAssetToOneself(address caller, uint256 accountId);
    /// @notice subId does not fit in 96 bits (stand-in error; Derive reverts in a safe cast).
    error AC_SubIdTooLarge(uint256 subId);
    /// @notice A balance would leave the int240 range (stand-in error; Derive reverts in a safe cast).
    error AC_BalanceOutOfRange(int256 balance);
    /// @notice The transfer batch is empty (stand-in error).
    error AC_EmptyTransfers();

    /// @notice Creates an account owned by `owner` with `_manager`; anyone may call.
    function createAccount(address owner, IManager _manager) external returns (uint256 newId);

    /// @notice Moves `amount` of (asset, subId) from fromAcc to toAcc.
    /// @param managerData Passed to managers in Derive; ignored by the stand-in.
    /// @return tradeId Id of this batch.
    function submitTransfer(AssetTransfer memory assetTransfer, bytes memory managerData)
        external
        returns (uint256 tradeId);

    /// @notice Several transfers sharing one tradeId (e.g. option leg + cash premium leg).
    function submitTransfers(AssetTransfer[] memory assetTransfers, bytes memory managerData)
        external
        returns (uint256 tradeId);

    /// @notice One-sided change by the asset itself (cash deposits and withdrawals); msg.sender must be
    /// `adjustment.asset`.
    function assetAdjustment(AssetAdjustment memory adjustment, bool triggerAssetHook, bytes memory managerData)
        external
        returns (int256 postBalance);

    /// @notice Manager of the account.
    function manager(uint256 accountId) external view returns (IManager);

    /// @notice Balance and its index in getAccountBalances().
    function balanceAndOrder(uint256 accountId, IAsset asset, uint256 subId)
        external
        view
        returns (int240 balance, uint16 order);

    /// @notice Balance of (asset, subId): 18 decimals for cash, option and perp units.
    function getBalance(uint256 accountId, IAsset asset, uint256 subId) external view returns (int256 balance);

    /// @notice Every non-zero balance of the account.
    function getAccountBalances(uint256 accountId) external view returns (AssetBalance[] memory assetBalances);

    /// @notice Adds or removes a trusted executor (admin only, stand-in).
    function setTrustedExecutor(address executor, bool trusted) external;

    /// @notice Whether `executor` may submit transfers between any accounts (stand-in).
    function isTrustedExecutor(address executor) external view returns (bool);

    /// @notice Id of the last created account (ids start at 1).
    function lastAccountId() external view returns (uint256);
}
