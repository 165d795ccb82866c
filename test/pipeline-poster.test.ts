/**
 * The attestation poster on the devnet with real anvil, real Redis and the deployed aggregator:
 * changed results are signed 2-of-3 and land on chain (read back through `IMarginReader`); the same
 * (account, block) is never posted twice, also after the poster forgets what it posted; stale
 * inputs (oracle past its heartbeat, sequencer down or in grace, indexer behind, a record's own
 * flags) sign nothing and are counted; a stuck transaction is replaced with the same nonce and
 * higher fees; a poster that dies after journaling a batch, before or after broadcasting it, resumes
 * with no duplicate and no missing posting.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Redis } from 'ioredis';
import {
  keccak256,
  parseEventLogs,
  toHex,
  type Address,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
} from 'viem';
import { generatePrivateKey, privateKeyToAddress } from 'viem/accounts';
import type { AttestationSigner } from '../src/attestation';
import type { AggregatorInfo, DeploymentManifest } from '../src/config/manifest';
import { iMarginReaderAbi, marginAggregatorAbi, mockV3AggregatorAbi } from '../src/contracts/generated';
import { getFreePort } from '../src/devnet/anvil';
import { startDevnet, type Devnet } from '../src/devnet/devnet';
import { publishPrice, setSequencerStatus } from '../src/devnet/feeds';
import { redisKeys, type RedisKeys } from '../src/indexer/redis/keys';
import { connectTestRedis, deleteKeys, testNetwork } from '../src/indexer/redis/test-redis';
import type { WatchedFeed } from '../src/pipeline/poster/checks';
import { Poster, POSTER_METRICS, type PosterRules } from '../src/pipeline/poster/poster';
import { postCalldataBytes } from '../src/pipeline/poster/policy';
import { LocalKeySigner, LocalTransactionSigner } from '../src/pipeline/poster/signer';
import { RedisRiskResultStore } from '../src/pipeline/result-store';
import type { HealthClass, RiskRecord } from '../src/pipeline/types';
import type { AccountRiskResult } from '../src/risk';

const USD = 1_000_000n;
const PARAMS_HASH = keccak256(toHex('poster-test-params-v1'));

/** Wraps a signer and counts its signatures: "nothing signed" is checked on the signers themselves. */
class CountingSigner implements AttestationSigner {
  calls = 0;
  constructor(private readonly inner: AttestationSigner) {}
  get address(): Address {
    return this.inner.address;
  }
  signTypedData(td: Parameters<AttestationSigner['signTypedData']>[0]): Promise<Hex> {
    this.calls++;
    return this.inner.signTypedData(td);
  }
}

let devnet: Devnet;
let m: DeploymentManifest;
let agg: AggregatorInfo;
let redis: Redis;
let network: string;
let keys: RedisKeys;
let results: RedisRiskResultStore;
let signers: CountingSigner[];
let relayerKey: Hex;
let relayer: Address;
let owners: Address[];
let logs: { event: string; [k: string]: unknown }[] = [];
let poster: Poster | undefined;

const pc = () => devnet.clients.publicClient;
const head = () => pc().getBlockNumber({ cacheTime: 0 });
const signed = () => signers.reduce((n, s) => n + s.calls, 0);

const RULES: PosterRules = {
  materiality: { minAbsUsd6: 1n * USD, minRelBps: 50n, maxAgeSec: 3_000n },
  maxIndexerLagBlocks: 5n,
  deadlineSec: 600n,
  maxBatchRecords: 100,
  maxCalldataBytes: 120_000,
  feeCapPerAccountWei: 10n ** 18n,
  maxHoldMs: 60_000,
  gasFixed: 60_000n,
  gasPerRecord: 12_000n,
  stuckBlocks: 3n,
  stuckMs: 60_000,
  followPollMs: 50,
};

beforeAll(async () => {
  redis = await connectTestRedis();
  network = testNetwork();
  keys = redisKeys(network);
  devnet = await startDevnet({ port: await getFreePort(), blockTimeSec: 0, manifestPath: null });
  m = devnet.manifest;
  agg = m.aggregator!;
  signers = agg.signers.map((s) => new CountingSigner(new LocalKeySigner(s.privateKey!)));
  const fresh = m.accounts.find((a) => a.persona === 'fresh-wallet')!;
  relayerKey = fresh.privateKey;
  relayer = fresh.address;
}, 120_000);

