// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IVolFeed, ILyraVolFeed} from "./interfaces/IFeeds.sol";
import {LyraFeedBase} from "./LyraFeedBase.sol";
import {SviMath} from "./SviMath.sol";

/// @title DeriveVolFeed
/// @notice Stand-in for Derive's `LyraVolFeed`: per-expiry raw SVI parameters posted by a whitelisted
/// signer; `getVol` computes the SVI implied vol on-chain exactly as Derive's feed does, and
/// `getVolDetails` returns the raw parameters for off-chain pricing. Posts are validated for the basic
/// no-arbitrage conditions (b ≥ 0 by type, |rho| < 1, sigma > 0, non-negative minimum total variance).
contract DeriveVolFeed is LyraFeedBase, ILyraVolFeed {
    mapping(uint64 expiry => VolDetails) internal _vols;

    constructor(address initialOwner, uint64 heartbeatSec) LyraFeedBase(initialOwner, heartbeatSec) {}

    /// @inheritdoc ILyraVolFeed
    function setVolDetails(uint64 expiry, VolDetails memory details) external onlySigner {
        if (!_checkPost(expiry, details.timestamp, _vols[expiry].timestamp, details.confidence)) return;
        if (details.SVI_rho <= -1e18 || details.SVI_rho >= 1e18) revert LVF_InvalidSviParams("|rho| must be < 1");
        if (details.SVI_sigma == 0) revert LVF_InvalidSviParams("sigma must be > 0");
        if (details.SVI_fwd == 0) revert LVF_InvalidSviParams("fwd must be > 0");
        if (details.SVI_refTao == 0) revert LVF_InvalidSviParams("refTao must be > 0");
        if (SviMath.minTotalVariance(details.SVI_a, details.SVI_b, details.SVI_rho, details.SVI_sigma) < 0) {
            revert LVF_InvalidSviParams("a + b*sigma*sqrt(1-rho^2) must be >= 0");
        }
        _vols[expiry] = details;
        emit VolDataUpdated(msg.sender, expiry, details);
    }

    /// @inheritdoc IVolFeed
    function getVol(uint128 strike, uint64 expiry) external view returns (uint256 vol, uint256 confidence) {
        VolDetails memory d = _load(expiry);
        vol = SviMath.getVol(strike, d.SVI_a, d.SVI_b, d.SVI_rho, d.SVI_m, d.SVI_sigma, d.SVI_fwd, d.SVI_refTao);
        confidence = d.confidence;
    }

    /// @inheritdoc IVolFeed
    function getExpiryMinConfidence(uint64 expiry) external view returns (uint256 confidence) {
        return _load(expiry).confidence;
    }

    /// @inheritdoc ILyraVolFeed
    function getVolDetails(uint64 expiry) external view returns (VolDetails memory) {
        return _vols[expiry];
    }

    function _load(uint64 expiry) internal view returns (VolDetails memory details) {
        details = _vols[expiry];
        if (details.timestamp == 0) revert LVF_MissingExpiryData(expiry);
        _checkNotStale(details.timestamp);
    }
}
