/**
 * `IndexerService`: the indexer's logic between the chain parts and the queues.
 *
 * - `backfill(from, to, refreshAt)` reads the watched contracts' logs in chunks, follows ERC-721
 *   `Transfer`s into the identity index, asks for one `refresh` per owner the logs touch, at
 *   `refreshAt` (default `to`), then for an `advance` of the store to `refreshAt`. A first sync reads
 *   the whole history in ranges but every owner's state once, at the block it syncs to;
 * - `handleRefresh(owner, block)` reads every adapter's positions for the owner at that block, stores
 *   them block-stamped in the reorg-safe store (key = owner) and asks for a `risk` job when the stored
 *   bytes changed or were stamped with a block the chain dropped. A refresh below the store's head is re-asked at the head (the state there includes
 *   everything below); one for a block the chain no longer has is dropped (the reorg path re-asks);
 * - `handleAdvance(block)` moves the store's head to the block without writes, so the head says how
 *   far indexing got even when the last blocks changed nobody;
 * - a write that finds the chain no longer holds the store's head (a reorg) first rolls the store back
 *   to the newest block of its history still on the chain and re-asks the owners it undid: the one
 *   writer per network repairs a reorg whichever process saw it, with no cross-process rollback;
 * - `onReorg(ancestor)` rolls the store back to the common ancestor and returns (and, given a block,
 *   asks refreshes at it of) the owners whose values were undone;
 * - the identity index remembers the hash of the block it is built through; a range or a read that
 *   finds that block dropped rebuilds the index from the start block first, so a new branch's
 *   `Transfer`s are never skipped as already applied.
 *
 * Plain class, dependencies passed in (a NestJS provider can wrap it unchanged); processors only call
 * it. Every handler is idempotent: re-running a job with the same data ends in the same state and asks
 * for the same job ids, which the queues deduplicate.
 *
 * The store takes one block at a time, in order. Refreshes at a later block first apply the blocks in
 * between with no writes (their hashes checked parent by parent, so a reorg is noticed rather than
 * stored), and a second owner refreshed at the store's head block is added to that block in one
 * atomic step (`amendHead`). Writes to one store are therefore serialized: in this
 * process by a promise chain (so several refresh jobs may read the chain at once), across processes
 * by running the `refresh` queue in one process per network; log reads stay parallel in
 * `index-range` workers.
 */
import { BlockNotFoundError, getAddress, type Address, type Client, type Hex, type PublicClient } from 'viem';
import { NetmarginError } from '../common/errors';
import type { AdapterProtocol, PositionHolder, ProtocolAdapter } from './adapters/types';
import { getLogsChunked, type GetLogsFn } from './chain/logs';
import type { BlockRef, KeyWrite, ReorgSafeStore } from './chain/store';
import { IdentityIndex, syncIdentity } from './identity';
import { serialize } from './redis/serialize';
import type { Position } from '../risk/types';

/** One protocol's part of an owner's stored positions (the block stamp is the store's). */
export interface ProtocolPositions {
  protocol: AdapterProtocol;
  positions: Position[];
  attributes: Record<string, string>;
}

/** The value stored per owner: every adapter's read, in registry order. */
export interface OwnerPositions {
  owner: Address;
  protocols: ProtocolPositions[];
}

/** Where the service asks for follow-up work (BullMQ in production: `queueJobSink`). */
export interface JobSink {
  refresh(owner: Address, block: BlockRef): Promise<void>;
  advance(block: BlockRef): Promise<void>;
  risk(owner: Address, block: BlockRef): Promise<void>;
}

export interface IndexerServiceDeps {
  client: PublicClient;
  adapters: readonly ProtocolAdapter[];
  store: ReorgSafeStore<OwnerPositions>;
  jobs: JobSink;
  /** `eth_getLogs` binding (`rpcGetLogs(client)`, or a wrapper in tests). */
  getLogs: GetLogsFn;
  /** The manifest's start block: identity is built from here. */
  startBlock: bigint;
  /** Blocks per `eth_getLogs` request (default 2 000; split on refusal). */
  chunkSize?: bigint;
  /** Called after every rollback of the store (metrics, logs). */
  onRollback?: (ancestor: BlockRef, undone: Address[]) => void;
}

export interface BackfillResult {
  logs: number;
  /** Owners asked to refresh at `toBlock`, checksummed, sorted. */
  owners: Address[];
}

/**
 * `stale`: the block is below the store's head (re-asked at the head) or no longer on the chain
 * (dropped; the reorg path re-asks the owners it undid).
 */
