/**
 * Builders for risk-engine inputs shared by the unit specs, the property tests and the golden
 * vectors: token amounts as bigint with decimals, oracle feeds, and synthetic price history drawn
 * from a seeded PRNG with a chosen volatility and correlation (or given explicitly).
 */
import { Prng } from '../../src/risk/stats/prng';
import type {
  AccountRiskInput,
  AssetInfo,
  ExpirySlice,
  LiquidityInfo,
  OptionPosition,
  PerpPosition,
  Position,
  PriceFeed,
  SpotPosition,
  LendingPosition,
} from '../../src/risk/types';

export const AS_OF_SEC = 1_767_225_600; // 2026-01-01T00:00:00Z

/** A decimal string to a fixed-point amount, exactly (no float on the way). */
export function fp(value: string | number, decimals: number): { raw: bigint; decimals: number } {
  const text = typeof value === 'number' ? value.toFixed(Math.min(decimals, 12)) : value;
  const neg = text.startsWith('-');
  const [whole = '0', frac = ''] = (neg ? text.slice(1) : text).split('.');
  const raw =
    BigInt(whole) * 10n ** BigInt(decimals) + BigInt((frac.slice(0, decimals) || '0').padEnd(decimals, '0'));
  return { raw: neg ? -raw : raw, decimals };
}

export function feed(priceUsd: number, opts: { ageSec?: number; confidencePct?: number } = {}): PriceFeed {
  const answer = fp(priceUsd, 8).raw;
  const f: PriceFeed = { answer, decimals: 8, updatedAtSec: AS_OF_SEC - (opts.ageSec ?? 0) };
  if (opts.confidencePct !== undefined)
    f.confidence = (answer * BigInt(Math.round(opts.confidencePct * 1e6))) / 1_000_000n;
  return f;
}

export const ASSETS: Record<string, AssetInfo> = {
  WETH: { underlying: 'ETH', decimals: 18, isAToken: false },
  aWETH: { underlying: 'ETH', decimals: 18, isAToken: true },
  WBTC: { underlying: 'BTC', decimals: 8, isAToken: false },
  aWBTC: { underlying: 'BTC', decimals: 8, isAToken: true },
  OP: { underlying: 'OP', decimals: 18, isAToken: false },
  USDC: { underlying: 'USDC', decimals: 6, isAToken: false },
  aUSDC: { underlying: 'USDC', decimals: 6, isAToken: true },
};

export const spot = (
  asset: string,
  amount: string | number,
  protocol: SpotPosition['protocol'] = 'wallet',
): SpotPosition => ({
  kind: 'spot',
  protocol,
  asset,
  amount: fp(amount, ASSETS[asset]!.decimals),
});

export const lending = (
  side: LendingPosition['side'],
  asset: string,
  amount: string | number,
): LendingPosition => ({
  kind: 'lending',
  protocol: 'aave-v3',
  side,
  asset,
  amount: fp(amount, ASSETS[asset]!.decimals),
});

export const perp = (
  underlying: string,
  size: number,
  priceUsd: number,
  opts: { entryUsd?: number; marginUsd?: number; fundingUsd?: number } = {},
): PerpPosition => ({
  kind: 'perp',
  protocol: 'perps',
  underlying,
  size: fp(size, 18),
  entryPriceUsd: fp(opts.entryUsd ?? priceUsd, 18),
  lastPriceUsd: fp(priceUsd, 18),
  accruedFundingUsd: fp(opts.fundingUsd ?? 0, 18),
  venueMarginUsd: fp(opts.marginUsd ?? 0, 18),
});

export const option = (
  underlying: string,
  optionType: 'call' | 'put',
  strikeUsd: number,
  expirySec: number,
  amount: number,
): OptionPosition => ({
  kind: 'option',
  protocol: 'options',
  underlying,
  optionType,
  strikeUsd: fp(strikeUsd, 18),
  expirySec,
  amount: fp(amount, 18),
});

/** A flat-ish smile: total variance ≈ vol^2 T at the money. */
export function flatSlice(expirySec: number, forwardUsd: number, volAnnual: number): ExpirySlice {
  const tau = (expirySec - AS_OF_SEC) / (365 * 86_400);
  return {
    expirySec,
    forwardUsd,
    rateAnnual: 0,
    svi: { a: volAnnual * volAnnual * tau, b: 0, rho: 0, m: 0, sigma: 0.1 },
  };
}

/**
 * Closes for each underlying from correlated log returns: r_i = vol_i sqrt(dt) (ρ z_0 + sqrt(1-ρ²) z_i)
 * for i > 0 against underlying 0 (a one-factor structure), or fully given by `returns`.
 */
export function syntheticHistory(
  spots: Record<string, number>,
  volsAnnual: Record<string, number>,
  opts: { correlation?: number; length?: number; seed?: number; intervalSec?: number } = {},
): { intervalSec: number; closesUsdByUnderlying: Record<string, number[]> } {
  const names = Object.keys(spots).sort();
  const len = opts.length ?? 200;
  const intervalSec = opts.intervalSec ?? 3_600;
  const rho = opts.correlation ?? 0.8;
  const rng = new Prng(opts.seed ?? 1);
  const dt = intervalSec / (365 * 86_400);
  const closes: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, [] as number[]]));
  const level: Record<string, number> = Object.fromEntries(names.map((n) => [n, 1]));
  const raw: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, [] as number[]]));
  for (let t = 0; t < len - 1; t++) {
    const common = rng.normal();
    for (const n of names) {
      const z = rho * common + Math.sqrt(Math.max(0, 1 - rho * rho)) * rng.normal();
      raw[n]!.push(volsAnnual[n]! * Math.sqrt(dt) * z);
    }
  }
  // End every path at today's spot.
  for (const n of names) {
    const path = [1];
    for (const r of raw[n]!) path.push(path[path.length - 1]! * Math.exp(r));
    const scale = spots[n]! / path[path.length - 1]!;
    closes[n] = path.map((p) => p * scale);
    level[n] = scale;
  }
  return { intervalSec, closesUsdByUnderlying: closes };
}

export interface AccountSpec {
  positions: Position[];
  spots?: Record<string, number>;
  volsAnnual?: Record<string, number>;
  correlation?: number;
  historySeed?: number;
  volSurfaces?: Record<string, ExpirySlice[]>;
  liquidity?: Record<string, LiquidityInfo>;
  prices?: Record<string, PriceFeed>;
}

export const DEFAULT_SPOTS: Record<string, number> = { ETH: 3_000, BTC: 60_000, OP: 2, USDC: 1 };
export const DEFAULT_VOLS: Record<string, number> = { ETH: 0.7, BTC: 0.55, OP: 1.1, USDC: 0.02 };

export function account(spec: AccountSpec): AccountRiskInput {
  const spots = spec.spots ?? DEFAULT_SPOTS;
  const vols = spec.volsAnnual ?? DEFAULT_VOLS;
  const names = Object.keys(spots);
  return {
    account: '0x00000000000000000000000000000000000000a1',
    asOfSec: AS_OF_SEC,
    positions: spec.positions,
    market: {
      prices: spec.prices ?? Object.fromEntries(names.map((n) => [n, feed(spots[n]!)])),
      assets: ASSETS,
      volSurfaces: spec.volSurfaces ?? {},
      history: syntheticHistory(spots, vols, {
        correlation: spec.correlation ?? 0.8,
        seed: spec.historySeed ?? 1,
      }),
      liquidity:
        spec.liquidity ??
        Object.fromEntries(names.map((n) => [n, { openInterestUsd: 1e12, depthUsd: 1e15 }])),
    },
  };
}
