/**
 * Deploys and seeds the two venue stand-ins (contracts/src/venues/, described in docs/venues.md):
 *
 * - perps (Synthetix v3 Perps shape): one market contract, markets ETH (100), BTC (200), OP (300) priced
 *   by the same Chainlink feeds as Aave, backed by a USDC balance (the LP pool). Personas open accounts
 *   with a chosen id, deposit USDC margin and trade through `commitOrder`, as a user would.
 * - options (Derive v2 shape): SubAccounts, USDC cash asset, one option asset per underlying (ETH, BTC),
 *   Derive spot feeds over the Chainlink feeds, and forward / rate / vol feeds the keeper posts to.
 *   Trades are batches submitted by the keeper as the trusted executor (Derive's matching role): the
 *   option leg from/to the market maker's subaccount plus the premium leg in cash.
 *
 * The keeper (anvil account 1) is the only publisher, so the market driver can move every feed.
 */
import { encodeDeployData, type Abi, type Address, type Hex } from 'viem';
import {
  deriveCashAssetAbi,
  deriveCashAssetBytecode,
  deriveForwardFeedAbi,
  deriveForwardFeedBytecode,
  deriveOptionAssetAbi,
  deriveOptionAssetBytecode,
  deriveRateFeedAbi,
  deriveRateFeedBytecode,
  deriveSpotFeedAbi,
  deriveSpotFeedBytecode,
  deriveSubAccountsAbi,
  deriveSubAccountsBytecode,
  deriveVolFeedAbi,
  deriveVolFeedBytecode,
  mockV3AggregatorAbi,
  snxPerpsMarketAbi,
  snxPerpsMarketBytecode,
} from '../contracts/generated';
import type { AssetSymbol, DeploymentManifest, TokenInfo, VenueInfo } from '../config/manifest';
import { NetmarginError } from '../common/errors';
import { parseDecimalUnits } from '../common/amount';
import { confirmAll, deployRaw, sendBatch, write, type BatchCall, type DevnetClients } from './chain';
import { erc20MintAbi, type DeployedFeeds } from './feeds';
import {
  black76,
  forwardPrice,
  listExpiries,
  RATE_ANNUAL,
  sviParams,
  sviVol,
  toD18,
  yearsTo,
  type Underlying,
} from './option-market';
import type { Persona, PerpMarketSymbol } from './personas';

const MAX_UINT = (1n << 256n) - 1n;
const D18 = 10n ** 18n;
const ZERO_BYTES32: Hex = `0x${'00'.repeat(32)}`;
const ZERO: Address = '0x0000000000000000000000000000000000000000';
/** Feed heartbeat on the devnet: a day, so a world left idle stays readable (the driver re-posts). */
export const VENUE_HEARTBEAT_SEC = 86_400;

/** Perp market ids as on Synthetix (ETH 100, BTC 200) plus OP. */
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

export const OPTION_UNDERLYINGS: Underlying[] = ['ETH', 'BTC'];
const UNDERLYING_FEED: Record<Underlying, AssetSymbol> = { ETH: 'WETH', BTC: 'WBTC' };
const OPTIONS_MARKET_MAKER = 'options-market-maker';

export interface VenueContext {
  deployer: Address;
  keeper: Address;
  tokens: Record<AssetSymbol, TokenInfo>;
  feeds: DeployedFeeds;
  personas: { persona: Persona; address: Address }[];
  log: (line: string) => void;
}

export interface VenueAccounts {
  /** Persona name → perps account id. */
  perps: Map<string, bigint>;
  /** Persona name → options subaccount id. */
  options: Map<string, bigint>;
}

async function deploy(
  c: DevnetClients,
  from: Address,
  abi: Abi,
  bytecode: Hex,
  args: readonly unknown[],
  label: string,
) {
  const data = encodeDeployData({ abi, bytecode, args } as Parameters<typeof encodeDeployData>[0]);
  return deployRaw(c, from, data, label);
}

const sizeD18 = (human: string, field: string): bigint => {
  const neg = human.startsWith('-');
  const v = parseDecimalUnits(field, neg ? human.slice(1) : human, 18);
  return neg ? -v : v;
};

// ---------------------------------------------------------------------------------------------------
// Perps

