/**
 * Reorg safety of the whole indexer on the devnet: the head runner, the one store writer
 * (`IndexerService`) behind real BullMQ `index-range` / `refresh` workers, the Redis reorg-safe stores,
 * the market recorder and the price history, against the real Aave pool and venues.
 *
 * One chain, one runner, 100 seeded random sequences in a row (never reverted to a base snapshot: for
 * the runner that would be a reorg deeper than the finality depth). Each sequence mixes protocol
 * transactions (Aave supply / withdraw of USDC and WETH, perps margin deposits and withdrawals, a perps
 * account NFT changing hands, price feed rounds), mined blocks, `anvil_reorg` with replacement
 * transactions and `evm_snapshot` / `evm_revert` followed by a different block; the runner's polls are
 * skipped at random so reorgs and gaps pile up between them, and the workers keep working while the
 * chain moves (only an adapter's read waits for a chain change in flight: see `changeChain`). Every
 * fork stays above (highest head the runner saw) − finality depth.
 *
 * After each sequence the runner catches up and the queues drain; the indexed state must then equal a
 * fresh sync of the canonical chain: every persona's stored positions equal an independent read at the
 * stored (canonical) block, a persona never stored holds nothing, the market store's `latest` is the
 * canonical head's snapshot and the price history holds no observation of a dropped block. Every 25
 * sequences a brand-new indexer (new network prefix, stores, service, workers, runner) syncs the same
 * chain from scratch and is compared with the live one. Last, a reorg one block deeper than the
 * finality depth halts the runner with an alert and leaves both stores as they were.
 */
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  encodeFunctionData,
  getAddress,
  erc20Abi,
  maxUint256,
  type Address,
  type Client,
  type Hex,
  type PublicClient,
} from 'viem';
import {
  aavePoolAbi,
  mockV3AggregatorAbi,
  snxAccountNftAbi,
  snxPerpsMarketAbi,
} from '../src/contracts/generated';
import type { DeploymentManifest } from '../src/config/manifest';
import { getFreePort } from '../src/devnet/anvil';
import { write } from '../src/devnet/chain';
import { startDevnet, type Devnet } from '../src/devnet/devnet';
import { erc20MintAbi } from '../src/devnet/feeds';
import { createAdapters } from '../src/indexer/adapters';
import type { ProtocolAdapter } from '../src/indexer/adapters/types';
import { getLogsChunked, rpcGetLogs } from '../src/indexer/chain/logs';
import { IdentityIndex, syncIdentity } from '../src/indexer/identity';
import { IndexerService, type OwnerPositions } from '../src/indexer/indexer.service';
import { readMarketData } from '../src/indexer/market-data';
import { LATEST_MARKET_KEY, MarketRecorder, type MarketRecord } from '../src/indexer/market-recorder';
import { IndexRangeProcessor, processorHandlers, RefreshProcessor } from '../src/indexer/processors';
import {
  closeQueues,
  createQueues,
  queueJobSink,
  startWorkers,
  type IndexerQueues,
} from '../src/indexer/queues';
import { redisKeys } from '../src/indexer/redis/keys';
import { RedisPriceHistory } from '../src/indexer/redis/price-history';
import type { RedisReorgStore } from '../src/indexer/redis/redis-store';
import { serialize } from '../src/indexer/redis/serialize';
import { connectTestRedis, deleteKeys, redisUrl, testNetwork } from '../src/indexer/redis/test-redis';
import { IndexerRunner } from '../src/indexer/runner';
import { mulberry32 } from '../src/risk/stats/prng';
import { drained, hasPositions, persona } from './helpers/indexer';

const FINALITY = 6;
const SEQUENCES = 100;
const STEPS = 5;
const FRESH_EVERY = 25;
const GAS = '0x200000';

/** One indexer on one network prefix: stores, service, queues, in-process workers and the runner. */
interface Indexer {
  network: string;
  queues: IndexerQueues;
  workers: Worker[];
  positions: RedisReorgStore<OwnerPositions>;
  market: RedisReorgStore<MarketRecord>;
  history: RedisPriceHistory;
  service: IndexerService;
  runner: IndexerRunner;
  logs: { event: string; fields?: Record<string, unknown> }[];
}

