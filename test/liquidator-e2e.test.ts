/**
 * The reference liquidator (examples/liquidator) end to end on the devnet: after the crash path,
 * - the basis trader is attested below MM on the MarginAggregator (2-of-3 signed batch),
 * - the Aave near-liquidation persona's Aave health factor is below 1,
 * - the delta-hedged book (aggregator collateral, never attested) is on the feed but not liquidatable;
 * their risk records go through `ShortfallFeed` (with the on-chain reader: seizable amounts and price
 * rounds at the record's block) into Redis, the SSE endpoint serves them, and `runOnce` — the bot's
 * function entry point — re-checks each on chain and acts: a dry run sends nothing; a real run flags
 * and bids in the auction until the account is no longer liquidatable, liquidates the Aave account
 * on Aave, skips the third, and a second run resumes after the last event (nothing new to do).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { keccak256, toHex, type Address, type Client } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { buildMarginBatch, collectSignatures, postAttestationsArgs } from '../src/attestation';
import type { DeploymentManifest } from '../src/config/manifest';
import {
  aavePoolAbi,
  iERC20MinimalAbi,
  iMarginReaderAbi,
  marginAggregatorAbi,
  mockV3AggregatorAbi,
} from '../src/contracts/generated';
import { getFreePort } from '../src/devnet/anvil';
import { startDevnet, type Devnet } from '../src/devnet/devnet';
import { runMarketPath } from '../src/devnet/market';
import { redisKeys } from '../src/indexer/redis/keys';
import { connectTestRedis, deleteKeys, testNetwork } from '../src/indexer/redis/test-redis';
import { OnChainFeedReader } from '../src/pipeline/feed/chain-reader';
import { ShortfallFeed } from '../src/pipeline/feed/shortfall-feed';
import type { HealthClass } from '../src/pipeline/types';
import {
  loadLastEventId,
  runForever,
  runOnce,
  type Decision,
  type LiquidatorConfig,
} from '../examples/liquidator/liquidator';
import { riskRecord, startFeedProcess, stopFeedProcess, type FeedProcess } from './helpers/feed-records';
import { persona } from './helpers/indexer';

const USD6 = 10n ** 6n;
const RAY = 10n ** 27n;
const WAD = 10n ** 18n;

let devnet: Devnet;
let m: DeploymentManifest;
let redis: Redis;
let network: string;
let feed: ShortfallFeed;
let server: FeedProcess;
let dir: string;

beforeAll(async () => {
  devnet = await startDevnet({ port: await getFreePort(), blockTimeSec: 0, manifestPath: null });
  m = devnet.manifest;
  redis = await connectTestRedis();
  network = testNetwork();
  feed = new ShortfallFeed({
    redis,
    network,
    chain: new OnChainFeedReader(devnet.clients.publicClient as unknown as Client, m),
  });
  server = await startFeedProcess(network);
  dir = mkdtempSync(join(tmpdir(), 'nm-liquidator-'));
}, 180_000);

afterAll(async () => {
  if (server) await stopFeedProcess(server);
  await feed?.close();
  if (redis) {
    await deleteKeys(redis, redisKeys(network).prefix);
    redis.disconnect();
  }
  await devnet?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const pc = () => devnet.clients.publicClient;
const agg = () => m.aggregator!;

async function read<T>(
  address: Address,
  abi: unknown,
  functionName: string,
  args: unknown[] = [],
): Promise<T> {
  return (await pc().readContract({ address, abi, functionName, args } as never)) as T;
}

/** Posts a 2-of-3 signed attestation: MM 2,000 USD above the account's weighted collateral, MTM −500 USD. */
async function attestBelowMm(account: Address): Promise<{ block: bigint; mmUsd6: bigint }> {
  const [, , collateral] = await read<readonly bigint[]>(agg().address, iMarginReaderAbi, 'marginOf', [
    account,
  ]);
  const block = await pc().getBlock();
  const mmUsd6 = collateral! + 2_000n * USD6;
  const batch = buildMarginBatch(
    {
      paramsHash: keccak256(toHex('liquidator-e2e-params')),
      timestampSec: block.timestamp,
      deadlineSec: block.timestamp + 600n,
      records: [
        {
          account,
          imUsd6: (mmUsd6 * 6n) / 5n,
          mmUsd6,
          mtmUsd6: -500n * USD6,
          blockNumber: block.number,
          inputsHash: keccak256(toHex(`liquidator-e2e:${account}`)),
        },
      ],
    },
    { nowSec: block.timestamp },
  );
  const signers = agg().signers.map((s) => privateKeyToAccount(s.privateKey!));
  const { signatures } = await collectSignatures(
    batch,
    { chainId: m.network.chainId, aggregator: agg().address },
    signers,
    agg().threshold,
  );
  const hash = await devnet.clients.walletClient.writeContract({
    account: persona(m, 'fresh-wallet').address,
    chain: devnet.clients.chain,
    address: agg().address,
    abi: marginAggregatorAbi,
    functionName: 'postAttestations',
    args: postAttestationsArgs(batch, signatures),
  });
  const receipt = await pc().waitForTransactionReceipt({ hash, pollingInterval: 50 });
  expect(receipt.status).toBe('success');
  return { block: receipt.blockNumber, mmUsd6 };
}

