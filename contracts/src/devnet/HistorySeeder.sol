// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AsyncOrder} from "../venues/synthetix/interfaces/AsyncOrder.sol";
import {IAsset} from "../venues/derive/interfaces/IAsset.sol";
import {IManager} from "../venues/derive/interfaces/IManager.sol";
import {ISubAccounts} from "../venues/derive/interfaces/ISubAccounts.sol";

/// @notice The Aave V3 pool entry point the seeder calls (real `L2Pool` bytecode on the devnet).
interface ISeederAavePool {
    function supply(address asset, uint256 amount, address onBehalfOf, uint16 referralCode) external;
}

/// @notice The devnet test tokens: Aave's `MintableERC20` / `WETH9Mocked` mint to anyone (their `bool`
/// result is not read, so tokens whose `mint` returns nothing work too).
interface ISeederToken {
    function mint(address account, uint256 value) external;
    function approve(address spender, uint256 value) external returns (bool);
}

/// @notice The perps venue calls the seeder makes (Synthetix v3 Perps ABI).
interface ISeederPerps {
    function createAccount() external returns (uint128 accountId);
    function modifyCollateral(uint128 accountId, uint128 synthMarketId, int256 amountDelta) external;
    function commitOrder(AsyncOrder.OrderCommitmentRequest memory commitment)
        external
        returns (AsyncOrder.Data memory retOrder, uint256 fees);
    function getAccountTokenAddress() external view returns (address);
}

/// @notice ERC-721 transfer of venue account tokens.
interface ISeederAccountToken {
    function transferFrom(address from, address to, uint256 tokenId) external;
}

/// @notice The options venue's cash asset (Derive `CashAsset`).
interface ISeederCash {
    function deposit(uint256 recipientAccount, uint256 amount) external;
}