export type RefreshOutcome = 'changed' | 'unchanged' | 'stale';

/** Blocks fetched at once when the store's head is moved over blocks without writes. */
const BRIDGE_BATCH = 50;

export class IndexerService {
  private identity: IdentityIndex;
  /** Last block whose `Transfer` logs the identity index has applied. */
  private identityThrough: bigint;
  /** Hash of block `identityThrough` on the branch the index was built from (none before the start block). */
  private identityHash: Hex | undefined;
  private writeChain: Promise<unknown> = Promise.resolve();
  /** Serializes updates of the identity index (jobs run concurrently in one process). */
  private identityChain: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: IndexerServiceDeps) {
    this.identity = IdentityIndex.forAdapters(deps.adapters);
    this.identityThrough = deps.startBlock - 1n;
  }

  /** The store's anchor for a first backfill up to `toBlock`: its parent, so `toBlock` is the first write. */
  static async anchorFor(client: PublicClient, toBlock: bigint): Promise<BlockRef> {
    const b = await client.getBlock({ blockNumber: toBlock });
    return { number: toBlock - 1n, hash: b.parentHash };
  }

  async backfill(fromBlock: bigint, toBlock: bigint, refreshAtIn?: BlockRef): Promise<BackfillResult> {
    const { adapters } = this.deps;
    const refreshAt = refreshAtIn ?? (await this.blockRef(toBlock));
    const addresses = new Set<Hex>();
    for (const a of adapters) {
      for (const w of a.watched) addresses.add(w.address.toLowerCase() as Hex);
      if (a.ownership) addresses.add(a.ownership.token.toLowerCase() as Hex);
    }
    // The range end's hash, read before its logs: should a reorg land in between, the next use of the
    // identity index finds that hash gone from the chain and rebuilds the index.
    const toHash =
      refreshAt.number === toBlock
        ? refreshAt.hash
        : (await this.deps.client.getBlock({ blockNumber: toBlock })).hash;
    const logs = await getLogsChunked(this.deps.getLogs, {
      fromBlock,
      toBlock,
      address: [...addresses],
      chunkSize: this.deps.chunkSize,
    });
    logs.sort((x, y) =>
      x.blockNumber === y.blockNumber
        ? (x.logIndex ?? 0) - (y.logIndex ?? 0)
        : (x.blockNumber ?? 0n) < (y.blockNumber ?? 0n)
          ? -1
          : 1,
    );
    const owners = new Set<Address>();
    const identity = await this.identityLocked(async () => {
      // Identity must cover everything below the range, on the chain's branch, before the range's
      // Transfers are applied.
      await this.syncIdentityUnlocked(fromBlock - 1n);
      // Transfers already applied (a re-run, or a range overlapping an earlier one) are skipped.
      const fresh = logs.filter((l) => (l.blockNumber ?? 0n) > this.identityThrough);
      this.identity.applyLogs(fresh);
      if (toBlock > this.identityThrough) {
        this.identityThrough = toBlock;
        this.identityHash = toHash;
      }
      return this.identity;
    });
    // Both sides of every account move in the range, applied now or earlier (a refresh may have synced
    // the index past it): the owner who lost an account must be re-read too.
    for (const move of identity.movesIn(logs))
      for (const who of [move.from, move.to]) if (BigInt(who) !== 0n) owners.add(getAddress(who));
    for (const a of adapters) {
      for (const h of a.accountsFromLogs(logs)) {
        const owner = h.kind === 'owner' ? h.owner : identity.ownerOf(h.protocol, h.accountId);
        if (owner) owners.add(getAddress(owner));
      }
    }
    const sorted = [...owners].sort();
    for (const o of sorted) await this.deps.jobs.refresh(o, refreshAt);
    await this.deps.jobs.advance(refreshAt);
    return { logs: logs.length, owners: sorted };
  }

  /**
   * Reads and stores `owner`'s positions at `at` (a block, or a block number read on the canonical
   * chain now); asks for a risk job if they changed.
   */
  async handleRefresh(ownerIn: Address, at: BlockRef | bigint): Promise<RefreshOutcome> {
    const owner = getAddress(ownerIn);
    const blockNumber = typeof at === 'bigint' ? at : at.number;
    const head = await this.deps.store.head();
    if (head && blockNumber < head.number) {
      if (await this.onChain(head)) {
        // The store moved past this block: the owner's state at the head includes this block's changes.
        await this.deps.jobs.refresh(owner, head);
        return 'stale';
      }
      // The store's head was dropped by a reorg: heal first, then this refresh is judged again.
      const ref = typeof at === 'bigint' ? await this.blockRef(at) : at;
      if (!(await this.onChain(ref))) return 'stale';
      await this.serialized(() => this.healUnlocked(ref));
      return this.handleRefresh(owner, ref);
    }
    const block = await this.blockAt(blockNumber);
    if (!block || (typeof at !== 'bigint' && block.hash !== at.hash)) {
      // Reorged away. The change that asked for this refresh may sit in a block that survived, and
      // nothing else may ask again: move the request to the block now at that height (or the head of
      // a chain the reorg shortened). A request is never dropped, only moved to the chain as it is.
      const now = block ? { number: blockNumber, hash: block.hash } : await this.headRef();
      await this.deps.jobs.refresh(owner, now);
      return 'stale';
    }
    const target = { number: blockNumber, hash: block.hash, parentHash: block.parentHash };
    const { holders, ahead } = await this.holdersAt(owner, blockNumber);
    if (ahead) {
      // Ownership is known past this block (a later range applied its Transfers): an account moved
      // after it would be read for its new owner. Ask again where ownership is known; that state
      // includes this block's changes.
      await this.deps.jobs.refresh(owner, ahead);
      return 'stale';
    }
    const { value, readAt } = await this.readHolders(owner, holders, target.number);
    const moved = readAt.find((h) => h !== target.hash);
    if (moved) {
      // The adapters read another block at this height (a reorg landed after the checks above):
      // move the request to the block the chain holds now rather than store a value under the wrong hash.
      await this.deps.jobs.refresh(owner, { number: target.number, hash: moved });
      return 'stale';
    }
    const current = await this.deps.store.get(owner);
    // Unchanged only while the stored value's block is on the chain. One stamped with a dropped block is
    // written again (the write heals first): the heal's re-ask of this owner at this block would be
    // deduplicated against this very job, and the owner would keep its pre-reorg value.
    if (
      current &&
      serialize(current.value) === serialize(value) &&
      (await this.onChain({ number: current.blockNumber, hash: current.blockHash }))
    )
      return 'unchanged';
    const ref = { number: target.number, hash: target.hash };
    // Ask first, write second: a crash in between re-runs into the same (deduplicated) risk job id.
    await this.deps.jobs.risk(owner, ref);
    await this.serialized(() => this.write(ref, target.parentHash, { key: owner, value }));
    return 'changed';
  }

  /** Moves the store's head to `block` with no writes; a block at or below the head is a no-op. */
  async handleAdvance(block: BlockRef): Promise<RefreshOutcome> {
    const head = await this.deps.store.head();
    if (head && block.number < head.number) return 'unchanged';
    if (head && block.number === head.number && block.hash === head.hash) return 'unchanged';
    const onChain = await this.blockAt(block.number);
    if (!onChain || onChain.hash !== block.hash) return 'stale';
    await this.serialized(() => this.write(block, onChain.parentHash, undefined));
    return 'changed';
  }

  /**
   * Rolls the store back to `ancestor` (from the head tracker's `reorg` event) and returns every owner
   * whose stored value was undone; with `refreshAt`, also asks for their refreshes at that block. The
   * identity index is rebuilt from the start block on its next use.
   */
  async onReorg(ancestor: BlockRef, refreshAt?: BlockRef): Promise<Address[]> {
    const affected = await this.serialized(() => this.rollbackUnlocked(ancestor));
    if (refreshAt) for (const o of affected) await this.deps.jobs.refresh(o, refreshAt);
    return affected;
  }

  private async onChain(b: BlockRef): Promise<boolean> {
    return (await this.blockAt(b.number))?.hash === b.hash;
  }

  /** The block at `blockNumber`, or undefined when the chain is shorter now (a reorg can shorten it). */
  private async blockAt(blockNumber: bigint): Promise<{ hash: Hex; parentHash: Hex } | undefined> {
    try {
      return await this.deps.client.getBlock({ blockNumber });
    } catch (err) {
      if (err instanceof BlockNotFoundError) return undefined;
      throw err;
    }
  }

  /** The chain's head block now. */
  private async headRef(): Promise<BlockRef> {
    const b = await this.deps.client.getBlock({ blockTag: 'latest' });
    return { number: b.number ?? 0n, hash: b.hash ?? ('0x' as Hex) };
  }

  /** The canonical block at `blockNumber` now. */
  async blockRef(blockNumber: bigint): Promise<BlockRef> {
    const b = await this.deps.client.getBlock({ blockNumber });
    return { number: blockNumber, hash: b.hash };
  }

  /** Every adapter's positions for `owner` at `blockNumber` (what `handleRefresh` stores). */
  async readOwner(owner: Address, blockNumber: bigint): Promise<OwnerPositions> {
    const { holders } = await this.holdersAt(owner, blockNumber);
    return (await this.readHolders(owner, holders, blockNumber)).value;
  }

  /**
   * The owner's holders per adapter from the identity index brought up to `blockNumber`, and, when
   * the index is already past that block (a later range applied its `Transfer`s) and an account of
   * this owner moved after it, the block the index is built through: reading at `blockNumber` would
   * use the later ownership. Both are taken under the identity lock, so they agree with each other.
   */
  private holdersAt(
    owner: Address,
    blockNumber: bigint,
  ): Promise<{ holders: PositionHolder[]; ahead: BlockRef | undefined }> {
    return this.identityLocked(async () => {
      await this.syncIdentityUnlocked(blockNumber);
      // Only an owner whose accounts moved after the block reads differently at it: everyone else's
      // holdings are the same at the block and at the index's (no re-ask, no chase of a moving index).
      const moved = this.identity.lastMoveOf(owner);
      const ahead =
        this.identityThrough > blockNumber &&
        this.identityHash !== undefined &&
        moved !== undefined &&
        moved > blockNumber
          ? { number: this.identityThrough, hash: this.identityHash }
          : undefined;
      const holders = this.deps.adapters.map((a) => this.identity.holderFor(owner, a.protocol));
      return { holders, ahead };
    });
  }

  /** The adapters' reads for the holders, with the block hash each read was pinned to. */
  private async readHolders(
    owner: Address,
    holders: PositionHolder[],
    blockNumber: bigint,
  ): Promise<{ value: OwnerPositions; readAt: Hex[] }> {
    const client = this.deps.client as unknown as Client;
    const reads = await Promise.all(
      this.deps.adapters.map((a, i) => a.readPositions(client, holders[i] as PositionHolder, blockNumber)),
    );
    return {
      value: {
        owner,
        protocols: reads.map((r) => ({
          protocol: r.protocol,
          positions: r.positions,
          attributes: r.attributes,
        })),
      },
      readAt: reads.map((r) => r.blockHash),
    };
  }

  private identityLocked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.identityChain.then(fn, fn);
    this.identityChain = run.catch(() => undefined);
    return run;
  }

  /**
   * Brings the identity index up to `blockNumber` on the chain's branch. An index built through a
   * block the chain has dropped is rebuilt from the start block first: otherwise the dropped branch's
   * Transfers would stand and the new branch's at the same heights be skipped as already applied.
   * Caller holds the identity lock; a rollback resetting the index meanwhile starts it again.
   */
  private async syncIdentityUnlocked(blockNumber: bigint): Promise<void> {
    const client = this.deps.client as unknown as Client;
    for (;;) {
      if (this.identityHash !== undefined) {
        const seen = this.identityHash;
        const onChain = (await this.blockAt(this.identityThrough))?.hash;
        if (onChain !== seen && this.identityHash === seen) this.resetIdentity();
      }
      if (this.identityThrough >= blockNumber) return;
      const targetHash = (await this.deps.client.getBlock({ blockNumber })).hash;
      const identity = this.identity;
      await syncIdentity(client, identity, this.identityThrough + 1n, blockNumber);
      if (this.identity === identity) {
        this.identityThrough = blockNumber;
        this.identityHash = targetHash;
        return;
      }
    }
  }

  private resetIdentity(): void {
    this.identity = IdentityIndex.forAdapters(this.deps.adapters);
    this.identityThrough = this.deps.startBlock - 1n;
    this.identityHash = undefined;
  }

  /** Rolls the store back to `ancestor`; returns the owners whose values were undone. Caller holds the lock. */
  private async rollbackUnlocked(ancestor: BlockRef): Promise<Address[]> {
    const before = await this.deps.store.entries();
    await this.deps.store.rollbackTo(ancestor);
    this.resetIdentity();
    const affected = [...before.entries()]
      .filter(([, v]) => v.blockNumber > ancestor.number)
      .map(([k]) => getAddress(k))
      .sort();
    this.deps.onRollback?.(ancestor, affected);
    return affected;
  }

  /**
   * When a write finds the chain no longer holds the store's head (a reorg the store has not been
   * rolled back for yet), rolls the store back to the newest block of its history the chain still
   * has and asks refreshes, at `refreshAt`, of the owners undone. Returns false when the store's head
   * is canonical (the incoming block is the one off the chain). Caller holds the lock.
   */
  private async healUnlocked(refreshAt: BlockRef): Promise<boolean> {
    const history = await this.deps.store.history();
    const head = history[history.length - 1];
    if (!head) return false;
    for (let i = history.length - 1; i >= 0; i -= 1) {
      const h = history[i] as BlockRef;
      if ((await this.blockAt(h.number))?.hash !== h.hash) continue;
      if (h === head) return false;
      const undone = await this.rollbackUnlocked(h);
      for (const o of undone) await this.deps.jobs.refresh(o, refreshAt);
      return true;
    }
    const anchor = history[0] as BlockRef;
    throw new NetmarginError(
      `The chain no longer has block ${anchor.number}, the finalized block the positions store rests on`,
      {
        code: 'STORE_ON_DROPPED_BRANCH',
        hint: 'A reorg went deeper than the finality depth. Stop the workers, check the RPC is on the right chain, then re-sync the network from scratch (delete its positions store).',
        details: { anchor: anchor.hash, number: anchor.number.toString() },
      },
    );
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writeChain.then(fn, fn);
    this.writeChain = run.catch(() => undefined);
    return run;
  }

  /**
   * Applies one write (or none) at `block`; when the store turns out to hold blocks the chain
   * dropped, heals (rolls back to the common ancestor) once and tries again. The store has one writer
   * per network (the `refresh` worker), so this is where a reorg is repaired, whichever process saw it.
   */
  private async write(
    block: BlockRef,
    parentHash: Hex,
    w: KeyWrite<OwnerPositions> | undefined,
  ): Promise<void> {
    try {
      await this.writeOnce(block, parentHash, w);
    } catch (err) {
      if (!(err instanceof NetmarginError) || !REORG_CODES.has(err.code)) throw err;
      if (!(await this.healUnlocked(block))) throw err;
      await this.writeOnce(block, parentHash, w);
    }
  }

  /**
   * Applies one write (or none) at `block`: bridges the blocks in between, or merges into the head
   * block. The blocks bridged are fetched `BRIDGE_BATCH` at a time (one batched RPC request) and
   * checked parent by parent.
   */
  private async writeOnce(
    block: BlockRef,
    parentHash: Hex,
    w: KeyWrite<OwnerPositions> | undefined,
  ): Promise<void> {
    const { store } = this.deps;
    const head = await store.head();
    if (!head)
      throw new NetmarginError('The positions store has no anchor', {
        code: 'STORE_NOT_ANCHORED',
        hint: 'Open the store with an anchor (IndexerService.anchorFor(client, toBlock)) before indexing.',
      });
    const writes = w ? [w] : [];
    if (block.number === head.number) {
      if (head.hash !== block.hash) throw reorgError(block, head.hash);
      // Merge into the head block in one atomic store step (its undo log keeps the pre-block values).
      if (writes.length > 0) await store.amendHead(block, writes);
      return;
    }
    if (block.number < head.number) {
      // The head moved past this block while the value was read (another refresh or an advance ran
      // meanwhile: refresh jobs run concurrently in the writing process). Never drop the write: ask
      // for the owner again at the head, whose state includes this block's.
      if (w) await this.deps.jobs.refresh(getAddress(w.key), head);
      return;
    }
    let tip = head;
    for (let from = head.number + 1n; from < block.number; from += BigInt(BRIDGE_BATCH)) {
      const count = Math.min(BRIDGE_BATCH, Number(block.number - from));
      const blocks = await Promise.all(
        Array.from({ length: count }, (_, i) => this.deps.client.getBlock({ blockNumber: from + BigInt(i) })),
      );
      for (const b of blocks) {
        const n = b.number ?? 0n;
        if (b.parentHash !== tip.hash) throw reorgError({ number: n, hash: b.hash }, tip.hash);
        tip = { number: n, hash: b.hash };
        await store.applyBlock(tip, []);
      }
    }
    if (parentHash !== tip.hash) throw reorgError(block, tip.hash);
    await store.applyBlock(block, writes);
  }
}

/** Refusals that mean the store and the chain disagree on a block: a reorg to heal. */
const REORG_CODES = new Set(['REORG_DETECTED', 'BLOCK_CONFLICT']);

function reorgError(block: BlockRef, storedHash: Hex): NetmarginError {
  return new NetmarginError(`Block ${block.number} is not on the branch the store holds`, {
    code: 'REORG_DETECTED',
    hint: 'The chain reorganized: call onReorg(commonAncestor) (the head tracker reports it), then retry.',
    details: { number: block.number.toString(), incoming: block.hash, stored: storedHash },
  });
}