interface TxRequest {
  from: Address;
  to: Address;
  data: Hex;
  gas: Hex;
}

let devnet: Devnet;
let m: DeploymentManifest;
let client: PublicClient;
let adapters: ProtocolAdapter[];
let redis: Redis;
let live: Indexer;
const extraNetworks: string[] = [];

const usdcActors: Address[] = [];
const wethActors: Address[] = [];
/** Possible holders of the traded perps account (its NFT moves between them). */
const perpsHolders: Address[] = [];
let perpsAccount: bigint;
let perpsMarket: Address;
let accountToken: Address;
/** Each feed's answer at setup: price moves stay within ±2 % of it. */
const basePrices = new Map<Address, bigint>();

async function rpc<T>(method: string, params: unknown[] = []): Promise<T> {
  return (await devnet.clients.testClient.request({ method: method as never, params: params as never })) as T;
}

const tipNumber = (): Promise<bigint> => client.getBlockNumber({ cacheTime: 0 });

/**
 * anvil answers a read "at block N" while N is its tip from its live state, which `evm_mine` changes
 * before the new block is imported: a read at the tip racing a mine can see the next block's state
 * under block N's hash (a node reading block N's state root never does). So reads by the indexer's
 * adapters and the test's chain changes exclude each other here; reads still run in parallel with
 * each other, and the runner, its queues and the workers keep running between the test's steps.
 */
let chainChange: Promise<void> | undefined;
let readsInFlight = 0;

async function changeChain<T>(op: () => Promise<T>): Promise<T> {
  let done!: () => void;
  chainChange = new Promise<void>((r) => (done = r));
  try {
    while (readsInFlight > 0) await new Promise((r) => setTimeout(r, 2));
    return await op();
  } finally {
    chainChange = undefined;
    done();
  }
}

function tipReadsLocked(a: ProtocolAdapter): ProtocolAdapter {
  const locked = Object.create(a) as ProtocolAdapter & { readPositions: ProtocolAdapter['readPositions'] };
  locked.readPositions = async (c, holder, blockNumber) => {
    while (chainChange) await chainChange;
    readsInFlight += 1;
    try {
      return await a.readPositions(c, holder, blockNumber);
    } finally {
      readsInFlight -= 1;
    }
  };
  return locked;
}

async function startIndexer(network: string): Promise<Indexer> {
  const connection = { url: redisUrl(), maxRetriesPerRequest: null };
  const queues = createQueues(connection, network);
  const positions = await IndexerRunner.openPositionsStore(redis, network, client);
  const market = await IndexerRunner.openMarketStore(redis, network, client);
  const history = new RedisPriceHistory(redis, redisKeys(network).priceHistory);
  const service = new IndexerService({
    client,
    adapters: adapters.map(tipReadsLocked),
    store: positions,
    jobs: queueJobSink(queues),
    getLogs: rpcGetLogs(client),
    startBlock: BigInt(m.network.startBlock),
  });
  const workers = startWorkers(
    connection,
    network,
    processorHandlers({
      indexRange: new IndexRangeProcessor(service),
      refresh: new RefreshProcessor(service),
    }),
    { queues: ['index-range', 'refresh'], concurrency: { 'index-range': 2 } },
  );
  const logs: Indexer['logs'] = [];
  const runner = new IndexerRunner({
    client,
    service,
    queues,
    redis,
    network,
    positions,
    startBlock: BigInt(m.network.startBlock),
    finalityDepth: FINALITY,
    rangeBlocks: 200n,
    market: new MarketRecorder({ client: client as unknown as Client, manifest: m, store: market, history }),
    leaseMs: 300_000,
    log: (event, fields) => void logs.push({ event, fields }),
  });
  return { network, queues, workers, positions, market, history, service, runner, logs };
}

async function stopIndexer(ix: Indexer): Promise<void> {
  await ix.runner.stop();
  await Promise.all(ix.workers.map((w) => w.close()));
  await closeQueues(ix.queues);
}

