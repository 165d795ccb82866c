// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

/// @title IMarginReader
/// @notice The partner interface: what a lending market or venue needs to grant credit against an
/// account's aggregated margin. All USD amounts are USD6 (1 USD = 1e6). See docs/specs.md S5.
interface IMarginReader {
    /// @notice The account's margin as the aggregator sees it now.
    /// @return imUsd6 Attested initial margin requirement.
    /// @return mmUsd6 Attested maintenance margin requirement.
    /// @return collateralUsd6 Haircut-weighted value of the collateral held here, at current prices.
    /// @return shortfallUsd6 max(0, MM − (collateral + attested mark-to-market)).
    /// @return attestedBlock Block the attestation was computed at (0 if never attested).
    /// @return stale True if the attestation is older than `maxAttestationAgeSec` or absent.
    function marginOf(address account)
        external
        view
        returns (
            uint256 imUsd6,
            uint256 mmUsd6,
            uint256 collateralUsd6,
            uint256 shortfallUsd6,
            uint64 attestedBlock,
            bool stale
        );

    /// @notice True exactly when a fresh attestation exists and net margin < MM (S5.2).
    function isLiquidatable(address account) external view returns (bool);

    /// @notice max(0, net margin − IM) under a fresh attestation; 0 if stale (S5.3).
    function freeCollateral(address account) external view returns (uint256 freeUsd6);
}

/// @title IMarginAggregator
/// @notice Collateral custody, signed margin attestations and Dutch-auction liquidation for netmargin.
/// Errors and events live here so that integrators and tests share one definition.
interface IMarginAggregator is IMarginReader {
    // ---------------------------------------------------------------- types

    /// @notice Per-asset configuration.
    struct AssetConfig {
        /// Chainlink USD feed of the token (for an aToken: of its underlying).
        AggregatorV3Interface feed;
        /// Maximum age of the feed's answer, in seconds.
        uint32 heartbeatSec;
        /// Token decimals (read once at listing).
        uint8 tokenDecimals;
        /// Feed decimals (read once at listing).
        uint8 feedDecimals;
        /// Haircut in basis points: weighted value = value × (10_000 − haircutBps) / 10_000.
        uint16 haircutBps;
        /// True for an Aave aToken: balances are kept in scaled units and valued through the pool index.
        bool isAToken;
        /// True once listed; deposits of unlisted tokens revert.
        bool listed;
        /// Lowest accepted feed answer (feed decimals), inclusive.
        int256 minAnswer;
        /// Highest accepted feed answer (feed decimals), inclusive.
        int256 maxAnswer;
        /// Cap on the asset's total internal balance (token units; scaled units for aTokens).
        uint256 supplyCap;
        /// Aave pool that reports the liquidity index (aTokens only).
        address aavePool;
        /// Underlying asset of the aToken, the key of `getReserveNormalizedIncome` (aTokens only).
        address underlying;
    }

    /// @notice The stored attestation of one account, packed into one storage slot.
    struct Attestation {
        uint64 imUsd6;
        uint64 mmUsd6;
        int64 mtmUsd6;
        /// Block the margin was computed at (< 2^32; enforced).
        uint32 blockNumber;
        /// Signing time of the batch, seconds (< 2^32; enforced).
        uint32 timestampSec;
    }

    /// @notice Auction and buffer parameters.
    struct LiquidationParams {
        /// Discount at the flag time, basis points.
        uint16 startDiscountBps;
        /// Discount after `auctionDurationSec`, basis points; below every seizable haircut (S6.4).
        uint16 maxDiscountBps;
        /// Time for the discount to grow from start to max, seconds.
        uint32 auctionDurationSec;
        /// Liquidation restores net margin to MM × (1 + bufferBps / 10_000) at most (S6.5).
        uint16 bufferBps;
    }

    // ---------------------------------------------------------------- errors

    /// @notice The caller is not the owner.
    error NotOwner(address caller);
    /// @notice The caller is not the pending owner.
    error NotPendingOwner(address caller);
    /// @notice The caller is neither the guardian nor the owner.
    error NotGuardian(address caller);
    /// @notice A zero address was given for `what`.
    error ZeroAddress(string what);
    /// @notice Withdrawals are paused by the guardian.
    error Paused();

    /// @notice The token is not listed as collateral.
    error AssetNotListed(address asset);
    /// @notice The asset is already listed; use `updateAsset`.
    error AssetAlreadyListed(address asset);
    /// @notice An asset configuration field is invalid; `field` names it.
    error InvalidAssetConfig(address asset, string field);
    /// @notice Liquidation parameters are invalid; `field` names the bad one.
    error InvalidLiquidationParams(string field);
    /// @notice A zero amount was given.
    error ZeroAmount();
    /// @notice The deposit would exceed the asset's supply cap.
    error SupplyCapExceeded(address asset, uint256 totalAfter, uint256 cap);
    /// @notice The token moved less or more than accounted for.
    error TransferMismatch(address asset, uint256 expected, uint256 actual);
    /// @notice The account's internal balance is smaller than the amount requested.
    error InsufficientBalance(address account, address asset, uint256 balance, uint256 needed);
    /// @notice The withdrawal would leave net margin below IM.
    error WouldBreachInitialMargin(address account, int256 netMarginUsd6, uint256 imUsd6);
    /// @notice The account was attested before, and its latest attestation is stale.
    error AttestationStale(address account, uint256 attestedAtSec, uint256 maxAgeSec);

