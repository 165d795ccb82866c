// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC721Lite} from "../common/ERC721Lite.sol";
import {Owned} from "../common/Owned.sol";
import {ReentrancyGuard} from "../common/ReentrancyGuard.sol";
import {IAsset} from "./interfaces/IAsset.sol";
import {IManager} from "./interfaces/IManager.sol";
import {ISubAccounts} from "./interfaces/ISubAccounts.sol";

/// @title DeriveSubAccounts
/// @notice Devnet stand-in for Derive v2's (v2-core, as deployed on Derive Chain) `SubAccounts`: ERC-721 subaccounts holding signed balances of
/// (asset, subId). Faithful: account creation and ids, the balance ledger with its held-asset order
/// (zero balances are removed), asset `handleAdjustment` hooks deciding the recorded balance, tradeIds,
/// `AccountCreated` / `BalanceAdjusted` events and every read function. Simplified: managers are recorded
/// but never called (no on-chain margin), transfers need the owner/ERC-721 approval of both accounts or
/// an owner-set trusted executor (Derive's Matching role) instead of per-asset allowances and permits.
contract DeriveSubAccounts is ERC721Lite, Owned, ReentrancyGuard, ISubAccounts {
    struct BalanceAndOrder {
        int240 balance;
        uint16 order;
    }

    /// @inheritdoc ISubAccounts
    uint256 public lastAccountId;
    /// @notice Id of the last transfer batch or asset adjustment.
    uint256 public lastTradeId;
    /// @inheritdoc ISubAccounts
    mapping(uint256 accountId => IManager) public manager;
    /// @inheritdoc ISubAccounts
    mapping(address executor => bool) public isTrustedExecutor;

    mapping(uint256 accountId => mapping(IAsset asset => mapping(uint96 subId => BalanceAndOrder))) internal _balances;
    mapping(uint256 accountId => HeldAsset[]) internal _heldAssets;

    constructor(address initialOwner) ERC721Lite("Derive Subaccounts", "DRV-SA") Owned(initialOwner) {}

    /// @inheritdoc ISubAccounts
    function createAccount(address owner_, IManager _manager) external returns (uint256 newId) {
        newId = ++lastAccountId;
        manager[newId] = _manager;
        _mint(owner_, newId);
        emit AccountCreated(owner_, newId, address(_manager));
    }

    /// @inheritdoc ISubAccounts
    function setTrustedExecutor(address executor, bool trusted) external onlyOwner {
        if (executor == address(0)) revert ZeroAddress();
        isTrustedExecutor[executor] = trusted;
        emit TrustedExecutorSet(executor, trusted);
    }

    /// @inheritdoc ISubAccounts
    function submitTransfer(AssetTransfer memory assetTransfer, bytes memory)
        external
        nonReentrant
        returns (uint256 tradeId)
    {
        tradeId = ++lastTradeId;
        _transfer(assetTransfer, tradeId);
    }

    /// @inheritdoc ISubAccounts
    function submitTransfers(AssetTransfer[] memory assetTransfers, bytes memory)
        external
        nonReentrant
        returns (uint256 tradeId)
    {
        if (assetTransfers.length == 0) revert AC_EmptyTransfers();
        tradeId = ++lastTradeId;
        for (uint256 i = 0; i < assetTransfers.length; i++) {
            _transfer(assetTransfers[i], tradeId);
        }
    }

    /// @inheritdoc ISubAccounts
    function assetAdjustment(AssetAdjustment memory adjustment, bool triggerAssetHook, bytes memory)
        external
        nonReentrant
        returns (int256 postBalance)
    {
        if (msg.sender != address(adjustment.asset)) revert AC_OnlyAsset();
        ownerOf(adjustment.acc); // reverts for an unknown account
        uint256 tradeId = ++lastTradeId;
        return _adjust(adjustment, tradeId, triggerAssetHook);
    }

    /// @inheritdoc ISubAccounts
    function balanceAndOrder(uint256 accountId, IAsset asset, uint256 subId)
        external
        view
        returns (int240 balance, uint16 order)
    {
        BalanceAndOrder storage slot = _balances[accountId][asset][_subId96(subId)];
        return (slot.balance, slot.order);
    }

    /// @inheritdoc ISubAccounts
    function getBalance(uint256 accountId, IAsset asset, uint256 subId) external view returns (int256 balance) {
        return _balances[accountId][asset][_subId96(subId)].balance;
    }

    /// @inheritdoc ISubAccounts
    function getAccountBalances(uint256 accountId) external view returns (AssetBalance[] memory assetBalances) {
        HeldAsset[] storage held = _heldAssets[accountId];
        assetBalances = new AssetBalance[](held.length);
        for (uint256 i = 0; i < held.length; i++) {
            HeldAsset memory h = held[i];
            assetBalances[i] = AssetBalance({
                asset: h.asset,
                subId: h.subId,
                balance: _balances[accountId][h.asset][h.subId].balance
            });
        }
    }

    function _transfer(AssetTransfer memory t, uint256 tradeId) internal {
        if (t.fromAcc == t.toAcc) revert AC_CannotTransferAssetToOneself(msg.sender, t.fromAcc);
        if (!isTrustedExecutor[msg.sender]) {
            _requireOwnerOrApproved(t.fromAcc);
            _requireOwnerOrApproved(t.toAcc);
        } else {
            ownerOf(t.fromAcc);
            ownerOf(t.toAcc);
        }
        _adjust(AssetAdjustment(t.fromAcc, t.asset, t.subId, -t.amount, t.assetData), tradeId, true);
        _adjust(AssetAdjustment(t.toAcc, t.asset, t.subId, t.amount, t.assetData), tradeId, true);
    }

    /// @dev Asks the asset for the balance to record (the asset's hook may reject the change), then
    /// records it, keeping the held-asset list in step: appended when a balance becomes non-zero,
    /// swapped out when it returns to zero.
    function _adjust(AssetAdjustment memory adj, uint256 tradeId, bool triggerAssetHook)
        internal
        returns (int256 postBalance)
    {
        uint96 subId = _subId96(adj.subId);
        BalanceAndOrder storage slot = _balances[adj.acc][adj.asset][subId];
        int256 preBalance = slot.balance;
        IManager accountManager = manager[adj.acc];
        if (triggerAssetHook) {
            (postBalance,) = adj.asset.handleAdjustment(adj, tradeId, preBalance, accountManager, msg.sender);
        } else {
            postBalance = preBalance + adj.amount;
        }
        if (postBalance > type(int240).max || postBalance < type(int240).min) revert AC_BalanceOutOfRange(postBalance);

        if (preBalance == 0 && postBalance != 0) {
            slot.order = uint16(_heldAssets[adj.acc].length);
            _heldAssets[adj.acc].push(HeldAsset({asset: adj.asset, subId: subId}));
        } else if (preBalance != 0 && postBalance == 0) {
            _removeHeld(adj.acc, slot.order);
        }
        slot.balance = int240(postBalance);
        emit BalanceAdjusted(
            adj.acc, address(accountManager), HeldAsset({asset: adj.asset, subId: subId}), adj.amount, preBalance, postBalance
        );
    }

    function _removeHeld(uint256 accountId, uint16 order) internal {
        HeldAsset[] storage held = _heldAssets[accountId];
        uint256 last = held.length - 1;
        if (order != last) {
            HeldAsset memory moved = held[last];
            held[order] = moved;
            _balances[accountId][moved.asset][moved.subId].order = order;
        }
        held.pop();
    }

    function _requireOwnerOrApproved(uint256 accountId) internal view {
        address accountOwner = ownerOf(accountId);
        if (!_isApprovedOrOwner(msg.sender, accountId)) {
            revert AC_NotOwnerOrERC721Approved(
                msg.sender, accountId, accountOwner, manager[accountId], getApproved[accountId]
            );
        }
    }

    function _subId96(uint256 subId) internal pure returns (uint96) {
        if (subId > type(uint96).max) revert AC_SubIdTooLarge(subId);
        return uint96(subId);
    }
}
