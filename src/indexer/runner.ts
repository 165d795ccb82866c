/**
 * `IndexerRunner`: the head role. It turns the chain's blocks into `index-range` jobs, once per
 * network, and records the market block by block.
 *
 * - First start (no cursor in Redis): the positions store was opened anchored at the parent of the
 *   chain's head L (`openPositionsStore`); the history from the manifest's start block to L is queued
 *   as ranges of `rangeBlocks` blocks whose owners are all refreshed at L, so a first sync reads the
 *   logs in parallel ranges but every owner's state once. The cursor becomes L.
 * - Then it polls the head (`HeadWatcher` over a `HeadTracker`): each `block` event records the
 *   market at that block and queues the range cursor+1…block (usually one block), refreshed at that
 *   block and followed by an `advance-head`; the cursor moves to the block. A failed event leaves the
 *   cursor where it was, so the next block's range covers it.
 * - A `reorg` event moves the cursor back to the common ancestor (the new branch's blocks follow as
 *   `block` events) and rolls the market back. The positions store is not touched here: its one
 *   writer, the `refresh` worker, heals it at the next write (see `IndexerService`).
 * - A `halt` (a reorg deeper than `finalityDepth`) stores the error under the network's halt key, logs
 *   an alert, and stops; `start` refuses while the key is set (`IndexerRunner.clearHalt` after the
 *   operator has re-synced).
 * - Undo logs at or below head − `finalityDepth` are dropped from both stores after each block.
 *
 * One runner per network does this: a Redis lease (`indexer:leader`, renewed every poll) lets
 * several processes run the role, one active and the others standing by to take over.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { PublicClient } from 'viem';
import { NetmarginError } from '../common/errors';
import { HeadTracker, HeadWatcher, toHeader, type BlockHeader, type HeadEvent } from './chain/heads';
import type { BlockRef, ReorgSafeStore } from './chain/store';
import type { IndexerService, OwnerPositions } from './indexer.service';
import type { MarketRecord, MarketRecorder } from './market-recorder';
import { enqueueRange, type IndexerQueues } from './queues';
import { redisKeys, type IndexerKeys } from './redis/keys';
import { RedisReorgStore } from './redis/redis-store';

export interface IndexerRunnerOptions {
  client: PublicClient;
  service: IndexerService;
  queues: IndexerQueues;
  redis: Redis;
  network: string;
  /** The positions store the service writes (read here for status and finalized here). */
  positions: ReorgSafeStore<OwnerPositions>;
  /** The manifest's start block: history is indexed from here. */
  startBlock: bigint;
  /** Reorgs deeper than this halt indexing. */
  finalityDepth: number;
  /** Blocks per backfill `index-range` job (default 2 000). */
  rangeBlocks?: bigint;
  /** Records the market at every block when given. */
  market?: MarketRecorder;
  /**
   * Called with each market record right after it is stored (the risk side queues its market-move
   * recompute here). A failure fails the block's event like a failed recording: the cursor stays and
   * the next poll records the block again (recording is idempotent), so the hook must be too.
   */
  onMarketRecorded?: (record: MarketRecord) => Promise<void>;
  /** The leader lease; renewed every poll, so keep it a few poll intervals long (default 15 s). */
  leaseMs?: number;
  log?: (event: string, fields?: Record<string, unknown>) => void;
}

export interface RunnerStatus {
  chainHead: bigint;
  /** The newest block whose range is queued. */
  cursor: bigint | null;
  /** The positions store's head: how far indexing has got. */
  storeHead: bigint | null;
  /** chainHead − storeHead. */
  lagBlocks: number | null;
  leader: boolean;
  halted: { code: string; message: string; details?: unknown } | null;
}

const DEFAULT_RANGE_BLOCKS = 2_000n;

