/**
 * The pipeline end to end on the devnet (2 s blocks), with the processes of production: the worker
 * (every indexer role and `risk`), the poster, the API (shortfall feed over SSE) and the reference
 * liquidator, started as the demo starts them (`startStack`), and the crash path in real time (sped
 * up). After the first sync and the first attestations the crash runs; then, from the chain and
 * Redis, independently of what the demo printed:
 *
 * - some seeded accounts are driven below MM by the crash (their last result before the crash is not
 *   below MM, a later one is: `below-mm` or `liquidatable`, equity < MM);
 * - each one's attestation is on chain within 2 blocks of the move. The move, for an account, is the
 *   block of the last price-feed update (`AnswerUpdated` of the market driver) at or before the block
 *   of the account's first below-MM result; its attestation is the first `MarginUpdated` for it with
 *   an attested block ≥ the move, and that transaction's block must be ≤ the move + 2;
 * - the API's SSE endpoint delivers a shortfall event for each of them;
 * - the reference liquidator restores them: none that holds collateral on the aggregator is
 *   liquidatable there at the end (an account with nothing there to buy can only be settled as bad
 *   debt), and each whose Aave health factor was below 1 at the last price update was liquidated on
 *   Aave;
 * - no account is attested twice for the same block (every `MarginUpdated` of the run).
 */
import type { Redis } from 'ioredis';
import type { Address } from 'viem';
import {
  aavePoolAbi,
  iMarginReaderAbi,
  marginAggregatorAbi,
  mockV3AggregatorAbi,
} from '../src/contracts/generated';
import { runScenario, type DemoRun } from '../src/demo/demo';
import { startStack, type Stack } from '../src/demo/stack';
import { redisKeys } from '../src/indexer/redis/keys';
import { connectTestRedis } from '../src/indexer/redis/test-redis';
import { RedisRiskResultStore } from '../src/pipeline/result-store';
import type { HealthClass } from '../src/pipeline/types';
import type { NetmarginError } from '../src/common/errors';

const WAD = 10n ** 18n;
const BELOW_MM: HealthClass[] = ['below-mm', 'liquidatable'];

let stack: Stack | undefined;
let redis: Redis;
let run: DemoRun;
let crashFrom: bigint;
const said: string[] = [];
let failure: NetmarginError | null = null;
const hfAtLastMove = new Map<Address, bigint>();

beforeAll(async () => {
  redis = await connectTestRedis();
  stack = await startStack({
    blockTimeSec: 2,
    liquidator: true,
    progress: (step, ms) => void said.push(`✓ ${step} ${ms}`),
    onChildFailed: (e) => (failure ??= e),
  });
  const s = stack;
  run = await runScenario(
    s,
    { fast: false, liquidator: true, speed: 30, steps: 8, quietMs: 10_000, maxSettleMs: 60_000 },
    (l) => void said.push(l),
    () => failure,
    {
      afterPath: async () => {
        // Aave health factors at the last price update, before anyone reacted to it.
        const pc = s.devnet.clients.publicClient;
        const moves = await feedUpdateBlocks(s, s.readyBlock);
        const last = moves[moves.length - 1]!;
        for (const a of s.devnet.manifest.accounts) {
          const data = (await pc.readContract({
            address: s.devnet.manifest.aave.pool,
            abi: aavePoolAbi,
            functionName: 'getUserAccountData',
            args: [a.address],
            blockNumber: last,
          })) as readonly bigint[];
          hfAtLastMove.set(a.address as Address, data[5]!);
        }
      },
    },
  );
  crashFrom = (await feedUpdateBlocks(s, s.readyBlock + 1n))[0]!;
}, 360_000);

afterAll(async () => {
  await stack?.stop();
  redis?.disconnect();
}, 60_000);

/**
 * Blocks with a market-driver price update, ascending: where the WETH feed's round id grew (the mock
 * feed emits no event, so each block's round is read at that block).
 */
async function feedUpdateBlocks(s: Stack, fromBlock: bigint): Promise<bigint[]> {
  const pc = s.devnet.clients.publicClient;
  const head = await pc.getBlockNumber();
  const roundAt = (blockNumber: bigint) =>
    pc.readContract({
      address: s.devnet.manifest.feeds.prices.WETH.address,
      abi: mockV3AggregatorAbi,
      functionName: 'latestRound',
      blockNumber,
    }) as Promise<bigint>;
  const blocks: bigint[] = [];
  for (let b = fromBlock; b <= head; b++) blocks.push(b);
  const rounds = await Promise.all(blocks.map(roundAt));
  let previous = await roundAt(fromBlock - 1n);
  const out: bigint[] = [];
  blocks.forEach((b, i) => {
    if (rounds[i]! > previous) out.push(b);
    previous = rounds[i]!;
  });
  return out;
}

async function attestations(s: Stack) {
  const logs = await s.devnet.clients.publicClient.getContractEvents({
    address: s.devnet.manifest.aggregator!.address,
    abi: marginAggregatorAbi,
    eventName: 'MarginUpdated',
    fromBlock: s.readyBlock,
    toBlock: 'latest',
  });
  return logs.map((l) => {
    const a = l.args as { account: Address; blockNumber: bigint };
    return { account: a.account, attested: a.blockNumber, txBlock: l.blockNumber };
  });
}

