// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

import {ChainlinkPrice} from "../common/ChainlinkPrice.sol";
import {Owned} from "../common/Owned.sol";
import {ReentrancyGuard} from "../common/ReentrancyGuard.sol";
import {IERC20Minimal, SafeTransfer} from "../common/SafeTransfer.sol";
import {VenueMath} from "../common/VenueMath.sol";
import {SnxAccountNft} from "./SnxAccountNft.sol";
import {AsyncOrder} from "./interfaces/AsyncOrder.sol";
import {IAccountModule} from "./interfaces/IAccountModule.sol";
import {IAsyncOrderModule} from "./interfaces/IAsyncOrderModule.sol";
import {IAsyncOrderSettlementPythModule} from "./interfaces/IAsyncOrderSettlementPythModule.sol";
import {ILiquidationModule} from "./interfaces/ILiquidationModule.sol";
import {IMarketEvents} from "./interfaces/IMarketEvents.sol";
import {IPerpsAccountModule} from "./interfaces/IPerpsAccountModule.sol";
import {IPerpsMarketConfiguration} from "./interfaces/IPerpsMarketConfiguration.sol";
import {IPerpsMarketModule} from "./interfaces/IPerpsMarketModule.sol";

/// @title SnxPerpsMarket
/// @notice Devnet stand-in for the Synthetix v3 Perps market proxy as deployed on Base. netmargin's perps
/// adapter reads it through the real read interface (account, market, order, liquidation modules); the
/// write side is simplified:
///  - orders settle inside `commitOrder` at the Chainlink index price (Synthetix settles later with Pyth);
///  - one collateral, the USD stablecoin (id 0), valued at 1 USD; no fees, no interest, no referrals;
///  - only the account token's owner may act for an account (no permission grants);
///  - liquidation closes every position in one call and seizes all collateral.
/// Faithful: account ids and the ERC-721 account token, funding (velocity, rate, accrued funding per
/// unit), the skew-premium fill price, PnL realisation at settlement, the margin model, and the read
/// functions and events listed in docs/venues.md.
contract SnxPerpsMarket is
    Owned,
    ReentrancyGuard,
    IAccountModule,
    IPerpsAccountModule,
    IPerpsMarketModule,
    IAsyncOrderModule,
    IAsyncOrderSettlementPythModule,
    ILiquidationModule,
    IMarketEvents,
    IPerpsMarketConfiguration
{
    using SafeTransfer for IERC20Minimal;
    using VenueMath for uint256;
    using VenueMath for int256;

    bytes32 internal constant PERM_MODIFY_COLLATERAL = "PERPS_MODIFY_COLLATERAL";
    bytes32 internal constant PERM_COMMIT_ORDER = "PERPS_COMMIT_ASYNC_ORDER";
    /// @dev Generated account ids start above this, requested ones stay below it (as Synthetix).
    uint128 internal constant ACCOUNT_ID_OFFSET = type(uint128).max / 2;
    int256 internal constant UNIT_INT = 1e18;

    struct MarketConfig {
        AggregatorV3Interface feed;
        uint256 heartbeatSec;
        uint256 skewScale;
        uint256 maxFundingVelocity;
        uint256 maxMarketSize;
        uint256 initialMarginRatioD18;
        uint256 minimumInitialMarginRatioD18;
        uint256 maintenanceMarginScalarD18;
        uint256 flagRewardRatioD18;
        uint256 minimumPositionMargin;
        bool marginConfigured;
    }

    struct MarketState {
        bool exists;
        string name;
        string symbol;
        int256 skew;
        uint256 size;
        int256 lastFundingRate;
        int256 lastFundingValue;
        uint256 lastFundingTime;
    }

    /// @dev Mirrors Synthetix's Position.Data: entry is the last fill price and funding-per-unit.
    struct Position {
        int128 size;
        uint256 latestInteractionPrice;
        int256 latestInteractionFunding;
    }

    struct Account {
        bool exists;
        uint256 collateral;
        uint256 debt;
        uint128[] openMarkets;
    }

    struct Margins {
        int256 available;
        uint256 initial;
        uint256 maintenance;
        uint256 maxReward;
    }

    struct SettleRuntime {
        uint256 price;
        uint256 fillPrice;
        int128 oldSize;
        int128 newSize;
        int256 pnl;
        int256 accruedFunding;
    }

    /// @notice ERC-721 account token (Synthetix's AccountProxy).
    SnxAccountNft public immutable accountToken;
    /// @notice The USD stablecoin used as margin.
    IERC20Minimal public immutable collateralToken;
    /// @notice 10^(18 − token decimals): one token unit in 18-decimal USD.
    uint256 public immutable tokenUnitD18;

    uint128 internal _generatedAccounts;
    uint256[] internal _marketIds;
    mapping(uint128 marketId => MarketConfig) internal _config;
    mapping(uint128 marketId => MarketState) internal _markets;
    mapping(uint128 accountId => Account) internal _accounts;
    mapping(uint128 accountId => mapping(uint128 marketId => Position)) internal _positions;

    constructor(address initialOwner, address collateralToken_) Owned(initialOwner) {
        if (collateralToken_ == address(0)) revert ZeroAddress();
        uint8 decimals = IERC20Minimal(collateralToken_).decimals();
        if (decimals > 18) revert InvalidParameter("collateralToken", "more than 18 decimals");
        collateralToken = IERC20Minimal(collateralToken_);
        tokenUnitD18 = 10 ** (18 - decimals);
        accountToken = new SnxAccountNft();
    }

    // ---------------------------------------------------------------------------------------------
    // Accounts
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc IAccountModule
    function createAccount() external returns (uint128 accountId) {
        accountId = ACCOUNT_ID_OFFSET + ++_generatedAccounts;
        _createAccount(accountId);
    }

    /// @inheritdoc IAccountModule
    function createAccount(uint128 requestedAccountId) external {
        if (requestedAccountId == 0 || requestedAccountId >= ACCOUNT_ID_OFFSET) {
            revert InvalidAccountId(requestedAccountId);
        }
        _createAccount(requestedAccountId);
    }

    /// @inheritdoc IAccountModule
    function getAccountOwner(uint128 accountId) public view returns (address) {
        if (!_accounts[accountId].exists) revert AccountNotFound(accountId);
        return accountToken.ownerOf(accountId);
    }

    /// @inheritdoc IAccountModule
    function getAccountTokenAddress() external view returns (address) {
        return address(accountToken);
    }

    // ---------------------------------------------------------------------------------------------
    // Collateral
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc IPerpsAccountModule
    function modifyCollateral(uint128 accountId, uint128 synthMarketId, int256 amountDelta) external nonReentrant {
        uint128 collateralId = synthMarketId;
        _requireOwner(accountId, PERM_MODIFY_COLLATERAL);
        if (collateralId != 0) revert InvalidCollateralId(collateralId);
        if (amountDelta == 0) revert InvalidAmountDelta(amountDelta);
        uint256 amount = amountDelta.abs();
        if (amount % tokenUnitD18 != 0) revert AmountNotTokenAligned(amountDelta, tokenUnitD18);
        Account storage account = _accounts[accountId];

        if (amountDelta > 0) {
            account.collateral += amount;
            emit CollateralModified(accountId, collateralId, amountDelta, msg.sender);
            collateralToken.safeTransferFrom(msg.sender, address(this), amount / tokenUnitD18);
            return;
        }

        if (amount > account.collateral) revert InsufficientCollateral(collateralId, account.collateral, amount);
        Margins memory m = _accountMargins(accountId);
        if (account.openMarkets.length != 0 && m.available < int256(m.maintenance)) {
            revert AccountLiquidatable(accountId);
        }
        int256 withdrawable = m.available - int256(m.initial);
        if (withdrawable < int256(amount)) {
            revert InsufficientCollateralAvailableForWithdraw(withdrawable > 0 ? uint256(withdrawable) : 0, amount);
        }
        account.collateral -= amount;
        emit CollateralModified(accountId, collateralId, amountDelta, msg.sender);
        collateralToken.safeTransfer(msg.sender, amount / tokenUnitD18);
    }

    // ---------------------------------------------------------------------------------------------
    // Orders
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc IAsyncOrderModule
    function commitOrder(AsyncOrder.OrderCommitmentRequest memory commitment)
        external
        nonReentrant
        returns (AsyncOrder.Data memory retOrder, uint256 fees)
    {
        uint128 marketId = commitment.marketId;
        uint128 accountId = commitment.accountId;
        _requireTradable(marketId);
        _requireOwner(accountId, PERM_COMMIT_ORDER);
        if (commitment.sizeDelta == 0) revert ZeroSizeOrder();
        if (commitment.settlementStrategyId != 0) revert InvalidSettlementStrategy(commitment.settlementStrategyId);
        if (_isLiquidatable(accountId)) revert AccountLiquidatable(accountId);

        emit OrderCommitted(
            marketId,
            accountId,
            0,
            commitment.sizeDelta,
            commitment.acceptablePrice,
            block.timestamp,
            block.timestamp,
            block.timestamp,
            block.timestamp,
            commitment.trackingCode,
            msg.sender
        );

        SettleRuntime memory r = _settle(commitment);

        // Exposure-increasing orders must leave the account above its initial margin.
        if (VenueMath.abs(r.newSize) > VenueMath.abs(r.oldSize) || (r.oldSize > 0) != (r.newSize > 0)) {
            if (r.newSize != 0) {
                Margins memory m = _accountMargins(accountId);
                if (m.available < int256(m.initial)) revert InsufficientMargin(m.available, m.initial);
            }
        }

        emit OrderSettled(
            marketId,
            accountId,
            r.fillPrice,
            r.pnl,
            r.accruedFunding,
            commitment.sizeDelta,
            r.newSize,
            0,
            0,
            0,
            0,
            commitment.trackingCode,
            msg.sender
        );
        retOrder = AsyncOrder.Data({commitmentTime: block.timestamp, request: commitment});
        fees = 0;
    }

    /// @inheritdoc IAsyncOrderModule
    function getOrder(uint128 accountId) external view returns (AsyncOrder.Data memory order) {
        if (!_accounts[accountId].exists) revert AccountNotFound(accountId);
        return order;
    }

    /// @inheritdoc IAsyncOrderModule
    function requiredMarginForOrder(uint128 accountId, uint128 marketId, int128 sizeDelta)
        external
        view
        returns (uint256 requiredMargin)
    {
        _requireTradable(marketId);
        uint128[] storage open = _accounts[accountId].openMarkets;
        bool inList = false;
        uint256 rewards = 0;
        for (uint256 i = 0; i < open.length; i++) {
            int128 positionSize = _positions[accountId][open[i]].size;
            if (open[i] == marketId) {
                positionSize += sizeDelta;
                inList = true;
            }
            if (positionSize == 0) continue;
            (uint256 initial,, uint256 reward) = _positionMargins(open[i], positionSize, _indexPrice(open[i]));
            requiredMargin += initial;
            rewards += reward;
        }
        if (!inList && sizeDelta != 0) {
            (uint256 initial,, uint256 reward) = _positionMargins(marketId, sizeDelta, _indexPrice(marketId));
            requiredMargin += initial;
            rewards += reward;
        }
        requiredMargin += rewards;
    }

    /// @inheritdoc IAsyncOrderModule
    function computeOrderFees(uint128 marketId, int128 sizeDelta)
        external
        view
        returns (uint256 orderFees, uint256 fillPrice_)
    {
        _requireTradable(marketId);
        fillPrice_ = _fillPrice(marketId, sizeDelta, _indexPrice(marketId));
        orderFees = 0;
    }

    // ---------------------------------------------------------------------------------------------
    // Liquidation
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc ILiquidationModule
    function liquidate(uint128 accountId) external nonReentrant returns (uint256 liquidationReward) {
        Account storage account = _accounts[accountId];
        if (!account.exists) revert AccountNotFound(accountId);
        Margins memory m = _accountMargins(accountId);
        if (account.openMarkets.length == 0 || m.available >= int256(m.maintenance)) {
            revert NotEligibleForLiquidation(accountId);
        }
        emit AccountFlaggedForLiquidation(accountId, m.available, m.maintenance, m.maxReward, m.maxReward);

        uint128[] memory markets = account.openMarkets;
        for (uint256 i = 0; i < markets.length; i++) {
            uint128 marketId = markets[i];
            uint256 price = _indexPrice(marketId);
            _recomputeFunding(marketId, price);
            int128 closed = _positions[accountId][marketId].size;
            MarketState storage market = _markets[marketId];
            market.skew -= closed;
            market.size -= VenueMath.abs(closed);
            delete _positions[accountId][marketId];
            emit PositionLiquidated(accountId, marketId, VenueMath.abs(closed), 0);
            emit MarketUpdated(
                marketId, price, market.skew, market.size, -int256(closed), market.lastFundingRate, _velocity(marketId), 0
            );
        }
        delete account.openMarkets;

        uint256 rewardTokens = (m.maxReward < account.collateral ? m.maxReward : account.collateral) / tokenUnitD18;
        liquidationReward = rewardTokens * tokenUnitD18;
        account.collateral = 0;
        account.debt = 0;
        emit AccountLiquidationAttempt(accountId, liquidationReward, true);
        if (rewardTokens != 0) collateralToken.safeTransfer(msg.sender, rewardTokens);
    }

    /// @inheritdoc ILiquidationModule
    function canLiquidate(uint128 accountId) external view returns (bool isEligible) {
        if (!_accounts[accountId].exists) revert AccountNotFound(accountId);
        return _isLiquidatable(accountId);
    }

    // ---------------------------------------------------------------------------------------------
    // Account reads
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc IPerpsAccountModule
    function getCollateralAmount(uint128 accountId, uint128 synthMarketId) external view returns (uint256) {
        return synthMarketId == 0 ? _accounts[accountId].collateral : 0;
    }

    /// @inheritdoc IPerpsAccountModule
    function getAccountCollateralIds(uint128 accountId) external view returns (uint256[] memory ids) {
        ids = new uint256[](_accounts[accountId].collateral == 0 ? 0 : 1);
    }

    /// @inheritdoc IPerpsAccountModule
    function getAccountOpenPositions(uint128 accountId) external view returns (uint256[] memory marketIds) {
        uint128[] storage open = _accounts[accountId].openMarkets;
        marketIds = new uint256[](open.length);
        for (uint256 i = 0; i < open.length; i++) {
            marketIds[i] = open[i];
        }
    }

    /// @inheritdoc IPerpsAccountModule
    function totalCollateralValue(uint128 accountId) external view returns (uint256) {
        return _accounts[accountId].collateral;
    }

    /// @inheritdoc IPerpsAccountModule
    function totalAccountOpenInterest(uint128 accountId) external view returns (uint256 total) {
        uint128[] storage open = _accounts[accountId].openMarkets;
        for (uint256 i = 0; i < open.length; i++) {
            total += VenueMath.abs(_positions[accountId][open[i]].size).mulDecimal(_indexPrice(open[i]));
        }
    }

    /// @inheritdoc IPerpsAccountModule
    function getOpenPosition(uint128 accountId, uint128 marketId)
        external
        view
        returns (int256 totalPnl, int256 accruedFunding, int128 positionSize, uint256 owedInterest)
    {
        _requireMarket(marketId);
        positionSize = _positions[accountId][marketId].size;
        if (positionSize != 0) {
            int256 pnl;
            (pnl, accruedFunding) = _positionPnl(accountId, marketId, _indexPrice(marketId));
            totalPnl = pnl + accruedFunding;
        }
        owedInterest = 0;
    }

    /// @inheritdoc IPerpsAccountModule
    function getOpenPositionSize(uint128 accountId, uint128 marketId) external view returns (int128 positionSize) {
        return _positions[accountId][marketId].size;
    }

    /// @inheritdoc IPerpsAccountModule
    function getAvailableMargin(uint128 accountId) external view returns (int256 availableMargin) {
        return _accountMargins(accountId).available;
    }

    /// @inheritdoc IPerpsAccountModule
    function getWithdrawableMargin(uint128 accountId) external view returns (int256 withdrawableMargin) {
        Margins memory m = _accountMargins(accountId);
        return m.available - int256(m.initial);
    }

    /// @inheritdoc IPerpsAccountModule
    function getRequiredMargins(uint128 accountId)
        external
        view
        returns (uint256 requiredInitialMargin, uint256 requiredMaintenanceMargin, uint256 maxLiquidationReward)
    {
        Margins memory m = _accountMargins(accountId);
        return (m.initial, m.maintenance, m.maxReward);
    }

    /// @inheritdoc IPerpsAccountModule
    function debt(uint128 accountId) external view returns (uint256 accountDebt) {
        return _accounts[accountId].debt;
    }

    // ---------------------------------------------------------------------------------------------
    // Market reads
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc IPerpsMarketModule
    function metadata(uint128 marketId) external view returns (string memory name, string memory symbol) {
        MarketState storage market = _markets[marketId];
        return (market.name, market.symbol);
    }

    /// @inheritdoc IPerpsMarketModule
    function skew(uint128 marketId) external view returns (int256) {
        return _markets[marketId].skew;
    }

    /// @inheritdoc IPerpsMarketModule
    function size(uint128 marketId) external view returns (uint256) {
        return _markets[marketId].size;
    }

    /// @inheritdoc IPerpsMarketModule
    function maxOpenInterest(uint128 marketId) external view returns (uint256) {
        return _config[marketId].maxMarketSize;
    }

    /// @inheritdoc IPerpsMarketModule
    function currentFundingRate(uint128 marketId) external view returns (int256) {
        _requireMarket(marketId);
        return _currentFundingRate(marketId);
    }

    /// @inheritdoc IPerpsMarketModule
    function currentFundingVelocity(uint128 marketId) external view returns (int256) {
        _requireMarket(marketId);
        return _velocity(marketId);
    }

    /// @inheritdoc IPerpsMarketModule
    function indexPrice(uint128 marketId) external view returns (uint256) {
        return _indexPrice(marketId);
    }

    /// @inheritdoc IPerpsMarketModule
    function fillPrice(uint128 marketId, int128 orderSize, uint256 price) external view returns (uint256) {
        _requireMarket(marketId);
        return _fillPrice(marketId, orderSize, price);
    }

    /// @inheritdoc IPerpsMarketModule
    function getMarketSummary(uint128 marketId) external view returns (MarketSummary memory summary) {
        _requireMarket(marketId);
        MarketState storage market = _markets[marketId];
        summary = MarketSummary({
            skew: market.skew,
            size: market.size,
            maxOpenInterest: _config[marketId].maxMarketSize,
            currentFundingRate: _currentFundingRate(marketId),
            currentFundingVelocity: _velocity(marketId),
            indexPrice: _indexPrice(marketId)
        });
    }

    // ---------------------------------------------------------------------------------------------
    // Configuration
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc IPerpsMarketConfiguration
    function createMarket(uint128 requestedMarketId, string memory marketName, string memory marketSymbol)
        external
        onlyOwner
        returns (uint128)
    {
        if (requestedMarketId == 0 || _markets[requestedMarketId].exists) revert InvalidMarket(requestedMarketId);
        MarketState storage market = _markets[requestedMarketId];
        market.exists = true;
        market.name = marketName;
        market.symbol = marketSymbol;
        market.lastFundingTime = block.timestamp;
        _marketIds.push(requestedMarketId);
        emit MarketCreated(requestedMarketId, marketName, marketSymbol);
        return requestedMarketId;
    }

    /// @inheritdoc IPerpsMarketConfiguration
    function setPriceFeed(uint128 marketId, AggregatorV3Interface feed, uint256 heartbeatSec) external onlyOwner {
        _requireMarket(marketId);
        if (address(feed) == address(0)) revert ZeroAddress();
        if (heartbeatSec == 0) revert InvalidParameter("heartbeatSec", "must be > 0");
        _config[marketId].feed = feed;
        _config[marketId].heartbeatSec = heartbeatSec;
        emit MarketChainlinkFeedSet(marketId, address(feed), heartbeatSec);
    }

    /// @inheritdoc IPerpsMarketConfiguration
    function setFundingParameters(uint128 marketId, uint256 skewScale, uint256 maxFundingVelocity)
        external
        onlyOwner
    {
        _requireMarket(marketId);
        // Close the funding period at the old parameters before switching.
        if (address(_config[marketId].feed) != address(0)) _recomputeFunding(marketId, _indexPrice(marketId));
        else _markets[marketId].lastFundingTime = block.timestamp;
        _config[marketId].skewScale = skewScale;
        _config[marketId].maxFundingVelocity = maxFundingVelocity;
        emit FundingParametersSet(marketId, skewScale, maxFundingVelocity);
    }

    /// @inheritdoc IPerpsMarketConfiguration
    function setMaxMarketSize(uint128 marketId, uint256 maxMarketSize) external onlyOwner {
        _requireMarket(marketId);
        _config[marketId].maxMarketSize = maxMarketSize;
        emit MaxMarketSizeSet(marketId, maxMarketSize);
    }

    /// @inheritdoc IPerpsMarketConfiguration
    function setLiquidationParameters(
        uint128 marketId,
        uint256 initialMarginRatioD18,
        uint256 minimumInitialMarginRatioD18,
        uint256 maintenanceMarginScalarD18,
        uint256 flagRewardRatioD18,
        uint256 minimumPositionMargin
    ) external onlyOwner {
        _requireMarket(marketId);
        if (initialMarginRatioD18 == 0 && minimumInitialMarginRatioD18 == 0) {
            revert InvalidParameter("initialMarginRatioD18", "initial margin ratios are both zero");
        }
        if (maintenanceMarginScalarD18 == 0 || maintenanceMarginScalarD18 > 1e18) {
            revert InvalidParameter("maintenanceMarginScalarD18", "must be in (0, 1e18]");
        }
        if (flagRewardRatioD18 >= 1e18) revert InvalidParameter("flagRewardRatioD18", "must be < 1e18");
        MarketConfig storage config = _config[marketId];
        config.initialMarginRatioD18 = initialMarginRatioD18;
        config.minimumInitialMarginRatioD18 = minimumInitialMarginRatioD18;
        config.maintenanceMarginScalarD18 = maintenanceMarginScalarD18;
        config.flagRewardRatioD18 = flagRewardRatioD18;
        config.minimumPositionMargin = minimumPositionMargin;
        config.marginConfigured = true;
        emit LiquidationParametersSet(
            marketId,
            initialMarginRatioD18,
            maintenanceMarginScalarD18,
            minimumInitialMarginRatioD18,
            flagRewardRatioD18,
            minimumPositionMargin
        );
    }

    /// @inheritdoc IPerpsMarketConfiguration
    function getPriceFeed(uint128 marketId) external view returns (address feed, uint256 heartbeatSec) {
        return (address(_config[marketId].feed), _config[marketId].heartbeatSec);
    }

    /// @inheritdoc IPerpsMarketConfiguration
    function getFundingParameters(uint128 marketId)
        external
        view
        returns (uint256 skewScale, uint256 maxFundingVelocity)
    {
        return (_config[marketId].skewScale, _config[marketId].maxFundingVelocity);
    }

    /// @inheritdoc IPerpsMarketConfiguration
    function getMaxMarketSize(uint128 marketId) external view returns (uint256 maxMarketSize) {
        return _config[marketId].maxMarketSize;
    }

    /// @inheritdoc IPerpsMarketConfiguration
    function getLiquidationParameters(uint128 marketId)
        external
        view
        returns (
            uint256 initialMarginRatioD18,
            uint256 minimumInitialMarginRatioD18,
            uint256 maintenanceMarginScalarD18,
            uint256 flagRewardRatioD18,
            uint256 minimumPositionMargin
        )
    {
        MarketConfig storage c = _config[marketId];
        return (
            c.initialMarginRatioD18,
            c.minimumInitialMarginRatioD18,
            c.maintenanceMarginScalarD18,
            c.flagRewardRatioD18,
            c.minimumPositionMargin
        );
    }

    /// @inheritdoc IPerpsMarketConfiguration
    function getMarkets() external view returns (uint256[] memory marketIds) {
        return _marketIds;
    }

    /// @inheritdoc IPerpsMarketConfiguration
    function interestRate() external pure returns (uint128) {
        return 0;
    }

    // ---------------------------------------------------------------------------------------------
    // Internals: settlement
    // ---------------------------------------------------------------------------------------------

    /// @dev Synthetix's settleOrder, minus fees and the keeper: recompute funding, realise the old
    /// position at the fill price, store the new one with the fill price as entry, move skew and size.
    function _settle(AsyncOrder.OrderCommitmentRequest memory c) internal returns (SettleRuntime memory r) {
        MarketState storage market = _markets[c.marketId];
        r.price = _indexPrice(c.marketId);
        r.fillPrice = _fillPrice(c.marketId, c.sizeDelta, r.price);
        if (c.sizeDelta > 0 ? r.fillPrice > c.acceptablePrice : r.fillPrice < c.acceptablePrice) {
            revert AcceptablePriceExceeded(r.fillPrice, c.acceptablePrice);
        }

        _recomputeFunding(c.marketId, r.price);
        Position storage position = _positions[c.accountId][c.marketId];
        r.oldSize = position.size;
        r.newSize = r.oldSize + c.sizeDelta;
        (r.pnl, r.accruedFunding) = _positionPnl(c.accountId, c.marketId, r.fillPrice);

        uint256 newMarketSize = market.size - VenueMath.abs(r.oldSize) + VenueMath.abs(r.newSize);
        int256 newSkew = market.skew + c.sizeDelta;
        _checkOpenInterest(c.marketId, market.skew, market.size, newSkew, newMarketSize);
        market.skew = newSkew;
        market.size = newMarketSize;

        if (r.newSize == 0) {
            delete _positions[c.accountId][c.marketId];
            _removeOpenMarket(c.accountId, c.marketId);
        } else {
            if (r.oldSize == 0) _accounts[c.accountId].openMarkets.push(c.marketId);
            position.size = r.newSize;
            position.latestInteractionPrice = r.fillPrice;
            position.latestInteractionFunding = market.lastFundingValue;
        }
        _realize(c.accountId, r.pnl + r.accruedFunding);

        emit MarketUpdated(
            c.marketId, r.price, newSkew, newMarketSize, c.sizeDelta, market.lastFundingRate, _velocity(c.marketId), 0
        );
    }

    /// @dev Each side's open interest is (size ± skew) / 2; a side that grows must stay ≤ maxMarketSize.
    function _checkOpenInterest(uint128 marketId, int256 oldSkew, uint256 oldSize, int256 newSkew, uint256 newSize)
        internal
        view
    {
        uint256 maxSize = _config[marketId].maxMarketSize;
        int256 oldLong = (int256(oldSize) + oldSkew) / 2;
        int256 newLong = (int256(newSize) + newSkew) / 2;
        int256 oldShort = (int256(oldSize) - oldSkew) / 2;
        int256 newShort = (int256(newSize) - newSkew) / 2;
        if (newLong > oldLong && newLong > int256(maxSize)) revert MaxOpenInterestReached(marketId, maxSize, newLong);
        if (newShort > oldShort && newShort > int256(maxSize)) {
            revert MaxOpenInterestReached(marketId, maxSize, newShort);
        }
    }

    /// @dev Gains pay debt first, then add collateral; losses take collateral first, then become debt.
    function _realize(uint128 accountId, int256 realized) internal {
        Account storage account = _accounts[accountId];
        if (realized >= 0) {
            uint256 gain = uint256(realized);
            if (account.debt >= gain) {
                account.debt -= gain;
            } else {
                account.collateral += gain - account.debt;
                account.debt = 0;
            }
        } else {
            uint256 loss = uint256(-realized);
            if (account.collateral >= loss) {
                account.collateral -= loss;
            } else {
                account.debt += loss - account.collateral;
                account.collateral = 0;
            }
        }
    }

    function _removeOpenMarket(uint128 accountId, uint128 marketId) internal {
        uint128[] storage open = _accounts[accountId].openMarkets;
        for (uint256 i = 0; i < open.length; i++) {
            if (open[i] == marketId) {
                open[i] = open[open.length - 1];
                open.pop();
                return;
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Internals: funding, prices, margins
    // ---------------------------------------------------------------------------------------------

    function _recomputeFunding(uint128 marketId, uint256 price) internal {
        MarketState storage market = _markets[marketId];
        int256 rate = _currentFundingRate(marketId);
        int256 value = _nextFunding(marketId, price);
        market.lastFundingRate = rate;
        market.lastFundingValue = value;
        market.lastFundingTime = block.timestamp;
    }

    /// @dev Days since the last funding recomputation, 18 decimals.
    function _proportionalElapsed(uint128 marketId) internal view returns (int256) {
        return int256(((block.timestamp - _markets[marketId].lastFundingTime) * 1e18) / 1 days);
    }

    function _velocity(uint128 marketId) internal view returns (int256) {
        MarketConfig storage config = _config[marketId];
        if (config.skewScale == 0) return 0;
        int256 pSkew = _markets[marketId].skew.divDecimal(int256(config.skewScale));
        int256 bounded = VenueMath.min(VenueMath.max(-UNIT_INT, pSkew), UNIT_INT);
        return bounded.mulDecimal(int256(config.maxFundingVelocity));
    }

    function _currentFundingRate(uint128 marketId) internal view returns (int256) {
        return _markets[marketId].lastFundingRate + _velocity(marketId).mulDecimal(_proportionalElapsed(marketId));
    }

    /// @dev Funding per unit of size accrued up to now: the last value plus the average rate over the
    /// unrecorded period × elapsed days × price. Negative sign: a positive rate is paid by longs.
    function _nextFunding(uint128 marketId, uint256 price) internal view returns (int256) {
        MarketState storage market = _markets[marketId];
        int256 avgRate = -(market.lastFundingRate + _currentFundingRate(marketId)) / 2;
        int256 unrecorded = avgRate.mulDecimal(_proportionalElapsed(marketId)).mulDecimal(int256(price));
        return market.lastFundingValue + unrecorded;
    }

    function _fillPrice(uint128 marketId, int128 sizeDelta, uint256 price) internal view returns (uint256) {
        uint256 skewScale = _config[marketId].skewScale;
        if (skewScale == 0) return price;
        int256 skewBefore = _markets[marketId].skew;
        int256 pdBefore = skewBefore.divDecimal(int256(skewScale));
        int256 pdAfter = (skewBefore + sizeDelta).divDecimal(int256(skewScale));
        int256 priceBefore = int256(price) + int256(price).mulDecimal(pdBefore);
        int256 priceAfter = int256(price) + int256(price).mulDecimal(pdAfter);
        int256 fill = (priceBefore + priceAfter) / 2;
        return fill > 0 ? uint256(fill) : 0;
    }

    function _indexPrice(uint128 marketId) internal view returns (uint256) {
        MarketConfig storage config = _config[marketId];
        if (address(config.feed) == address(0)) revert PriceFeedNotSet(marketId);
        return ChainlinkPrice.read18(config.feed, config.heartbeatSec);
    }

    /// @dev Price PnL against the entry and funding accrued since the last interaction, both at `price`.
    function _positionPnl(uint128 accountId, uint128 marketId, uint256 price)
        internal
        view
        returns (int256 pnl, int256 accruedFunding)
    {
        Position storage position = _positions[accountId][marketId];
        if (position.size == 0) return (0, 0);
        int256 sizeD18 = int256(position.size);
        pnl = sizeD18.mulDecimal(int256(price) - int256(position.latestInteractionPrice));
        accruedFunding = sizeD18.mulDecimal(_nextFunding(marketId, price) - position.latestInteractionFunding);
    }

    function _accountMargins(uint128 accountId) internal view returns (Margins memory m) {
        Account storage account = _accounts[accountId];
        int256 totalPnl = 0;
        for (uint256 i = 0; i < account.openMarkets.length; i++) {
            uint128 marketId = account.openMarkets[i];
            uint256 price = _indexPrice(marketId);
            (int256 pnl, int256 funding) = _positionPnl(accountId, marketId, price);
            totalPnl += pnl + funding;
            (uint256 initial, uint256 maintenance, uint256 reward) =
                _positionMargins(marketId, _positions[accountId][marketId].size, price);
            m.initial += initial;
            m.maintenance += maintenance;
            m.maxReward += reward;
        }
        m.initial += m.maxReward;
        m.maintenance += m.maxReward;
        m.available = int256(account.collateral) + totalPnl - int256(account.debt);
    }

    /// @dev Synthetix PerpsMarketConfiguration.calculateRequiredMargins and the flag reward.
    function _positionMargins(uint128 marketId, int128 positionSize, uint256 price)
        internal
        view
        returns (uint256 initialMargin, uint256 maintenanceMargin, uint256 liquidationReward)
    {
        MarketConfig storage c = _config[marketId];
        uint256 absSize = VenueMath.abs(positionSize);
        uint256 impactOnSkew = c.skewScale == 0 ? 0 : absSize.divDecimal(c.skewScale);
        uint256 initialRatio = impactOnSkew.mulDecimal(c.initialMarginRatioD18) + c.minimumInitialMarginRatioD18;
        uint256 maintenanceRatio = initialRatio.mulDecimal(c.maintenanceMarginScalarD18);
        uint256 notional = absSize.mulDecimal(price);
        initialMargin = notional.mulDecimal(initialRatio) + c.minimumPositionMargin;
        maintenanceMargin = notional.mulDecimal(maintenanceRatio) + c.minimumPositionMargin;
        liquidationReward = notional.mulDecimal(c.flagRewardRatioD18);
    }

    function _isLiquidatable(uint128 accountId) internal view returns (bool) {
        if (_accounts[accountId].openMarkets.length == 0) return false;
        Margins memory m = _accountMargins(accountId);
        return m.available < int256(m.maintenance);
    }

    // ---------------------------------------------------------------------------------------------
    // Internals: access
    // ---------------------------------------------------------------------------------------------

    function _createAccount(uint128 accountId) internal {
        _accounts[accountId].exists = true;
        accountToken.mint(msg.sender, accountId);
        emit AccountCreated(accountId, msg.sender);
    }

    function _requireOwner(uint128 accountId, bytes32 permission) internal view {
        if (!_accounts[accountId].exists) revert AccountNotFound(accountId);
        if (accountToken.ownerOf(accountId) != msg.sender) revert PermissionDenied(accountId, permission, msg.sender);
    }

    function _requireMarket(uint128 marketId) internal view {
        if (!_markets[marketId].exists) revert InvalidMarket(marketId);
    }

    function _requireTradable(uint128 marketId) internal view {
        if (
            !_markets[marketId].exists || address(_config[marketId].feed) == address(0)
                || !_config[marketId].marginConfigured
        ) revert InvalidMarket(marketId);
    }
}
