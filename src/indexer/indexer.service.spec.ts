import {
  BlockNotFoundError,
  getAddress,
  pad,
  toEventSelector,
  toHex,
  type Address,
  type Hex,
  type Log,
  type PublicClient,
} from 'viem';
import type { AdapterReadResult, ProtocolAdapter } from './adapters/types';
import { ReorgBuffer } from './chain/store';
import { IndexerService, type JobSink, type OwnerPositions } from './indexer.service';

const alice = getAddress('0x000000000000000000000000000000000000a11c');
const bob = getAddress('0x0000000000000000000000000000000000000b0b');
const carol = getAddress('0x000000000000000000000000000000000000ca01');
const hashOf = (n: bigint, branch = 0): Hex => pad(toHex(n * 16n + BigInt(branch)), { size: 32 });

/** The ERC-721 `Transfer` of venue account 7 from `from` to `to`, as `eth_getLogs` returns it. */
const ACCOUNT_TOKEN = getAddress('0x00000000000000000000000000000000000007e7');
const transfer = (from: Address, to: Address, block: bigint): Log =>
  ({
    address: ACCOUNT_TOKEN,
    blockNumber: block,
    logIndex: 0,
    data: '0x',
    topics: [
      toEventSelector('Transfer(address,address,uint256)'),
      pad(from, { size: 32 }),
      pad(to, { size: 32 }),
      pad(toHex(7n), { size: 32 }),
    ],
  }) as unknown as Log;

/** A chain of blocks 0…; blocks at or above `forkAt` carry `branch` in their hash. */
class FakeChain {
  branch = 0;
  forkAt = 1_000n;
  /** The newest block (a reorg may shorten the chain). */
  tip = 10_000n;
  hash(n: bigint): Hex {
    return hashOf(n, n >= this.forkAt ? this.branch : 0);
  }
  client(): PublicClient {
    return {
      getBlock: async ({ blockNumber: asked, blockTag }: { blockNumber?: bigint; blockTag?: 'latest' }) => {
        const blockNumber = blockTag === 'latest' ? this.tip : (asked as bigint);
        if (blockNumber > this.tip) throw new BlockNotFoundError({ blockNumber });
        return { number: blockNumber, hash: this.hash(blockNumber), parentHash: this.hash(blockNumber - 1n) };
      },
      request: async () => [],
    } as unknown as PublicClient;
  }
}

/** One fake protocol: an owner's "balance" per block, logs name owners in their first topic. */
function fakeAdapter(balance: (owner: Address, block: bigint) => bigint): ProtocolAdapter {
  return {
    protocol: 'aave-v3',
    watched: [],
    accountsFromLogs: (logs: readonly Log[]) =>
      [...new Set(logs.map((l) => getAddress(`0x${(l.topics[0] ?? '').slice(26)}`)))].map((owner) => ({
        protocol: 'aave-v3' as const,
        kind: 'owner' as const,
        owner,
      })),
    readPositions: async (c, holder, blockNumber): Promise<AdapterReadResult> => ({
      protocol: 'aave-v3',
      owner: holder.owner,
      positions: [],
      blockNumber,
      // Like the real adapters: the hash of the block the read was pinned to, as the chain has it now.
      blockHash: (await (c as unknown as PublicClient).getBlock({ blockNumber })).hash,
      attributes: { balance: balance(holder.owner, blockNumber).toString() },
    }),
  };
}

/** A venue whose accounts are ERC-721 tokens of `token`; a log of the token names the account moved. */
function fakeVenue(token: Address): ProtocolAdapter {
  return {
    protocol: 'perps',
    watched: [],
    ownership: { token },
    accountsFromLogs: (logs: readonly Log[]) =>
      logs.map((l) => ({
        protocol: 'perps' as const,
        kind: 'account' as const,
        accountId: BigInt(l.topics[3]!),
      })),
    readPositions: async (c, holder, blockNumber): Promise<AdapterReadResult> => ({
      protocol: 'perps',
      owner: holder.owner,
      positions: [],
      blockNumber,
      // Like the real adapters: the hash of the block the read was pinned to, as the chain has it now.
      blockHash: (await (c as unknown as PublicClient).getBlock({ blockNumber })).hash,
      attributes: { accounts: holder.accountIds.join(',') },
    }),
  };
}

