/**
 * The local world's assets: token decimals, starting prices and Aave risk parameters.
 *
 * Risk parameters and rate strategies are Aave V3 Optimism's, as recorded in the Aave governance
 * configuration snapshot of 2023-10-31 (bgd-labs/aave-proposals-v3,
 * `reports/AaveV3Optimism_MAIMIMATICDeprecation20231031_20231031_after.json`). USDC takes the
 * parameters of the USDC reserve in that snapshot. docs/local-world.md shows the same table.
 * Starting prices are round numbers, not market data: tests compute expectations from them.
 */
import type { AssetSymbol } from '../config/manifest';

const RAY = 10n ** 27n;
/** Percent (may be fractional, given as basis points) → ray. */
const bpsRay = (bps: number): bigint => (BigInt(bps) * RAY) / 10_000n;

export interface RateStrategyParams {
  optimalUsageRatioRay: bigint;
  baseVariableBorrowRateRay: bigint;
  variableRateSlope1Ray: bigint;
  variableRateSlope2Ray: bigint;
  stableRateSlope1Ray: bigint;
  stableRateSlope2Ray: bigint;
  /** Aave 3.0.2 constructor input: baseStableBorrowRate − variableRateSlope1. */
  baseStableRateOffsetRay: bigint;
  stableRateExcessOffsetRay: bigint;
  optimalStableToTotalDebtRatioRay: bigint;
}

export interface AssetParams {
  symbol: AssetSymbol;
  name: string;
  decimals: number;
  /** Chainlink pair description for the feed. */
  feedDescription: string;
  /** Starting price, USD with 8 decimals (Chainlink's USD-feed format). */
  initialPriceUsd8: bigint;
  ltvBps: number;
  liquidationThresholdBps: number;
  liquidationBonusBps: number;
  liquidationProtocolFeeBps: number;
  reserveFactorBps: number;
  /** Whole tokens. */
  supplyCap: bigint;
  borrowCap: bigint;
  rates: RateStrategyParams;
}

function rates(p: {
  optimalBps: number;
  baseBps: number;
  slope1Bps: number;
  slope2Bps: number;
  stableSlope1Bps: number;
  stableSlope2Bps: number;
  baseStableBps: number;
}): RateStrategyParams {
  return {
    optimalUsageRatioRay: bpsRay(p.optimalBps),
    baseVariableBorrowRateRay: bpsRay(p.baseBps),
    variableRateSlope1Ray: bpsRay(p.slope1Bps),
    variableRateSlope2Ray: bpsRay(p.slope2Bps),
    stableRateSlope1Ray: bpsRay(p.stableSlope1Bps),
    stableRateSlope2Ray: bpsRay(p.stableSlope2Bps),
    baseStableRateOffsetRay: bpsRay(p.baseStableBps - p.slope1Bps),
    // Not part of the snapshot; Aave's default for 3.0.x strategies.
    stableRateExcessOffsetRay: bpsRay(800),
    optimalStableToTotalDebtRatioRay: bpsRay(2_000),
  };
}

export const ASSETS: Record<AssetSymbol, AssetParams> = {
  WETH: {
    symbol: 'WETH',
    name: 'Wrapped Ether',
    decimals: 18,
    feedDescription: 'ETH / USD',
    initialPriceUsd8: 3_000n * 10n ** 8n,
    ltvBps: 8_000,
    liquidationThresholdBps: 8_250,
    liquidationBonusBps: 10_500,
    liquidationProtocolFeeBps: 1_000,
    reserveFactorBps: 1_500,
    supplyCap: 35_900n,
    borrowCap: 19_745n,
    rates: rates({
      optimalBps: 8_000,
      baseBps: 0,
      slope1Bps: 330,
      slope2Bps: 8_000,
      stableSlope1Bps: 400,
      stableSlope2Bps: 8_000,
      baseStableBps: 630,
    }),
  },
  WBTC: {
    symbol: 'WBTC',
    name: 'Wrapped BTC',
    decimals: 8,
    feedDescription: 'BTC / USD',
    initialPriceUsd8: 60_000n * 10n ** 8n,
    ltvBps: 7_300,
    liquidationThresholdBps: 7_800,
    liquidationBonusBps: 10_750,
    liquidationProtocolFeeBps: 1_000,
    reserveFactorBps: 2_000,
    supplyCap: 1_200n,
    borrowCap: 250n,
    rates: rates({
      optimalBps: 4_500,
      baseBps: 0,
      slope1Bps: 400,
      slope2Bps: 30_000,
      stableSlope1Bps: 0,
      stableSlope2Bps: 0,
      baseStableBps: 600,
    }),
  },
  USDC: {
    symbol: 'USDC',
    name: 'USD Coin',
    decimals: 6,
    feedDescription: 'USDC / USD',
    initialPriceUsd8: 1n * 10n ** 8n,
    ltvBps: 8_000,
    liquidationThresholdBps: 8_500,
    liquidationBonusBps: 10_500,
    liquidationProtocolFeeBps: 1_000,
    reserveFactorBps: 1_000,
    supplyCap: 150_000_000n,
    borrowCap: 100_000_000n,
    rates: rates({
      optimalBps: 9_000,
      baseBps: 0,
      slope1Bps: 350,
      slope2Bps: 6_000,
      stableSlope1Bps: 50,
      stableSlope2Bps: 6_000,
      baseStableBps: 450,
    }),
  },
  OP: {
    symbol: 'OP',
    name: 'Optimism',
    decimals: 18,
    feedDescription: 'OP / USD',
    initialPriceUsd8: 2n * 10n ** 8n,
    ltvBps: 3_000,
    liquidationThresholdBps: 4_000,
    liquidationBonusBps: 11_000,
    liquidationProtocolFeeBps: 1_000,
    reserveFactorBps: 2_000,
    supplyCap: 10_000_000n,
    borrowCap: 500_000n,
    rates: rates({
      optimalBps: 4_500,
      baseBps: 0,
      slope1Bps: 700,
      slope2Bps: 30_000,
      stableSlope1Bps: 0,
      stableSlope2Bps: 0,
      baseStableBps: 900,
    }),
  },
};

/** Chainlink USD feeds use 8 decimals; Aave's oracle base unit matches. */
export const USD_FEED_DECIMALS = 8;
export const AAVE_BASE_CURRENCY_UNIT = 10n ** 8n;
/** Aave OP Mainnet's PriceOracleSentinel grace period after the sequencer comes back up. */
export const SEQUENCER_GRACE_PERIOD_SEC = 3_600n;
