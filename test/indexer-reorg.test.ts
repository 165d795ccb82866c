/**
 * Reorg safety on the devnet: 100 seeded random sequences of mining (USDC mints and transfers),
 * `anvil_reorg` with replacement transactions and `evm_snapshot` / `evm_revert`, all shallower than
 * the finality depth, while a HeadWatcher + ReorgBuffer index USDC balances of four accounts from
 * Transfer logs (block by block, read by block hash). After each sequence the indexed state must
 * equal (a) a fresh sync of the canonical chain from the sequence's start block (getLogsChunked over
 * the whole range) and (b) the token's own balanceOf at the tip. Sequences share one devnet: it is
 * reverted to a base snapshot between them. A reorg one block deeper than the finality depth must
 * halt with ReorgTooDeepError and leave the indexed state untouched.
 */
import {
  decodeEventLog,
  encodeFunctionData,
  parseAbi,
  toEventSelector,
  type Address,
  type Hex,
  type Log,
  type PublicClient,
} from 'viem';
import { NetmarginError } from '../src/common/errors';
import { getFreePort } from '../src/devnet/anvil';
import { startDevnet, type Devnet } from '../src/devnet/devnet';
import { createChainClient } from '../src/indexer/chain/client';
import { HeadTracker, HeadWatcher, ReorgTooDeepError, type HeadEvent } from '../src/indexer/chain/heads';
import { getLogsAtBlock, getLogsChunked, rpcGetLogs } from '../src/indexer/chain/logs';
import { ReorgBuffer, type BlockRef, type BlockStamped, type KeyWrite } from '../src/indexer/chain/store';
import { mulberry32 } from '../src/risk/stats/prng';

const FINALITY_DEPTH = 6;
const SEQUENCES = 100;
const STEPS = 12;

const tokenAbi = parseAbi([
  'event Transfer(address indexed from, address indexed to, uint256 value)',
  'function mint(address account, uint256 value) returns (bool)',
  'function transfer(address to, uint256 value) returns (bool)',
  'function balanceOf(address) view returns (uint256)',
]);
const TRANSFER_TOPIC = toEventSelector('Transfer(address,address,uint256)');

let devnet: Devnet;
let client: PublicClient;
let usdc: Address;
let accounts: Address[];

async function rpc<T>(method: string, params: unknown[] = []): Promise<T> {
  return (await devnet.clients.testClient.request({ method: method as never, params: params as never })) as T;
}

async function tipNumber(): Promise<bigint> {
  return devnet.clients.publicClient.getBlockNumber({ cacheTime: 0 });
}

/** The simple indexed state: USDC balance of each watched account, from Transfer logs. */
function applyLogs(balances: Map<string, bigint>, logs: Log[]): Map<string, bigint> {
  const changed = new Map<string, bigint>();
  for (const log of logs) {
    const { args } = decodeEventLog({
      abi: tokenAbi,
      eventName: 'Transfer',
      data: log.data,
      topics: log.topics,
    });
    for (const [who, sign] of [
      [args.from, -1n],
      [args.to, 1n],
    ] as const) {
      const key = who.toLowerCase();
      if (!balances.has(key)) continue; // only the watched accounts
      const next = (changed.get(key) ?? (balances.get(key) as bigint)) + sign * args.value;
      changed.set(key, next);
      balances.set(key, next);
    }
  }
  return changed;
}

/** A tx request for anvil (unlocked dev accounts sign): a mint or a small transfer between watched accounts. */
function randomTx(rnd: () => number): { from: Address; to: Address; data: Hex; gas: Hex } {
  const pick = (): Address => accounts[Math.floor(rnd() * accounts.length)] as Address;
  const amount = BigInt(1 + Math.floor(rnd() * 1_000_000));
  const from = pick();
  const data =
    rnd() < 0.4
      ? encodeFunctionData({ abi: tokenAbi, functionName: 'mint', args: [pick(), amount] })
      : encodeFunctionData({ abi: tokenAbi, functionName: 'transfer', args: [pick(), amount] });
  return { from, to: usdc, data, gas: '0x30000' };
}

interface Indexer {
  store: ReorgBuffer<bigint>;
  tracker: HeadTracker;
  watcher: HeadWatcher;
  events: HeadEvent[];
  anchor: BlockRef;
  initialBalances: Map<string, bigint>;
}

