/**
 * The perps venue (Synthetix v3 Perps shape, contracts/src/venues/synthetix): one market contract with
 * markets ETH (100), BTC (200), OP (300) priced by the same Chainlink feeds as Aave and backed by a USDC
 * balance (the LP pool of the real venue). Personas open accounts with a chosen id (1000 + their
 * mnemonic index), deposit USDC margin and trade through `commitOrder`, as a user would.
 */
import { snxPerpsMarketAbi, snxPerpsMarketBytecode } from '../contracts/generated';
import type { AssetSymbol, VenueInfo } from '../config/manifest';
import { parseDecimalUnits } from '../common/amount';
import { write, type DevnetClients } from './chain';
import { erc20MintAbi } from './feeds';
import type { PerpMarketSymbol } from './personas';
import {
  D18,
  deployContract,
  MAX_UINT,
  sizeD18,
  VENUE_HEARTBEAT_SEC,
  ZERO_ADDRESS,
  type VenueAccounts,
  type VenueContext,
} from './venue-common';

export const PERP_MARKETS: Record<
  PerpMarketSymbol,
  {
    id: bigint;
    name: string;
    feed: AssetSymbol;
    skewScale: bigint;
    maxMarketSize: bigint;
    minimumInitialMarginRatioD18: bigint;
  }
> = {
  ETH: {
    id: 100n,
    name: 'Ether',
    feed: 'WETH',
    skewScale: 1_000_000n * D18,
    maxMarketSize: 100_000n * D18,
    minimumInitialMarginRatioD18: (5n * D18) / 100n,
  },
  BTC: {
    id: 200n,
    name: 'Bitcoin',
    feed: 'WBTC',
    skewScale: 35_000n * D18,
    maxMarketSize: 2_000n * D18,
    minimumInitialMarginRatioD18: (5n * D18) / 100n,
  },
  OP: {
    id: 300n,
    name: 'Optimism',
    feed: 'OP',
    skewScale: 50_000_000n * D18,
    maxMarketSize: 10_000_000n * D18,
    minimumInitialMarginRatioD18: (10n * D18) / 100n,
  },
};
const PERP_INITIAL_MARGIN_RATIO_D18 = 2n * D18;
const PERP_MAINTENANCE_SCALAR_D18 = D18 / 2n;
const PERP_FLAG_REWARD_RATIO_D18 = (5n * D18) / 10_000n;
const PERP_MIN_POSITION_MARGIN_USD18 = 10n * D18;
const PERP_MAX_FUNDING_VELOCITY_D18 = 9n * D18;
/** USDC held by the perps contract to pay winners (the LP pool of the real venue). */
const PERP_POOL_USDC = '50000000';

export async function deployPerps(
  c: DevnetClients,
  ctx: VenueContext,
  accounts: VenueAccounts,
): Promise<VenueInfo> {
  const { deployer, tokens, feeds } = ctx;
  const market = await deployContract(
    c,
    deployer,
    snxPerpsMarketAbi,
    snxPerpsMarketBytecode,
    [deployer, tokens.USDC.address],
    'SnxPerpsMarket',
  );
  for (const [sym, p] of Object.entries(PERP_MARKETS)) {
    await write(c, deployer, market, snxPerpsMarketAbi, 'createMarket', [p.id, p.name, sym]);
    await write(c, deployer, market, snxPerpsMarketAbi, 'setPriceFeed', [
      p.id,
      feeds.prices[p.feed].address,
      BigInt(VENUE_HEARTBEAT_SEC),
    ]);
    await write(c, deployer, market, snxPerpsMarketAbi, 'setFundingParameters', [
      p.id,
      p.skewScale,
      PERP_MAX_FUNDING_VELOCITY_D18,
    ]);
    await write(c, deployer, market, snxPerpsMarketAbi, 'setMaxMarketSize', [p.id, p.maxMarketSize]);
    await write(c, deployer, market, snxPerpsMarketAbi, 'setLiquidationParameters', [
      p.id,
      PERP_INITIAL_MARGIN_RATIO_D18,
      p.minimumInitialMarginRatioD18,
      PERP_MAINTENANCE_SCALAR_D18,
      PERP_FLAG_REWARD_RATIO_D18,
      PERP_MIN_POSITION_MARGIN_USD18,
    ]);
  }
  await write(c, deployer, tokens.USDC.address, erc20MintAbi, 'mint', [
    market,
    parseDecimalUnits('perps pool', PERP_POOL_USDC, tokens.USDC.decimals),
  ]);
  const usdcToD18 = 10n ** BigInt(18 - tokens.USDC.decimals);

  for (const { persona: p, address } of ctx.personas) {
    if (!p.perps) continue;
    const accountId = 1_000n + BigInt(p.mnemonicIndex);
    await write(c, address, market, snxPerpsMarketAbi, 'createAccount', [accountId], {
      label: `${p.persona} creates perps account`,
    });
    accounts.perps.set(p.persona, accountId);
    const margin = parseDecimalUnits(
      `${p.persona}.perps.marginUsdc`,
      p.perps.marginUsdc,
      tokens.USDC.decimals,
    );
    await write(c, address, tokens.USDC.address, erc20MintAbi, 'approve', [market, margin]);
    await write(
      c,
      address,
      market,
      snxPerpsMarketAbi,
      'modifyCollateral',
      [accountId, 0n, margin * usdcToD18],
      {
        label: `${p.persona} deposits perps margin`,
      },
    );
    for (const [sym, size] of p.perps.positions) {
      const sizeDelta = sizeD18(size, `${p.persona}.perps.${sym}`);
      await write(
        c,
        address,
        market,
        snxPerpsMarketAbi,
        'commitOrder',
        [
          {
            marketId: PERP_MARKETS[sym].id,
            accountId,
            sizeDelta,
            settlementStrategyId: 0n,
            acceptablePrice: sizeDelta > 0n ? MAX_UINT : 0n,
            trackingCode: '0x6e65746d617267696e2d6465766e657400000000000000000000000000000000',
            referrer: ZERO_ADDRESS,
          },
        ],
        { label: `${p.persona} trades ${size} ${sym}-PERP` },
      );
    }
  }
  const accountToken = await c.publicClient.readContract({
    address: market,
    abi: snxPerpsMarketAbi,
    functionName: 'getAccountTokenAddress',
  });
  return {
    contracts: { perpsMarket: market, accountToken },
    markets: Object.entries(PERP_MARKETS).map(([sym, p]) => ({
      id: `${sym}-PERP`,
      underlying: sym,
      key: p.id.toString(),
    })),
  };
}
