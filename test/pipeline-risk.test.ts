/**
 * The risk workers on the devnet with real Redis and BullMQ: the head runner (polled by hand)
 * records the market and queues ranges, the indexer's workers store positions and ask for risk
 * jobs, the risk workers margin every account and store the results. Checked: every persona with
 * positions has a result bit-identical to `computeAccountRisk` on the same inputs; the crash path
 * moves the near-liquidation accounts below MM during the crash with no position event (the
 * market-move recompute); a feed left past its heartbeat flags `oracle`; a job run twice stores and
 * notifies once.
 */
import type { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Client, PublicClient } from 'viem';
import type { DeploymentManifest } from '../src/config/manifest';
import { getFreePort } from '../src/devnet/anvil';
import { startDevnet, type Devnet } from '../src/devnet/devnet';
import { runMarketPath } from '../src/devnet/market';
import { createAdapters } from '../src/indexer/adapters';
import { rpcGetLogs } from '../src/indexer/chain/logs';
import { IndexerService, type OwnerPositions } from '../src/indexer/indexer.service';
import { readMarketData } from '../src/indexer/market-data';
import { MarketRecorder, type MarketRecord } from '../src/indexer/market-recorder';
import {
  IndexRangeProcessor,
  processorHandlers,
  RefreshProcessor,
  RiskProcessor,
} from '../src/indexer/processors';
import {
  closeQueues,
  createQueues,
  queueJobSink,
  startWorkers,
  type IndexerQueues,
} from '../src/indexer/queues';
import { redisKeys, type RedisKeys } from '../src/indexer/redis/keys';
import { RedisPriceHistory } from '../src/indexer/redis/price-history';
import type { RedisReorgStore } from '../src/indexer/redis/redis-store';
import { serialize } from '../src/indexer/redis/serialize';
import { connectTestRedis, deleteKeys, redisUrl, testNetwork } from '../src/indexer/redis/test-redis';
import { IndexerRunner } from '../src/indexer/runner';
import { computeAccountRisk, DEFAULT_RISK_PARAMS, type RiskParams } from '../src/risk';
import { stalenessRulesFromManifest, usd6Figures, type StalenessRules } from '../src/pipeline/classify';
import { RedisMarketHistory } from '../src/pipeline/market-history';
import { ParamStore } from '../src/pipeline/param-store';
import { RiskMarketProcessor } from '../src/pipeline/processors';
import {
  closePipelineQueues,
  createPipelineQueues,
  marketMoveHook,
  startPipelineWorkers,
  type PipelineQueues,
} from '../src/pipeline/queues';
import { RedisRiskResultStore } from '../src/pipeline/result-store';
import { positionsOf, RiskService } from '../src/pipeline/risk.service';
import type { ParamSet, RiskRecord } from '../src/pipeline/types';
import { persona } from './helpers/indexer';
import { publishOperatorSet } from './helpers/operator-params';

/** The stale-oracle case: feeds count as stale after 30 minutes; the engine accepts prices up to 2 h old. */
const HEARTBEAT_SEC = 1_800;
const PARAMS: RiskParams = {
  ...DEFAULT_RISK_PARAMS,
  oracle: { ...DEFAULT_RISK_PARAMS.oracle, maxAgeSec: 7_200 },
};

let devnet: Devnet;
let m: DeploymentManifest;
let client: PublicClient;
let redis: Redis;
let network: string;
let keys: RedisKeys;
let queues: IndexerQueues;
let pipelineQueues: PipelineQueues;
let workers: Worker[] = [];
let positions: RedisReorgStore<OwnerPositions>;
let markets: RedisMarketHistory;
let params: ParamStore;
let results: RedisRiskResultStore;
let risk: RiskService;
let runner: IndexerRunner;
let set: ParamSet;
const heard: { next: RiskRecord; previous: RiskRecord | undefined }[] = [];
const logs: { event: string; fields?: Record<string, unknown> }[] = [];

const head = (): Promise<bigint> => client.getBlockNumber({ cacheTime: 0 });

