/**
 * `MarketRecorder`: the live market data, block by block, for the risk side.
 *
 * For each block the head runner follows, it reads the market snapshot (`readMarketData`: Chainlink
 * rounds with round id and `updatedAt`, the options venue's forwards, rates and SVI smiles, the
 * sequencer uptime status) and
 * - stores it, block-stamped, under the key `latest` of a reorg-safe store (`market`), so a reader
 *   gets the newest snapshot with the block number and hash it was read at;
 * - appends one price observation per underlying to the price history (a round already stored is a
 *   no-op), which survives restarts and feeds volatility, correlation and historical VaR.
 *
 * On a reorg the runner calls `rollbackTo(ancestor)`: the store is rolled back and every price
 * observation read above the ancestor is removed; the new branch's blocks are then recorded again.
 * The runner is the only writer (one per network), so no lock is needed.
 */
import type { Client } from 'viem';
import { getBlock } from 'viem/actions';
import type { DeploymentManifest } from '../config/manifest';
import type { BlockHeader } from './chain/heads';
import type { BlockRef, ReorgSafeStore } from './chain/store';
import { readMarketData, type MarketDataAtBlock } from './market-data';
import type { PriceObservation, RedisPriceHistory } from './redis/price-history';

/** The key of the newest snapshot in the `market` store. */
export const LATEST_MARKET_KEY = 'latest';

/** What is stored: the snapshot without the inputs that are not on chain (history, liquidity). */
export type MarketRecord = Omit<MarketDataAtBlock, 'snapshot'> & {
  snapshot: Omit<MarketDataAtBlock['snapshot'], 'market'> & {
    market: Omit<MarketDataAtBlock['snapshot']['market'], 'history' | 'liquidity'>;
  };
};

export interface MarketRecorderDeps {
  client: Client;
  manifest: DeploymentManifest;
  store: ReorgSafeStore<MarketRecord>;
  history: RedisPriceHistory;
}

export class MarketRecorder {
  constructor(private readonly deps: MarketRecorderDeps) {}

  /** Reads and records the market at `block`; blocks must come in order (the runner's `block` events). */
  async onBlock(block: BlockHeader): Promise<MarketRecord> {
    const { client, manifest, store, history } = this.deps;
    const read = await readMarketData(client, manifest, block.number, {
      history: { intervalSec: 1, closesUsdByUnderlying: {} },
      liquidity: {},
    });
    const { history: _h, liquidity: _l, ...market } = read.snapshot.market;
    const record: MarketRecord = { ...read, snapshot: { ...read.snapshot, market } };
    const observations: PriceObservation[] = Object.entries(read.rounds).map(([asset, r]) => ({
      asset,
      price: { raw: r.answer, decimals: r.decimals },
      timestampSec: r.updatedAtSec,
      roundId: r.roundId,
      blockNumber: read.blockNumber,
      blockHash: read.blockHash,
    }));
    await history.append(observations);
    const ref: BlockRef = { number: read.blockNumber, hash: read.blockHash };
    const head = await store.head();
    const write = [{ key: LATEST_MARKET_KEY, value: record }];
    if (head && head.number === ref.number && head.hash === ref.hash) await store.amendHead(ref, write);
    else if (head && head.number >= ref.number)
      return record; // recorded already (a restart)
    else if (!head || head.number === ref.number - 1n) await store.applyBlock(ref, write);
    else {
      // A gap (the runner resumed after a pause): the snapshot is current, so bridge with no writes.
      for (let n = head.number + 1n; n < ref.number; n += 1n)
        await store.applyBlock({ number: n, hash: await this.hashAt(n) }, []);
      await store.applyBlock(ref, write);
    }
    return record;
  }

  /** Undoes every block above `ancestor` in the store and the price history. */
  async rollbackTo(ancestor: BlockRef): Promise<void> {
    const { store, history } = this.deps;
    const head = await store.head();
    if (head && head.number > ancestor.number) await store.rollbackTo(ancestor);
    await history.rollbackAbove(ancestor.number);
  }

  /** Drops undo logs at or below `blockNumber` (the price history keeps everything). */
  async finalize(blockNumber: bigint): Promise<void> {
    await this.deps.store.finalize(blockNumber);
  }

  /** The newest recorded snapshot, with the block it was read at. */
  async latest(): Promise<MarketRecord | undefined> {
    return (await this.deps.store.get(LATEST_MARKET_KEY))?.value;
  }

  private async hashAt(n: bigint): Promise<BlockRef['hash']> {
    return (await getBlock(this.deps.client, { blockNumber: n })).hash;
  }
}