async function deployPerps(c: DevnetClients, ctx: VenueContext, accounts: VenueAccounts): Promise<VenueInfo> {
  const { deployer, tokens, feeds } = ctx;
  const market = await deploy(
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
            referrer: ZERO,
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

// ---------------------------------------------------------------------------------------------------
// Options

interface OptionFeeds {
  optionAsset: Address;
  spotFeed: Address;
  forwardFeed: Address;
  rateFeed: Address;
  volFeed: Address;
}

const prefix = (u: Underlying): string => u.toLowerCase();

/** Reads the options venue's per-underlying contracts back from a manifest. */
function optionFeedsFrom(m: DeploymentManifest, u: Underlying): OptionFeeds | null {
  const k = m.venues.options?.contracts;
  if (!k) return null;
  const p = prefix(u);
  const get = (role: string): Address => {
    const a = k[`${p}${role}`];
    if (!a) {
      throw new NetmarginError(`Manifest has no venues.options.contracts.${p}${role}`, {
        code: 'INVALID_MANIFEST',
        hint: 'Regenerate the manifest with `npm run devnet`.',
      });
    }
    return a;
  };
  return {
    optionAsset: get('OptionAsset'),
    spotFeed: get('SpotFeed'),
    forwardFeed: get('ForwardFeed'),
    rateFeed: get('RateFeed'),
    volFeed: get('VolFeed'),
  };
}

/** Forward, rate and SVI posts for one underlying at `spotUsd8` (Chainlink units), for every live expiry. */
function optionDataCalls(
  u: Underlying,
  f: OptionFeeds,
  expiriesSec: number[],
  spotUsd8: bigint,
  volMultiplier: number,
  nowSec: bigint,
): BatchCall[] {
  const calls: BatchCall[] = [];
  const now = Number(nowSec);
  const spot = Number(spotUsd8) / 1e8;
  for (const expiry of expiriesSec) {
    const tau = yearsTo(expiry, now);
    if (tau <= 0) continue;
    const fwd = forwardPrice(spot, tau);
    const svi = sviParams(u, tau, volMultiplier);
    const e = BigInt(expiry);
    calls.push(
      {
        address: f.forwardFeed,
        abi: deriveForwardFeedAbi,
        functionName: 'setForwardData',
        args: [e, toD18(fwd) - spotUsd8 * 10n ** 10n, D18, nowSec],
        label: `${u} forward ${expiry}`,
      },
      {
        address: f.rateFeed,
        abi: deriveRateFeedAbi,
        functionName: 'setRate',
        args: [e, toD18(RATE_ANNUAL), D18, nowSec],
        label: `${u} rate ${expiry}`,
      },
      {
        address: f.volFeed,
        abi: deriveVolFeedAbi,
        functionName: 'setVolDetails',
        args: [
          e,
          {
            SVI_a: toD18(svi.a),
            SVI_b: toD18(svi.b),
            SVI_rho: toD18(svi.rho),
            SVI_m: toD18(svi.m),
            SVI_sigma: toD18(svi.sigma),
            SVI_fwd: toD18(fwd),
            SVI_refTao: toD18(tau),
            confidence: D18,
            timestamp: nowSec,
          },
        ],
        label: `${u} SVI ${expiry}`,
      },
    );
  }
  return calls;
}

/** Calls that publish forwards, rates and SVI smiles on the options venue (empty without one). */
export function optionsMarketDataCalls(
  m: DeploymentManifest,
  pricesUsd8: Record<AssetSymbol, bigint>,
  volMultiplier: number,
  nowSec: bigint,
): BatchCall[] {
  if (!m.venues.options) return [];
  const calls: BatchCall[] = [];
  for (const u of OPTION_UNDERLYINGS) {
    const f = optionFeedsFrom(m, u);
    const market = m.venues.options.markets.find((x) => x.underlying === u);
    if (!f || !market?.expiriesSec) continue;
    calls.push(
      ...optionDataCalls(u, f, market.expiriesSec, pricesUsd8[UNDERLYING_FEED[u]], volMultiplier, nowSec),
    );
  }
  return calls;
}

async function deployOptions(
  c: DevnetClients,
  ctx: VenueContext,
  accounts: VenueAccounts,
): Promise<VenueInfo> {
  const { deployer, keeper, tokens, feeds } = ctx;
  const hb = BigInt(VENUE_HEARTBEAT_SEC);
  const subAccounts = await deploy(
    c,
    deployer,
    deriveSubAccountsAbi,
    deriveSubAccountsBytecode,
    [deployer],
    'DeriveSubAccounts',
  );
  const cash = await deploy(
    c,
    deployer,
    deriveCashAssetAbi,
    deriveCashAssetBytecode,
    [subAccounts, tokens.USDC.address],
    'DeriveCashAsset',
  );
  await write(c, deployer, subAccounts, deriveSubAccountsAbi, 'setTrustedExecutor', [keeper, true]);

  const contracts: Record<string, Address> = { subAccounts, cashAsset: cash };
  const perUnderlying = {} as Record<Underlying, OptionFeeds>;
  for (const u of OPTION_UNDERLYINGS) {
    const p = prefix(u);
    const optionAsset = await deploy(
      c,
      deployer,
      deriveOptionAssetAbi,
      deriveOptionAssetBytecode,
      [subAccounts, u],
      `${u} options`,
    );
    const spotFeed = await deploy(
      c,
      deployer,
      deriveSpotFeedAbi,
      deriveSpotFeedBytecode,
      [feeds.prices[UNDERLYING_FEED[u]].address, hb],
      `${u} spot feed`,
    );
    const forwardFeed = await deploy(
      c,
      deployer,
      deriveForwardFeedAbi,
      deriveForwardFeedBytecode,
      [deployer, spotFeed, hb],
      `${u} forward feed`,
    );
    const rateFeed = await deploy(
      c,
      deployer,
      deriveRateFeedAbi,
      deriveRateFeedBytecode,
      [deployer, hb],
      `${u} rate feed`,
    );
    const volFeed = await deploy(
      c,
      deployer,
      deriveVolFeedAbi,
      deriveVolFeedBytecode,
      [deployer, hb],
      `${u} vol feed`,
    );
    await write(c, deployer, forwardFeed, deriveForwardFeedAbi, 'addSigner', [keeper, true]);
    await write(c, deployer, rateFeed, deriveRateFeedAbi, 'addSigner', [keeper, true]);
    await write(c, deployer, volFeed, deriveVolFeedAbi, 'addSigner', [keeper, true]);
    perUnderlying[u] = { optionAsset, spotFeed, forwardFeed, rateFeed, volFeed };
    contracts[`${p}OptionAsset`] = optionAsset;
    contracts[`${p}SpotFeed`] = spotFeed;
    contracts[`${p}ForwardFeed`] = forwardFeed;
    contracts[`${p}RateFeed`] = rateFeed;
    contracts[`${p}VolFeed`] = volFeed;
  }

  // Market data first: premiums below are priced off the same smiles the venue publishes.
  const block = await c.publicClient.getBlock();
  const nowSec = block.timestamp;
  const expiries = listExpiries(Number(nowSec));
  const spots = {} as Record<Underlying, bigint>;
  const dataCalls: BatchCall[] = [];
  for (const u of OPTION_UNDERLYINGS) {
    const [, answer] = await c.publicClient.readContract({
      address: feeds.prices[UNDERLYING_FEED[u]].address,
      abi: mockV3AggregatorAbi,
      functionName: 'latestRoundData',
    });
    spots[u] = answer;
    dataCalls.push(...optionDataCalls(u, perUnderlying[u], expiries, answer, 1, nowSec));
  }
  await confirmAll(
    c,
    await sendBatch(c, keeper, dataCalls),
    dataCalls.map((x) => x.label),
  );

  // Subaccounts with cash.
  for (const { persona: p, address } of ctx.personas) {
    if (!p.options) continue;
    await write(c, address, subAccounts, deriveSubAccountsAbi, 'createAccount', [address, ZERO], {
      label: `${p.persona} creates a subaccount`,
    });
    const id = await c.publicClient.readContract({
      address: subAccounts,
      abi: deriveSubAccountsAbi,
      functionName: 'lastAccountId',
    });
    accounts.options.set(p.persona, id);
    const cashUnits = parseDecimalUnits(
      `${p.persona}.options.cashUsdc`,
      p.options.cashUsdc,
      tokens.USDC.decimals,
    );
    await write(c, address, tokens.USDC.address, erc20MintAbi, 'approve', [cash, cashUnits]);
    await write(c, address, cash, deriveCashAssetAbi, 'deposit', [id, cashUnits], {
      label: `${p.persona} deposits options cash`,
    });
  }
  const mm = accounts.options.get(OPTIONS_MARKET_MAKER);
  if (mm === undefined) {
    throw new NetmarginError(`Persona ${OPTIONS_MARKET_MAKER} needs an options subaccount`, {
      code: 'DEVNET_SEED',
    });
  }

  // Trades: the market maker takes the other side of every leg; premium paid in cash.
  for (const { persona: p } of ctx.personas) {
    if (!p.options || p.options.legs.length === 0) continue;
    const user = accounts.options.get(p.persona)!;
    const transfers: {
      fromAcc: bigint;
      toAcc: bigint;
      asset: Address;
      subId: bigint;
      amount: bigint;
      assetData: Hex;
    }[] = [];
    for (const [i, leg] of p.options.legs.entries()) {
      const f = perUnderlying[leg.underlying];
      const expiry = expiries[leg.expiryIndex];
      if (expiry === undefined) {
        throw new NetmarginError(
          `${p.persona}.options.legs[${i}].expiryIndex ${leg.expiryIndex} is not listed`,
          {
            code: 'DEVNET_SEED',
          },
        );
      }
      const strikeD18 = BigInt(leg.strikeUsd) * D18;
      const subId = await c.publicClient.readContract({
        address: f.optionAsset,
        abi: deriveOptionAssetAbi,
        functionName: 'getSubId',
        args: [BigInt(expiry), strikeD18, leg.isCall],
      });
      const contracts = sizeD18(leg.contracts, `${p.persona}.options.legs[${i}].contracts`);
      const tau = yearsTo(expiry, Number(nowSec));
      const spot = Number(spots[leg.underlying]) / 1e8;
      const fwd = forwardPrice(spot, tau);
      const vol = sviVol(sviParams(leg.underlying, tau), leg.strikeUsd, fwd, tau);
      const premiumD18 = toD18(black76(fwd, leg.strikeUsd, tau, vol, leg.isCall));
      const abs = contracts < 0n ? -contracts : contracts;
      const premiumTotal = (premiumD18 * abs) / D18;
      const [buyer, seller] = contracts > 0n ? [user, mm] : [mm, user];
      transfers.push(
        {
          fromAcc: seller,
          toAcc: buyer,
          asset: f.optionAsset,
          subId: BigInt(subId),
          amount: abs,
          assetData: ZERO_BYTES32,
        },
        {
          fromAcc: buyer,
          toAcc: seller,
          asset: cash,
          subId: 0n,
          amount: premiumTotal,
          assetData: ZERO_BYTES32,
        },
      );
    }
    await write(c, keeper, subAccounts, deriveSubAccountsAbi, 'submitTransfers', [transfers, '0x'], {
      label: `${p.persona} option trades`,
    });
  }

  return {
    contracts,
    markets: OPTION_UNDERLYINGS.map((u) => ({
      id: `${u}-OPTIONS`,
      underlying: u,
      key: perUnderlying[u].optionAsset,
      expiriesSec: expiries,
    })),
  };
}

export async function deployAndSeedVenues(
  c: DevnetClients,
  ctx: VenueContext,
): Promise<{ perps: VenueInfo | null; options: VenueInfo | null; accounts: VenueAccounts }> {
  const accounts: VenueAccounts = { perps: new Map(), options: new Map() };
  const perps = await deployPerps(c, ctx, accounts);
  ctx.log(`perps venue at ${perps.contracts.perpsMarket}: ${accounts.perps.size} accounts`);
  const options = await deployOptions(c, ctx, accounts);
  ctx.log(`options venue at ${options.contracts.subAccounts}: ${accounts.options.size} subaccounts`);
  return { perps, options, accounts };
}

/**
 * Re-posts every feed value unchanged with a fresh timestamp (Chainlink answers, forwards, rates,
 * smiles), so an idle devnet stays inside the feeds' heartbeat. The CLI calls it periodically.
 */
export async function refreshFeedsCalls(
  c: DevnetClients,
  m: DeploymentManifest,
  nowSec: bigint,
): Promise<BatchCall[]> {
  const calls: BatchCall[] = [];
  for (const [sym, feed] of Object.entries(m.feeds.prices)) {
    const [, answer] = await c.publicClient.readContract({
      address: feed.address,
      abi: mockV3AggregatorAbi,
      functionName: 'latestRoundData',
    });
    calls.push({
      address: feed.address,
      abi: mockV3AggregatorAbi,
      functionName: 'updateAnswer',
      args: [answer],
      label: `${sym} feed refresh`,
    });
  }
  for (const u of OPTION_UNDERLYINGS) {
    const f = optionFeedsFrom(m, u);
    const market = m.venues.options?.markets.find((x) => x.underlying === u);
    if (!f || !market?.expiriesSec) continue;
    for (const expiry of market.expiriesSec) {
      if (BigInt(expiry) <= nowSec) continue;
      const e = BigInt(expiry);
      const fwd = await c.publicClient.readContract({
        address: f.forwardFeed,
        abi: deriveForwardFeedAbi,
        functionName: 'getForwardDetails',
        args: [e],
      });
      const rate = await c.publicClient.readContract({
        address: f.rateFeed,
        abi: deriveRateFeedAbi,
        functionName: 'getRateDetail',
        args: [e],
      });
      const vol = await c.publicClient.readContract({
        address: f.volFeed,
        abi: deriveVolFeedAbi,
        functionName: 'getVolDetails',
        args: [e],
      });
      calls.push(
        {
          address: f.forwardFeed,
          abi: deriveForwardFeedAbi,
          functionName: 'setForwardData',
          args: [e, fwd.fwdSpotDifference, fwd.confidence, nowSec],
          label: `${u} forward refresh ${expiry}`,
        },
        {
          address: f.rateFeed,
          abi: deriveRateFeedAbi,
          functionName: 'setRate',
          args: [e, rate.rate, rate.confidence, nowSec],
          label: `${u} rate refresh ${expiry}`,
        },
        {
          address: f.volFeed,
          abi: deriveVolFeedAbi,
          functionName: 'setVolDetails',
          args: [e, { ...vol, timestamp: nowSec }],
          label: `${u} SVI refresh ${expiry}`,
        },
      );
    }
  }
  return calls;
}