afterAll(async () => {
  await poster?.stop().catch(() => undefined);
  await deleteKeys(redis, keys.prefix);
  await redis.quit();
  await devnet?.stop();
});

beforeEach(async () => {
  await devnet.clients.testClient.setAutomine(true); // a failed test may have left it off
  await poster?.stop().catch(() => undefined);
  poster = undefined;
  logs = [];
  results = new RedisRiskResultStore(redis, keys.pipeline.results);
  // Accounts never attested before: each test starts from an empty aggregator slot.
  owners = Array.from({ length: 8 }, () => privateKeyToAddress(generatePrivateKey()));
  await deleteKeys(redis, keys.prefix);
  await indexerAt(await head());
});

/** The head runner's cursor, as the indexer writes it. */
async function indexerAt(block: bigint): Promise<void> {
  await redis.hset(keys.indexer.cursor, {
    number: block.toString(),
    hash: keccak256(toHex(block)),
    parentHash: keccak256(toHex(block - 1n)),
  });
}

function feeds(heartbeatSec?: number): WatchedFeed[] {
  const byFeed = new Map<Address, WatchedFeed>();
  for (const a of agg.assets)
    byFeed.set(a.feed, { label: a.symbol, address: a.feed, heartbeatSec: heartbeatSec ?? a.heartbeatSec });
  return [...byFeed.values()];
}

function makePoster(
  opts: {
    rules?: Partial<PosterRules>;
    heartbeatSec?: number;
    hooks?: ConstructorParameters<typeof Poster>[0]['hooks'];
    signers?: AttestationSigner[];
  } = {},
): Poster {
  return new Poster({
    reader: results,
    redis,
    network,
    client: pc() as unknown as PublicClient,
    chain: devnet.clients.chain,
    target: { chainId: m.network.chainId, aggregator: agg.address },
    signers: opts.signers ?? signers,
    threshold: agg.threshold,
    relayer: new LocalTransactionSigner(relayerKey),
    feeds: feeds(opts.heartbeatSec),
    sequencer: { address: agg.sequencerFeed, gracePeriodSec: agg.sequencerGracePeriodSec },
    rules: { ...RULES, ...opts.rules },
    log: (event, fields) => logs.push({ event, ...fields }),
    ...(opts.hooks ? { hooks: opts.hooks } : {}),
  });
}

async function started(opts: Parameters<typeof makePoster>[0] = {}): Promise<Poster> {
  poster = makePoster(opts);
  await poster.start();
  return poster;
}

/** A result at the current head for `owner` (IM, MM, MTM in whole USD). */
async function record(
  owner: Address,
  im: bigint,
  mm: bigint,
  mtm: bigint,
  opts: { health?: HealthClass; stale?: Partial<RiskRecord['stale']>; block?: bigint } = {},
): Promise<RiskRecord> {
  const b = await pc().getBlock({ blockNumber: opts.block ?? (await head()) });
  return {
    owner,
    blockNumber: b.number,
    blockHash: b.hash,
    asOfSec: Number(b.timestamp),
    positionsBlockNumber: b.number,
    paramsVersion: 1,
    paramsHash: PARAMS_HASH,
    inputHash: keccak256(toHex(`${owner}:${b.number}:${im}:${mm}:${mtm}`)),
    health: opts.health ?? 'healthy',
    imUsd6: im * USD,
    mmUsd6: mm * USD,
    mtmUsd6: mtm * USD,
    adjustedEquityUsd6: 0n,
    freeCollateralUsd6: 0n,
    shortfallUsd6: 0n,
    marginRatio: null,
    stale: { oracle: false, sequencer: false, indexer: false, reasons: [], ...opts.stale },
    computedAtMs: Date.now(),
    // The poster never reads the engine's full output.
    result: {} as AccountRiskResult,
  };
}

