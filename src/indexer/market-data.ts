/**
 * The market snapshot the risk engine needs, read at one block.
 *
 * Chainlink USD feeds (answer, decimals, round id, `updatedAt`) become `market.prices`, keyed by the
 * underlying named in the feed's description (`ETH / USD` → `ETH`); every Aave reserve token is
 * listed twice in `market.assets` (`WETH` for debt, `aWETH` for supplies) plus the venues' 18-decimal
 * USD cash (`snxUSD`, `deriveUSD`), matching the adapters' asset names. The options venue's forward,
 * rate and SVI smile per live expiry become `market.volSurfaces`. The L2 sequencer uptime feed is
 * returned beside the snapshot. Price history and liquidity are not on chain: callers pass them in.
 *
 * Derive posts SVI total variance at a reference time `SVI_refTao`; the engine evaluates
 * `w(k) / tau` at the time to expiry, so `a` and `b` are scaled by tau / refTao here, which gives
 * the engine the vol the venue quotes. This module is where venue feed words become floats.
 */
import type { Address, Client, Hash } from 'viem';
import { getBlock } from 'viem/actions';
import {
  deriveForwardFeedAbi,
  deriveRateFeedAbi,
  deriveVolFeedAbi,
  mockV3AggregatorAbi,
} from '../contracts/generated';
import { ASSET_SYMBOLS, type DeploymentManifest } from '../config/manifest';
import { InvalidInputError, NetmarginError } from '../common/errors';
import { SECONDS_PER_YEAR } from '../risk/math';
import { fixedToNumber } from '../risk/validate';
import type {
  AssetInfo,
  ExpirySlice,
  LiquidityInfo,
  MarketSnapshot,
  PriceFeed,
  PriceHistory,
} from '../risk/types';
import { readAll, readAtBlock, type ReadCall } from './adapters/read';
import { OPTIONS_CASH_ASSET } from './adapters/options';
import { PERPS_CASH_ASSET } from './adapters/perps';
import { VENUE_DECIMALS } from './adapters/units';

export interface ChainlinkRound {
  feed: Address;
  roundId: bigint;
  answer: bigint;
  decimals: number;
  startedAtSec: number;
  updatedAtSec: number;
}

export interface SequencerStatus {
  feed: Address;
  /** Chainlink convention: answer 0 = up, 1 = down. */
  up: boolean;
  /** When the current status began (the grace period counts from here). */
  sinceSec: number;
  roundId: bigint;
}

export interface MarketDataAtBlock {
  blockNumber: bigint;
  blockHash: Hash;
  /** The engine's market input (`computeAccountRisk` / `prepareMarket`). */
  snapshot: MarketSnapshot;
  /** Raw Chainlink rounds per underlying, with round ids the engine does not need. */
  rounds: Record<string, ChainlinkRound>;
  sequencer: SequencerStatus;
}

export interface MarketDataInputs {
  history: PriceHistory;
  liquidity: Record<string, LiquidityInfo>;
}

/** `ETH / USD` → `ETH`: the underlying a USD feed prices. */
export function underlyingOfFeed(description: string): string {
  const m = /^\s*([A-Za-z0-9.]+)\s*\/\s*USD\s*$/.exec(description);
  if (!m) {
    throw new InvalidInputError(
      'feeds.prices.*.description',
      `"${description}" is not of the form "<SYMBOL> / USD"`,
      {
        hint: 'Name each price feed like Chainlink does, e.g. "ETH / USD".',
      },
    );
  }
  return m[1]!;
}

/**
 * Derive's SVI slice (18-decimal words, total variance at `refTaoWad` years) as the engine's slice
 * at `asOfSec`, with `a` and `b` rescaled so w(k)/tau equals the venue's w(k)/refTao.
 */
export function sviSliceFromDerive(
  d: { SVI_a: bigint; SVI_b: bigint; SVI_rho: bigint; SVI_m: bigint; SVI_sigma: bigint; SVI_refTao: bigint },
  expirySec: number,
  asOfSec: number,
  forwardWad: bigint,
  rateWad: bigint,
): ExpirySlice {
  const f = (raw: bigint): number => fixedToNumber({ raw, decimals: VENUE_DECIMALS });
  const tauYears = (expirySec - asOfSec) / SECONDS_PER_YEAR;
  const refTaoYears = f(d.SVI_refTao);
  if (!(tauYears > 0) || !(refTaoYears > 0)) {
    throw new InvalidInputError(
      `volSurfaces[${expirySec}]`,
      `expiry is not live at ${asOfSec} or refTao is 0`,
    );
  }
  const scale = tauYears / refTaoYears;
  return {
    expirySec,
    forwardUsd: f(forwardWad),
    rateAnnual: f(rateWad),
    svi: {
      a: f(d.SVI_a) * scale,
      b: f(d.SVI_b) * scale,
      rho: f(d.SVI_rho),
      m: f(d.SVI_m),
      sigma: f(d.SVI_sigma),
    },
  };
}

type RoundData = readonly [bigint, bigint, bigint, bigint, bigint];