    /// @notice The feed's answer is zero or negative.
    error NonPositivePrice(address feed, int256 answer);
    /// @notice The feed's answer is older than its heartbeat, zero-dated or dated in the future.
    error StalePrice(address feed, uint256 updatedAtSec, uint256 heartbeatSec);
    /// @notice The feed's answer is outside the configured bounds.
    error PriceOutOfBounds(address feed, int256 answer, int256 minAnswer, int256 maxAnswer);
    /// @notice The L2 sequencer is down (uptime feed answer ≠ 0).
    error SequencerDown();
    /// @notice The L2 sequencer is up but its grace period has not passed.
    error SequencerGracePeriod(uint256 upSinceSec, uint256 gracePeriodSec);

    /// @notice The batch's deadline has passed.
    error AttestationExpired(uint256 deadlineSec, uint256 nowSec);
    /// @notice The batch's timestamp is in the future.
    error AttestationFromFuture(uint256 timestampSec, uint256 nowSec);
    /// @notice A record's block number is in the future or does not fit 32 bits.
    error InvalidRecordBlock(address account, uint256 blockNumber);
    /// @notice A record's MM exceeds its IM.
    error MaintenanceAboveInitial(address account, uint256 imUsd6, uint256 mmUsd6);
    /// @notice The records calldata is empty or not a whole number of 84-byte records.
    error InvalidRecordsLength(uint256 length);
    /// @notice The signatures calldata is not a whole number of 65-byte signatures.
    error InvalidSignatureLength(uint256 length);
    /// @notice Fewer signatures than the threshold.
    error NotEnoughSignatures(uint256 given, uint256 threshold);
    /// @notice A signature has `s` in the upper half of the curve order (malleable form).
    error HighSSignature(uint256 index);
    /// @notice A signature's `v` is not 27 or 28, or it recovers to no address.
    error InvalidSignature(uint256 index);
    /// @notice Recovered signer is not in the current signer set.
    error UnknownSigner(address signer);
    /// @notice Recovered signers are not strictly increasing (duplicate or unordered).
    error SignersNotIncreasing(address previous, address next);
    /// @notice The address is already a signer.
    error AlreadySigner(address signer);
    /// @notice The address is not a signer.
    error NotSigner(address signer);
    /// @notice The threshold would leave [1, signerCount].
    error InvalidThreshold(uint256 threshold, uint256 signerCount);

    /// @notice The account is not liquidatable.
    error NotLiquidatable(address account);
    /// @notice The account is already flagged.
    error AlreadyFlagged(address account);
    /// @notice The account is not flagged.
    error NotFlagged(address account);
    /// @notice The flagged account is still liquidatable; its auction cannot be cleared.
    error StillLiquidatable(address account);
    /// @notice The account cannot liquidate itself.
    error SelfLiquidation(address account);
    /// @notice The settlement asset cannot be seized.
    error CannotSeizeSettlementAsset();
    /// @notice The liquidation would cost more than the liquidator's `maxPay`.
    error PaymentAboveMax(uint256 pay, uint256 maxPay);
    /// @notice Nothing would be seized (no balance, no need, or rounding).
    error NothingToSeize(address account, address asset);
    /// @notice The liquidation did not strictly reduce the shortfall.
    error LiquidationDidNotImprove(uint256 shortfallBeforeUsd6, uint256 shortfallAfterUsd6);
    /// @notice Bad debt cannot be resolved: seizable collateral remains, equity is not negative, or
    /// this attestation was already resolved.
    error BadDebtNotResolvable(address account);

    // ---------------------------------------------------------------- events

    /// @notice Two-step ownership: a new owner was proposed.
    event OwnershipTransferStarted(address indexed previousOwner, address indexed pendingOwner);
    /// @notice The owner changed.
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    /// @notice The guardian changed.
    event GuardianSet(address indexed guardian);
    /// @notice Withdrawals were paused or unpaused.
    event PauseSet(bool paused);
    /// @notice A signer was added or removed; the threshold may have changed.
    event SignerSetChanged(address indexed signer, bool added, uint256 signerCount, uint256 threshold);
    /// @notice The threshold changed.
    event ThresholdSet(uint256 threshold);
    /// @notice An asset was listed or its configuration updated.
    event AssetConfigured(address indexed asset, AssetConfig config);
    /// @notice The settlement asset was set.
    event SettlementAssetSet(address indexed asset);
    /// @notice Risk parameters changed.
    event RiskParamsSet(uint32 maxAttestationAgeSec, address sequencerFeed, uint32 sequencerGracePeriodSec);
    /// @notice Liquidation parameters changed.
    event LiquidationParamsSet(LiquidationParams params);