function botConfig(stateFile: string, dryRun: boolean): LiquidatorConfig {
  return {
    rpcUrl: devnet.rpcUrl,
    feedUrl: `${server.url}/v1/feed/shortfalls`,
    aggregator: agg().address,
    aavePool: m.aave.pool,
    privateKey: persona(m, 'liquidator-bot').privateKey,
    stateFile: join(dir, stateFile),
    minProfitUsd6: 1n * USD6,
    ethUsdFeed: null,
    dryRun,
    catchUpTimeoutMs: 20_000,
    startFrom: '0',
  };
}

const logs: Record<string, unknown>[] = [];
const quiet = (l: Record<string, unknown>) => void logs.push(l);
const pick = (ds: Decision[], owner: Address, venue: Decision['venue']) =>
  ds.filter((d) => d.owner === owner && d.venue === venue).map((d) => d.action);

describe('reference liquidator on the devnet', () => {
  it('re-checks, bids in the aggregator auction, liquidates on Aave, and resumes from its last event', async () => {
    await runMarketPath(devnet.clients, m, 'crash', { clock: 'instant', steps: 6 });
    const trader = persona(m, 'basis-trader').address;
    const nearLiq = persona(m, 'aave-near-liquidation').address;
    const notAttested = persona(m, 'delta-hedged-options-book').address;
    const bot = persona(m, 'liquidator-bot').address;

    const { block, mmUsd6 } = await attestBelowMm(trader);
    expect(await read<boolean>(agg().address, iMarginReaderAbi, 'isLiquidatable', [trader])).toBe(true);
    const aaveBefore = await read<readonly bigint[]>(m.aave.pool, aavePoolAbi, 'getUserAccountData', [
      nearLiq,
    ]);
    expect(aaveBefore[5]!).toBeLessThan(WAD);

    // The risk records the workers would store; the feed's rule publishes all three (entered below MM).
    const classes: [Address, HealthClass][] = [
      [trader, 'liquidatable'],
      [nearLiq, 'below-mm'],
      [notAttested, 'liquidatable'],
    ];
    for (const [owner, health] of classes)
      await feed.onRecord(
        riskRecord(owner, health, { blockNumber: block, mmUsd6, shortfallUsd6: 2_500n * USD6 }),
        riskRecord(owner, 'healthy', { blockNumber: block - 1n }),
      );
    const events = await feed.readFeed('0', 10);
    expect(events.map((e) => e.owner)).toEqual([trader, nearLiq, notAttested]);

    // Seizable amounts and price rounds are the chain's at the record's block.
    const aWeth = agg().assets.find((a) => a.symbol === 'aWETH')!;
    const scaled = await read<bigint>(agg().address, marginAggregatorAbi, 'balanceOf', [
      trader,
      aWeth.address,
    ]);
    const index = await read<bigint>(m.aave.pool, aavePoolAbi, 'getReserveNormalizedIncome', [
      aWeth.underlying!,
    ]);
    expect(events[0]!.seizable).toEqual([
      { token: aWeth.address, symbol: 'aWETH', amount: (scaled * index) / RAY, decimals: 18 },
    ]);
    const [roundId, answer] = await read<readonly bigint[]>(
      m.feeds.prices.WETH.address,
      mockV3AggregatorAbi,
      'latestRoundData',
    );
    expect(events[0]!.prices.ETH).toMatchObject({ answer, roundId, decimals: 8 });
    expect(events[1]!.seizable).toEqual([]); // nothing deposited in the aggregator

    // Dry run: decides the same, sends nothing.
    const nonceBefore = await pc().getTransactionCount({ address: bot });
    const dry = await runOnce(botConfig('dry.json', true), { log: quiet });
    expect(dry.events.map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(pick(dry.decisions, trader, 'aggregator')).toEqual(['would-flag']);
    expect(pick(dry.decisions, nearLiq, 'aave')).toEqual(['would-liquidate']);
    expect(pick(dry.decisions, notAttested, 'aggregator')).toEqual(['skip']);
    expect(await pc().getTransactionCount({ address: bot })).toBe(nonceBefore);
    expect(await read<boolean>(agg().address, iMarginReaderAbi, 'isLiquidatable', [trader])).toBe(true);

    // The real run.
    const usdcBefore = await read<bigint>(m.tokens.USDC.address, iERC20MinimalAbi, 'balanceOf', [bot]);
    const aWethBefore = await read<bigint>(aWeth.address, iERC20MinimalAbi, 'balanceOf', [bot]);
    const wethBefore = await read<bigint>(m.tokens.WETH.address, iERC20MinimalAbi, 'balanceOf', [bot]);
    const run = await runOnce(botConfig('live.json', false), { log: quiet });
    const traderActions = pick(run.decisions, trader, 'aggregator');
    expect(traderActions[0]).toBe('flag');
    expect(traderActions.filter((a) => a === 'bid').length).toBeGreaterThanOrEqual(1);
    expect(traderActions.every((a) => a === 'flag' || a === 'bid')).toBe(true);
    // Each bid was priced first (seized value, payment, gas, profit), and the figures were logged.
    const quotes = logs.filter((l) => l.event === 'quote' && l.owner === trader);
    expect(quotes.length).toBeGreaterThanOrEqual(1);
    expect(quotes[0]).toMatchObject({
      asset: aWeth.address,
      profitUsd: expect.stringMatching(/^[0-9]+\.[0-9]{6}$/),
    });
    // Restored: no longer liquidatable, no shortfall, the auction closed by the liquidation itself.
    expect(await read<boolean>(agg().address, iMarginReaderAbi, 'isLiquidatable', [trader])).toBe(false);
    const [, , , shortfallAfter, , stale] = await read<
      readonly [bigint, bigint, bigint, bigint, bigint, boolean]
    >(agg().address, iMarginReaderAbi, 'marginOf', [trader]);
    expect(shortfallAfter).toBe(0n);
    expect(stale).toBe(false);
    expect(await read<bigint>(agg().address, marginAggregatorAbi, 'flaggedAtSec', [trader])).toBe(0n);
    // The bot paid USDC and received aWETH.
    expect(await read<bigint>(aWeth.address, iERC20MinimalAbi, 'balanceOf', [bot])).toBeGreaterThan(
      aWethBefore,
    );
    expect(await read<bigint>(m.tokens.USDC.address, iERC20MinimalAbi, 'balanceOf', [bot])).toBeLessThan(
      usdcBefore,
    );

    // Aave: liquidated directly; the debt fell and the bot received the WETH collateral.
    expect(pick(run.decisions, nearLiq, 'aave')).toEqual(['liquidate']);
    const aaveAfter = await read<readonly bigint[]>(m.aave.pool, aavePoolAbi, 'getUserAccountData', [
      nearLiq,
    ]);
    expect(aaveAfter[1]!).toBeLessThan(aaveBefore[1]!); // total debt (base currency)
    expect(await read<bigint>(m.tokens.WETH.address, iERC20MinimalAbi, 'balanceOf', [bot])).toBeGreaterThan(
      wethBefore,
    );

    // Not attested on the aggregator: the feed's word is not enough.
    const skipped = run.decisions.find((d) => d.owner === notAttested && d.venue === 'aggregator')!;
    expect(skipped.action).toBe('skip');
    expect(skipped.why).toMatch(/no attestation/);
    expect(pick(run.decisions, notAttested, 'aave')).toEqual(['skip']);

    // Resume: the next run starts after the last handled event and finds nothing to do.
    expect(run.lastEventId).toBe(events[2]!.id);
    const again = await runOnce(botConfig('live.json', false), { log: quiet });
    expect(again.events).toEqual([]);
    expect(again.decisions).toEqual([]);
  }, 180_000);

  it('follows the feed live: acts on an event as it is published and saves its id', async () => {
    const trader = persona(m, 'basis-trader').address;
    const lines: Record<string, unknown>[] = [];
    const config = { ...botConfig('forever.json', true), startFrom: await feed.lastId() };
    const ac = new AbortController();
    const running = runForever(config, { log: (l) => void lines.push(l), signal: ac.signal });
    const waitFor = async (what: string, ok: () => boolean) => {
      for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
      if (!ok()) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(lines)}`);
    };
    try {
      await waitFor('the connection', () => lines.some((l) => l.event === 'connecting'));
      // The restored account leaves below MM: the bot re-checks and finds nothing to do.
      const block = await pc().getBlockNumber();
      const { id: _first, ...first } = (await feed.readFeed('0', 1))[0]!;
      const id = await feed.publish({
        ...first,
        health: 'below-im',
        previousHealth: 'liquidatable',
        blockNumber: block,
        reason: 'left',
        publishedAtMs: Date.now(),
      });
      await waitFor('the decision', () =>
        lines.some((l) => l.event === 'decision' && l.eventId === id && l.venue === 'aave'),
      );
      const mine = lines.filter((l) => l.event === 'decision' && l.eventId === id);
      expect(mine.map((l) => [l.owner, l.venue, l.action])).toEqual([
        [trader, 'aggregator', 'skip'],
        [trader, 'aave', 'skip'],
      ]);
      expect(String(mine[0]!.why)).toMatch(/net margin ≥ MM/);
      await waitFor('the saved id', () => loadLastEventId(config.stateFile) === id);
    } finally {
      ac.abort();
      await running;
    }
  }, 60_000);
});
