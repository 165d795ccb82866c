// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The forge cheatcodes these tests use (forge-std is not installable offline here).
interface Vm {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory logs);
    function warp(uint256 newTimestamp) external;
    function roll(uint256 newHeight) external;
    function prank(address sender) external;
    function startPrank(address sender) external;
    function stopPrank() external;
    function expectRevert() external;
    function expectRevert(bytes4 revertData) external;
    function expectRevert(bytes calldata revertData) external;
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData) external;
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData, address emitter)
        external;
    function assume(bool condition) external pure;
    function label(address account, string calldata newLabel) external;
    function addr(uint256 privateKey) external pure returns (address);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function chainId(uint256 newChainId) external;
}

/// @title Test
/// @notice Minimal test base: the cheatcode handle, assertions that revert with a readable message
/// (a revert fails the test or fuzz run), and forge-std's `bound` for fuzz inputs.
abstract contract Test {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    bool public IS_TEST = true;

    error AssertionFailed(string message);

    function fail(string memory message) internal pure {
        revert AssertionFailed(message);
    }

    function assertTrue(bool condition, string memory message) internal pure {
        if (!condition) fail(message);
    }

    function assertFalse(bool condition, string memory message) internal pure {
        if (condition) fail(message);
    }

    function assertEq(uint256 a, uint256 b, string memory message) internal pure {
        if (a != b) fail(string.concat(message, ": ", _u(a), " != ", _u(b)));
    }

    function assertEq(int256 a, int256 b, string memory message) internal pure {
        if (a != b) fail(string.concat(message, ": ", _i(a), " != ", _i(b)));
    }

    function assertEq(address a, address b, string memory message) internal pure {
        if (a != b) fail(message);
    }

    function assertEq(bool a, bool b, string memory message) internal pure {
        if (a != b) fail(message);
    }

    function assertEq(bytes32 a, bytes32 b, string memory message) internal pure {
        if (a != b) fail(message);
    }

    function assertEq(string memory a, string memory b, string memory message) internal pure {
        if (keccak256(bytes(a)) != keccak256(bytes(b))) fail(string.concat(message, ": ", a, " != ", b));
    }

    function assertApproxEqAbs(uint256 a, uint256 b, uint256 maxDelta, string memory message) internal pure {
        uint256 d = a > b ? a - b : b - a;
        if (d > maxDelta) fail(string.concat(message, ": ", _u(a), " !~ ", _u(b)));
    }

    function assertApproxEqAbs(int256 a, int256 b, uint256 maxDelta, string memory message) internal pure {
        uint256 d = a > b ? uint256(a - b) : uint256(b - a);
        if (d > maxDelta) fail(string.concat(message, ": ", _i(a), " !~ ", _i(b)));
    }

    function assertGt(uint256 a, uint256 b, string memory message) internal pure {
        if (a <= b) fail(string.concat(message, ": ", _u(a), " <= ", _u(b)));
    }

    function assertGe(uint256 a, uint256 b, string memory message) internal pure {
        if (a < b) fail(string.concat(message, ": ", _u(a), " < ", _u(b)));
    }

    function assertLt(int256 a, int256 b, string memory message) internal pure {
        if (a >= b) fail(string.concat(message, ": ", _i(a), " >= ", _i(b)));
    }

    function assertGt(int256 a, int256 b, string memory message) internal pure {
        if (a <= b) fail(string.concat(message, ": ", _i(a), " <= ", _i(b)));
    }

    /// @notice Maps x into [min, max] without discarding runs (forge-std's bound, reimplemented).
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min > max");
        if (x >= min && x <= max) return x;
        uint256 size = max - min + 1;
        if (size == 0) return x; // full range
        return min + (x % size);
    }

    function bound(int256 x, int256 min, int256 max) internal pure returns (int256) {
        require(min <= max, "bound: min > max");
        if (x >= min && x <= max) return x;
        uint256 size = uint256(max - min) + 1;
        uint256 offset = uint256(x) % size; // two's-complement bits, uniform enough for fuzzing
        return min + int256(offset);
    }

    function _u(uint256 v) private pure returns (string memory) {
        if (v == 0) return "0";
        bytes memory b;
        while (v != 0) {
            b = abi.encodePacked(bytes1(uint8(48 + (v % 10))), b);
            v /= 10;
        }
        return string(b);
    }

    function _i(int256 v) private pure returns (string memory) {
        if (v >= 0) return _u(uint256(v));
        return string.concat("-", _u(v == type(int256).min ? uint256(type(int256).max) + 1 : uint256(-v)));
    }
}