/** Compare-and-renew / compare-and-delete of the lease: only the holder touches it. */
const RENEW_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export class IndexerRunner {
  private readonly keys: IndexerKeys;
  private readonly id = `${process.pid}-${randomBytes(4).toString('hex')}`;
  private readonly log: NonNullable<IndexerRunnerOptions['log']>;
  private tracker: HeadTracker | undefined;
  private watcher: HeadWatcher | undefined;
  private isLeader = false;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** The round in progress (awaited by `stop`). */
  private inflight: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: IndexerRunnerOptions) {
    this.keys = redisKeys(opts.network).indexer;
    this.log = opts.log ?? (() => undefined);
  }

  /**
   * Opens the network's positions store; an empty one is anchored at the parent of the chain's head,
   * so a first sync writes at the head itself.
   */
  static openPositionsStore(
    redis: Redis,
    network: string,
    client: PublicClient,
  ): Promise<RedisReorgStore<OwnerPositions>> {
    return openAnchored<OwnerPositions>(redis, network, 'positions', client);
  }

  /** Opens the network's market store, anchored like the positions store. */
  static openMarketStore(
    redis: Redis,
    network: string,
    client: PublicClient,
  ): Promise<RedisReorgStore<MarketRecord>> {
    return openAnchored<MarketRecord>(redis, network, 'market', client);
  }

  /** Clears a halt after the operator has dealt with it (re-synced, or fixed the RPC). */
  static async clearHalt(redis: Redis, network: string): Promise<void> {
    await redis.del(redisKeys(network).indexer.halt);
  }

  /** Refuses when indexing is halted; otherwise polls every `pollIntervalMs` until `stop()`. */
  async start(pollIntervalMs: number): Promise<void> {
    await this.refuseIfHalted();
    if (this.running) return;
    this.running = true;
    const tick = async (): Promise<void> => {
      const round = this.poll();
      this.inflight = round.catch(() => undefined);
      try {
        await round;
      } catch (err) {
        this.log('runner.poll-failed', { error: describe(err) });
      }
      if (this.running && !this.tracker?.halted) this.timer = setTimeout(() => void tick(), pollIntervalMs);
    };
    void tick();
  }

  /**
   * One round: hold (or take) the lease, initialise on taking it, then poll the head once. Returns
   * the head events handled (none when standing by).
   */
  async poll(): Promise<HeadEvent[]> {
    if (!(await this.holdLease())) return [];
    if (!this.watcher) await this.init();
    return this.watcher!.poll();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.inflight;
    if (this.isLeader) await this.opts.redis.eval(RELEASE_LUA, 1, this.keys.leader, this.id);
    this.isLeader = false;
    this.watcher = undefined;
  }

  async status(): Promise<RunnerStatus> {
    const [chainHead, cursor, storeHead, halt, leader] = await Promise.all([
      this.opts.client.getBlockNumber({ cacheTime: 0 }),
      this.readCursor(),
      this.opts.positions.head(),
      this.opts.redis.get(this.keys.halt),
      this.opts.redis.get(this.keys.leader),
    ]);
    return {
      chainHead,
      cursor: cursor?.number ?? null,
      storeHead: storeHead?.number ?? null,
      lagBlocks: storeHead ? Number(chainHead - storeHead.number) : null,
      leader: leader === this.id,
      halted: halt ? (JSON.parse(halt) as RunnerStatus['halted']) : null,
    };
  }

  private async holdLease(): Promise<boolean> {
    const { redis } = this.opts;
    const ms = String(this.opts.leaseMs ?? 15_000);
    if (this.isLeader) {
      if ((await redis.eval(RENEW_LUA, 1, this.keys.leader, this.id, ms)) === 1) return true;
      this.isLeader = false;
      this.watcher = undefined;
      this.log('runner.lease-lost', { id: this.id });
      return false;
    }
    if ((await redis.set(this.keys.leader, this.id, 'PX', Number(ms), 'NX')) !== 'OK') return false;
    this.isLeader = true;
    this.log('runner.lease-taken', { id: this.id });
    return true;
  }

  /** Loads the cursor, or queues the first sync; then starts the head tracker at the cursor. */
  private async init(): Promise<void> {
    await this.refuseIfHalted();
    const cursor = (await this.readCursor()) ?? (await this.firstSync());
    this.tracker = new HeadTracker({
      finalityDepth: this.opts.finalityDepth,
      getHeaderByHash: HeadWatcher.headerFetcher(this.opts.client),
    });
    this.tracker.reset(cursor);
    this.watcher = new HeadWatcher({
      client: this.opts.client,
      tracker: this.tracker,
      onEvent: (e) => this.onEvent(e),
    });
    this.log('runner.following', { from: cursor.number.toString() });
  }

  private async firstSync(): Promise<BlockHeader> {
    const { client, positions, queues, startBlock } = this.opts;
    const anchor = await positions.head();
    if (!anchor)
      throw new NetmarginError('The positions store has no anchor', {
        code: 'STORE_NOT_ANCHORED',
        hint: 'Open it with IndexerRunner.openPositionsStore, which anchors an empty store at the chain head.',
      });
    const target = toHeader(await client.getBlock({ blockNumber: anchor.number + 1n }));
    if (target.parentHash !== anchor.hash)
      throw new NetmarginError(`Block ${target.number} is not the child of the store's anchor`, {
        code: 'REORG_DETECTED',
        hint: 'The chain reorganized between opening the store and the first sync: delete the network’s store keys and start again.',
      });
    const range = this.opts.rangeBlocks ?? DEFAULT_RANGE_BLOCKS;
    let jobs = 0;
    for (let from = startBlock; from <= target.number; from += range) {
      const to = from + range - 1n < target.number ? from + range - 1n : target.number;
      await enqueueRange(queues, from, to, target);
      jobs += 1;
    }
    await this.recordMarket(target);
    await this.writeCursor(target);
    this.log('runner.first-sync-queued', {
      fromBlock: startBlock.toString(),
      toBlock: target.number.toString(),
      rangeJobs: jobs,
    });
    return target;
  }

  /**
   * Whether the positions store's newest block at or below `line` is the chain's. The refresh
   * worker heals the store after a reorg (decision D9), so right after one the store can still hold
   * blocks of the dropped branch; finalizing then would make one of them the anchor, and the heal
   * would find no block of its history left on the chain. Such a round skips the store's finalizing
   * (a later block finalizes it once healed); the market store, rolled back here, is finalized as ever.
   */
  private async canonicalUpTo(store: ReorgSafeStore<OwnerPositions>, line: bigint): Promise<boolean> {
    const below = (await store.history()).filter((b) => b.number <= line);
    const last = below[below.length - 1];
    if (!last) return true;
    const onChain = await this.opts.client.getBlock({ blockNumber: last.number });
    return onChain.hash === last.hash;
  }

  private async onEvent(e: HeadEvent): Promise<void> {
    const { redis, queues, market, positions, finalityDepth } = this.opts;
    switch (e.type) {
      case 'block': {
        const cursor = (await this.readCursor()) ?? e.block;
        await this.recordMarket(e.block);
        const from = cursor.number + 1n <= e.block.number ? cursor.number + 1n : e.block.number;
        await enqueueRange(queues, from, e.block.number, e.block);
        await this.writeCursor(e.block);
        await redis.hincrby(this.keys.metrics, 'runner_blocks', 1);
        const finalized = e.block.number - BigInt(finalityDepth);
        if (finalized > 0n) {
          if (await this.canonicalUpTo(positions, finalized)) await positions.finalize(finalized);
          await market?.finalize(finalized);
        }
        return;
      }
      case 'reorg': {
        const a = e.commonAncestor;
        this.log('runner.reorg', {
          ancestor: a.number.toString(),
          depth: e.depth,
          dropped: e.dropped.map((d) => d.hash),
        });
        await redis.hincrby(this.keys.metrics, 'runner_reorgs', 1);
        await market?.rollbackTo(a);
        await this.writeCursor(a);
        return;
      }
      case 'halt': {
        const { code, message, details } = e.error;
        await redis.set(this.keys.halt, JSON.stringify({ code, message, details }));
        await redis.hincrby(this.keys.metrics, 'runner_halts', 1);
        this.log('runner.halted', { alert: true, code, message, details, hint: e.error.hint });
        this.running = false;
        return;
      }
    }
  }

  private async recordMarket(block: BlockHeader): Promise<void> {
    const record = await this.opts.market?.onBlock(block);
    if (record && this.opts.onMarketRecorded) await this.opts.onMarketRecorded(record);
  }

  private async refuseIfHalted(): Promise<void> {
    const halt = await this.opts.redis.get(this.keys.halt);
    if (!halt) return;
    const h = JSON.parse(halt) as { code: string; message: string; details?: unknown };
    throw new NetmarginError(`Indexing of network ${this.opts.network} is halted: ${h.message}`, {
      code: 'INDEXER_HALTED',
      hint: 'Check the RPC is on the right chain and re-sync from below the divergence; then clear the halt (IndexerRunner.clearHalt).',
      details: h,
    });
  }

  private async readCursor(): Promise<BlockHeader | undefined> {
    const c = await this.opts.redis.hgetall(this.keys.cursor);
    if (!c.number || !c.hash || !c.parentHash) return undefined;
    return {
      number: BigInt(c.number),
      hash: c.hash as BlockRef['hash'],
      parentHash: c.parentHash as BlockRef['hash'],
    };
  }

  private async writeCursor(b: BlockHeader): Promise<void> {
    await this.opts.redis.hset(this.keys.cursor, {
      number: b.number.toString(),
      hash: b.hash,
      parentHash: b.parentHash,
    });
  }
}

async function openAnchored<T>(
  redis: Redis,
  network: string,
  name: string,
  client: PublicClient,
): Promise<RedisReorgStore<T>> {
  const latest = await client.getBlock({ blockTag: 'latest' });
  const number = (latest.number ?? 1n) - 1n;
  return RedisReorgStore.open<T>({
    redis,
    keys: redisKeys(network).reorgStore(name),
    anchor: { number, hash: latest.parentHash },
  });
}

function describe(err: unknown): Record<string, unknown> {
  if (err instanceof NetmarginError) return { code: err.code, message: err.message, hint: err.hint };
  return { message: err instanceof Error ? err.message : String(err) };
}
