/**
 * What the feed reads on chain for an event, at the block of the risk result it reports:
 * - the seizable amounts: the owner's deposits in the MarginAggregator, every listed asset but the
 *   settlement asset (which a liquidation never takes), in token units with the token's decimals —
 *   an aToken balance is held in Aave scaled units and is converted with the reserve's normalized
 *   income, as the contract does when it pays it out;
 * - the price rounds of the Chainlink USD feeds (answer, decimals, `updatedAt`, round id), keyed by the
 *   underlying the engine uses (`ETH / USD` → `ETH`): the same rounds the risk worker read at that block.
 * All reads go in one pinned multicall.
 */
import type { Address, Client } from 'viem';
import { aavePoolAbi, marginAggregatorAbi, mockV3AggregatorAbi } from '../../contracts/generated';
import { ASSET_SYMBOLS, type DeploymentManifest } from '../../config/manifest';
import { NetmarginError } from '../../common/errors';
import { readAll, type ReadCall } from '../../indexer/adapters/read';
import { underlyingOfFeed } from '../../indexer/market-data';
import type { PriceRound, SeizableAmount } from './event';

const RAY = 10n ** 27n;

export interface FeedChainReader {
  read(
    owner: Address,
    blockNumber: bigint,
  ): Promise<{ seizable: SeizableAmount[]; prices: Record<string, PriceRound> }>;
}

type RoundData = readonly [bigint, bigint, bigint, bigint, bigint];

export class OnChainFeedReader implements FeedChainReader {
  constructor(
    private readonly client: Client,
    private readonly manifest: DeploymentManifest,
  ) {
    if (!manifest.aggregator)
      throw new NetmarginError('The manifest has no aggregator: the feed cannot read seizable amounts', {
        code: 'NO_AGGREGATOR',
        hint: 'Deploy the MarginAggregator (startDevnet does) and use the manifest it writes.',
      });
  }

  async read(
    owner: Address,
    blockNumber: bigint,
  ): Promise<{ seizable: SeizableAmount[]; prices: Record<string, PriceRound> }> {
    const m = this.manifest;
    const agg = m.aggregator!;
    const seizableAssets = agg.assets.filter((a) => a.address !== agg.settlementAsset);
    const calls: ReadCall[] = [];
    for (const a of seizableAssets) {
      calls.push({
        address: agg.address,
        abi: marginAggregatorAbi,
        functionName: 'balanceOf',
        args: [owner, a.address],
      });
      if (a.isAToken)
        calls.push({
          address: m.aave.pool,
          abi: aavePoolAbi,
          functionName: 'getReserveNormalizedIncome',
          args: [a.underlying],
        });
    }
    const feedStart = calls.length;
    for (const sym of ASSET_SYMBOLS)
      calls.push({
        address: m.feeds.prices[sym].address,
        abi: mockV3AggregatorAbi,
        functionName: 'latestRoundData',
      });
    const r = await readAll(this.client, calls, blockNumber);

    const seizable: SeizableAmount[] = [];
    let i = 0;
    for (const a of seizableAssets) {
      const internal = r[i++] as bigint;
      const amount = a.isAToken ? (internal * (r[i++] as bigint)) / RAY : internal;
      if (amount > 0n) seizable.push({ token: a.address, symbol: a.symbol, amount, decimals: a.decimals });
    }
    const prices: Record<string, PriceRound> = {};
    ASSET_SYMBOLS.forEach((sym, k) => {
      const [roundId, answer, , updatedAt] = r[feedStart + k] as RoundData;
      prices[underlyingOfFeed(m.feeds.prices[sym].description)] = {
        answer,
        decimals: m.feeds.prices[sym].decimals,
        updatedAtSec: Number(updatedAt),
        roundId,
      };
    });
    return { seizable, prices };
  }
}