/// @title HistorySeeder
/// @notice DEVNET TOOL, never deployed elsewhere: writes a large protocol history in few transactions for
/// the indexer benchmark. It drives the real protocol contracts through their public entry points, exactly
/// as users would, many owners per call: Aave V3 `supply(asset, amount, onBehalfOf, 0)` on the owners'
/// behalf; perps accounts it creates, funds and trades itself, then hands to the owners by ERC-721
/// transfer; options subaccounts it creates, funds and trades against its own market-maker subaccount,
/// then hands over the same way. Tokens come from the test tokens' public `mint`.
contract HistorySeeder {
    /// @notice One option leg of a subaccount: the user side's signed amount (18 decimals).
    struct OptionLeg {
        IAsset optionAsset;
        uint256 subId;
        int256 amount;
    }

    address public immutable operator;
    ISeederAavePool public immutable pool;
    ISeederPerps public immutable perps;
    ISeederAccountToken public immutable perpsAccountToken;
    ISubAccounts public immutable subAccounts;
    ISeederCash public immutable cash;
    ISeederToken public immutable usdc;
    /// @notice The seeder's own options subaccount: the other side of every option leg.
    uint256 public immutable marketMakerAccount;

    /// @notice Only the deploying account drives the seeder.
    error OnlyOperator(address caller);
    /// @notice Array arguments of different lengths.
    error LengthMismatch();

    /// @notice One owner seeded in one protocol (emitted once per owner and protocol, for progress).
    event Seeded(address indexed owner, uint8 indexed protocol, uint256 accountId);

    constructor(
        ISeederAavePool pool_,
        ISeederPerps perps_,
        ISubAccounts subAccounts_,
        ISeederCash cash_,
        ISeederToken usdc_
    ) {
        operator = msg.sender;
        pool = pool_;
        perps = perps_;
        perpsAccountToken = ISeederAccountToken(perps_.getAccountTokenAddress());
        subAccounts = subAccounts_;
        cash = cash_;
        usdc = usdc_;
        marketMakerAccount = subAccounts_.createAccount(address(this), IManager(address(0)));
        usdc_.approve(address(perps_), type(uint256).max);
        usdc_.approve(address(cash_), type(uint256).max);
    }

    modifier onlyOperator() {
        if (msg.sender != operator) revert OnlyOperator(msg.sender);
        _;
    }

    /// @notice Supplies `amounts[j]` of `assets[j]` to Aave on behalf of every owner (`Supply`, and
    /// `ReserveUsedAsCollateralEnabled` on an owner's first supply of an asset).
    function supplyAave(address[] calldata owners, address[] calldata assets, uint256[] calldata amounts)
        external
        onlyOperator
    {
        if (assets.length != amounts.length) revert LengthMismatch();
        for (uint256 j = 0; j < assets.length; j++) {
            ISeederToken(assets[j]).mint(address(this), amounts[j] * owners.length);
            ISeederToken(assets[j]).approve(address(pool), amounts[j] * owners.length);
        }
        for (uint256 i = 0; i < owners.length; i++) {
            for (uint256 j = 0; j < assets.length; j++) {
                pool.supply(assets[j], amounts[j], owners[i], 0);
            }
            emit Seeded(owners[i], 0, 0);
        }
    }

    /// @notice Per owner: a new perps account with `marginUsd18` of USDC margin, one order of `sizes[i]`
    /// on `marketIds[i]`, then the account token transferred to the owner.
    function openPerps(
        address[] calldata owners,
        uint128[] calldata marketIds,
        int128[] calldata sizes,
        uint256 marginUsd18,
        uint256 marginTokenUnits
    ) external onlyOperator {
        if (owners.length != marketIds.length || owners.length != sizes.length) {
            revert LengthMismatch();
        }
        usdc.mint(address(this), marginTokenUnits * owners.length);
        for (uint256 i = 0; i < owners.length; i++) {
            uint128 id = perps.createAccount();
            perps.modifyCollateral(id, 0, int256(marginUsd18));
            perps.commitOrder(
                AsyncOrder.OrderCommitmentRequest({
                    marketId: marketIds[i],
                    accountId: id,
                    sizeDelta: sizes[i],
                    settlementStrategyId: 0,
                    acceptablePrice: sizes[i] > 0 ? type(uint256).max : 0,
                    trackingCode: bytes32("netmargin-bench"),
                    referrer: address(0)
                })
            );
            perpsAccountToken.transferFrom(address(this), owners[i], id);
            emit Seeded(owners[i], 1, id);
        }
    }

    /// @notice Per owner: a new options subaccount with `cashTokenUnits` of USDC cash, one option leg
    /// against the seeder's market-maker subaccount paid with `premiumD18` of cash, then the subaccount
    /// token transferred to the owner. `premiumD18` must not exceed the cash, so no balance goes negative.
    function openOptions(
        address[] calldata owners,
        OptionLeg[] calldata legs,
        uint256 cashTokenUnits,
        int256 premiumD18
    ) external onlyOperator {
        if (owners.length != legs.length) revert LengthMismatch();
        usdc.mint(address(this), cashTokenUnits * owners.length);
        ISubAccounts.AssetTransfer[] memory transfers = new ISubAccounts.AssetTransfer[](2);
        for (uint256 i = 0; i < owners.length; i++) {
            uint256 id = subAccounts.createAccount(address(this), IManager(address(0)));
            cash.deposit(id, cashTokenUnits);
            OptionLeg calldata leg = legs[i];
            bool userBuys = leg.amount > 0;
            int256 contracts = userBuys ? leg.amount : -leg.amount;
            transfers[0] = ISubAccounts.AssetTransfer({
                fromAcc: userBuys ? marketMakerAccount : id,
                toAcc: userBuys ? id : marketMakerAccount,
                asset: leg.optionAsset,
                subId: leg.subId,
                amount: contracts,
                assetData: bytes32(0)
            });
            transfers[1] = ISubAccounts.AssetTransfer({
                fromAcc: userBuys ? id : marketMakerAccount,
                toAcc: userBuys ? marketMakerAccount : id,
                asset: IAsset(address(cash)),
                subId: 0,
                amount: premiumD18,
                assetData: bytes32(0)
            });
            subAccounts.submitTransfers(transfers, "");
            ISeederAccountToken(address(subAccounts)).transferFrom(address(this), owners[i], id);
            emit Seeded(owners[i], 2, id);
        }
    }
}