beforeAll(async () => {
  redis = await connectTestRedis();
  network = testNetwork();
  keys = redisKeys(network);
  devnet = await startDevnet({ port: await getFreePort(), blockTimeSec: 0, manifestPath: null });
  m = devnet.manifest;
  client = devnet.clients.publicClient as unknown as PublicClient;
  const adapters = createAdapters(m);
  const connection = { url: redisUrl(), maxRetriesPerRequest: null };
  queues = createQueues(connection, network);
  pipelineQueues = createPipelineQueues(connection, network);
  positions = await IndexerRunner.openPositionsStore(redis, network, client);
  const marketStore = await IndexerRunner.openMarketStore(redis, network, client);
  const priceHistory = new RedisPriceHistory(redis, keys.priceHistory);
  markets = new RedisMarketHistory(redis, keys.pipeline.marketByBlock);
  params = new ParamStore(redis, keys.pipeline.params, (event, fields) => void logs.push({ event, fields }));
  results = new RedisRiskResultStore(redis, keys.pipeline.results);

  // The operator's first parameter set: the engine's defaults with a synthetic window around the spots.
  const now = await readMarketData(client as unknown as Client, m, await head(), {
    history: { intervalSec: 86_400, closesUsdByUnderlying: {} },
    liquidity: {},
  });
  set = await publishOperatorSet(params, PARAMS, now.snapshot.market.prices);

  const base = stalenessRulesFromManifest(m, {
    defaultHeartbeatSec: HEARTBEAT_SEC,
    defaultGracePeriodSec: 3_600,
    maxIndexerLagBlocks: 50,
  });
  const rules: StalenessRules = {
    ...base,
    heartbeatByFeed: new Map([...base.heartbeatByFeed.keys()].map((k) => [k, HEARTBEAT_SEC])),
  };
  risk = new RiskService({
    positions,
    markets,
    params,
    results,
    rules,
    chainHead: head,
    metrics: { redis, key: keys.pipeline.metrics },
    log: (event, fields) => void logs.push({ event, fields }),
  });
  risk.addListener({ onRecord: async (next, previous) => void heard.push({ next, previous }) });

  const service = new IndexerService({
    client,
    adapters,
    store: positions,
    jobs: queueJobSink(queues),
    getLogs: rpcGetLogs(client),
    startBlock: BigInt(m.network.startBlock),
  });
  workers = [
    ...startWorkers(
      connection,
      network,
      processorHandlers({
        indexRange: new IndexRangeProcessor(service),
        refresh: new RefreshProcessor(service),
        risk: new RiskProcessor(risk),
      }),
      { queues: ['index-range', 'refresh', 'risk'], concurrency: { 'index-range': 2, risk: 2 } },
    ),
    ...startPipelineWorkers(
      connection,
      network,
      { 'risk-market': (d) => new RiskMarketProcessor(risk).handle(d) },
      ['risk-market'],
    ),
  ];
  runner = new IndexerRunner({
    client,
    service,
    queues,
    redis,
    network,
    positions,
    startBlock: BigInt(m.network.startBlock),
    finalityDepth: 4,
    rangeBlocks: 25n,
    market: new MarketRecorder({
      client: client as unknown as Client,
      manifest: m,
      store: marketStore,
      history: priceHistory,
    }),
    onMarketRecorded: marketMoveHook(markets, pipelineQueues),
    leaseMs: 900_000, // polls are driven by hand, minutes apart
  });
}, 120_000);

afterAll(async () => {
  await runner?.stop();
  await Promise.all(workers.map((w) => w.close()));
  if (queues) await closeQueues(queues);
  if (pipelineQueues) await closePipelineQueues(pipelineQueues);
  await results?.close();
  if (redis) {
    await deleteKeys(redis, keys.prefix);
    redis.disconnect();
  }
  await devnet?.stop();
});

