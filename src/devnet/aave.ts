/**
 * Deploys a real Aave V3 market (v3.0.2 bytecode from `@aave/core-v3`) the way Aave deploys its L2
 * markets: PoolAddressesProvider → ACLManager → logic libraries → L2Pool and PoolConfigurator
 * implementations (libraries linked in) behind the provider's proxies → AaveOracle over Chainlink
 * feeds → data providers → token implementations → one DefaultReserveInterestRateStrategy and one
 * `initReserves` per asset → risk parameters through the PoolConfigurator, as a risk admin would.
 * PriceOracleSentinel watches the sequencer uptime feed, as on OP Mainnet.
 *
 * Nothing here reimplements Aave: every contract is Aave's compiled bytecode; we only call its
 * public configuration functions. ABIs are the generated typed ones.
 */
import { encodeDeployData, type Abi, type Address, type Hex } from 'viem';
import {
  aaveACLManagerAbi,
  aavePoolAbi,
  aavePoolAddressesProviderAbi,
  aavePoolConfiguratorAbi,
} from '../contracts/generated';
import {
  ASSET_SYMBOLS,
  type AaveMarketInfo,
  type AaveReserveInfo,
  type AssetSymbol,
  type TokenInfo,
} from '../config/manifest';
import { aaveArtifact, linkBytecode, type HardhatArtifact } from './artifacts';
import { deployRaw, write, type DevnetClients } from './chain';
import type { DeployedFeeds } from './feeds';
import { AAVE_BASE_CURRENCY_UNIT, ASSETS, SEQUENCER_GRACE_PERIOD_SEC } from './params';

const MARKET_ID = 'netmargin local (Aave V3 Optimism parameters)';

const LIBRARIES = [
  'BorrowLogic',
  'BridgeLogic',
  'ConfiguratorLogic',
  'EModeLogic',
  'LiquidationLogic',
  'PoolLogic',
  'SupplyLogic',
  // FlashLoanLogic links BorrowLogic, so it comes after it.
  'FlashLoanLogic',
] as const;

async function deployArtifact(
  c: DevnetClients,
  from: Address,
  art: HardhatArtifact,
  args: readonly unknown[],
  libraries: Record<string, Address> = {},
): Promise<Address> {
  const bytecode: Hex =
    Object.keys(art.linkReferences).length > 0 ? linkBytecode(art, libraries) : art.bytecode;
  const data = encodeDeployData({ abi: art.abi as Abi, bytecode, args } as Parameters<
    typeof encodeDeployData
  >[0]);
  return deployRaw(c, from, data, art.contractName);
}

type ConfiguratorFn =
  | 'configureReserveAsCollateral'
  | 'setReserveBorrowing'
  | 'setReserveFactor'
  | 'setSupplyCap'
  | 'setBorrowCap'
  | 'setReserveFlashLoaning'
  | 'setLiquidationProtocolFee';

const core = (dir: string, name: string): HardhatArtifact => aaveArtifact('@aave/core-v3', dir, name);

