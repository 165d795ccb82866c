/**
 * Risk records for the shortfall feed's tests: a real engine result (the shared fixtures' market, a
 * small Aave book with WETH and aUSDC collateral against USDC debt) wrapped in the stored record's
 * fields, whose class and USD6 figures each test sets to the crossing it needs.
 */
import { keccak256, toHex, type Address } from 'viem';
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
