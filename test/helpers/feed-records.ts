/**
 * Risk records for the shortfall feed's tests: a real engine result (the shared fixtures' market, a
 * small Aave book with WETH and aUSDC collateral against USDC debt) wrapped in the stored record's
 * fields, whose class and USD6 figures each test sets to the crossing it needs; and the feed's SSE
 * endpoint as a process of its own (`src/pipeline/feed/serve.ts` under tsx: NestJS 12 is ESM, which
 * Jest's CommonJS runtime cannot load), on a free loopback port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { keccak256, toHex, type Address } from 'viem';
import { redisUrl } from '../../src/indexer/redis/test-redis';
import { computeAccountRisk, DEFAULT_RISK_PARAMS, type RiskParams } from '../../src/risk';
import type { HealthClass, RiskRecord } from '../../src/pipeline/types';
import { account, lending } from '../vectors/fixtures';

const FAST: RiskParams = {
  ...DEFAULT_RISK_PARAMS,
  valueAtRisk: { ...DEFAULT_RISK_PARAMS.valueAtRisk, monteCarloPaths: 100 },
};

let cached: RiskRecord['result'] | undefined;

/** The engine's result for the fixture book (computed once per test file). */
export function fixtureResult(): RiskRecord['result'] {
  cached ??= computeAccountRisk(
    account({
      positions: [
        lending('collateral', 'aWETH', 10),
        lending('collateral', 'aUSDC', 5_000),
        lending('debt', 'USDC', 20_000),
      ],
    }),
    FAST,
  );
  return cached;
}

export function riskRecord(
  owner: Address,
  health: HealthClass,
  opts: { blockNumber?: bigint; shortfallUsd6?: bigint; mmUsd6?: bigint } = {},
): RiskRecord {
  const mmUsd6 = opts.mmUsd6 ?? 9_000_000_000n;
  const shortfallUsd6 = opts.shortfallUsd6 ?? 0n;
  const adjustedEquityUsd6 = mmUsd6 - shortfallUsd6;
  const blockNumber = opts.blockNumber ?? 100n;
  return {
    owner,
    blockNumber,
    blockHash: keccak256(toHex(`block:${blockNumber}`)),
    asOfSec: 1_767_225_600,
    positionsBlockNumber: blockNumber,
    paramsVersion: 1,
    paramsHash: keccak256(toHex('params:1')),
    inputHash: keccak256(toHex(`inputs:${owner}:${blockNumber}`)),
    health,
    imUsd6: (mmUsd6 * 3n) / 2n,
    mmUsd6,
    mtmUsd6: adjustedEquityUsd6 + 1_000_000_000n,
    adjustedEquityUsd6,
    freeCollateralUsd6: 0n,
    shortfallUsd6,
    marginRatio: Number(adjustedEquityUsd6) / Number(mmUsd6),
    stale: { oracle: false, sequencer: false, indexer: false, reasons: [] },
    computedAtMs: 1_767_225_600_000,
    result: fixtureResult(),
  };
}

export interface FeedProcess {
  /** Base URL, e.g. `http://127.0.0.1:40123` (the endpoint is `${url}/v1/feed/shortfalls`). */
  url: string;
  child: ChildProcess;
}

/** Starts the standalone endpoint for `network` and waits for its `feed-listening` line. */
export async function startFeedProcess(network: string, heartbeatMs = 150): Promise<FeedProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/pipeline/feed/serve.ts'], {
    cwd: resolve(__dirname, '..', '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      REDIS_URL: redisUrl(),
      NETMARGIN_NETWORK: network,
      FEED_PORT: '0',
      FEED_HEARTBEAT_MS: String(heartbeatMs),
    },
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`the feed server did not start: ${stderr}`)), 30_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as { event: string; url?: string };
      clearTimeout(timer);
      if (msg.event === 'feed-listening') ok(msg.url!.replace(/\/v1\/feed\/shortfalls$/, ''));
      else if (msg.event !== 'feed-stopped') fail(new Error(`the feed server failed: ${line}\n${stderr}`));
    });
    child.on('exit', (code) => fail(new Error(`the feed server exited (${code}): ${stderr}`)));
  });
  return { url, child };
}

/** SIGTERM, and waits for the exit (open streams are ended by the server). */
export async function stopFeedProcess(p: FeedProcess): Promise<void> {
  if (p.child.exitCode !== null) return;
  const exited = new Promise((r) => p.child.once('exit', r));
  p.child.kill('SIGTERM');
  await exited;
}
