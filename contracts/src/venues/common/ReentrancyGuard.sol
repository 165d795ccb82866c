// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ReentrancyGuard
/// @notice Minimal lock for the entry points that move tokens or call untrusted contracts.
abstract contract ReentrancyGuard {
    /// @notice A guarded function was entered again before it returned.
    error Reentrancy();

    uint256 private _locked = 1;

    modifier nonReentrant() {
        if (_locked != 1) revert Reentrancy();
        _locked = 2;
        _;
        _locked = 1;
    }
}