/** The indexer under test: heads → per-block logs (by hash) → block-stamped balances with rollback. */
async function startIndexer(): Promise<Indexer> {
  const head = await client.getBlock({ blockTag: 'latest' });
  const anchor = { number: head.number, hash: head.hash };
  // Balances at the anchor, read while the chain stands there (anvil drops old states after reorgs).
  const initialBalances = new Map<string, bigint>();
  for (const a of accounts)
    initialBalances.set(
      a.toLowerCase(),
      await client.readContract({ address: usdc, abi: tokenAbi, functionName: 'balanceOf', args: [a] }),
    );
  const initial: [string, BlockStamped<bigint>][] = [...initialBalances].map(([k, value]) => [
    k,
    { value, blockNumber: anchor.number, blockHash: anchor.hash },
  ]);
  const store = new ReorgBuffer<bigint>(anchor, initial);
  const tracker = new HeadTracker({
    finalityDepth: FINALITY_DEPTH,
    windowSize: FINALITY_DEPTH + 4,
    getHeaderByHash: HeadWatcher.headerFetcher(client),
  });
  tracker.reset({ ...anchor, parentHash: head.parentHash });
  const events: HeadEvent[] = [];
  const watcher = new HeadWatcher({
    client,
    tracker,
    onEvent: async (e) => {
      events.push(e);
      if (e.type === 'reorg') await store.rollbackTo(e.commonAncestor);
      if (e.type === 'block') {
        const logs = await getLogsAtBlock(client, e.block.hash, { address: usdc, topics: [TRANSFER_TOPIC] });
        const balances = new Map([...(await store.entries())].map(([k, v]) => [k, v.value]));
        const writes: KeyWrite<bigint>[] = [...applyLogs(balances, logs)].map(([key, value]) => ({
          key,
          value,
        }));
        await store.applyBlock(e.block, writes);
      }
    },
  });
  return { store, tracker, watcher, events, anchor, initialBalances };
}

/** Polls once; returns how many blocks it applied (more than one = a gap filled from parents). */
async function poll(ix: Indexer): Promise<number> {
  const events = await ix.watcher.poll();
  const finalized = ix.tracker.heads().finalized;
  if (finalized !== undefined) await ix.store.finalize(finalized);
  return events.filter((e) => e.type === 'block').length;
}

/** Balances from scratch: the anchor's balances plus every Transfer log of the canonical range. */
async function freshSync(ix: Indexer, tip: bigint): Promise<Map<string, bigint>> {
  const anchor = ix.anchor;
  const balances = new Map(ix.initialBalances);
  if (tip > anchor.number) {
    const logs = await getLogsChunked(rpcGetLogs(client), {
      fromBlock: anchor.number + 1n,
      toBlock: tip,
      address: usdc,
      topics: [TRANSFER_TOPIC],
      chunkSize: 7n,
    });
    applyLogs(balances, logs);
  }
  return balances;
}

async function onChainBalances(): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  for (const a of accounts)
    out.set(
      a.toLowerCase(),
      await client.readContract({ address: usdc, abi: tokenAbi, functionName: 'balanceOf', args: [a] }),
    );
  return out;
}

async function indexed(ix: Indexer): Promise<Map<string, bigint>> {
  return new Map([...(await ix.store.entries())].map(([k, v]) => [k, v.value]));
}

beforeAll(async () => {
  devnet = await startDevnet({ port: await getFreePort(), blockTimeSec: 0, manifestPath: null });
  client = createChainClient({ urls: [devnet.rpcUrl], pollingIntervalMs: 50, timeoutMs: 10_000 });
  usdc = devnet.manifest.tokens.USDC.address;
  accounts = devnet.manifest.accounts.slice(0, 4).map((a) => a.address);
  // Give every watched account a large balance so random transfers never revert, then mine by hand.
  for (const a of accounts) {
    await devnet.clients.walletClient.sendTransaction({
      account: a,
      chain: null,
      to: usdc,
      data: encodeFunctionData({ abi: tokenAbi, functionName: 'mint', args: [a, 10n ** 15n] }),
    });
  }
  await devnet.clients.testClient.setAutomine(false);
}, 60_000);

afterAll(async () => {
  await devnet?.stop();
});