/** Reads the engine's market snapshot (and raw feed rounds) at `blockNumber`. */
export async function readMarketData(
  client: Client,
  m: DeploymentManifest,
  blockNumber: bigint,
  inputs: MarketDataInputs,
): Promise<MarketDataAtBlock> {
  const block = await getBlock(client, { blockNumber });
  const blockHash = block.hash;
  const asOfSec = Number(block.timestamp);
  const feedCalls: ReadCall[] = [];
  for (const sym of ASSET_SYMBOLS) {
    const feed = m.feeds.prices[sym].address;
    feedCalls.push({ address: feed, abi: mockV3AggregatorAbi, functionName: 'latestRoundData' });
    feedCalls.push({ address: feed, abi: mockV3AggregatorAbi, functionName: 'decimals' });
  }
  feedCalls.push({
    address: m.feeds.sequencerUptime.address,
    abi: mockV3AggregatorAbi,
    functionName: 'latestRoundData',
  });

  // Options venue: one forward, rate and SVI read per live expiry.
  const sliceKeys: { underlying: string; expirySec: number }[] = [];
  const options = m.venues.options;
  for (const market of options?.markets ?? []) {
    const p = market.underlying.toLowerCase();
    const fwd = options!.contracts[`${p}ForwardFeed`];
    const rate = options!.contracts[`${p}RateFeed`];
    const vol = options!.contracts[`${p}VolFeed`];
    if (!fwd || !rate || !vol) continue;
    for (const expirySec of market.expiriesSec ?? []) {
      if (expirySec <= asOfSec) continue;
      const e = BigInt(expirySec);
      sliceKeys.push({ underlying: market.underlying, expirySec });
      feedCalls.push({ address: fwd, abi: deriveForwardFeedAbi, functionName: 'getForwardPrice', args: [e] });
      feedCalls.push({ address: rate, abi: deriveRateFeedAbi, functionName: 'getInterestRate', args: [e] });
      feedCalls.push({ address: vol, abi: deriveVolFeedAbi, functionName: 'getVolDetails', args: [e] });
    }
  }

  const { value: r, blockHash: hashAfter } = await readAtBlock(client, blockNumber, () =>
    readAll(client, feedCalls, blockNumber),
  );
  if (hashAfter !== blockHash) {
    throw new NetmarginError(`Block ${blockNumber} was reorganized while market data was read`, {
      code: 'REORGED_DURING_READ',
      details: { blockNumber: blockNumber.toString(), before: blockHash, after: hashAfter },
      hint: 'Retry the read at the new canonical block.',
    });
  }
  const prices: Record<string, PriceFeed> = {};
  const rounds: Record<string, ChainlinkRound> = {};
  const underlyingOf: Record<string, string> = {};
  ASSET_SYMBOLS.forEach((sym, i) => {
    const [roundId, answer, startedAt, updatedAt] = r[2 * i] as RoundData;
    const decimals = Number(r[2 * i + 1] as number);
    const u = underlyingOfFeed(m.feeds.prices[sym].description);
    underlyingOf[sym] = u;
    prices[u] = { answer, decimals, updatedAtSec: Number(updatedAt) };
    rounds[u] = {
      feed: m.feeds.prices[sym].address,
      roundId,
      answer,
      decimals,
      startedAtSec: Number(startedAt),
      updatedAtSec: Number(updatedAt),
    };
  });
  const seq = r[2 * ASSET_SYMBOLS.length] as RoundData;
  const sequencer: SequencerStatus = {
    feed: m.feeds.sequencerUptime.address,
    up: seq[1] === 0n,
    sinceSec: Number(seq[2]),
    roundId: seq[0],
  };

  const assets: Record<string, AssetInfo> = {};
  for (const sym of ASSET_SYMBOLS) {
    const t = m.tokens[sym];
    const underlying = underlyingOf[sym]!;
    assets[sym] = { underlying, decimals: t.decimals, isAToken: false };
    assets[`a${sym}`] = { underlying, decimals: t.decimals, isAToken: true };
  }
  const usd = underlyingOf.USDC ?? 'USDC';
  assets[PERPS_CASH_ASSET] = { underlying: usd, decimals: VENUE_DECIMALS, isAToken: false };
  assets[OPTIONS_CASH_ASSET] = { underlying: usd, decimals: VENUE_DECIMALS, isAToken: false };

  const volSurfaces: Record<string, ExpirySlice[]> = {};
  let k = 2 * ASSET_SYMBOLS.length + 1;
  for (const s of sliceKeys) {
    const [fwd] = r[k++] as readonly [bigint, bigint];
    const [rate] = r[k++] as readonly [bigint, bigint];
    const details = r[k++] as Parameters<typeof sviSliceFromDerive>[0];
    (volSurfaces[s.underlying] ??= []).push(sviSliceFromDerive(details, s.expirySec, asOfSec, fwd, rate));
  }

  return {
    blockNumber,
    blockHash,
    snapshot: {
      asOfSec,
      market: { prices, assets, volSurfaces, history: inputs.history, liquidity: inputs.liquidity },
    },
    rounds,
    sequencer,
  };
}