    /// @notice Collateral was deposited; `credited` is in internal units.
    event Deposited(address indexed account, address indexed asset, uint256 amount, uint256 credited);
    /// @notice Collateral was withdrawn; `debited` is in internal units.
    event Withdrawn(address indexed account, address indexed asset, address to, uint256 amount, uint256 debited);
    /// @notice The insurance fund received settlement tokens (internal units).
    event InsuranceFunded(address indexed from, uint256 credited);

    /// @notice A batch was accepted.
    event BatchPosted(bytes32 indexed digest, bytes32 paramsHash, uint64 timestampSec, uint256 accounts);
    /// @notice An account's attestation was replaced.
    event MarginUpdated(
        address indexed account, uint64 imUsd6, uint64 mmUsd6, int64 mtmUsd6, uint64 blockNumber, bytes32 inputsHash
    );
    /// @notice A record was not newer than the stored attestation and was skipped.
    event AttestationIgnored(address indexed account, uint64 blockNumber, uint64 storedBlockNumber);

    /// @notice A shortfall was flagged; the Dutch auction starts now.
    event ShortfallFlagged(address indexed account, uint256 shortfallUsd6, uint256 flaggedAtSec);
    /// @notice A flagged account is healthy again.
    event ShortfallCleared(address indexed account);
    /// @notice Collateral was sold to a liquidator.
    event Liquidated(
        address indexed account,
        address indexed liquidator,
        address indexed asset,
        uint256 seized,
        uint256 paid,
        uint256 discountBps,
        uint256 shortfallBeforeUsd6,
        uint256 shortfallAfterUsd6
    );
    /// @notice A deficit was covered by the insurance fund (`coveredUsd6`) and the rest written off.
    event BadDebtResolved(address indexed account, uint256 deficitUsd6, uint256 coveredUsd6, uint256 badDebtUsd6);

    // ---------------------------------------------------------------- actions

    /// @notice Deposits `amount` of `asset` for `account` (anyone may top up any account). Works while
    /// paused and while the sequencer is down (S1.4). Credits the measured balance change (S1.2).
    function deposit(address account, address asset, uint256 amount) external returns (uint256 credited);

    /// @notice Withdraws `amount` token units of `asset` from the caller's balance to `to`;
    /// `type(uint256).max` withdraws the whole balance (for aTokens: principal plus interest).
    /// Reverts while paused, while the sequencer is down or in grace, and if the account would end
    /// below IM or its attestation is stale (S1.8).
    function withdraw(address asset, uint256 amount, address to) external returns (uint256 debited);

    /// @notice Posts a signed batch of attestations.
    /// @param paramsHash Hash of the risk parameter set the margins were computed with.
    /// @param timestampSec Signing time; attestations are fresh for `maxAttestationAgeSec` after it.
    /// @param deadlineSec Last second at which the batch may be posted.
    /// @param records Packed 84-byte records: account (20) | imUsd6 (8) | mmUsd6 (8) | mtmUsd6 (8, two's
    /// complement) | blockNumber (8) | inputsHash (32), big-endian.
    /// @param signatures Packed 65-byte (r, s, v) signatures by strictly increasing signer addresses.
    function postAttestations(
        bytes32 paramsHash,
        uint64 timestampSec,
        uint64 deadlineSec,
        bytes calldata records,
        bytes calldata signatures
    ) external returns (uint256 accepted);

    /// @notice Starts the Dutch auction for a liquidatable account.
    function flagShortfall(address account) external;

    /// @notice Ends the auction of a flagged account that is no longer liquidatable.
    function clearShortfall(address account) external;

    /// @notice Buys up to `maxSeize` internal units of `asset` from a flagged account at the current
    /// discount, paying in the settlement asset, no more than `maxPay` settlement token units.
    function liquidate(address account, address asset, uint256 maxSeize, uint256 maxPay)
        external
        returns (uint256 seized, uint256 paid);

    /// @notice Adds settlement tokens to the insurance fund.
    function fundInsurance(uint256 amount) external returns (uint256 credited);

    /// @notice Covers a collateral-less account's negative equity from the insurance fund and writes
    /// off the rest (S6.10).
    function resolveBadDebt(address account) external returns (uint256 coveredUsd6, uint256 badDebtUsd6);
}

/// @notice The one function of the Aave V3 pool the aggregator reads.
interface IAavePoolIndex {
    /// @notice Liquidity index of `asset` (ray, 1e27), including interest accrued since the last update.
    function getReserveNormalizedIncome(address asset) external view returns (uint256);
}

/// @notice The aToken view the aggregator reads to measure deposits exactly.
interface IScaledBalanceToken {
    function scaledBalanceOf(address user) external view returns (uint256);
}