async function marginOf(owner: Address) {
  const [imUsd6, mmUsd6, , , attestedBlock] = await pc().readContract({
    address: agg.address,
    abi: iMarginReaderAbi,
    functionName: 'marginOf',
    args: [owner],
  });
  return { imUsd6, mmUsd6, attestedBlock: BigInt(attestedBlock) };
}

/** Every (account, block) the aggregator accepted from this relayer since `fromBlock`. */
async function postedOnChain(fromBlock: bigint): Promise<string[]> {
  const logsOnChain = await pc().getContractEvents({
    address: agg.address,
    abi: marginAggregatorAbi,
    eventName: 'MarginUpdated',
    fromBlock,
    toBlock: 'latest',
  });
  return logsOnChain.map((l) => {
    const args = l.args as { account?: Address; blockNumber?: bigint };
    return `${args.account}:${args.blockNumber}`;
  });
}

const relayerNonce = () => pc().getTransactionCount({ address: relayer, blockTag: 'pending' });

describe('posting', () => {
  it('posts changed results in one signed batch and they read back through IMarginReader', async () => {
    const p = await started();
    const from = (await head()) + 1n;
    const recs = await Promise.all(
      owners.slice(0, 5).map((o, i) => record(o, 1_000n + BigInt(i), 600n, -10n)),
    );
    for (const r of recs) await results.put(r);
    const before = signed();
    const out = await p.tick();
    expect(out.refusals).toEqual([]);
    expect(out.broadcast?.records.map((r) => r.owner).sort()).toEqual(recs.map((r) => r.owner).sort());
    expect(out.settled).toEqual([{ id: out.broadcast!.id, state: 'posted' }]);
    expect(signed() - before).toBeGreaterThanOrEqual(agg.threshold);
    for (const r of recs) {
      const onChain = await marginOf(r.owner);
      expect(onChain).toEqual({ imUsd6: r.imUsd6, mmUsd6: r.mmUsd6, attestedBlock: r.blockNumber });
    }
    expect((await postedOnChain(from)).sort()).toEqual(recs.map((r) => `${r.owner}:${r.blockNumber}`).sort());
    expect(await p.metric(POSTER_METRICS.records)).toBe(5);
    const l1 = logs.find((l) => l.event === 'poster.batch-signed');
    expect(typeof l1?.l1FeeWei === 'bigint' && l1.l1FeeWei > 0n).toBe(true);
    // Settled journal entries are pruned after the retention, open ones never.
    expect(await p.pruneJournal(60_000)).toBe(0);
    expect(await p.pruneJournal(-1)).toBe(1);
    expect(await p.journal()).toEqual([]);
  });

  it('never posts the same (account, block) twice, also after forgetting what it posted', async () => {
    let p = await started();
    const from = (await head()) + 1n;
    const [a, b] = owners;
    const ra = await record(a!, 2_000n, 1_000n, 0n);
    await results.put(ra);
    await results.put(await record(b!, 3_000n, 1_500n, 0n));
    await p.tick();
    const nonce = await relayerNonce();
    // Every change read again from the start, and an immaterial newer result: nothing is signed.
    await redis.del(keys.poster.cursor);
    await results.put(await record(a!, 2_000n, 1_000n, 0n));
    const before = signed();
    const again = await p.tick();
    expect(again.broadcast).toBeNull();
    expect(signed()).toBe(before);
    // A poster that lost its Redis state (all changes re-read, nothing remembered as posted) reads
    // the contract's stored block as the truth.
    await p.stop();
    await redis.del(keys.poster.posted, keys.poster.postedAt, keys.poster.cursor);
    p = await started();
    const fresh = await p.tick();
    expect(fresh.broadcast).toBeNull();
    expect(await relayerNonce()).toBe(nonce);
    // A material change at a newer block is posted, once.
    await results.put(await record(a!, 2_500n, 1_000n, 0n));
    expect((await p.tick()).broadcast?.records.map((r) => r.owner)).toEqual([a]);
    const onChain = await postedOnChain(from);
    expect(new Set(onChain).size).toBe(onChain.length);
    expect(onChain.filter((x) => x.startsWith(`${a}:`))).toHaveLength(2);
    expect(onChain).toContain(`${a}:${ra.blockNumber}`);
  });

  it('splits candidates into batches under the calldata limit', async () => {
    const p = await started({ rules: { maxCalldataBytes: postCalldataBytes(3, agg.threshold) + 20 } });
    for (const o of owners.slice(0, 6)) await results.put(await record(o, 500n, 300n, 0n));
    const first = await p.tick();
    expect(first.broadcast?.records).toHaveLength(3);
    const second = await p.tick();
    expect(second.broadcast?.records).toHaveLength(3);
    expect((await p.tick()).broadcast).toBeNull();
    for (const o of owners.slice(0, 6)) expect((await marginOf(o)).imUsd6).toBe(500n * USD);
  });

  it('re-posts an unchanged account once its on-chain attestation reaches the age threshold', async () => {
    const p = await started({ rules: { materiality: { ...RULES.materiality, maxAgeSec: 600n } } });
    const [a] = owners;
    await results.put(await record(a!, 1_000n, 500n, 0n));
    const first = (await p.tick()).broadcast!;
    // A newer result with the same margin: not material, and the attestation is young.
    await results.put(await record(a!, 1_000n, 500n, 0n));
    expect((await p.tick()).broadcast).toBeNull();
    await devnet.clients.testClient.increaseTime({ seconds: 600 });
    await devnet.clients.testClient.mine({ blocks: 1 });
    await indexerAt(await head());
    await results.put(await record(a!, 1_000n, 500n, 0n));
    const aged = await p.tick();
    expect(aged.broadcast?.records.map((r) => r.owner)).toEqual([a]);
    expect(logs.filter((l) => l.event === 'poster.batch-signed').pop()?.reasons).toEqual({ age: 1 });
    const onChain = await pc().readContract({
      address: agg.address,
      abi: marginAggregatorAbi,
      functionName: 'attestationOf',
      args: [a!],
    });
    expect(BigInt(onChain.timestampSec)).toBeGreaterThanOrEqual(first.timestampSec + 600n);
  });

  it('counts a batch the aggregator would reject (a signer outside its set) and sends nothing', async () => {
    const stranger = new LocalKeySigner(generatePrivateKey());
    const p = await started({ signers: [stranger, signers[0]!] });
    await results.put(await record(owners[0]!, 1_000n, 500n, 0n));
    const nonce = await relayerNonce();
    await expect(p.tick()).rejects.toThrow(/The aggregator would reject the batch: .*UnknownSigner/);
    expect(await p.metric(POSTER_METRICS.rejected)).toBe(1);
    expect(await relayerNonce()).toBe(nonce);
    expect(await p.journal()).toEqual([]);
    expect(logs.some((l) => l.event === 'poster.batch-rejected')).toBe(true);
  });

  it('holds a batch over the fee cap until it has waited long enough', async () => {
    let p = await started({ rules: { feeCapPerAccountWei: 1n, maxHoldMs: 3_600_000 } });
    const [a] = owners;
    await results.put(await record(a!, 700n, 400n, 0n));
    expect((await p.tick()).broadcast).not.toBeNull(); // a first attestation is urgent: it goes over the cap
    await results.put(await record(a!, 800n, 400n, 0n)); // material, not urgent
    const held = await p.tick();
    expect(held.held).toBe(true);
    expect(held.broadcast).toBeNull();
    expect(logs.some((l) => l.event === 'poster.batch-held')).toBe(true);
    await p.stop();
    const overCap = await p.metric(POSTER_METRICS.overCap);
    p = await started({ rules: { feeCapPerAccountWei: 1n, maxHoldMs: 0 } });
    expect((await p.tick()).broadcast?.records.map((r) => r.imUsd6)).toEqual([800n * USD]);
    expect(await p.metric(POSTER_METRICS.overCap)).toBe(overCap + 1);
  });
});