export async function deployAaveMarket(
  c: DevnetClients,
  admin: Address,
  tokens: Record<AssetSymbol, TokenInfo>,
  feeds: DeployedFeeds,
): Promise<AaveMarketInfo> {
  const provider = await deployArtifact(c, admin, core('protocol/configuration', 'PoolAddressesProvider'), [
    MARKET_ID,
    admin,
  ]);
  await write(c, admin, provider, aavePoolAddressesProviderAbi, 'setACLAdmin', [admin]);
  const aclManager = await deployArtifact(c, admin, core('protocol/configuration', 'ACLManager'), [provider]);
  await write(c, admin, provider, aavePoolAddressesProviderAbi, 'setACLManager', [aclManager]);
  await write(c, admin, aclManager, aaveACLManagerAbi, 'addPoolAdmin', [admin]);
  await write(c, admin, aclManager, aaveACLManagerAbi, 'addEmergencyAdmin', [admin]);
  await write(c, admin, aclManager, aaveACLManagerAbi, 'addRiskAdmin', [admin]);

  const libraries: Record<string, Address> = {};
  for (const lib of LIBRARIES) {
    libraries[lib] = await deployArtifact(c, admin, core('protocol/libraries/logic', lib), [], libraries);
  }

  // L2Pool, as on OP Mainnet: the Pool plus calldata-packed entry points (see L2Encoder).
  const poolImpl = await deployArtifact(c, admin, core('protocol/pool', 'L2Pool'), [provider], libraries);
  await write(c, admin, provider, aavePoolAddressesProviderAbi, 'setPoolImpl', [poolImpl]);
  const pool = await c.publicClient.readContract({
    address: provider,
    abi: aavePoolAddressesProviderAbi,
    functionName: 'getPool',
  });

  const configuratorImpl = await deployArtifact(
    c,
    admin,
    core('protocol/pool', 'PoolConfigurator'),
    [],
    libraries,
  );
  await write(c, admin, provider, aavePoolAddressesProviderAbi, 'setPoolConfiguratorImpl', [
    configuratorImpl,
  ]);
  const poolConfigurator = await c.publicClient.readContract({
    address: provider,
    abi: aavePoolAddressesProviderAbi,
    functionName: 'getPoolConfigurator',
  });

  const oracle = await deployArtifact(c, admin, core('misc', 'AaveOracle'), [
    provider,
    ASSET_SYMBOLS.map((s) => tokens[s].address),
    ASSET_SYMBOLS.map((s) => feeds.prices[s].address),
    '0x0000000000000000000000000000000000000000', // no fallback oracle
    '0x0000000000000000000000000000000000000000', // base currency: USD
    AAVE_BASE_CURRENCY_UNIT,
  ]);
  await write(c, admin, provider, aavePoolAddressesProviderAbi, 'setPriceOracle', [oracle]);

  const protocolDataProvider = await deployArtifact(c, admin, core('misc', 'AaveProtocolDataProvider'), [
    provider,
  ]);
  await write(c, admin, provider, aavePoolAddressesProviderAbi, 'setPoolDataProvider', [
    protocolDataProvider,
  ]);

  const priceOracleSentinel = await deployArtifact(
    c,
    admin,
    core('protocol/configuration', 'PriceOracleSentinel'),
    [provider, feeds.sequencerUptime.address, SEQUENCER_GRACE_PERIOD_SEC],
  );
  await write(c, admin, provider, aavePoolAddressesProviderAbi, 'setPriceOracleSentinel', [
    priceOracleSentinel,
  ]);

  const l2Encoder = await deployArtifact(c, admin, core('misc', 'L2Encoder'), [pool]);
  const uiPoolDataProvider = await deployArtifact(
    c,
    admin,
    aaveArtifact('@aave/periphery-v3', 'misc', 'UiPoolDataProviderV3'),
    [feeds.prices.WETH.address, feeds.prices.USDC.address],
  );

  const aTokenImpl = await deployArtifact(c, admin, core('protocol/tokenization', 'AToken'), [pool]);
  const variableDebtImpl = await deployArtifact(
    c,
    admin,
    core('protocol/tokenization', 'VariableDebtToken'),
    [pool],
  );
  const stableDebtImpl = await deployArtifact(c, admin, core('protocol/tokenization', 'StableDebtToken'), [
    pool,
  ]);

  // The treasury only receives aTokens from the reserve factor; the admin account stands in for
  // Aave's Collector contract.
  const treasury = admin;
  const strategyArt = core('protocol/pool', 'DefaultReserveInterestRateStrategy');
  const strategies = {} as Record<AssetSymbol, Address>;
  for (const sym of ASSET_SYMBOLS) {
    const r = ASSETS[sym].rates;
    strategies[sym] = await deployArtifact(c, admin, strategyArt, [
      provider,
      r.optimalUsageRatioRay,
      r.baseVariableBorrowRateRay,
      r.variableRateSlope1Ray,
      r.variableRateSlope2Ray,
      r.stableRateSlope1Ray,
      r.stableRateSlope2Ray,
      r.baseStableRateOffsetRay,
      r.stableRateExcessOffsetRay,
      r.optimalStableToTotalDebtRatioRay,
    ]);
  }

  await write(
    c,
    admin,
    poolConfigurator,
    aavePoolConfiguratorAbi,
    'initReserves',
    [
      ASSET_SYMBOLS.map((sym) => ({
        aTokenImpl,
        stableDebtTokenImpl: stableDebtImpl,
        variableDebtTokenImpl: variableDebtImpl,
        underlyingAssetDecimals: tokens[sym].decimals,
        interestRateStrategyAddress: strategies[sym],
        underlyingAsset: tokens[sym].address,
        treasury,
        incentivesController: '0x0000000000000000000000000000000000000000' as Address,
        aTokenName: `Aave Local ${sym}`,
        aTokenSymbol: `aLoc${sym}`,
        variableDebtTokenName: `Aave Local Variable Debt ${sym}`,
        variableDebtTokenSymbol: `variableDebtLoc${sym}`,
        stableDebtTokenName: `Aave Local Stable Debt ${sym}`,
        stableDebtTokenSymbol: `stableDebtLoc${sym}`,
        params: '0x' as Hex,
      })),
    ],
    { label: 'PoolConfigurator.initReserves' },
  );

  const reserves = {} as Record<AssetSymbol, AaveReserveInfo>;
  for (const sym of ASSET_SYMBOLS) {
    const p = ASSETS[sym];
    const asset = tokens[sym].address;
    const cfg = (fn: ConfiguratorFn, args: readonly unknown[]): Promise<unknown> =>
      // The typed ABI cannot narrow a union of function names; argument shapes are checked by viem at encode time.
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      write(c, admin, poolConfigurator, aavePoolConfiguratorAbi, fn as any, args as any, {
        label: `${fn}(${sym})`,
      });
    await cfg('configureReserveAsCollateral', [
      asset,
      BigInt(p.ltvBps),
      BigInt(p.liquidationThresholdBps),
      BigInt(p.liquidationBonusBps),
    ]);
    await cfg('setReserveBorrowing', [asset, true]);
    await cfg('setReserveFactor', [asset, BigInt(p.reserveFactorBps)]);
    await cfg('setSupplyCap', [asset, p.supplyCap]);
    await cfg('setBorrowCap', [asset, p.borrowCap]);
    await cfg('setReserveFlashLoaning', [asset, true]);
    await cfg('setLiquidationProtocolFee', [asset, BigInt(p.liquidationProtocolFeeBps)]);

    const data = await c.publicClient.readContract({
      address: pool,
      abi: aavePoolAbi,
      functionName: 'getReserveData',
      args: [asset],
    });
    reserves[sym] = {
      aToken: data.aTokenAddress,
      variableDebtToken: data.variableDebtTokenAddress,
      stableDebtToken: data.stableDebtTokenAddress,
      interestRateStrategy: data.interestRateStrategyAddress,
      ltvBps: p.ltvBps,
      liquidationThresholdBps: p.liquidationThresholdBps,
      liquidationBonusBps: p.liquidationBonusBps,
      reserveFactorBps: p.reserveFactorBps,
      supplyCap: p.supplyCap.toString(),
      borrowCap: p.borrowCap.toString(),
    };
  }

  return {
    poolAddressesProvider: provider,
    pool,
    poolImpl,
    poolConfigurator,
    aclManager,
    oracle,
    protocolDataProvider,
    priceOracleSentinel,
    l2Encoder,
    uiPoolDataProvider,
    treasury,
    baseCurrencyUnit: AAVE_BASE_CURRENCY_UNIT.toString(),
    libraries,
    reserves,
  };
}
