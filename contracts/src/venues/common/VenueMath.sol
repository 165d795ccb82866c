// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title VenueMath
/// @notice 18-decimal fixed-point helpers shared by the venue stand-ins: decimal multiply/divide
/// (truncating toward zero, as Synthetix's DecimalMath and Derive's DecimalMath do), an integer and a
/// fixed-point square root, and a natural logarithm for the SVI vol surface.
library VenueMath {
    uint256 internal constant UNIT = 1e18;
    int256 internal constant UNIT_INT = 1e18;
    /// @dev ln(2) in 18 decimals.
    int256 internal constant LN2 = 693147180559945309;

    /// @notice ln() was asked for a non-positive number.
    error LnOfNonPositive(int256 x);

    function mulDecimal(uint256 x, uint256 y) internal pure returns (uint256) {
        return (x * y) / UNIT;
    }

    function mulDecimal(int256 x, int256 y) internal pure returns (int256) {
        return (x * y) / UNIT_INT;
    }

    function divDecimal(uint256 x, uint256 y) internal pure returns (uint256) {
        return (x * UNIT) / y;
    }

    function divDecimal(int256 x, int256 y) internal pure returns (int256) {
        return (x * UNIT_INT) / y;
    }

    function abs(int256 x) internal pure returns (uint256) {
        return x >= 0 ? uint256(x) : uint256(-x);
    }

    function min(int256 a, int256 b) internal pure returns (int256) {
        return a < b ? a : b;
    }

    function max(int256 a, int256 b) internal pure returns (int256) {
        return a > b ? a : b;
    }

    /// @notice floor(sqrt(x)) for an integer x (Newton's method from a power-of-two start above the root).
    function sqrt(uint256 x) internal pure returns (uint256 r) {
        if (x == 0) return 0;
        uint256 bits;
        uint256 y = x;
        while (y > 1) {
            y >>= 1;
            bits++;
        }
        r = uint256(1) << ((bits >> 1) + 1); // >= sqrt(x)
        while (true) {
            uint256 next = (r + x / r) >> 1;
            if (next >= r) break;
            r = next;
        }
    }

    /// @notice sqrt of an 18-decimal number, in 18 decimals.
    function sqrtD18(uint256 x) internal pure returns (uint256) {
        return sqrt(x * UNIT);
    }

    /// @notice Natural logarithm of an 18-decimal number, in 18 decimals.
    /// @dev Writes x = 2^n · y with y in [1, 2), then ln(y) = 2·atanh(z), z = (y − 1)/(y + 1) ≤ 1/3,
    /// summing the odd powers of z until they vanish at 18 decimals. Error is a few wei.
    function lnD18(int256 x) internal pure returns (int256) {
        if (x <= 0) revert LnOfNonPositive(x);
        int256 n = 0;
        int256 y = x;
        while (y >= 2 * UNIT_INT) {
            y /= 2;
            n++;
        }
        while (y < UNIT_INT) {
            y *= 2;
            n--;
        }
        int256 z = ((y - UNIT_INT) * UNIT_INT) / (y + UNIT_INT);
        int256 z2 = (z * z) / UNIT_INT;
        int256 term = z;
        int256 sum = 0;
        for (int256 k = 1; term != 0; k += 2) {
            sum += term / k;
            term = (term * z2) / UNIT_INT;
        }
        return n * LN2 + 2 * sum;
    }
}