describe('refusing to sign on stale inputs', () => {
  async function expectRefused(p: Poster, reason: string): Promise<void> {
    const before = signed();
    const nonce = await relayerNonce();
    const count = await p.metric(POSTER_METRICS.refusals(reason));
    const out = await p.tick();
    expect(out.refusals.map((r) => r.reason)).toContain(reason);
    expect(out.broadcast).toBeNull();
    expect(signed()).toBe(before);
    expect(await relayerNonce()).toBe(nonce);
    expect(await p.metric(POSTER_METRICS.refusals(reason))).toBe(count + 1);
    expect(await p.metric(POSTER_METRICS.refusing)).toBe(1);
    const line = logs.filter((l) => l.event === 'poster.refused' && l.reason === reason);
    expect(line.length).toBeGreaterThan(0);
    expect(String(line[line.length - 1]!.detail).length).toBeGreaterThan(10);
  }

  it('refuses while a price is older than its heartbeat, then posts once prices are republished', async () => {
    const p = await started({ heartbeatSec: 3_600 });
    const [a] = owners;
    await devnet.clients.testClient.increaseTime({ seconds: 3_601 });
    await devnet.clients.testClient.mine({ blocks: 1 });
    await indexerAt(await head());
    await results.put(await record(a!, 900n, 450n, 0n));
    await expectRefused(p, 'oracle-stale');
    for (const f of feeds()) {
      const [, answer] = await pc().readContract({
        address: f.address,
        abi: mockV3AggregatorAbi,
        functionName: 'latestRoundData',
      });
      await publishPrice(devnet.clients, m.roles.keeper, f.address, answer);
    }
    await indexerAt(await head());
    const out = await p.tick();
    expect(out.refusals).toEqual([]);
    expect(out.broadcast?.records.map((r) => r.owner)).toEqual([a]);
    expect(await p.metric(POSTER_METRICS.refusing)).toBe(0);
  });

  it('refuses while the sequencer is down and during its grace period', async () => {
    const p = await started();
    const [a] = owners;
    await results.put(await record(a!, 910n, 450n, 0n));
    const now = (await pc().getBlock()).timestamp;
    await setSequencerStatus(devnet.clients, m.roles.deployer, agg.sequencerFeed, 'down', now);
    await indexerAt(await head());
    await expectRefused(p, 'sequencer-down');
    await setSequencerStatus(devnet.clients, m.roles.deployer, agg.sequencerFeed, 'up', now);
    await indexerAt(await head());
    await expectRefused(p, 'sequencer-grace');
    await setSequencerStatus(
      devnet.clients,
      m.roles.deployer,
      agg.sequencerFeed,
      'up',
      now - BigInt(agg.sequencerGracePeriodSec) - 1n,
    );
    await indexerAt(await head());
    expect((await p.tick()).broadcast?.records.map((r) => r.owner)).toEqual([a]);
  });

  it('refuses while the indexer is more than N blocks behind', async () => {
    const p = await started();
    await results.put(await record(owners[0]!, 920n, 450n, 0n));
    await devnet.clients.testClient.mine({ blocks: 6 });
    await indexerAt((await head()) - 6n);
    await expectRefused(p, 'indexer-behind');
    await redis.del(keys.indexer.cursor);
    await expectRefused(p, 'indexer-behind');
    await indexerAt(await head());
    expect((await p.tick()).broadcast).not.toBeNull();
  });

  it('drops a record computed on stale inputs, and a malformed one, and posts the fresh ones', async () => {
    const p = await started();
    const [a, b, c] = owners;
    await results.put(
      await record(a!, 930n, 450n, 0n, { stale: { oracle: true, reasons: ['ETH / USD 4210 s old'] } }),
    );
    await results.put(await record(b!, 940n, 450n, 0n));
    await results.put(await record(c!, 100n, 200n, 0n)); // MM above IM: the contract would revert the batch
    const out = await p.tick();
    expect(out.broadcast?.records.map((r) => r.owner)).toEqual([b]);
    expect(await p.metric(POSTER_METRICS.refusals('record-stale'))).toBe(1);
    expect(await p.metric(POSTER_METRICS.refusals('record-invalid'))).toBe(1);
    const invalid = logs.find((l) => l.event === 'poster.refused' && l.reason === 'record-invalid');
    expect(String(invalid?.detail)).toMatch(/mmUsd6: 200000000 exceeds imUsd6 100000000/);
    expect((await marginOf(a!)).attestedBlock).toBe(0n);
    expect((await marginOf(c!)).attestedBlock).toBe(0n);
  });
});

