// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Owned
/// @notice Single-owner admin for the venue stand-ins. The real venues are governed by their own
/// owner/council roles; the stand-ins only need one address that configures markets and feeds.
abstract contract Owned {
    /// @notice Emitted when the admin changes (also at construction, from address(0)).
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    /// @notice The caller is not the admin.
    error Unauthorized(address caller);
    /// @notice A zero address was passed where an account is required.
    error ZeroAddress();

    /// @notice Current admin.
    address public owner;

    constructor(address initialOwner) {
        if (initialOwner == address(0)) revert ZeroAddress();
        owner = initialOwner;
        emit OwnershipTransferred(address(0), initialOwner);
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert Unauthorized(msg.sender);
        _;
    }

    /// @notice Hands the admin role to `newOwner`.
    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }
}
