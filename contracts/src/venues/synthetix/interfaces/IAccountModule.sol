// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IAccountModule (Synthetix v3 core, as mounted on the Perps market proxy)
/// @notice Account creation and ownership. Accounts are ERC-721 tokens minted by a separate account
/// token contract (Synthetix's AccountProxy); the token's owner is the account's owner.
interface IAccountModule {
    /// @notice Emitted when an account is created.
    /// @param accountId The new account id.
    /// @param owner Its owner (the account token's holder).
    event AccountCreated(uint128 indexed accountId, address indexed owner);

    /// @notice A requested account id is zero or in the range reserved for generated ids.
    error InvalidAccountId(uint128 accountId);
    /// @notice The account does not exist.
    error AccountNotFound(uint128 accountId);
    /// @notice `target` may not perform `permission` on the account (only the owner may, in the stand-in).
    error PermissionDenied(uint128 accountId, bytes32 permission, address target);

    /// @notice Creates an account with a generated id (type(uint128).max / 2 + n, as Synthetix does).
    /// @return accountId The new account id.
    function createAccount() external returns (uint128 accountId);

    /// @notice Creates an account with a chosen id, which must be in (0, type(uint128).max / 2).
    function createAccount(uint128 requestedAccountId) external;

    /// @notice Owner of the account (reads the account token).
    function getAccountOwner(uint128 accountId) external view returns (address);

    /// @notice Address of the ERC-721 account token contract.
    function getAccountTokenAddress() external view returns (address);
}
