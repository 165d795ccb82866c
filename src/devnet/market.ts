/**
 * The market driver: walks a named path (market-paths.ts) and publishes it on chain.
 *
 * Each step publishes new Chainlink answers (which Aave's oracle, the perps venue and the options
 * venue's spot feeds all read) and, on the options venue, forwards, rates and SVI smiles scaled by the
 * step's vol multiplier. All calls of a step are sent by the keeper in one batch.
 *
 * Two clocks: `realtime` sleeps between steps (durations divided by `speed`) and lets anvil's block
 * timer mine; `instant` advances chain time with `evm_increaseTime` and mines one block per step, so a
 * ten-minute crash runs in a second or two (tests use it).
 */
import { type Address } from 'viem';
import { mockV3AggregatorAbi } from '../contracts/generated';
import { ASSET_SYMBOLS, type AssetSymbol, type DeploymentManifest } from '../config/manifest';
import { InvalidInputError } from '../common/errors';
import { confirmAll, sendBatch, type BatchCall, type DevnetClients } from './chain';
import { assertMarketPathName, buildMarketPath, type MarketStep } from './market-paths';
import { optionsMarketDataCalls, refreshFeedsCalls } from './venues';

export interface MarketRunOptions {
  /** Realtime speed-up factor (default 1 = ten minutes for a ten-minute path). */
  speed?: number;
  /** `instant` jumps chain time per step instead of sleeping (default `realtime`). */
  clock?: 'realtime' | 'instant';
  seed?: number;
  steps?: number;
  onStep?: (step: MarketStep, pricesUsd8: Record<AssetSymbol, bigint>, total: number) => void;
}

export interface MarketRunResult {
  path: string;
  steps: number;
  startPricesUsd8: Record<AssetSymbol, bigint>;
  finalPricesUsd8: Record<AssetSymbol, bigint>;
}

export async function readFeedPrices(
  c: DevnetClients,
  m: DeploymentManifest,
): Promise<Record<AssetSymbol, bigint>> {
  const out = {} as Record<AssetSymbol, bigint>;
  for (const sym of ASSET_SYMBOLS) {
    const [, answer] = await c.publicClient.readContract({
      address: m.feeds.prices[sym].address,
      abi: mockV3AggregatorAbi,
      functionName: 'latestRoundData',
    });
    out[sym] = answer;
  }
  return out;
}

/** price × multiplier, in 8-decimal feed units (multipliers are path shapes, not token amounts). */
function scale(priceUsd8: bigint, multiplier: number): bigint {
  const ppb = BigInt(Math.round(multiplier * 1e9));
  return (priceUsd8 * ppb) / 1_000_000_000n;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runMarketPath(
  c: DevnetClients,
  m: DeploymentManifest,
  pathName: string,
  opts: MarketRunOptions = {},
): Promise<MarketRunResult> {
  const name = assertMarketPathName(pathName);
  const speed = opts.speed ?? 1;
  if (!(speed > 0 && speed <= 10_000)) throw new InvalidInputError('speed', `${speed} is not in (0, 10000]`);
  const clock = opts.clock ?? 'realtime';
  const path = buildMarketPath(name, { seed: opts.seed, steps: opts.steps });
  const keeper: Address = m.roles.keeper;
  const start = await readFeedPrices(c, m);
  let current = start;
  let prevT = 0;
  let lastTs = (await c.publicClient.getBlock()).timestamp;
  const startMs = Date.now();

  for (const step of path.steps) {
    const dtSec = step.tSec - prevT;
    prevT = step.tSec;
    if (clock === 'instant') {
      await c.testClient.increaseTime({ seconds: Math.max(1, dtSec) });
      await c.testClient.mine({ blocks: 1 });
    } else {
      // Against the wall clock, so time spent publishing does not stretch the path.
      await sleep(Math.max(0, startMs + (step.tSec * 1000) / speed - Date.now()));
    }
    // Derive feeds need each post strictly newer than the last one: wait for a fresh block second.
    let block = await c.publicClient.getBlock();
    while (block.timestamp <= lastTs) {
      await sleep(100);
      block = await c.publicClient.getBlock();
    }
    lastTs = block.timestamp;

    const prices = {} as Record<AssetSymbol, bigint>;
    const calls: BatchCall[] = [];
    for (const sym of ASSET_SYMBOLS) {
      prices[sym] = scale(start[sym], step.priceMultiplier[sym]);
      calls.push({
        address: m.feeds.prices[sym].address,
        abi: mockV3AggregatorAbi,
        functionName: 'updateAnswer',
        args: [prices[sym]],
        label: `${sym} feed step ${step.index}`,
      });
    }
    calls.push(...optionsMarketDataCalls(m, prices, step.volMultiplier, block.timestamp));
    const hashes = await sendBatch(c, keeper, calls);
    // Under interval mining an instant run mines its own block; otherwise anvil's timer (or automine) does.
    if (clock === 'instant' && m.network.blockTimeSec !== 0) await c.testClient.mine({ blocks: 1 });
    await confirmAll(
      c,
      hashes,
      calls.map((x) => x.label),
    );
    current = prices;
    opts.onStep?.(step, prices, path.steps.length);
  }
  return { path: name, steps: path.steps.length, startPricesUsd8: start, finalPricesUsd8: current };
}

/** Re-posts every feed unchanged with a fresh timestamp (keeps an idle devnet inside the heartbeats). */
export async function refreshFeeds(c: DevnetClients, m: DeploymentManifest): Promise<number> {
  const block = await c.publicClient.getBlock();
  const calls = await refreshFeedsCalls(c, m, block.timestamp);
  const hashes = await sendBatch(c, m.roles.keeper, calls);
  await confirmAll(
    c,
    hashes,
    calls.map((x) => x.label),
  );
  return calls.length;
}