/** Polls and drains until the store's head is the chain head; returns the head events seen. */
async function catchUp(ix: Indexer): Promise<number> {
  let blockEvents = 0;
  for (let round = 0; round < 5; round += 1) {
    const events = await ix.runner.poll();
    blockEvents += events.filter((e) => e.type === 'block').length;
    await drained(ix.queues);
    const s = await ix.runner.status();
    expect(s.halted).toBeNull();
    if (s.storeHead === s.chainHead && s.cursor === s.chainHead) return blockEvents;
  }
  throw new Error(`indexer ${ix.network} did not catch up with the chain head`);
}

// ---------------------------------------------------------------------------------------------------
// Random protocol transactions (signed by anvil's unlocked accounts; some may revert, which is fine).

const pick = <T>(rnd: () => number, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
const tx = (from: Address, to: Address, data: Hex): TxRequest => ({ from, to, data, gas: GAS });

async function perpsHolder(): Promise<Address> {
  return client.readContract({
    address: accountToken,
    abi: snxAccountNftAbi,
    functionName: 'ownerOf',
    args: [perpsAccount],
  });
}

type TxKind = 'aave-usdc' | 'aave-weth' | 'perps-margin' | 'perps-nft' | 'price';

async function randomTx(rnd: () => number, counts: Record<TxKind, number>): Promise<TxRequest> {
  const r = rnd();
  if (r < 0.25) {
    counts['aave-usdc'] += 1;
    const who = pick(rnd, usdcActors);
    const amount = BigInt(1 + Math.floor(rnd() * 100)) * 10n ** 6n;
    const usdc = m.tokens.USDC.address;
    const data =
      rnd() < 0.5
        ? encodeFunctionData({ abi: aavePoolAbi, functionName: 'supply', args: [usdc, amount, who, 0] })
        : encodeFunctionData({ abi: aavePoolAbi, functionName: 'withdraw', args: [usdc, amount, who] });
    return tx(who, m.aave.pool, data);
  }
  if (r < 0.45) {
    counts['aave-weth'] += 1;
    const who = pick(rnd, wethActors);
    const amount = BigInt(1 + Math.floor(rnd() * 100)) * 10n ** 15n;
    const weth = m.tokens.WETH.address;
    const data =
      rnd() < 0.5
        ? encodeFunctionData({ abi: aavePoolAbi, functionName: 'supply', args: [weth, amount, who, 0] })
        : encodeFunctionData({ abi: aavePoolAbi, functionName: 'withdraw', args: [weth, amount, who] });
    return tx(who, m.aave.pool, data);
  }
  if (r < 0.6) {
    counts['perps-margin'] += 1;
    const sign = rnd() < 0.5 ? -1n : 1n;
    const deltaD18 = sign * BigInt(1 + Math.floor(rnd() * 100)) * 10n ** 18n;
    const data = encodeFunctionData({
      abi: snxPerpsMarketAbi,
      functionName: 'modifyCollateral',
      args: [perpsAccount, 0n, deltaD18],
    });
    return tx(await perpsHolder(), perpsMarket, data);
  }
  if (r < 0.72) {
    counts['perps-nft'] += 1;
    const from = await perpsHolder();
    const to = pick(
      rnd,
      perpsHolders.filter((h) => h !== from),
    );
    const data = encodeFunctionData({
      abi: snxAccountNftAbi,
      functionName: 'transferFrom',
      args: [from, to, perpsAccount],
    });
    return tx(from, accountToken, data);
  }
  counts.price += 1;
  const feed = pick(rnd, [...basePrices.keys()]);
  const base = basePrices.get(feed) as bigint;
  const answer = (base * BigInt(980 + Math.floor(rnd() * 41))) / 1_000n;
  const data = encodeFunctionData({ abi: mockV3AggregatorAbi, functionName: 'updateAnswer', args: [answer] });
  return tx(m.roles.keeper, feed, data);
}

// ---------------------------------------------------------------------------------------------------
// What "equal to a fresh sync of the canonical chain" means.

/** Every adapter's read for `owner` at `block`, through an identity index built from the start block. */
async function readOwner(identity: IdentityIndex, owner: Address, block: bigint): Promise<OwnerPositions> {
  const c = client as unknown as Client;
  const reads = await Promise.all(
    adapters.map((a) => a.readPositions(c, identity.holderFor(owner, a.protocol), block)),
  );
  return {
    owner,
    protocols: reads.map((r) => ({ protocol: r.protocol, positions: r.positions, attributes: r.attributes })),
  };
}

async function identityAt(block: bigint): Promise<IdentityIndex> {
  const identity = IdentityIndex.forAdapters(adapters);
  await syncIdentity(client as unknown as Client, identity, BigInt(m.network.startBlock), block);
  return identity;
}

const hashCache = new Map<bigint, Hex>();
async function canonicalHash(n: bigint): Promise<Hex> {
  const cached = hashCache.get(n);
  if (cached) return cached;
  const h = (await client.getBlock({ blockNumber: n })).hash;
  hashCache.set(n, h);
  return h;
}

/**
 * Every owner the canonical logs from the start block to `head` touch, with the last block touching it:
 * both sides of an account NFT's move, and each adapter's `accountsFromLogs` (venue accounts mapped to
 * their owner at the head: a log of an account before it moved is below the move, where the new owner
 * was refreshed anyway).
 */
async function lastTouches(identity: IdentityIndex, head: bigint): Promise<Map<Address, bigint>> {
  const addresses = new Set<Hex>();
  for (const a of adapters) {
    for (const w of a.watched) addresses.add(w.address.toLowerCase() as Hex);
    if (a.ownership) addresses.add(a.ownership.token.toLowerCase() as Hex);
  }
  const logs = await getLogsChunked(rpcGetLogs(client), {
    fromBlock: BigInt(m.network.startBlock),
    toBlock: head,
    address: [...addresses],
  });
  const moves = IdentityIndex.forAdapters(adapters);
  const out = new Map<Address, bigint>();
  const touch = (who: Address, block: bigint): void => {
    const o = getAddress(who);
    if (BigInt(o) !== 0n && (out.get(o) ?? -1n) < block) out.set(o, block);
  };
  for (const log of logs) {
    const block = log.blockNumber as bigint;
    for (const mv of moves.applyLogs([log])) for (const who of [mv.from, mv.to]) touch(who, block);
    for (const a of adapters)
      for (const h of a.accountsFromLogs([log])) {
        const owner = h.kind === 'owner' ? h.owner : identity.ownerOf(h.protocol, h.accountId);
        if (owner) touch(owner, block);
      }
  }
  return out;
}

/** (owner, stored block hash, holdings at the head, stored bytes) already found equal to the chain. */
const verified = new Set<string>();

/**
 * The indexed state equals a fresh sync of the canonical chain at its head: every persona's stored
 * value equals a read at its stored block, which is canonical; an owner touched by a log after its
 * stored block must hold the stored value at the last such block too (its refresh there found nothing
 * changed), so no event is missed; a persona never touched is not stored and holds nothing. The identity
 * index is built once, at the head: an owner an account NFT moved to or from was refreshed at or after
 * the move, so what it holds at its stored block is what it holds at the head. A state at a block hash
 * never changes, so a stored value already verified with the same stamp and holdings is not read again.
 * Observations at or below `checkedFrom` were checked by an earlier call and cannot change any more
 * (they are below the finality line).
 */
async function expectIndexedEqualsChain(ix: Indexer, checkedFrom: bigint): Promise<void> {
  hashCache.clear();
  const head = await client.getBlock({ blockTag: 'latest' });
  expect(await ix.positions.head()).toEqual({ number: head.number, hash: head.hash });
  const identity = await identityAt(head.number);
  const touched = await lastTouches(identity, head.number);
  for (const p of m.accounts) {
    const stored = await ix.positions.get(p.address);
    const last = touched.get(p.address);
    if (!stored) {
      expect(last).toBeUndefined();
      expect(hasPositions(await readOwner(identity, p.address, head.number))).toBe(false);
      continue;
    }
    expect(stored.blockHash).toBe(await canonicalHash(stored.blockNumber));
    const bytes = serialize(stored.value);
    const key = [p.address, stored.blockHash, serialize(identity.identityOf(p.address)), bytes].join('|');
    if (!verified.has(key)) {
      expect(bytes).toBe(serialize(await readOwner(identity, p.address, stored.blockNumber)));
      verified.add(key);
    }
    if (last !== undefined && last > stored.blockNumber)
      expect(`${p.persona} at ${last}: ${serialize(await readOwner(identity, p.address, last))}`).toBe(
        `${p.persona} at ${last}: ${bytes}`,
      );
  }
  // The market store: the head's snapshot, read now from the chain, minus the off-chain inputs.
  const latest = await ix.market.get(LATEST_MARKET_KEY);
  expect({ number: latest?.blockNumber, hash: latest?.blockHash }).toEqual({
    number: head.number,
    hash: head.hash,
  });
  const read = await readMarketData(client as unknown as Client, m, head.number, {
    history: { intervalSec: 1, closesUsdByUnderlying: {} },
    liquidity: {},
  });
  const { history: _h, liquidity: _l, ...market } = read.snapshot.market;
  expect(serialize(latest?.value)).toBe(serialize({ ...read, snapshot: { ...read.snapshot, market } }));
  // The price history: no observation of a dropped block, and the newest one is the canonical round.
  for (const [asset, round] of Object.entries(read.rounds)) {
    const obs = await ix.history.observations(asset);
    for (const o of obs)
      if (o.blockNumber > checkedFrom) expect(o.blockHash).toBe(await canonicalHash(o.blockNumber));
    const newest = obs[obs.length - 1];
    expect({ roundId: newest?.roundId, raw: newest?.price.raw }).toEqual({
      roundId: round.roundId,
      raw: round.answer,
    });
  }
}

/**
 * A brand-new indexer syncs the same chain from scratch; the live one must agree with it. What must be
 * equal: the owners stored (both saw every log of the canonical history), the positions store's head,
 * and every owner's value at the head — the fresh indexer stored all of them at the head; the live one
 * stored each at the last block that touched it, so its values are re-read at the head through its own
 * service (its identity index included, which a reorg may have left stale) and those must match. Values
 * stamped at the same block must be byte-equal, and so must the market's `latest` snapshot; the fresh
 * price history starts at the head, so its observations must be the live history's newest rounds.
 */
async function expectEqualsFreshIndexer(): Promise<number> {
  const network = testNetwork();
  extraNetworks.push(network);
  const fresh = await startIndexer(network);
  try {
    await catchUp(fresh);
    const head = await client.getBlock({ blockTag: 'latest' });
    expect(await fresh.positions.head()).toEqual(await live.positions.head());
    const [a, b] = [await live.positions.entries(), await fresh.positions.entries()];
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    let sameStamp = 0;
    for (const [owner, f] of b) {
      const l = a.get(owner)!;
      expect(f.blockHash).toBe(head.hash);
      const atHead = await live.service.readOwner(owner as Address, head.number);
      expect(serialize(atHead)).toBe(serialize(f.value));
      if (l.blockHash === f.blockHash) {
        sameStamp += 1;
        expect(serialize(l.value)).toBe(serialize(f.value));
      }
    }
    expect(b.size).toBeGreaterThan(10);
    expect(serialize((await fresh.market.get(LATEST_MARKET_KEY))?.value)).toBe(
      serialize((await live.market.get(LATEST_MARKET_KEY))?.value),
    );
    for (const asset of await fresh.history.assets()) {
      const liveObs = await live.history.observations(asset);
      for (const o of await fresh.history.observations(asset))
        expect(liveObs.some((x) => x.roundId === o.roundId && x.price.raw === o.price.raw)).toBe(true);
    }
    return sameStamp;
  } finally {
    await stopIndexer(fresh);
    await deleteKeys(redis, redisKeys(network).prefix);
  }
}

// ---------------------------------------------------------------------------------------------------

beforeAll(async () => {
  redis = await connectTestRedis();
  devnet = await startDevnet({ port: await getFreePort(), blockTimeSec: 0, manifestPath: null });
  m = devnet.manifest;
  client = devnet.clients.publicClient as unknown as PublicClient;
  adapters = createAdapters(m);
  perpsMarket = m.venues.perps!.contracts.perpsMarket!;
  accountToken = m.venues.perps!.contracts.accountToken!;
  const maker = persona(m, 'options-market-maker');
  perpsAccount = BigInt(maker.venueAccounts.perps!);
  usdcActors.push(
    ...['aave-usdc-saver', 'delta-hedged-options-book', 'aave-liquidity-whale'].map(
      (p) => persona(m, p).address,
    ),
  );
  wethActors.push(
    ...['covered-call-writer', 'options-market-maker', 'aave-liquidity-whale'].map(
      (p) => persona(m, p).address,
    ),
  );
  perpsHolders.push(
    maker.address,
    persona(m, 'aave-usdc-saver').address,
    persona(m, 'covered-call-writer').address,
  );
  // Wallet balances and approvals, once (automine is still on).
  const c = devnet.clients;
  for (const who of new Set([...usdcActors, ...perpsHolders])) {
    await write(c, who, m.tokens.USDC.address, erc20MintAbi, 'mint', [who, 10n ** 12n]);
    await write(c, who, m.tokens.USDC.address, erc20Abi, 'approve', [m.aave.pool, maxUint256]);
    await write(c, who, m.tokens.USDC.address, erc20Abi, 'approve', [perpsMarket, maxUint256]);
  }
  for (const who of wethActors) {
    await write(c, who, m.tokens.WETH.address, erc20MintAbi, 'mint', [who, 10n ** 21n]);
    await write(c, who, m.tokens.WETH.address, erc20Abi, 'approve', [m.aave.pool, maxUint256]);
  }
  for (const sym of ['WETH', 'WBTC', 'OP'] as const) {
    const feed = m.feeds.prices[sym].address;
    const [, answer] = await client.readContract({
      address: feed,
      abi: mockV3AggregatorAbi,
      functionName: 'latestRoundData',
    });
    basePrices.set(feed, answer);
  }
  await c.testClient.setAutomine(false);
  await rpc('evm_mine');
  live = await startIndexer(testNetwork());
}, 180_000);

afterAll(async () => {
  if (live) await stopIndexer(live);
  if (redis) {
    for (const n of [live?.network, ...extraNetworks]) if (n) await deleteKeys(redis, redisKeys(n).prefix);
    redis.disconnect();
  }
  await devnet?.stop();
});

describe('the whole indexer under random reorgs on the devnet', () => {
  it(`ends ${SEQUENCES} random sequences of protocol txs, anvil_reorg and evm_revert with a fresh sync's state`, async () => {
    const counts: Record<TxKind, number> = {
      'aave-usdc': 0,
      'aave-weth': 0,
      'perps-margin': 0,
      'perps-nft': 0,
      price: 0,
    };
    const stats = {
      anvilReorgs: 0,
      reverts: 0,
      skippedPolls: 0,
      gaps: 0,
      blocks: 0,
      freshChecks: 0,
      sameStampCompared: 0,
    };
    await catchUp(live);
    const firstSync = (await live.runner.status()).cursor as bigint;
    /** The highest head the runner has seen: no fork may go below it − the finality depth. */
    let seen = firstSync;
    let checkedFrom = firstSync - 1n;
    const poll = async (): Promise<void> => {
      const events = await live.runner.poll();
      const blocks = events.filter((e) => e.type === 'block').length;
      stats.blocks += blocks;
      if (blocks > 1) stats.gaps += 1;
      const cursor = (await live.runner.status()).cursor as bigint;
      if (cursor > seen) seen = cursor;
    };
    const floor = (): bigint => {
      const byDepth = seen - BigInt(FINALITY);
      return byDepth > firstSync ? byDepth : firstSync;
    };
    const sendAndMine = async (rnd: () => number, n: number): Promise<void> => {
      for (let i = 0; i < n; i += 1) await rpc('eth_sendTransaction', [await randomTx(rnd, counts)]);
      await changeChain(() => rpc('evm_mine'));
    };

    for (let seq = 0; seq < SEQUENCES; seq += 1) {
      const rnd = mulberry32(4_000 + seq);
      let mid: { id: Hex; block: bigint } | undefined;
      for (let step = 0; step < STEPS; step += 1) {
        const tip = await tipNumber();
        const r = rnd();
        if (r < 0.4) {
          await sendAndMine(rnd, 1 + Math.floor(rnd() * 3));
        } else if (r < 0.48) {
          await changeChain(() => rpc('anvil_mine', [`0x${(1 + Math.floor(rnd() * 2)).toString(16)}`]));
        } else if (r < 0.56) {
          if (!mid) mid = { id: await rpc<Hex>('evm_snapshot'), block: tip };
        } else if (r < 0.82) {
          const maxDepth = Number(tip - floor());
          if (maxDepth >= 1) {
            const depth = 1 + Math.floor(rnd() * Math.min(maxDepth, FINALITY));
            const txs: [TxRequest, number][] = [];
            for (let i = 0, n = Math.floor(rnd() * 4); i < n; i += 1)
              txs.push([await randomTx(rnd, counts), Math.floor(rnd() * depth)]);
            await changeChain(() => rpc('anvil_reorg', [depth, txs]));
            stats.anvilReorgs += 1;
            if (mid && mid.block > tip - BigInt(depth)) mid = undefined; // its chain is gone
          }
        } else if (mid && mid.block >= floor()) {
          const { id } = mid;
          await changeChain(() => rpc('evm_revert', [id]));
          mid = undefined;
          stats.reverts += 1;
          // Then a new block with a transaction, so the chain moves to another branch rather than back.
          await sendAndMine(rnd, 1);
        }
        if (rnd() < 0.5) await poll();
        else stats.skippedPolls += 1;
      }
      stats.blocks += await catchUp(live);
      seen = (await tipNumber()) > seen ? await tipNumber() : seen;
      await expectIndexedEqualsChain(live, checkedFrom);
      checkedFrom = (await tipNumber()) - BigInt(FINALITY);
      if ((seq + 1) % FRESH_EVERY === 0) {
        stats.sameStampCompared += await expectEqualsFreshIndexer();
        stats.freshChecks += 1;
      }
    }

    const reorgs = live.logs.filter((l) => l.event === 'runner.reorg');
    const depths = [...new Set(reorgs.map((l) => Number(l.fields?.depth)))].sort((x, y) => x - y);
    const metrics = await redis.hgetall(redisKeys(live.network).indexer.metrics);
    console.log(
      `reorg e2e: ${JSON.stringify({ ...stats, reorgEvents: reorgs.length, depths, txs: counts, metrics })}`,
    );
    expect(live.logs.filter((l) => l.event === 'runner.halted')).toEqual([]);
    expect(reorgs.length).toBeGreaterThan(SEQUENCES / 2);
    expect(depths.length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...depths)).toBeGreaterThanOrEqual(FINALITY - 1);
    expect(stats.reverts).toBeGreaterThan(5);
    expect(stats.gaps).toBeGreaterThan(10);
    expect(counts['perps-nft']).toBeGreaterThan(10);
  }, 600_000);

  it('halts with an alert on a reorg one block deeper than the finality depth, leaving both stores as they were', async () => {
    await changeChain(() => rpc('anvil_mine', [`0x${(FINALITY + 2).toString(16)}`]));
    await catchUp(live);
    const before = [await live.positions.head(), await live.market.head()];
    const replacement = await randomTx(mulberry32(7), {
      'aave-usdc': 0,
      'aave-weth': 0,
      'perps-margin': 0,
      'perps-nft': 0,
      price: 0,
    });
    await changeChain(() => rpc('anvil_reorg', [FINALITY + 1, [[replacement, 0]]]));
    expect((await live.runner.poll()).map((e) => e.type)).toEqual(['halt']);
    expect(live.logs.find((l) => l.event === 'runner.halted')?.fields).toMatchObject({
      alert: true,
      code: 'REORG_TOO_DEEP',
    });
    expect((await live.runner.status()).halted?.code).toBe('REORG_TOO_DEEP');
    await drained(live.queues);
    expect([await live.positions.head(), await live.market.head()]).toEqual(before);
  }, 60_000);
});
