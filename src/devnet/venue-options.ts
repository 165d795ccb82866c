/**
 * The options venue (Derive v2 shape, contracts/src/venues/derive): SubAccounts, a USDC cash asset, one
 * option asset per underlying (ETH, BTC), Derive spot feeds over the Chainlink feeds, and forward / rate /
 * vol feeds the keeper posts to. Trades are batches the keeper submits as the trusted executor (Derive's
 * matching role): the option leg against the market maker's subaccount plus the premium leg in cash.
 * The keeper (anvil account 1) is the only publisher, so the market driver can move every feed.
 */
import { type Address, type Hex } from 'viem';
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
} from '../contracts/generated';
import type { AssetSymbol, DeploymentManifest, VenueInfo } from '../config/manifest';
import { NetmarginError } from '../common/errors';
import { parseDecimalUnits } from '../common/amount';
import { confirmAll, sendBatch, write, type BatchCall, type DevnetClients } from './chain';
import { erc20MintAbi } from './feeds';
import {
  optionPremium,
  forwardPrice,
  listExpiries,
  RATE_ANNUAL,
  sviParams,
  sviVol,
  toD18,
  yearsTo,
  type Underlying,
} from './option-market';
import {
  D18,
  deployContract,
  sizeD18,
  VENUE_HEARTBEAT_SEC,
  ZERO_ADDRESS,
  ZERO_BYTES32,
  type VenueAccounts,
  type VenueContext,
} from './venue-common';

export const OPTION_UNDERLYINGS: Underlying[] = ['ETH', 'BTC'];
const UNDERLYING_FEED: Record<Underlying, AssetSymbol> = { ETH: 'WETH', BTC: 'WBTC' };
const OPTIONS_MARKET_MAKER = 'options-market-maker';

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

export async function deployOptions(
  c: DevnetClients,
  ctx: VenueContext,
  accounts: VenueAccounts,
): Promise<VenueInfo> {
  const { deployer, keeper, tokens, feeds } = ctx;
  const hb = BigInt(VENUE_HEARTBEAT_SEC);
  const subAccounts = await deployContract(
    c,
    deployer,
    deriveSubAccountsAbi,
    deriveSubAccountsBytecode,
    [deployer],
    'DeriveSubAccounts',
  );
  const cash = await deployContract(
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
    const optionAsset = await deployContract(
      c,
      deployer,
      deriveOptionAssetAbi,
      deriveOptionAssetBytecode,
      [subAccounts, u],
      `${u} options`,
    );
    const spotFeed = await deployContract(
      c,
      deployer,
      deriveSpotFeedAbi,
      deriveSpotFeedBytecode,
      [feeds.prices[UNDERLYING_FEED[u]].address, hb],
      `${u} spot feed`,
    );
    const forwardFeed = await deployContract(
      c,
      deployer,
      deriveForwardFeedAbi,
      deriveForwardFeedBytecode,
      [deployer, spotFeed, hb],
      `${u} forward feed`,
    );
    const rateFeed = await deployContract(
      c,
      deployer,
      deriveRateFeedAbi,
      deriveRateFeedBytecode,
      [deployer, hb],
      `${u} rate feed`,
    );
    const volFeed = await deployContract(
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
    await write(c, address, subAccounts, deriveSubAccountsAbi, 'createAccount', [address, ZERO_ADDRESS], {
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
      const premiumD18 = toD18(optionPremium(fwd, leg.strikeUsd, tau, vol, leg.isCall));
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