/** Waits until every queue is empty; a failed job fails the test with its reason. */
async function drained(timeoutMs = 240_000): Promise<void> {
  const all: Queue[] = [queues['index-range'], queues.refresh, queues.risk, pipelineQueues['risk-market']];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let pending = 0;
    for (const q of all) {
      const c = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed');
      if ((c.failed ?? 0) > 0) {
        const [job] = await q.getFailed(0, 0);
        throw new Error(`a ${q.name} job failed: ${job?.id}: ${job?.failedReason}`);
      }
      pending += (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0);
    }
    if (pending === 0) return;
    if (Date.now() > deadline) {
      const counts = await Promise.all(all.map(async (q) => [q.name, await q.getJobCounts()]));
      throw new Error(`queues not drained after ${timeoutMs} ms: ${JSON.stringify(counts)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function catchUp(): Promise<void> {
  await runner.poll();
  await drained();
}

/** The record equals `computeAccountRisk` on its inputs: stored positions, the market at its block, its set. */
async function expectReproducible(r: RiskRecord): Promise<void> {
  const stored = await positions.get(r.owner);
  expect(stored?.blockNumber).toBe(r.positionsBlockNumber);
  const market = (await markets.at(r.blockNumber)) as MarketRecord;
  expect(market.blockHash).toBe(r.blockHash);
  const paramSet = (await params.byHash(r.paramsHash)) as ParamSet;
  expect(paramSet.version).toBe(r.paramsVersion);
  const direct = computeAccountRisk(
    { account: r.owner, positions: positionsOf(stored!.value), ...RiskService.snapshotOf(market, paramSet) },
    paramSet.params,
  );
  expect(serialize(r.result)).toBe(serialize(direct));
  expect(r.inputHash).toBe(direct.inputHash);
  const f = usd6Figures(direct);
  expect([r.imUsd6, r.mmUsd6, r.adjustedEquityUsd6, r.shortfallUsd6]).toEqual([
    f.imUsd6,
    f.mmUsd6,
    f.adjustedEquityUsd6,
    f.shortfallUsd6,
  ]);
}

describe('risk workers on the devnet', () => {
  it('margins every persona with positions; each result equals computeAccountRisk on the same inputs', async () => {
    await catchUp();
    await catchUp();
    let withPositions = 0;
    for (const p of m.accounts) {
      const stored = await positions.get(p.address);
      if (!stored || positionsOf(stored.value).length === 0) continue;
      withPositions += 1;
      const r = await results.latest(p.address);
      expect(r ? p.persona : `no result for ${p.persona}`).toBe(p.persona);
      expect(r!.paramsHash).toBe(set.hash);
      await expectReproducible(r!);
    }
    expect(withPositions).toBeGreaterThanOrEqual(8);
    expect((await results.owners()).length).toBeGreaterThanOrEqual(withPositions);
  }, 240_000);

  it('stores and notifies once when the same job runs twice', async () => {
    const owner = persona(m, 'aave-near-liquidation').address;
    const stored = (await positions.get(owner))!;
    const block = { number: stored.blockNumber, hash: stored.blockHash };
    const before = heard.length;
    const latest = await results.latest(owner);
    const first = await risk.recompute(owner, block);
    const second = await risk.recompute(owner, block);
    // The latest may already be at a later market block (a market move): then this block is older.
    expect(['unchanged', 'older']).toContain(first.status);
    expect(second.status).toBe(first.status);
    expect(heard.length).toBe(before);
    expect(await results.latest(owner)).toEqual(latest);
  }, 60_000);

  it('the crash path drives the near-liquidation accounts below MM through market moves, with no position event', async () => {
    const nearLiq = persona(m, 'aave-near-liquidation');
    const highLev = persona(m, 'perps-high-leverage');
    const before = {
      near: await results.latest(nearLiq.address),
      high: await results.latest(highLev.address),
      counted: Number((await redis.hget(keys.pipeline.metrics, 'risk_market_recomputed')) ?? '0'),
    };
    expect(before.near?.health).not.toBe('liquidatable');
    const positionsBefore = serialize(await positions.get(nearLiq.address));
    const startBlock = await head();
    await runMarketPath(devnet.clients, m, 'crash', { clock: 'instant', steps: 4 });
    const crashBlock = await head();
    await catchUp();
    expect(serialize(await positions.get(nearLiq.address))).toBe(positionsBefore); // no position event
    const near = (await results.latest(nearLiq.address))!;
    // Margined at a block of the path, by the market-move recompute (its positions are older), at the
    // market of its block, which holds the same ETH and USDC prices as the path's last block.
    expect(near.blockNumber).toBeGreaterThan(startBlock);
    expect(near.blockNumber).toBeLessThanOrEqual(crashBlock);
    expect(near.positionsBlockNumber).toBeLessThanOrEqual(startBlock);
    const at = (await markets.at(near.blockNumber))!.snapshot.market.prices;
    const last = (await markets.at(crashBlock))!.snapshot.market.prices;
    expect([at.ETH?.answer, at.USDC?.answer]).toEqual([last.ETH?.answer, last.USDC?.answer]);
    expect(at.ETH!.answer).toBeLessThan((await markets.at(startBlock))!.snapshot.market.prices.ETH!.answer);
    expect(['below-mm', 'liquidatable']).toContain(near.health);
    expect(near.shortfallUsd6).toBeGreaterThan(0n);
    expect(near.adjustedEquityUsd6).toBeLessThan(near.mmUsd6);
    await expectReproducible(near);
    const high = (await results.latest(highLev.address))!;
    expect(high.blockNumber).toBeGreaterThan(startBlock);
    expect(['below-im', 'below-mm', 'liquidatable']).toContain(high.health);
    // Listeners heard the crossing with the record it replaced.
    const crossing = heard.find(
      (h) => h.next.owner === nearLiq.address && h.next.blockNumber === near.blockNumber,
    );
    expect(crossing?.previous?.blockNumber).toBeLessThan(near.blockNumber);
    const counted = Number(await redis.hget(keys.pipeline.metrics, 'risk_market_recomputed'));
    expect(counted).toBeGreaterThan(before.counted);
    expect(Number(await redis.hget(keys.pipeline.metrics, 'risk_market_last_block'))).toBe(
      Number(crashBlock),
    );
  }, 360_000);

  it('flags oracle when the feeds are left past their heartbeat (and only then)', async () => {
    const nearLiq = persona(m, 'aave-near-liquidation');
    const fresh = (await results.latest(nearLiq.address))!;
    expect(fresh.stale.oracle).toBe(false);
    await devnet.clients.testClient.increaseTime({ seconds: HEARTBEAT_SEC + 600 });
    await devnet.clients.testClient.mine({ blocks: 1 });
    const block = await head();
    await catchUp();
    const r = (await results.latest(nearLiq.address))!;
    expect(r.blockNumber).toBe(block);
    expect(r.stale.oracle).toBe(true);
    expect(r.stale.reasons.some((x) => /^ETH\/USD updated \d+ s ago, heartbeat 1800 s$/.test(x))).toBe(true);
    // Below MM with a stale input: not liquidatable.
    expect(r.health).toBe('below-mm');
    await expectReproducible(r);
  }, 120_000);
});