describe('indexer reorg safety on the devnet', () => {
  it(`ends ${SEQUENCES} random mine / anvil_reorg / evm_revert sequences with the canonical state`, async () => {
    const stats = { reorgs: 0, reverts: 0, reorgEvents: 0, maxDepth: 0, gapsFilled: 0, blocks: 0 };
    let baseSnapshot = await rpc<Hex>('evm_snapshot');
    for (let seq = 0; seq < SEQUENCES; seq += 1) {
      const rnd = mulberry32(1_000 + seq);
      // Start each sequence on a freshly mined block: anvil evicts old block states from memory, and
      // an anvil_reorg back to an evicted state silently loses the contracts.
      await rpc('evm_mine');
      const ix = await startIndexer();
      let polledTip = ix.anchor.number;
      let mid: { id: Hex; block: bigint } | undefined;
      /** No operation may fork below this: deeper than the finality depth for the indexer, or below its start. */
      const floor = (): bigint => {
        const byDepth = polledTip - BigInt(FINALITY_DEPTH);
        return byDepth > ix.anchor.number ? byDepth : ix.anchor.number;
      };
      for (let step = 0; step < STEPS; step += 1) {
        const tip = await tipNumber();
        const r = rnd();
        if (r < 0.45) {
          for (let i = 0, n = 1 + Math.floor(rnd() * 3); i < n; i += 1)
            await rpc('eth_sendTransaction', [randomTx(rnd)]);
          await rpc('evm_mine');
        } else if (r < 0.55) {
          await rpc('anvil_mine', [`0x${(1 + Math.floor(rnd() * 3)).toString(16)}`]);
        } else if (r < 0.62) {
          if (!mid) mid = { id: await rpc<Hex>('evm_snapshot'), block: tip };
        } else if (r < 0.85) {
          const maxDepth = Number(tip - floor());
          if (maxDepth >= 1) {
            const depth = 1 + Math.floor(rnd() * Math.min(maxDepth, FINALITY_DEPTH));
            const txs = Array.from({ length: Math.floor(rnd() * 4) }, () => [
              randomTx(rnd),
              Math.floor(rnd() * depth),
            ]);
            await rpc('anvil_reorg', [depth, txs]);
            stats.reorgs += 1;
            if (mid && mid.block > tip - BigInt(depth)) mid = undefined; // its chain is gone
          }
        } else if (mid && mid.block >= floor()) {
          await rpc('evm_revert', [mid.id]);
          mid = undefined;
          stats.reverts += 1;
          // A different block on the reverted chain (a real reorg never just shortens the chain).
          await rpc('eth_sendTransaction', [randomTx(rnd)]);
          await rpc('evm_mine');
        }
        if (rnd() < 0.5) {
          if ((await poll(ix)) > 1) stats.gapsFilled += 1;
          polledTip = (await ix.store.head())?.number ?? polledTip;
        }
      }
      if ((await poll(ix)) > 1) stats.gapsFilled += 1;
      const tip = await tipNumber();
      expect(ix.tracker.halted).toBeUndefined();
      expect((await ix.store.head())?.number).toBe(tip);
      const got = await indexed(ix);
      expect(got).toEqual(await freshSync(ix, tip));
      expect(got).toEqual(await onChainBalances());
      for (const e of ix.events) {
        if (e.type === 'reorg') {
          stats.reorgEvents += 1;
          stats.maxDepth = Math.max(stats.maxDepth, e.depth);
        }
        if (e.type === 'block') stats.blocks += 1;
      }
      await rpc('evm_revert', [baseSnapshot]);
      baseSnapshot = await rpc<Hex>('evm_snapshot');
    }
    // The sequences must actually have exercised reorgs of several depths.
    expect(stats.reorgEvents).toBeGreaterThan(SEQUENCES);
    expect(stats.maxDepth).toBe(FINALITY_DEPTH);
    expect(stats.reverts).toBeGreaterThan(10);
    expect(stats.gapsFilled).toBeGreaterThan(10);
    console.log(`reorg sequences: ${JSON.stringify(stats)}`);
  }, 55_000);

  it('halts with ReorgTooDeepError on a reorg one block deeper than the finality depth', async () => {
    const ix = await startIndexer();
    for (let i = 0; i < FINALITY_DEPTH + 3; i += 1) {
      await rpc('eth_sendTransaction', [randomTx(mulberry32(i))]);
      await rpc('evm_mine');
    }
    await poll(ix);
    const before = await indexed(ix);
    const headBefore = await ix.store.head();
    await rpc('anvil_reorg', [FINALITY_DEPTH + 1, [[randomTx(mulberry32(99)), 0]]]);
    await poll(ix);
    const halt = ix.events.find((e) => e.type === 'halt');
    expect(halt?.type).toBe('halt');
    const error = (halt as Extract<HeadEvent, { type: 'halt' }>).error;
    expect(error).toBeInstanceOf(ReorgTooDeepError);
    expect(error).toBeInstanceOf(NetmarginError);
    expect(error.code).toBe('REORG_TOO_DEEP');
    expect(error.details).toMatchObject({ finalityDepth: FINALITY_DEPTH });
    // Nothing rolled back, nothing applied from the wrong chain, and it stays halted.
    expect(await indexed(ix)).toEqual(before);
    expect(await ix.store.head()).toEqual(headBefore);
    await rpc('anvil_mine', ['0x3']);
    expect(await ix.watcher.poll()).toEqual([]);
    expect(await ix.store.head()).toEqual(headBefore);
  });
});