describe('nonces, stuck transactions and restarts', () => {
  it('replaces a stuck transaction with the same nonce and fees at least 12.5 % higher', async () => {
    const p = await started({ rules: { stuckMs: 1_000, stuckBlocks: 1_000n } });
    await results.put(await record(owners[0]!, 950n, 500n, 0n));
    await devnet.clients.testClient.setAutomine(false);
    let receipt: TransactionReceipt | undefined;
    try {
      const ticking = p.tick();
      // Wait for the replacement to be journaled, then mine.
      for (let i = 0; i < 200; i++) {
        const open = await p.openEntries();
        if (open[0] && open[0].txs.length >= 2) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await devnet.clients.testClient.mine({ blocks: 1 });
      const out = await ticking;
      expect(out.settled.map((s) => s.state)).toEqual(['posted']);
      const [entry] = await p.journal();
      expect(entry!.txs.length).toBeGreaterThanOrEqual(2);
      const [first, second] = entry!.txs;
      expect(second!.maxFeePerGas * 1000n).toBeGreaterThanOrEqual(first!.maxFeePerGas * 1125n);
      expect(second!.maxPriorityFeePerGas * 1000n).toBeGreaterThanOrEqual(
        first!.maxPriorityFeePerGas * 1125n,
      );
      receipt = await pc().getTransactionReceipt({ hash: entry!.minedTx! });
      expect(entry!.minedTx).not.toBe(first!.hash);
      expect(entry!.txs.map((t) => t.hash)).toContain(entry!.minedTx);
      const mined = await pc().getTransaction({ hash: entry!.minedTx! });
      expect(mined.nonce).toBe(entry!.nonce);
      await expect(pc().getTransactionReceipt({ hash: first!.hash })).rejects.toThrow();
      expect(await p.metric(POSTER_METRICS.replacements)).toBeGreaterThanOrEqual(1);
    } finally {
      await devnet.clients.testClient.setAutomine(true);
    }
    expect(receipt?.status).toBe('success');
    expect((await marginOf(owners[0]!)).imUsd6).toBe(950n * USD);
  });

  for (const when of ['before', 'after'] as const) {
    it(`resumes a batch journaled by a poster that died ${when} broadcasting it, with no duplicate and no gap`, async () => {
      const from = (await head()) + 1n;
      const crash = () => {
        throw new Error('injected crash');
      };
      const dying = makePoster({
        hooks: when === 'before' ? { beforeBroadcast: crash } : { afterBroadcast: crash },
      });
      await dying.start();
      const recs = await Promise.all(owners.slice(0, 3).map((o) => record(o, 1_200n, 700n, 5n)));
      for (const r of recs) await results.put(r);
      await expect(dying.tick()).rejects.toThrow('injected crash');
      expect(await dying.openEntries()).toHaveLength(1);
      // The dead process's lease runs out.
      await redis.del(keys.poster.leader);
      const p = await started();
      const decision = when === 'before' ? 'rebroadcast' : 'posted';
      expect(logs.some((l) => l.event === 'poster.recovering' && l.decision === decision)).toBe(true);
      if (when === 'before') await p.tick(); // follows the re-broadcast transaction to its receipt
      const [entry] = await p.journal();
      expect((await p.journal()).map((e) => e.state)).toEqual(['posted']);
      // Nothing is left to post, and a new result goes out with the next nonce.
      expect((await p.tick()).broadcast).toBeNull();
      await results.put(await record(owners[0]!, 1_300n, 700n, 5n));
      const next = await p.tick();
      expect(next.broadcast?.nonce).toBe(entry!.nonce + 1);
      const onChain = await postedOnChain(from);
      expect(new Set(onChain).size).toBe(onChain.length);
      for (const r of recs) expect(onChain).toContain(`${r.owner}:${r.blockNumber}`);
      expect(onChain).toHaveLength(4);
      const batches = parseEventLogs({
        abi: marginAggregatorAbi,
        eventName: 'BatchPosted',
        logs: await pc().getLogs({ address: agg.address, fromBlock: from }),
      });
      expect(batches).toHaveLength(2);
    });
  }
  it('a poster process SIGKILLed with a batch in flight: the next poster finishes it, with no duplicate and no key in its output', async () => {
    const from = (await head()) + 1n;
    const recs = await Promise.all(owners.slice(0, 4).map((o) => record(o, 1_500n, 900n, -3n)));
    for (const r of recs) await results.put(r);
    const dir = mkdtempSync(join(tmpdir(), 'nm-poster-'));
    const manifestPath = join(dir, 'manifest.json');
    writeFileSync(manifestPath, JSON.stringify(m));
    await devnet.clients.testClient.setAutomine(false);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/poster.ts'], {
      cwd: resolve(__dirname, '..'),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        NETMARGIN_MANIFEST: manifestPath,
        NETMARGIN_NETWORK: network,
        NETMARGIN_POSTER_RELAYER_KEY: relayerKey,
        NETMARGIN_POSTER_POLL_MS: '100',
        NETMARGIN_POSTER_STUCK_MS: '600000',
      },
    });
    const out: string[] = [];
    createInterface({ input: child.stdout! }).on('line', (l) => out.push(l));
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += String(d)));
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, sig) => r(sig)));
    try {
      for (let i = 0; i < 600 && !out.some((l) => l.includes('"poster.broadcast"')); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(out.some((l) => l.includes('"poster.broadcast"'))).toBe(true);
      process.kill(-child.pid!, 'SIGKILL');
      expect(await exited).toBe('SIGKILL');
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
    // The transaction it sent is still in the pool; its lease runs out, a new poster takes over.
    await redis.del(keys.poster.leader);
    const p = await started();
    expect(logs.some((l) => l.event === 'poster.recovering' && l.decision === 'rebroadcast')).toBe(true);
    await devnet.clients.testClient.setAutomine(true);
    await devnet.clients.testClient.mine({ blocks: 1 });
    await p.tick();
    expect((await p.journal()).map((e) => e.state)).toEqual(['posted']);
    expect((await p.tick()).broadcast).toBeNull();
    const onChain = await postedOnChain(from);
    expect(onChain.sort()).toEqual(recs.map((r) => `${r.owner}:${r.blockNumber}`).sort());
    // No key in anything the process printed.
    const printed = `${out.join('\n')}\n${stderr}`.toLowerCase();
    for (const k of [relayerKey, ...agg.signers.map((s) => s.privateKey!)])
      expect(printed).not.toContain(k.slice(2).toLowerCase());
  }, 120_000);
  it('after Redis lost its state with a batch in the pool, waits for it and does not post the records again', async () => {
    const from = (await head()) + 1n;
    const recs = await Promise.all(owners.slice(0, 2).map((o) => record(o, 1_700n, 800n, 0n)));
    for (const r of recs) await results.put(r);
    await devnet.clients.testClient.setAutomine(false);
    const dying = makePoster({
      hooks: {
        afterBroadcast: () => {
          throw new Error('injected crash');
        },
      },
    });
    await dying.start();
    await expect(dying.tick()).rejects.toThrow('injected crash');
    // Redis restarts without persistence: every poster key is gone (the results are kept here).
    await deleteKeys(redis, `${keys.prefix}poster:`);
    const before = signed();
    const p = await started();
    const waiting = await p.tick();
    expect(waiting.waitingForPool).toBe(true);
    expect(waiting.broadcast).toBeNull();
    expect(signed()).toBe(before);
    await devnet.clients.testClient.setAutomine(true);
    await devnet.clients.testClient.mine({ blocks: 1 });
    await indexerAt(await head());
    const after = await p.tick();
    expect(after.waitingForPool).toBe(false);
    expect(after.broadcast).toBeNull();
    expect((await postedOnChain(from)).sort()).toEqual(recs.map((r) => `${r.owner}:${r.blockNumber}`).sort());
  });
});
