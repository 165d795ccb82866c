// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

import {ReentrancyGuard} from "../venues/common/ReentrancyGuard.sol";
import {IERC20Minimal, SafeTransfer} from "../venues/common/SafeTransfer.sol";
import {
    IMarginAggregator,
    IMarginReader,
    IAavePoolIndex,
    IScaledBalanceToken
} from "./interfaces/IMarginAggregator.sol";
import {AttestationLib} from "./libraries/AttestationLib.sol";
import {AuctionLib} from "./libraries/AuctionLib.sol";
import {ValuationLib} from "./libraries/ValuationLib.sol";

/// @title MarginAggregator
/// @notice Where netmargin's numbers become binding. Accounts deposit allow-listed collateral (plain
/// ERC-20s and Aave aTokens); an m-of-n signer set posts EIP-712 signed attestations of each account's
/// IM / MM / mark-to-market outside this contract; the contract values the collateral with Chainlink and
/// combines both into a net margin that partners read (`marginOf`), that gates withdrawals, and that
/// liquidators act on through a Dutch auction.
/// @dev Requirements are numbered in docs/specs.md; the design is in docs/aggregator.md. The contract
/// holds state and order of checks; arithmetic lives in the libraries.
contract MarginAggregator is IMarginAggregator, ReentrancyGuard {
    using SafeTransfer for IERC20Minimal;

    /// @notice Upper bound on listed assets, so that valuing an account stays bounded in gas.
    uint256 public constant MAX_ASSETS = 16;

    // ------------------------------------------------------------ roles
    address public owner;
    address public pendingOwner;
    address public guardian;
    bool public paused;

    // ------------------------------------------------------------ signers
    mapping(address signer => bool) public isSigner;
    uint256 public signerCount;
    uint256 public threshold;

    // ------------------------------------------------------------ collateral
    mapping(address asset => AssetConfig) internal _assets;
    address[] internal _assetList;
    address public immutable settlementAsset;
    /// @notice Sum of all internal balances of an asset, the insurance fund included (internal units).
    mapping(address asset => uint256) public totalBalance;
    /// @notice Internal balance (token units; scaled units for aTokens).
    mapping(address account => mapping(address asset => uint256)) public balanceOf;
    /// @notice Insurance fund, in settlement-asset token units.
    uint256 public insuranceFund;

    // ------------------------------------------------------------ attestations
    /// @dev One slot per account: im | mm << 64 | uint64(mtm) << 128 | block << 192 | timestamp << 224.
    mapping(address account => uint256) internal _attestation;

    // ------------------------------------------------------------ liquidation
    mapping(address account => uint256) public flaggedAtSec;
    mapping(address account => uint256) public badDebtUsd6;
    uint256 public totalBadDebtUsd6;
    mapping(address account => uint256) internal _badDebtResolvedBlock;
    LiquidationParams internal _liquidationParams;

    // ------------------------------------------------------------ risk parameters
    uint32 public maxAttestationAgeSec;
    AggregatorV3Interface public sequencerFeed;
    uint32 public sequencerGracePeriodSec;

    // ------------------------------------------------------------ EIP-712
    uint256 private immutable _cachedChainId;
    bytes32 private immutable _cachedDomainSeparator;

    /// @param owner_ Governance (two-step transferable).
    /// @param settlementAsset_ The USD stablecoin liquidators pay in and the insurance fund holds; list it
    /// with `configureAsset` (zero haircut) before use.
    /// @param signers Initial signer set.
    /// @param threshold_ Signatures required per batch, in [1, signers.length].
    /// @param maxAttestationAgeSec_ Age after which an attestation is stale.
    constructor(
        address owner_,
        address settlementAsset_,
        address[] memory signers,
        uint256 threshold_,
        uint32 maxAttestationAgeSec_
    ) {
        if (owner_ == address(0)) revert ZeroAddress("owner");
        if (settlementAsset_ == address(0)) revert ZeroAddress("settlementAsset");
        if (maxAttestationAgeSec_ == 0) revert InvalidAssetConfig(address(0), "maxAttestationAgeSec");
        owner = owner_;
        settlementAsset = settlementAsset_;
        emit SettlementAssetSet(settlementAsset_);
        emit OwnershipTransferred(address(0), owner_);
        for (uint256 i = 0; i < signers.length; i++) {
            _addSigner(signers[i]);
        }
        _setThreshold(threshold_);
        maxAttestationAgeSec = maxAttestationAgeSec_;
        _cachedChainId = block.chainid;
        _cachedDomainSeparator = AttestationLib.domainSeparator(block.chainid, address(this));
        _liquidationParams = LiquidationParams({
            startDiscountBps: 100, maxDiscountBps: 500, auctionDurationSec: 1 hours, bufferBps: 500
        });
    }

    // ================================================================ modifiers

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    // ================================================================ owner and guardian (S4)

    /// @notice Proposes `newOwner`; it takes over only after `acceptOwnership` (S4.1).
    function transferOwnership(address newOwner) external onlyOwner {
        pendingOwner = newOwner;
        emit OwnershipTransferStarted(owner, newOwner);
    }

    function acceptOwnership() external {
        if (msg.sender != pendingOwner) revert NotPendingOwner(msg.sender);
        emit OwnershipTransferred(owner, msg.sender);
        owner = msg.sender;
        pendingOwner = address(0);
    }

    function setGuardian(address guardian_) external onlyOwner {
        guardian = guardian_;
        emit GuardianSet(guardian_);
    }

    /// @notice Stops withdrawals (S4.4, S4.5). Guardian or owner.
    function pause() external {
        if (msg.sender != guardian && msg.sender != owner) revert NotGuardian(msg.sender);
        paused = true;
        emit PauseSet(true);
    }

    /// @notice Resumes withdrawals. Owner only, so a compromised guardian can only stop, never resume.
    function unpause() external onlyOwner {
        paused = false;
        emit PauseSet(false);
    }

    // ================================================================ signer set (S4.2, S4.3)

    function addSigner(address signer) external onlyOwner {
        _addSigner(signer);
        emit SignerSetChanged(signer, true, signerCount, threshold);
    }

    /// @notice Removes `signer`; its signatures are rejected from this block on (S3.9).
    function removeSigner(address signer) external onlyOwner {
        if (!isSigner[signer]) revert NotSigner(signer);
        if (signerCount - 1 < threshold) revert InvalidThreshold(threshold, signerCount - 1);
        isSigner[signer] = false;
        signerCount--;
        emit SignerSetChanged(signer, false, signerCount, threshold);
    }

    function setThreshold(uint256 threshold_) external onlyOwner {
        _setThreshold(threshold_);
    }

    function _addSigner(address signer) internal {
        if (signer == address(0)) revert ZeroAddress("signer");
        if (isSigner[signer]) revert AlreadySigner(signer);
        isSigner[signer] = true;
        signerCount++;
    }

    function _setThreshold(uint256 threshold_) internal {
        if (threshold_ == 0 || threshold_ > signerCount) revert InvalidThreshold(threshold_, signerCount);
        threshold = threshold_;
        emit ThresholdSet(threshold_);
    }

    // ================================================================ configuration

    /// @notice Lists `asset` or updates its configuration. Decimals are read from the token and feed.
    function configureAsset(address asset, AssetConfig calldata config) external onlyOwner {
        AssetConfig memory c = config;
        if (asset == address(0)) revert ZeroAddress("asset");
        if (address(c.feed) == address(0)) revert InvalidAssetConfig(asset, "feed");
        if (c.heartbeatSec == 0) revert InvalidAssetConfig(asset, "heartbeatSec");
        if (c.minAnswer <= 0) revert InvalidAssetConfig(asset, "minAnswer");
        if (c.maxAnswer < c.minAnswer) revert InvalidAssetConfig(asset, "maxAnswer");
        if (c.haircutBps >= ValuationLib.BPS) revert InvalidAssetConfig(asset, "haircutBps");
        if (c.isAToken && (c.aavePool == address(0) || c.underlying == address(0))) {
            revert InvalidAssetConfig(asset, "aavePool/underlying");
        }
        if (asset == settlementAsset) {
            if (c.haircutBps != 0 || c.isAToken) revert InvalidAssetConfig(asset, "settlement haircutBps/isAToken");
        } else if (c.haircutBps <= _liquidationParams.maxDiscountBps) {
            revert InvalidAssetConfig(asset, "haircutBps must exceed maxDiscountBps");
        }
        c.tokenDecimals = IERC20Minimal(asset).decimals();
        c.feedDecimals = c.feed.decimals();
        if (c.tokenDecimals > 36) revert InvalidAssetConfig(asset, "tokenDecimals");
        if (c.feedDecimals > 36) revert InvalidAssetConfig(asset, "feedDecimals");
        AssetConfig storage current = _assets[asset];
        if (
            current.listed && totalBalance[asset] != 0
                && (current.isAToken != c.isAToken || current.underlying != c.underlying)
        ) {
            // Balances are kept in units that depend on these fields; changing them would re-denominate.
            revert InvalidAssetConfig(asset, "isAToken/underlying fixed while balances exist");
        }
        if (!current.listed) {
            if (_assetList.length >= MAX_ASSETS) revert InvalidAssetConfig(asset, "MAX_ASSETS reached");
            _assetList.push(asset);
        }
        c.listed = true;
        _assets[asset] = c;
        emit AssetConfigured(asset, c);
    }

    /// @notice Attestation freshness and the sequencer uptime feed (zero address disables the check).
    function setRiskParams(uint32 maxAttestationAgeSec_, AggregatorV3Interface sequencerFeed_, uint32 gracePeriodSec)
        external
        onlyOwner
    {
        if (maxAttestationAgeSec_ == 0) revert InvalidAssetConfig(address(0), "maxAttestationAgeSec");
        maxAttestationAgeSec = maxAttestationAgeSec_;
        sequencerFeed = sequencerFeed_;
        sequencerGracePeriodSec = gracePeriodSec;
        emit RiskParamsSet(maxAttestationAgeSec_, address(sequencerFeed_), gracePeriodSec);
    }

    function setLiquidationParams(LiquidationParams calldata p) external onlyOwner {
        if (p.startDiscountBps > p.maxDiscountBps) revert InvalidLiquidationParams("startDiscountBps");
        if (p.auctionDurationSec == 0) revert InvalidLiquidationParams("auctionDurationSec");
        if (p.bufferBps > ValuationLib.BPS) revert InvalidLiquidationParams("bufferBps");
        for (uint256 i = 0; i < _assetList.length; i++) {
            address a = _assetList[i];
            if (a != settlementAsset && _assets[a].haircutBps <= p.maxDiscountBps) {
                revert InvalidLiquidationParams("maxDiscountBps must be below every seizable haircut");
            }
        }
        _liquidationParams = p;
        emit LiquidationParamsSet(p);
    }

    // ================================================================ collateral (S1)

    /// @inheritdoc IMarginAggregator
    function deposit(address account, address asset, uint256 amount) external nonReentrant returns (uint256 credited) {
        if (account == address(0)) revert ZeroAddress("account");
        if (amount == 0) revert ZeroAmount();
        AssetConfig storage c = _assets[asset];
        if (!c.listed) revert AssetNotListed(asset);
        credited = _pull(asset, c.isAToken, msg.sender, amount);
        uint256 totalAfter = totalBalance[asset] + credited;
        if (totalAfter > c.supplyCap) revert SupplyCapExceeded(asset, totalAfter, c.supplyCap);
        totalBalance[asset] = totalAfter;
        balanceOf[account][asset] += credited;
        emit Deposited(account, asset, amount, credited);
    }

    /// @inheritdoc IMarginAggregator
    function withdraw(address asset, uint256 amount, address to) external nonReentrant returns (uint256 debited) {
        if (paused) revert Paused();
        if (amount == 0) revert ZeroAmount();
        if (to == address(0)) revert ZeroAddress("to");
        AssetConfig memory c = _assets[asset];
        if (!c.listed) revert AssetNotListed(asset);
        ValuationLib.checkSequencer(sequencerFeed, sequencerGracePeriodSec);
        uint256 indexRay = c.isAToken ? IAavePoolIndex(c.aavePool).getReserveNormalizedIncome(c.underlying) : 0;
        uint256 bal = balanceOf[msg.sender][asset];
        if (amount == type(uint256).max) {
            // Everything: rounding an aToken amount up to scaled units could otherwise exceed the balance.
            debited = bal;
            amount = c.isAToken ? (bal * indexRay) / ValuationLib.RAY : bal;
            if (amount == 0) revert ZeroAmount();
        } else {
            debited = c.isAToken ? _divUp(amount * ValuationLib.RAY, indexRay) : amount;
        }
        if (bal < debited) revert InsufficientBalance(msg.sender, asset, bal, debited);
        // Effects first (S1.10), then the margin check on the post-withdrawal state (S1.8).
        balanceOf[msg.sender][asset] = bal - debited;
        totalBalance[asset] -= debited;
        _requireAboveInitialMargin(msg.sender);
        if (flaggedAtSec[msg.sender] != 0) {
            // Net margin ≥ IM ≥ MM under a fresh attestation: the auction of a recovered account ends, so a
            // later shortfall starts a new one at the start discount.
            delete flaggedAtSec[msg.sender];
            emit ShortfallCleared(msg.sender);
        }
        _push(asset, c.isAToken, to, amount, debited);
        emit Withdrawn(msg.sender, asset, to, amount, debited);
    }

    /// @inheritdoc IMarginAggregator
    function fundInsurance(uint256 amount) external nonReentrant returns (uint256 credited) {
        address s = settlementAsset;
        if (!_assets[s].listed) revert AssetNotListed(s);
        if (amount == 0) revert ZeroAmount();
        credited = _pull(s, false, msg.sender, amount);
        insuranceFund += credited;
        totalBalance[s] += credited;
        emit InsuranceFunded(msg.sender, credited);
    }

    // ================================================================ attestations (S3)

    /// @inheritdoc IMarginAggregator
    function postAttestations(
        bytes32 paramsHash,
        uint64 timestampSec,
        uint64 deadlineSec,
        bytes calldata records,
        bytes calldata signatures
    ) external returns (uint256 accepted) {
        if (deadlineSec < block.timestamp) {
            revert AttestationExpired(deadlineSec, block.timestamp);
        }
        if (timestampSec > block.timestamp || timestampSec > type(uint32).max) {
            revert AttestationFromFuture(timestampSec, block.timestamp);
        }
        uint256 len = records.length;
        if (len == 0 || len % AttestationLib.RECORD_BYTES != 0) revert InvalidRecordsLength(len);
        uint256 n = len / AttestationLib.RECORD_BYTES;
        bytes32[] memory hashes = new bytes32[](n);

        // State is written while hashing; a bad signature below reverts it all. No external calls
        // happen in this loop, so nothing can observe the unverified state.
        for (uint256 i = 0; i < n; i++) {
            bool applied;
            (hashes[i], applied) = _applyRecord(records, i, timestampSec);
            if (applied) {
                unchecked {
                    accepted++;
                }
            }
        }

        bytes32 digest = AttestationLib.typedDataDigest(
            domainSeparator(), AttestationLib.hashBatch(paramsHash, timestampSec, deadlineSec, hashes)
        );
        _verifySignatures(digest, signatures);
        emit BatchPosted(digest, paramsHash, timestampSec, n);
    }

    /// @notice EIP-712 domain separator for the live chain id (recomputed after a fork, S3.2).
    function domainSeparator() public view returns (bytes32) {
        return block.chainid == _cachedChainId
            ? _cachedDomainSeparator
            : AttestationLib.domainSeparator(block.chainid, address(this));
    }

    /// @notice The stored attestation of `account` (all zero if never attested).
    function attestationOf(address account) external view returns (Attestation memory) {
        return _unpack(_attestation[account]);
    }

    function _verifySignatures(bytes32 digest, bytes calldata signatures) internal view {
        uint256 sl = signatures.length;
        if (sl % AttestationLib.SIGNATURE_BYTES != 0) revert InvalidSignatureLength(sl); // S3.7
        uint256 count = sl / AttestationLib.SIGNATURE_BYTES;
        if (count < threshold) revert NotEnoughSignatures(count, threshold);
        address previous = address(0);
        for (uint256 k = 0; k < count; k++) {
            (address signer, uint256 reason) = AttestationLib.recover(digest, signatures, k);
            if (reason == 1) revert HighSSignature(k);
            if (reason != 0) revert InvalidSignature(k);
            if (signer <= previous) revert SignersNotIncreasing(previous, signer); // S3.8
            if (!isSigner[signer]) revert UnknownSigner(signer); // S3.9
            previous = signer;
        }
    }

    // ================================================================ partner interface (S5)

    /// @inheritdoc IMarginReader
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
        )
    {
        Attestation memory a = _unpack(_attestation[account]);
        collateralUsd6 = _weightedCollateralUsd6(account);
        int256 net = int256(collateralUsd6) + a.mtmUsd6;
        shortfallUsd6 = net < int256(uint256(a.mmUsd6)) ? uint256(int256(uint256(a.mmUsd6)) - net) : 0;
        return (a.imUsd6, a.mmUsd6, collateralUsd6, shortfallUsd6, a.blockNumber, !_isFresh(a));
    }

    /// @inheritdoc IMarginReader
    function isLiquidatable(address account) public view returns (bool) {
        (bool liquidatable,,) = _health(account);
        return liquidatable;
    }

    /// @inheritdoc IMarginReader
    function freeCollateral(address account) external view returns (uint256 freeUsd6) {
        Attestation memory a = _unpack(_attestation[account]);
        uint256 collateralUsd6 = _weightedCollateralUsd6(account);
        if (a.blockNumber == 0) return collateralUsd6;
        if (!_isFresh(a)) return 0;
        int256 free = int256(collateralUsd6) + a.mtmUsd6 - int256(uint256(a.imUsd6));
        return free > 0 ? uint256(free) : 0;
    }

    /// @notice Configuration of a listed asset.
    function assetConfig(address asset) external view returns (AssetConfig memory) {
        return _assets[asset];
    }

    /// @notice All listed assets, in listing order.
    function assets() external view returns (address[] memory) {
        return _assetList;
    }

    function liquidationParams() external view returns (LiquidationParams memory) {
        return _liquidationParams;
    }

    /// @notice Current auction discount of a flagged account (0 if not flagged).
    function currentDiscountBps(address account) public view returns (uint256) {
        uint256 flagged = flaggedAtSec[account];
        if (flagged == 0) return 0;
        return AuctionLib.discountBps(_liquidationParams, block.timestamp - flagged);
    }

    // ================================================================ liquidation (S6)

    /// @inheritdoc IMarginAggregator
    function flagShortfall(address account) external {
        ValuationLib.checkSequencer(sequencerFeed, sequencerGracePeriodSec);
        if (flaggedAtSec[account] != 0) revert AlreadyFlagged(account);
        (bool liquidatable, uint256 shortfall,) = _health(account);
        if (!liquidatable) revert NotLiquidatable(account);
        flaggedAtSec[account] = block.timestamp;
        emit ShortfallFlagged(account, shortfall, block.timestamp);
    }

    /// @inheritdoc IMarginAggregator
    function clearShortfall(address account) external {
        if (flaggedAtSec[account] == 0) revert NotFlagged(account);
        if (isLiquidatable(account)) revert StillLiquidatable(account);
        delete flaggedAtSec[account];
        emit ShortfallCleared(account);
    }

    /// @inheritdoc IMarginAggregator
    function liquidate(address account, address asset, uint256 maxSeize, uint256 maxPay)
        external
        nonReentrant
        returns (uint256 seized, uint256 paid)
    {
        if (msg.sender == account) revert SelfLiquidation(account); // S6.8
        if (asset == settlementAsset) revert CannotSeizeSettlementAsset(); // S6.9
        if (!_assets[settlementAsset].listed) revert AssetNotListed(settlementAsset);
        ValuationLib.checkSequencer(sequencerFeed, sequencerGracePeriodSec);
        if (flaggedAtSec[account] == 0) revert NotFlagged(account); // S6.2
        (bool liquidatable, uint256 shortfallBefore, int256 net) = _health(account);
        if (!liquidatable) revert NotLiquidatable(account);

        uint256 discount = currentDiscountBps(account);
        uint256 tokensOut;
        bool isAToken;
        (seized, paid, tokensOut, isAToken) = _quoteLiquidation(account, asset, net, discount, maxSeize);
        if (paid > maxPay) revert PaymentAboveMax(paid, maxPay);
        _settleLiquidation(account, asset, seized, paid, tokensOut, isAToken);

        (bool stillLiquidatable, uint256 shortfallAfter,) = _health(account);
        if (shortfallAfter >= shortfallBefore) revert LiquidationDidNotImprove(shortfallBefore, shortfallAfter); // S6.7
        if (!stillLiquidatable) {
            delete flaggedAtSec[account];
            emit ShortfallCleared(account);
        }
        emit Liquidated(account, msg.sender, asset, seized, paid, discount, shortfallBefore, shortfallAfter);
    }

    /// @dev Moves the balances and tokens of a liquidation: effects first, then the transfers.
    function _settleLiquidation(
        address account,
        address asset,
        uint256 seized,
        uint256 paid,
        uint256 tokensOut,
        bool isAToken
    ) internal {
        address s = settlementAsset;
        balanceOf[account][asset] -= seized; // S1.10
        totalBalance[asset] -= seized;
        uint256 credited = _pull(s, false, msg.sender, paid);
        if (credited < paid) revert TransferMismatch(s, paid, credited);
        balanceOf[account][s] += credited; // S6.6
        totalBalance[s] += credited;
        _push(asset, isAToken, msg.sender, tokensOut, seized);
    }

    /// @inheritdoc IMarginAggregator
    function resolveBadDebt(address account) external nonReentrant returns (uint256 coveredUsd6, uint256 badDebt) {
        ValuationLib.checkSequencer(sequencerFeed, sequencerGracePeriodSec);
        address s = settlementAsset;
        if (!_assets[s].listed) revert AssetNotListed(s);
        Attestation memory a = _unpack(_attestation[account]);
        if (!_isFresh(a) || _badDebtResolvedBlock[account] >= a.blockNumber) revert BadDebtNotResolvable(account);
        for (uint256 i = 0; i < _assetList.length; i++) {
            address asset = _assetList[i];
            if (asset != s && balanceOf[account][asset] != 0) revert BadDebtNotResolvable(account);
        }
        int256 net = int256(_weightedCollateralUsd6(account)) + a.mtmUsd6;
        if (net >= 0) revert BadDebtNotResolvable(account);
        uint256 deficit = uint256(-net);

        AssetConfig memory sc = _assets[s];
        ValuationLib.Quote memory q = ValuationLib.quote(sc);
        uint256 units = ValuationLib.internalForUsd6(sc, q, deficit);
        if (units > insuranceFund) units = insuranceFund;
        coveredUsd6 = ValuationLib.valueUsd6(sc, q, units);
        if (coveredUsd6 > deficit) coveredUsd6 = deficit;
        badDebt = deficit - coveredUsd6;

        insuranceFund -= units;
        balanceOf[account][s] += units; // totalBalance unchanged: the fund is part of it
        _badDebtResolvedBlock[account] = a.blockNumber;
        badDebtUsd6[account] += badDebt;
        totalBadDebtUsd6 += badDebt;
        emit BadDebtResolved(account, deficit, coveredUsd6, badDebt);
    }

    // ================================================================ internals

    /// @dev Validates, hashes and (if newer than the stored one) stores record `i`.
    function _applyRecord(bytes calldata records, uint256 i, uint64 timestampSec)
        internal
        returns (bytes32 recordHash, bool applied)
    {
        (address account, uint64 im, uint64 mm, int64 mtm, uint64 blk, bytes32 inputsHash) =
            AttestationLib.decode(records, i);
        if (mm > im) revert MaintenanceAboveInitial(account, im, mm);
        if (blk == 0 || blk > block.number || blk > type(uint32).max) revert InvalidRecordBlock(account, blk);
        recordHash = AttestationLib.hashRecord(account, im, mm, mtm, blk, inputsHash);
        uint64 storedBlock = uint64(uint32(_attestation[account] >> 192));
        if (blk <= storedBlock) {
            emit AttestationIgnored(account, blk, storedBlock); // S3.10
            return (recordHash, false);
        }
        _attestation[account] = uint256(im) | (uint256(mm) << 64) | (uint256(uint64(mtm)) << 128)
            | (uint256(blk) << 192) | (uint256(timestampSec) << 224);
        emit MarginUpdated(account, im, mm, mtm, blk, inputsHash); // S3.11
        return (recordHash, true);
    }

    /// @dev Internal units to seize, settlement tokens to pay, tokens to send, for the current discount.
    function _quoteLiquidation(address account, address asset, int256 net, uint256 discount, uint256 maxSeize)
        internal
        view
        returns (uint256 seized, uint256 paid, uint256 tokensOut, bool isAToken)
    {
        AssetConfig memory c = _assets[asset];
        if (!c.listed) revert AssetNotListed(asset);
        isAToken = c.isAToken;
        uint256 mm = _unpack(_attestation[account]).mmUsd6;
        uint256 gap = uint256(int256(AuctionLib.targetMarginUsd6(mm, _liquidationParams.bufferBps)) - net);
        ValuationLib.Quote memory q = ValuationLib.quote(c);
        seized = ValuationLib.internalForUsd6(c, q, AuctionLib.valueToSellUsd6(gap, c.haircutBps, discount));
        uint256 bal = balanceOf[account][asset];
        if (seized > bal) seized = bal;
        if (seized > maxSeize) seized = maxSeize;
        if (seized == 0) revert NothingToSeize(account, asset);
        uint256 payUsd6 = AuctionLib.priceUsd6(ValuationLib.valueUsd6(c, q, seized), discount);
        AssetConfig memory sc = _assets[settlementAsset];
        paid = _divUp(
            payUsd6 * 10 ** (uint256(sc.tokenDecimals) + sc.feedDecimals),
            ValuationLib.readAnswer(sc) * ValuationLib.USD6
        );
        tokensOut = ValuationLib.tokensForInternal(c, q, seized);
    }

    /// @dev Reverts unless the account stays at or above IM under a fresh attestation (S1.8).
    function _requireAboveInitialMargin(address account) internal view {
        Attestation memory a = _unpack(_attestation[account]);
        if (a.blockNumber == 0) return; // never attested: nothing relies on its collateral
        if (!_isFresh(a)) revert AttestationStale(account, a.timestampSec, maxAttestationAgeSec);
        int256 net = int256(_weightedCollateralUsd6(account)) + a.mtmUsd6;
        if (net < int256(uint256(a.imUsd6))) revert WouldBreachInitialMargin(account, net, a.imUsd6);
    }

    /// @dev (liquidatable, shortfall, net margin) — shortfall is reported even when stale.
    function _health(address account) internal view returns (bool liquidatable, uint256 shortfall, int256 net) {
        Attestation memory a = _unpack(_attestation[account]);
        net = int256(_weightedCollateralUsd6(account)) + a.mtmUsd6;
        int256 mm = int256(uint256(a.mmUsd6));
        shortfall = net < mm ? uint256(mm - net) : 0;
        liquidatable = shortfall > 0 && _isFresh(a);
    }

    function _weightedCollateralUsd6(address account) internal view returns (uint256 total) {
        uint256 n = _assetList.length;
        for (uint256 i = 0; i < n; i++) {
            address asset = _assetList[i];
            uint256 bal = balanceOf[account][asset];
            if (bal == 0) continue; // only price what the account holds
            AssetConfig memory c = _assets[asset];
            total += ValuationLib.weightedUsd6(c, ValuationLib.quote(c), bal);
        }
    }

    function _isFresh(Attestation memory a) internal view returns (bool) {
        return a.blockNumber != 0 && block.timestamp <= uint256(a.timestampSec) + maxAttestationAgeSec;
    }

    function _unpack(uint256 w) internal pure returns (Attestation memory a) {
        a.imUsd6 = uint64(w);
        a.mmUsd6 = uint64(w >> 64);
        a.mtmUsd6 = int64(uint64(w >> 128));
        a.blockNumber = uint32(w >> 192);
        a.timestampSec = uint32(w >> 224);
    }

    /// @dev Transfers in and returns the measured increase of our balance (scaled balance for aTokens).
    function _pull(address asset, bool isAToken, address from, uint256 amount) internal returns (uint256) {
        uint256 before = _heldInternal(asset, isAToken);
        IERC20Minimal(asset).safeTransferFrom(from, address(this), amount);
        uint256 afterBal = _heldInternal(asset, isAToken);
        if (afterBal < before) revert TransferMismatch(asset, amount, 0);
        uint256 credited = afterBal - before;
        if (credited == 0) revert ZeroAmount();
        return credited;
    }

    /// @dev Transfers out `tokens`; reverts if our holdings fell by more than the `debited` internal units.
    function _push(address asset, bool isAToken, address to, uint256 tokens, uint256 debited) internal {
        uint256 before = _heldInternal(asset, isAToken);
        IERC20Minimal(asset).safeTransfer(to, tokens);
        uint256 afterBal = _heldInternal(asset, isAToken);
        if (afterBal > before || before - afterBal > debited) {
            revert TransferMismatch(asset, debited, before > afterBal ? before - afterBal : 0);
        }
    }

    function _heldInternal(address asset, bool isAToken) internal view returns (uint256) {
        return isAToken
            ? IScaledBalanceToken(asset).scaledBalanceOf(address(this))
            : IERC20Minimal(asset).balanceOf(address(this));
    }

    function _divUp(uint256 a, uint256 b) internal pure returns (uint256) {
        return a == 0 ? 0 : (a - 1) / b + 1;
    }
}
