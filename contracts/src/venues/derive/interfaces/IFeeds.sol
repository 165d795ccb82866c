// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Derive v2 feed read interfaces (ISpotFeed, IForwardFeed, IInterestRateFeed, IVolFeed)
/// @notice Read shapes exactly as Derive's risk managers call them. Prices 18 decimals, confidence
/// 18 decimals (1e18 = full confidence), rates and vols annualised with 18 decimals.

interface ISpotFeed {
    /// @return spotPrice USD 18 decimals.
    /// @return confidence 1e18.
    function getSpot() external view returns (uint256 spotPrice, uint256 confidence);
}

interface IForwardFeed {
    /// @return forwardPrice USD 18 decimals for the expiry (spot + published forward-spot difference).
    /// @return confidence 18 decimals.
    function getForwardPrice(uint64 expiry) external view returns (uint256 forwardPrice, uint256 confidence);

    /// @return forwardFixedPortion Always 0 (no settlement averaging in the stand-in).
    /// @return forwardVariablePortion Equal to the forward price.
    /// @return confidence 18 decimals.
    function getForwardPricePortions(uint64 expiry)
        external
        view
        returns (uint256 forwardFixedPortion, uint256 forwardVariablePortion, uint256 confidence);
}

interface IInterestRateFeed {
    /// @return interestRate Annualised, 18 decimals (0.05e18 = 5%).
    /// @return confidence 18 decimals.
    function getInterestRate(uint64 expiry) external view returns (int256 interestRate, uint256 confidence);
}

interface IVolFeed {
    /// @notice SVI implied vol at `strike` for `expiry`, computed on-chain from the published params.
    /// @param strike USD 18 decimals.
    /// @return vol Annualised, 18 decimals (0.6e18 = 60%).
    /// @return confidence 18 decimals.
    function getVol(uint128 strike, uint64 expiry) external view returns (uint256 vol, uint256 confidence);

    /// @return confidence Confidence of the expiry's vol data, 18 decimals.
    function getExpiryMinConfidence(uint64 expiry) external view returns (uint256 confidence);
}

/// @title IBaseLyraFeed (stand-in subset)
/// @notice Derive's feeds accept data signed by whitelisted signers (EIP-712). The stand-in keeps the
/// signer whitelist but lets a whitelisted signer post directly with a transaction; no signatures.
/// As in Derive, reads revert with `BLF_DataTooOld()` once stored data is older than the heartbeat, and a
/// post whose timestamp is not newer than the stored one is ignored (no revert, no event).
interface IBaseLyraFeed {
    event SignerUpdated(address indexed signer, bool isWhitelisted);
    event HeartbeatUpdated(uint64 heartbeat);

    /// @notice msg.sender is not a whitelisted signer.
    error BLF_InvalidSigner(address caller);
    /// @notice Read of data older than the heartbeat (Derive's error, no arguments).
    error BLF_DataTooOld();
    /// @notice A post's timestamp is in the future or already older than the heartbeat (stand-in error).
    error BLF_PostTimestampOutOfRange(uint64 dataTimestampSec, uint64 heartbeatSec, uint256 nowSec);
    /// @notice Confidence above 1e18.
    error BLF_InvalidConfidence(uint256 confidence);
    /// @notice Expiry zero.
    error BLF_InvalidExpiry(uint64 expiry);

    /// @notice Adds or removes a signer (admin only).
    function addSigner(address signer, bool isAdded) external;

    /// @notice Maximum age of data, seconds, for posting and for reading (admin only).
    function setHeartbeat(uint64 newHeartbeat) external;

    function isSigner(address signer) external view returns (bool);

    function heartbeat() external view returns (uint64);
}

interface ILyraForwardFeed is IBaseLyraFeed, IForwardFeed {
    struct ForwardDetails {
        int96 fwdSpotDifference;
        uint64 confidence;
        uint64 timestamp;
    }

    struct SettlementDetails {
        uint256 settlementStartAggregate;
        uint256 currentSpotAggregate;
    }

    /// @notice settlementDetails is always zero in the stand-in.
    event ForwardDataUpdated(uint64 indexed expiry, ForwardDetails fwdDetails, SettlementDetails settlementDetails);

    error LFF_MissingExpiryData(uint64 expiry);
    /// @notice spot + fwdSpotDifference is not positive.
    error LFF_InvalidForward(uint256 spotPrice, int96 fwdSpotDifference);

    /// @notice Posts the forward − spot difference (USD 18 decimals) for an expiry (signer only).
    function setForwardData(uint64 expiry, int96 fwdSpotDifference, uint64 confidence, uint64 timestamp) external;

    function getForwardDetails(uint64 expiry) external view returns (ForwardDetails memory);
}

interface ILyraRateFeed is IBaseLyraFeed, IInterestRateFeed {
    struct RateDetail {
        int96 rate;
        uint64 confidence;
        uint64 timestamp;
    }

    event RateUpdated(uint64 indexed expiry, int96 rate, uint96 confidence, uint64 timestamp);

    error LRF_MissingExpiryData(uint64 expiry);

    /// @notice Posts the annualised rate (18 decimals) for an expiry (signer only).
    function setRate(uint64 expiry, int96 rate, uint64 confidence, uint64 timestamp) external;

    function getRateDetail(uint64 expiry) external view returns (RateDetail memory);
}

interface ILyraVolFeed is IBaseLyraFeed, IVolFeed {
    /// @notice Raw SVI parameters of one expiry, 18 decimals; total variance w(k) = a + b(ρ(k − m) +
    /// sqrt((k − m)² + σ²)), k = ln(strike / SVI_fwd), vol = sqrt(w / SVI_refTao), SVI_refTao in years.
    struct VolDetails {
        int256 SVI_a;
        uint256 SVI_b;
        int256 SVI_rho;
        int256 SVI_m;
        uint256 SVI_sigma;
        uint256 SVI_fwd;
        uint64 SVI_refTao;
        uint64 confidence;
        uint64 timestamp;
    }

    event VolDataUpdated(address indexed signer, uint64 indexed expiry, VolDetails volDetails);

    error LVF_MissingExpiryData(uint64 expiry);
    /// @notice The SVI parameters fail a no-arbitrage basic; `reason` says which.
    error LVF_InvalidSviParams(string reason);

    /// @notice Posts SVI parameters for an expiry (signer only), after validation: b ≥ 0, |ρ| < 1,
    /// σ > 0, fwd > 0, refTao > 0 and a + b·σ·sqrt(1 − ρ²) ≥ 0.
    function setVolDetails(uint64 expiry, VolDetails memory details) external;

    /// @notice The raw SVI parameters of an expiry, for off-chain readers.
    function getVolDetails(uint64 expiry) external view returns (VolDetails memory);
}
