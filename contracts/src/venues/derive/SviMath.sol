// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {VenueMath} from "../common/VenueMath.sol";

/// @title SviMath
/// @notice Implied vol from raw SVI parameters, following Derive's lyra-utils `SVI.getVol` so the
/// devnet vol feed returns what Derive's would for the same parameters (including its log-moneyness
/// clamp and total-variance cap). All numbers 18 decimals; tau in years.
library SviMath {
    using VenueMath for int256;
    using VenueMath for uint256;

    int256 internal constant MAX_TOTAL_VAR = 25e18;
    int256 internal constant SHORT_DATE_K = 0.3e18;
    int256 internal constant LONG_DATE_K = -0.3e18;
    int256 internal constant ABS_K_MAX = 2.5e18;
    int256 internal constant ABS_K_MIN = -2.5e18;
    int256 internal constant TAU_MULTIPLIER = 3e18;

    /// @notice Total variance came out negative for this strike.
    error SVI_InvalidParameters();
    /// @notice Forward price is zero.
    error SVI_NoForwardPrice();
    /// @notice Time to expiry is zero.
    error SVI_ZeroTau();

    /// @return vol Annualised implied vol, 18 decimals.
    function getVol(uint256 strike, int256 a, uint256 b, int256 rho, int256 m, uint256 sigma, uint256 forward, uint64 tau)
        internal
        pure
        returns (uint256 vol)
    {
        if (strike == 0) return 0;
        if (forward == 0) revert SVI_NoForwardPrice();
        if (tau == 0) revert SVI_ZeroTau();

        int256 k;
        uint256 moneyness = strike.divDecimal(forward);
        if (moneyness == 0) {
            k = ABS_K_MIN;
        } else {
            k = VenueMath.lnD18(int256(moneyness));
            int256 tauFactor = int256(VenueMath.sqrtD18(uint256(tau))).mulDecimal(TAU_MULTIPLIER);
            int256 kMax = VenueMath.min(ABS_K_MAX, VenueMath.max(SHORT_DATE_K, tauFactor));
            int256 kMin = VenueMath.max(ABS_K_MIN, VenueMath.min(LONG_DATE_K, -tauFactor));
            k = VenueMath.min(kMax, VenueMath.max(kMin, k));
        }

        int256 kSubM = k - m;
        uint256 root = VenueMath.sqrtD18(uint256(kSubM.mulDecimal(kSubM)) + sigma.mulDecimal(sigma));
        int256 w = a + int256(b).mulDecimal(int256(root) + rho.mulDecimal(kSubM));
        if (w < 0) revert SVI_InvalidParameters();
        if (w > MAX_TOTAL_VAR) w = MAX_TOTAL_VAR;
        vol = VenueMath.sqrtD18(uint256(w).divDecimal(uint256(tau)));
    }

    /// @notice Minimum of total variance over k: a + b·sigma·sqrt(1 − rho²) (the no-negative-variance
    /// condition the vol feed checks before storing parameters).
    function minTotalVariance(int256 a, uint256 b, int256 rho, uint256 sigma) internal pure returns (int256) {
        uint256 oneMinusRhoSq = 1e18 - uint256(rho.mulDecimal(rho));
        return a + int256(b.mulDecimal(sigma).mulDecimal(VenueMath.sqrtD18(oneMinusRhoSq)));
    }
}