function setup(
  balance: (owner: Address, block: bigint) => bigint,
  logs: Log[] = [],
  venues: ProtocolAdapter[] = [],
) {
  const chain = new FakeChain();
  const store = new ReorgBuffer<OwnerPositions>({ number: 9n, hash: chain.hash(9n) });
  const asked: string[] = [];
  const rollbacks: [bigint, Address[]][] = [];
  const jobs: JobSink = {
    refresh: async (o, b) => void asked.push(`refresh-${o}-${b.number}`),
    advance: async (b) => void asked.push(`advance-${b.number}`),
    risk: async (o, b) => void asked.push(`risk-${o}-${b.number}`),
  };
  const service = new IndexerService({
    client: chain.client(),
    adapters: [fakeAdapter(balance), ...venues],
    store,
    jobs,
    getLogs: async ({ fromBlock, toBlock }) =>
      logs.filter((l) => l.blockNumber! >= fromBlock && l.blockNumber! <= toBlock),
    startBlock: 1n,
    onRollback: (ancestor, undone) => void rollbacks.push([ancestor.number, undone]),
  });
  return { chain, store, asked, service, rollbacks };
}

/** Holds the service's first adapter's reads: `started` resolves when one begins, `release` lets it finish. */
function holdReads(service: IndexerService): { started: Promise<void>; release: () => void } {
  const adapter = (service as unknown as { deps: { adapters: ProtocolAdapter[] } }).deps.adapters[0]!;
  const read = adapter.readPositions.bind(adapter);
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  let reading: () => void = () => undefined;
  const started = new Promise<void>((r) => (reading = r));
  (adapter as { readPositions: ProtocolAdapter['readPositions'] }).readPositions = async (c, h, b) => {
    reading();
    await gate;
    return read(c, h, b);
  };
  return { started, release };
}

const balanceOf = (o: OwnerPositions | undefined): string | undefined => o?.protocols[0]?.attributes.balance;