/** Accounts whose last result before the crash is not below MM and a later one is. */
async function drivenBelowMm(s: Stack): Promise<{ owner: Address; persona: string; firstBelow: bigint }[]> {
  const results = new RedisRiskResultStore(redis, redisKeys(s.network).pipeline.results);
  const out: { owner: Address; persona: string; firstBelow: bigint }[] = [];
  for (const a of s.devnet.manifest.accounts) {
    const history = (await results.history(a.address as Address, { limit: 1000 })).reverse();
    const before = history.filter((r) => r.blockNumber < crashFrom).at(-1);
    const below = history.find((r) => r.blockNumber >= crashFrom && BELOW_MM.includes(r.health));
    if (before && !BELOW_MM.includes(before.health) && below) {
      expect(below.adjustedEquityUsd6).toBeLessThan(below.mmUsd6);
      out.push({ owner: a.address as Address, persona: a.persona, firstBelow: below.blockNumber });
    }
  }
  return out;
}

/** The SSE endpoint's backlog from the start (`?after=0`), up to its caught-up heartbeat. */
async function sseBacklog(url: string): Promise<{ owner: string; health: string }[]> {
  const ac = new AbortController();
  const res = await fetch(`${url}/v1/feed/shortfalls?after=0`, { signal: ac.signal });
  expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
  const reader = res.body!.getReader();
  let text = '';
  while (!text.includes(': heartbeat')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  ac.abort();
  return text
    .split(/\n\n/)
    .filter((block) => block.includes('event: shortfall'))
    .map(
      (block) =>
        JSON.parse(
          block
            .split('\n')
            .find((l) => l.startsWith('data: '))!
            .slice(6),
        ) as never,
    );
}

describe('the risk pipeline on the devnet, end to end', () => {
  it('crash: below MM → attested within 2 blocks → on the feed → restored; never attested twice for a block', async () => {
    const s = stack!;
    expect(failure).toBeNull();
    const moves = await feedUpdateBlocks(s, crashFrom);
    expect(moves.length).toBeGreaterThanOrEqual(8);

    const driven = await drivenBelowMm(s);
    expect(driven.map((d) => d.persona)).toContain('aave-near-liquidation');

    const posted = await attestations(s);
    for (const d of driven) {
      const move = moves.filter((b) => b <= d.firstBelow).at(-1)!;
      const att = posted
        .filter((p) => p.account === d.owner && p.attested >= move)
        .sort((x, y) => (x.txBlock < y.txBlock ? -1 : 1))[0];
      expect({ persona: d.persona, move, attestedIn: att?.txBlock }).toEqual({
        persona: d.persona,
        move,
        attestedIn: expect.any(BigInt),
      });
      expect(att!.txBlock - move).toBeLessThanOrEqual(2n);
    }

    const events = await sseBacklog(s.apiUrl);
    for (const d of driven) {
      const mine = events.filter((e) => e.owner === d.owner);
      expect({
        persona: d.persona,
        onFeed: mine.some((e) => BELOW_MM.includes(e.health as HealthClass)),
      }).toEqual({
        persona: d.persona,
        onFeed: true,
      });
    }

    const pc = s.devnet.clients.publicClient;
    const aaveLiquidated = new Set(
      (
        await pc.getContractEvents({
          address: s.devnet.manifest.aave.pool,
          abi: aavePoolAbi,
          eventName: 'LiquidationCall',
          fromBlock: s.readyBlock,
          toBlock: 'latest',
        })
      ).map((l) => (l.args as { user: Address }).user),
    );
    for (const d of driven) {
      const agg = s.devnet.manifest.aggregator!.address;
      const liquidatable = await pc.readContract({
        address: agg,
        abi: iMarginReaderAbi,
        functionName: 'isLiquidatable',
        args: [d.owner],
      });
      const [, , collateralUsd6] = (await pc.readContract({
        address: agg,
        abi: iMarginReaderAbi,
        functionName: 'marginOf',
        args: [d.owner],
      })) as readonly bigint[];
      // Restored on the aggregator, unless it holds nothing there a liquidator could buy (its
      // shortfall is then bad debt for the insurance fund, not an auction).
      expect({ persona: d.persona, liquidatable: liquidatable && collateralUsd6! > 0n }).toEqual({
        persona: d.persona,
        liquidatable: false,
      });
      if (hfAtLastMove.get(d.owner)! < WAD)
        expect({ persona: d.persona, onAave: aaveLiquidated.has(d.owner) }).toEqual({
          persona: d.persona,
          onAave: true,
        });
    }
    expect([...hfAtLastMove.values()].some((hf) => hf < WAD)).toBe(true);

    const seen = new Set<string>();
    for (const p of posted) {
      const key = `${p.account}@${p.attested}`;
      expect(seen.has(key) ? key : null).toBeNull();
      seen.add(key);
    }
    expect(run.observed.some((o) => o.attestations.length > 0)).toBe(true);
  }, 120_000);
});
