// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The ERC-20 surface the venues use (the devnet's USDC).
interface IERC20Minimal {
    function decimals() external view returns (uint8);
    function balanceOf(address account) external view returns (uint256);
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
}

/// @title SafeTransfer
/// @notice SafeERC20-style transfers: accept tokens that return nothing or `true`, revert on a
/// revert, on `false`, or on a call to an address without code.
library SafeTransfer {
    /// @notice The token call failed, returned false, or the token has no code.
    error TokenTransferFailed(address token, address from, address to, uint256 amount);

    function safeTransfer(IERC20Minimal token, address to, uint256 amount) internal {
        _call(token, abi.encodeCall(IERC20Minimal.transfer, (to, amount)), address(this), to, amount);
    }

    function safeTransferFrom(IERC20Minimal token, address from, address to, uint256 amount) internal {
        _call(token, abi.encodeCall(IERC20Minimal.transferFrom, (from, to, amount)), from, to, amount);
    }

    function _call(IERC20Minimal token, bytes memory data, address from, address to, uint256 amount) private {
        if (address(token).code.length == 0) revert TokenTransferFailed(address(token), from, to, amount);
        (bool ok, bytes memory ret) = address(token).call(data);
        if (!ok || (ret.length != 0 && (ret.length != 32 || !abi.decode(ret, (bool))))) {
            revert TokenTransferFailed(address(token), from, to, amount);
        }
    }
}