describe('IndexerService', () => {
  it('stores an owner block-stamped and asks for one risk job; a re-run changes nothing', async () => {
    const { store, asked, service, chain } = setup(() => 5n);
    expect(await service.handleRefresh(alice, 10n)).toBe('changed');
    const stored = await store.get(alice);
    expect(stored?.blockNumber).toBe(10n);
    expect(stored?.blockHash).toBe(chain.hash(10n));
    expect(balanceOf(stored?.value)).toBe('5');
    expect(await service.handleRefresh(alice, 10n)).toBe('unchanged');
    expect(asked).toEqual([`risk-${alice}-10`]);
  });

  it('keeps both owners refreshed at the same block and bridges the blocks up to a later refresh', async () => {
    let aliceBal = 1n;
    const { store, asked, service } = setup((o) => (o === alice ? aliceBal : 2n));
    await service.handleRefresh(alice, 10n);
    await service.handleRefresh(bob, 10n);
    expect(balanceOf((await store.get(alice))?.value)).toBe('1');
    expect(balanceOf((await store.get(bob))?.value)).toBe('2');
    aliceBal = 3n;
    expect(await service.handleRefresh(alice, 14n)).toBe('changed');
    expect((await store.head())?.number).toBe(14n);
    expect(balanceOf((await store.get(alice))?.value)).toBe('3');
    expect((await store.get(bob))?.blockNumber).toBe(10n);
    // Below the head: re-asked at the head, whose state includes block 12.
    expect(await service.handleRefresh(bob, 12n)).toBe('stale');
    expect(asked).toEqual([`risk-${alice}-10`, `risk-${bob}-10`, `risk-${alice}-14`, `refresh-${bob}-14`]);
  });

  it('moves a refresh for a block the chain no longer has to the block now at that height; drops such an advance', async () => {
    const { chain, service, store, asked } = setup(() => 1n);
    const old = { number: 12n, hash: chain.hash(12n) };
    chain.forkAt = 11n;
    chain.branch = 1;
    expect(await service.handleRefresh(alice, old)).toBe('stale');
    expect(await service.handleAdvance(old)).toBe('stale');
    expect(await store.entries()).toEqual(new Map());
    expect(asked).toEqual([`refresh-${alice}-12`]);
    expect(chain.hash(12n)).not.toBe(old.hash);
    expect(await service.handleRefresh(alice, { number: 12n, hash: chain.hash(12n) })).toBe('changed');
  });

  it('writes an unchanged value again when its stored block was dropped, healing first (a re-ask would be deduplicated)', async () => {
    const { chain, service, store, rollbacks } = setup(() => 5n);
    await service.handleRefresh(bob, 10n);
    await service.handleRefresh(alice, 12n);
    // Block 12 is replaced; alice's value there is the same, but it is stamped with the dropped block.
    chain.forkAt = 12n;
    chain.branch = 1;
    const replaced = { number: 12n, hash: chain.hash(12n) };
    expect(await service.handleRefresh(alice, replaced)).toBe('changed');
    expect(rollbacks).toEqual([[11n, [alice]]]);
    expect(await store.get(alice)).toMatchObject({ blockNumber: 12n, blockHash: replaced.hash });
    expect(await store.head()).toEqual(replaced);
  });

  it('moves a refresh above the tip of a chain a reorg shortened to the head, drops such an advance, and heals below it', async () => {
    const { chain, service, store, asked } = setup((o, b) => (o === alice ? b : 7n));
    await service.handleRefresh(bob, 10n);
    await service.handleRefresh(alice, 12n);
    // The new branch forks at 11 and is one block long: blocks 12 and up are gone.
    chain.forkAt = 11n;
    chain.branch = 1;
    chain.tip = 11n;
    expect(await service.handleRefresh(bob, { number: 12n, hash: chain.hash(12n) })).toBe('stale');
    expect(asked.slice(-1)).toEqual([`refresh-${bob}-11`]);
    expect(await service.handleAdvance({ number: 12n, hash: chain.hash(12n) })).toBe('stale');
    expect(await service.handleRefresh(bob, { number: 11n, hash: chain.hash(11n) })).toBe('unchanged');
    expect(await service.handleAdvance({ number: 11n, hash: chain.hash(11n) })).toBe('changed');
    expect(await store.head()).toEqual({ number: 11n, hash: chain.hash(11n) });
    expect(await store.get(alice)).toBeUndefined();
    expect(asked.slice(-1)).toEqual([`refresh-${alice}-11`]);
  });

  it('rebuilds the identity index when a reorg drops the block it was built through: the new branch moves the account', async () => {
    const logs = [transfer(alice, bob, 12n)];
    const { chain, service, asked } = setup(() => 1n, logs, [fakeVenue(ACCOUNT_TOKEN)]);
    // The Aave stand-in reads an owner from every log's first topic: only the three people count.
    const refreshed = (): string[] =>
      asked.splice(0).filter((a) => [alice, bob, carol].some((o) => a === `refresh-${o}-12`));
    await service.backfill(12n, 12n, { number: 12n, hash: chain.hash(12n) });
    expect(refreshed()).toEqual([`refresh-${alice}-12`, `refresh-${bob}-12`].sort());
    // Block 12 is replaced by one sending the account to carol instead; the store has not been touched.
    chain.forkAt = 12n;
    chain.branch = 1;
    logs.splice(0, 1, transfer(alice, carol, 12n));
    await service.backfill(12n, 12n, { number: 12n, hash: chain.hash(12n) });
    expect(refreshed()).toEqual([`refresh-${alice}-12`, `refresh-${carol}-12`].sort());
    const accounts = async (o: Address): Promise<string | undefined> =>
      (await service.readOwner(o, 12n)).protocols[1]?.attributes.accounts;
    expect([await accounts(bob), await accounts(carol)]).toEqual(['', '7']);
  });

  it('advances the head over blocks without writes, checking each parent; at or below the head it is a no-op', async () => {
    const { chain, service, store, rollbacks } = setup(() => 1n);
    await service.handleRefresh(alice, 10n);
    const to = { number: 130n, hash: chain.hash(130n) };
    expect(await service.handleAdvance(to)).toBe('changed');
    expect(await store.head()).toEqual(to);
    expect(store.pendingBlocks).toBe(121);
    expect(await service.handleAdvance(to)).toBe('unchanged');
    expect(await service.handleAdvance({ number: 20n, hash: chain.hash(20n) })).toBe('unchanged');
    expect((await store.get(alice))?.blockNumber).toBe(10n);
    // The chain forks below the store's head: the next advance rolls back to block 99 and goes on.
    chain.forkAt = 100n;
    chain.branch = 2;
    const next = { number: 150n, hash: chain.hash(150n) };
    expect(await service.handleAdvance(next)).toBe('changed');
    expect(await store.head()).toEqual(next);
    expect(rollbacks).toEqual([[99n, []]]);
    expect((await store.get(alice))?.blockNumber).toBe(10n);
  });

  it('merges a second owner into the head block in one store step that a reorg undoes whole', async () => {
    const { store, asked, service, chain } = setup((o) => (o === alice ? 1n : 2n));
    await service.handleRefresh(bob, 10n);
    const rollback = jest.spyOn(store, 'rollbackTo');
    const amend = jest.spyOn(store, 'amendHead');
    await service.handleRefresh(alice, 10n);
    expect(rollback).not.toHaveBeenCalled();
    expect(amend).toHaveBeenCalledTimes(1);
    expect(store.pendingBlocks).toBe(1);
    const undone = await service.onReorg(
      { number: 9n, hash: chain.hash(9n) },
      { number: 11n, hash: chain.hash(11n) },
    );
    expect(undone).toEqual([alice, bob].sort());
    expect(await store.entries()).toEqual(new Map());
    expect(asked.slice(-2).sort()).toEqual([`refresh-${alice}-11`, `refresh-${bob}-11`].sort());
  });

  it('heals a store holding a dropped block: rolls back to the newest block still on the chain, re-asks, writes', async () => {
    const { chain, service, store, asked, rollbacks } = setup((o, b) => (o === alice ? b : 7n));
    await service.handleRefresh(bob, 10n);
    await service.handleRefresh(alice, 11n);
    chain.forkAt = 11n;
    chain.branch = 1;
    expect(await service.handleRefresh(bob, 13n)).toBe('unchanged');
    expect(await service.handleAdvance({ number: 13n, hash: chain.hash(13n) })).toBe('changed');
    // Block 11 (alice's write) was dropped: undone, alice re-asked at 13; bob (block 10) kept.
    expect(await store.head()).toEqual({ number: 13n, hash: chain.hash(13n) });
    expect(await store.get(alice)).toBeUndefined();
    expect((await store.get(bob))?.blockNumber).toBe(10n);
    expect(asked.slice(-1)).toEqual([`refresh-${alice}-13`]);
    expect(rollbacks).toEqual([[10n, [alice]]]);
  });

  it('heals before judging a refresh below a head the chain dropped', async () => {
    const { chain, service, store, asked, rollbacks } = setup((o, b) => (o === alice ? b : 7n));
    await service.handleRefresh(bob, 10n);
    await service.handleRefresh(alice, 12n);
    chain.forkAt = 11n;
    chain.branch = 1;
    expect(await service.handleRefresh(bob, { number: 11n, hash: chain.hash(11n) })).toBe('unchanged');
    expect(rollbacks).toEqual([[10n, [alice]]]);
    expect(asked.slice(-1)).toEqual([`refresh-${alice}-11`]);
    expect(await store.head()).toEqual({ number: 10n, hash: chain.hash(10n) });
  });

  it('asks both sides of an account move in a range even when the index applied it earlier', async () => {
    const move = transfer(alice, bob, 12n);
    const { service, asked } = setup(() => 1n, [move], [fakeVenue(ACCOUNT_TOKEN)]);
    await service.backfill(1n, 20n); // applies the move
    asked.length = 0;
    await service.backfill(10n, 15n); // the same move again: already applied, still both owners
    expect(asked).toEqual(expect.arrayContaining([`refresh-${alice}-15`, `refresh-${bob}-15`]));
  });

  it('re-asks a refresh at the index block only for an owner whose accounts moved after the refresh block', async () => {
    const { service, store, asked } = setup(
      (_o, b) => b,
      [transfer(bob, alice, 18n)],
      [fakeVenue(ACCOUNT_TOKEN)],
    );
    await service.backfill(1n, 20n); // the index now holds ownership through block 20
    asked.length = 0;
    // Alice received the account at 18: at 15 she did not hold it, so she is read where the index is.
    expect(await service.handleRefresh(alice, 15n)).toBe('stale');
    expect(asked).toEqual([`refresh-${alice}-20`]);
    expect(await store.get(alice)).toBeUndefined();
    // Carol's holdings did not move: she is read at her own block, with no re-ask.
    expect(await service.handleRefresh(carol, 15n)).toBe('changed');
    expect((await store.get(carol))?.blockNumber).toBe(15n);
  });

  it('never drops a write when the head moves past its block while the value is read: re-asks at the head', async () => {
    const { service, store, asked, chain } = setup((_o, b) => b);
    const { started, release } = holdReads(service);
    const slow = service.handleRefresh(alice, 10n);
    await started; // alice's read at 10 is in flight
    await service.handleAdvance({ number: 12n, hash: chain.hash(12n) });
    release();
    expect(await slow).toBe('changed');
    expect(await store.get(alice)).toBeUndefined(); // not written below the head…
    expect(asked).toContain(`refresh-${alice}-12`); // …but asked for again at the head
    expect(await service.handleRefresh(alice, { number: 12n, hash: chain.hash(12n) })).toBe('changed');
    expect((await store.get(alice))?.blockNumber).toBe(12n);
  });

  it('moves a refresh whose block a reorg replaced while the adapters read it, storing nothing under the wrong hash', async () => {
    const { service, store, asked, chain } = setup((_o, b) => b);
    const { started, release } = holdReads(service);
    const refresh = service.handleRefresh(alice, { number: 12n, hash: chain.hash(12n) });
    await started;
    chain.forkAt = 11n; // block 12 is replaced while it is being read
    chain.branch = 1;
    release();
    expect(await refresh).toBe('stale');
    expect(await store.get(alice)).toBeUndefined();
    expect(asked).toEqual([`refresh-${alice}-12`]);
  });

  it('refuses to write when the chain no longer has the block the store rests on', async () => {
    const { chain, service, store } = setup((_o, b) => b);
    await service.handleRefresh(alice, 10n);
    chain.forkAt = 5n;
    chain.branch = 1;
    await expect(service.handleRefresh(alice, 12n)).rejects.toMatchObject({
      code: 'STORE_ON_DROPPED_BRANCH',
    });
    expect((await store.get(alice))?.blockNumber).toBe(10n);
  });

  it('rolls back to the ancestor on a reorg and asks to refresh the owners it undid', async () => {
    const { store, asked, service, chain } = setup((o, b) => (o === alice ? b : 7n));
    await service.handleRefresh(bob, 10n);
    await service.handleRefresh(alice, 12n);
    const undone = await service.onReorg(
      { number: 11n, hash: chain.hash(11n) },
      { number: 15n, hash: chain.hash(15n) },
    );
    expect(undone).toEqual([alice]);
    expect(await store.get(alice)).toBeUndefined();
    expect((await store.get(bob))?.blockNumber).toBe(10n);
    expect(asked.slice(-1)).toEqual([`refresh-${alice}-15`]);
  });

  it('backfills: every owner named by the logs is asked to refresh at the range end, then the head advances there', async () => {
    const log = (owner: Address, block: bigint): Log =>
      ({
        address: bob,
        blockNumber: block,
        logIndex: 0,
        topics: [pad(owner, { size: 32 })],
      }) as unknown as Log;
    const { asked, service } = setup(() => 1n, [log(bob, 3n), log(alice, 5n), log(bob, 8n), log(alice, 30n)]);
    const res = await service.backfill(1n, 20n);
    expect(res).toEqual({ logs: 3, owners: [alice, bob].sort() });
    expect(asked.slice(0, 2).sort()).toEqual([`refresh-${alice}-20`, `refresh-${bob}-20`].sort());
    expect(asked.slice(2)).toEqual(['advance-20']);
  });

  it('backfills a range with its owners refreshed at a later block (a first sync reads state once)', async () => {
    const log = (owner: Address, block: bigint): Log =>
      ({
        address: bob,
        blockNumber: block,
        logIndex: 0,
        topics: [pad(owner, { size: 32 })],
      }) as unknown as Log;
    const { asked, service, chain } = setup(() => 1n, [log(alice, 5n)]);
    await service.backfill(1n, 20n, { number: 90n, hash: chain.hash(90n) });
    expect(asked).toEqual([`refresh-${alice}-90`, 'advance-90']);
  });
});
