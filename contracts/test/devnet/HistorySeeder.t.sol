// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {
    HistorySeeder,
    ISeederAavePool,
    ISeederCash,
    ISeederPerps,
    ISeederToken
} from "../../src/devnet/HistorySeeder.sol";
import {DeriveCashAsset} from "../../src/venues/derive/DeriveCashAsset.sol";
import {DeriveOptionAsset} from "../../src/venues/derive/DeriveOptionAsset.sol";
import {DeriveSubAccounts} from "../../src/venues/derive/DeriveSubAccounts.sol";
import {OptionEncoding} from "../../src/venues/derive/OptionEncoding.sol";
import {IAsset} from "../../src/venues/derive/interfaces/IAsset.sol";
import {ISubAccounts} from "../../src/venues/derive/interfaces/ISubAccounts.sol";
import {MockERC20} from "../utils/MockERC20.sol";
import {PerpsBase} from "../perps/PerpsBase.sol";

/// @notice Records Aave-style supplies: pulls the tokens and remembers who they were supplied for.
contract RecordingPool {
    mapping(address asset => mapping(address onBehalfOf => uint256)) public supplied;

    function supply(address asset, uint256 amount, address onBehalfOf, uint16) external {
        MockERC20(asset).transferFrom(msg.sender, address(this), amount);
        supplied[asset][onBehalfOf] += amount;
    }
}

/// @notice The devnet history seeder against the perps and options stand-ins: every owner ends up
/// holding its own account token with the position the seeder opened, option legs and premiums go the
/// right way, and only the operator can drive it.
contract HistorySeederTest is PerpsBase {
    DeriveSubAccounts internal subAccounts;
    DeriveCashAsset internal cash;
    DeriveOptionAsset internal option;
    RecordingPool internal pool;
    MockERC20 internal weth;
    HistorySeeder internal seeder;
    uint96 internal call2000;

    function setUp() public override {
        super.setUp();
        subAccounts = new DeriveSubAccounts(admin);
        cash = new DeriveCashAsset(address(subAccounts), address(usdc));
        option = new DeriveOptionAsset(address(subAccounts), "ETH");
        pool = new RecordingPool();
        weth = new MockERC20("Wrapped Ether", "WETH", 18);
        call2000 = OptionEncoding.toSubId(block.timestamp + 7 days, 2000e18, true);
        seeder = new HistorySeeder(
            ISeederAavePool(address(pool)),
            ISeederPerps(address(market)),
            ISubAccounts(address(subAccounts)),
            ISeederCash(address(cash)),
            ISeederToken(address(usdc))
        );
    }

    function _owners(uint256 n) internal pure returns (address[] memory owners) {
        owners = new address[](n);
        for (uint256 i = 0; i < n; i++) {
            owners[i] = address(uint160(0xB000 + i));
        }
    }

    function test_supplyAave_suppliesEveryAssetOnBehalfOfEveryOwner() public {
        address[] memory owners = _owners(3);
        address[] memory assets = new address[](2);
        assets[0] = address(usdc);
        assets[1] = address(weth);
        uint256[] memory amounts = new uint256[](2);
        amounts[0] = 100e6;
        amounts[1] = 0.01e18;
        seeder.supplyAave(owners, assets, amounts);
        for (uint256 i = 0; i < owners.length; i++) {
            assertEq(pool.supplied(address(usdc), owners[i]), 100e6, "USDC supplied for the owner");
            assertEq(pool.supplied(address(weth), owners[i]), 0.01e18, "WETH supplied for the owner");
        }
        assertEq(pool.supplied(address(usdc), address(seeder)), 0, "nothing supplied for the seeder");
    }

    function test_openPerps_handsEachOwnerAFundedAccountWithItsPosition() public {
        address[] memory owners = _owners(3);
        uint128[] memory marketIds = new uint128[](3);
        int128[] memory sizes = new int128[](3);
        for (uint256 i = 0; i < 3; i++) {
            marketIds[i] = ETH;
            sizes[i] = i % 2 == 0 ? int128(0.1e18) : -int128(0.1e18);
        }
        seeder.openPerps(owners, marketIds, sizes, 1000e18, 1000e6);
        assertEq(nft.balanceOf(address(seeder)), 0, "the seeder keeps no perps account");
        for (uint256 i = 0; i < owners.length; i++) {
            assertEq(nft.balanceOf(owners[i]), 1, "one account per owner");
            uint128 id = uint128(nft.tokenOfOwnerByIndex(owners[i], 0));
            assertEq(market.getAccountOwner(id), owners[i], "the market sees the owner");
            assertEq(market.totalCollateralValue(id), 1000e18, "margin deposited");
            assertEq(int256(market.getOpenPositionSize(id, ETH)), int256(sizes[i]), "position opened");
        }
    }

    function test_openOptions_tradesEachLegAgainstTheMarketMakerAndPaysThePremiumTheRightWay() public {
        address[] memory owners = _owners(2);
        HistorySeeder.OptionLeg[] memory legs = new HistorySeeder.OptionLeg[](2);
        legs[0] = HistorySeeder.OptionLeg(IAsset(address(option)), call2000, 0.5e18); // owner 0 buys
        legs[1] = HistorySeeder.OptionLeg(IAsset(address(option)), call2000, -0.5e18); // owner 1 sells
        seeder.openOptions(owners, legs, 500e6, 5e18);
        uint256 mm = seeder.marketMakerAccount();
        assertEq(subAccounts.ownerOf(mm), address(seeder), "the seeder keeps its market-maker account");
        int256[2] memory cashAfter = [int256(495e18), int256(505e18)];
        for (uint256 i = 0; i < 2; i++) {
            uint256 id = mm + 1 + i;
            assertEq(subAccounts.ownerOf(id), owners[i], "subaccount handed to the owner");
            assertEq(subAccounts.getBalance(id, option, call2000), legs[i].amount, "option leg");
            assertEq(subAccounts.getBalance(id, cash, 0), cashAfter[i], "cash after the premium");
        }
        assertEq(subAccounts.getBalance(mm, option, call2000), 0, "the market maker is flat after both legs");
        assertEq(subAccounts.getBalance(mm, cash, 0), 0, "premiums net out at the market maker");
    }

    function test_onlyTheOperatorDrivesTheSeeder() public {
        address[] memory owners = _owners(1);
        address[] memory assets = new address[](0);
        uint256[] memory amounts = new uint256[](0);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(HistorySeeder.OnlyOperator.selector, alice));
        seeder.supplyAave(owners, assets, amounts);
    }
}
