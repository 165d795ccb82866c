/**
 * Named market paths for the local world, as pure data: no chain access here.
 *
 * A path is a list of steps, each with a time offset, a price multiplier per asset (relative to the
 * prices at the start of the run) and a vol multiplier applied to the options smiles. Paths are
 * deterministic: the same name and seed always give the same steps (a small seeded PRNG, no
 * Math.random), so a test or a demo can be replayed exactly. The driver (market.ts) turns steps into
 * feed, forward and smile updates.
 */
import { InvalidInputError } from '../common/errors';
import { ASSET_SYMBOLS, type AssetSymbol } from '../config/manifest';
import { mulberry32 } from '../risk/stats/prng';

export const MARKET_PATH_NAMES = ['calm', 'crash', 'depeg'] as const;
export type MarketPathName = (typeof MARKET_PATH_NAMES)[number];

export const MARKET_PATH_DESCRIPTIONS: Record<MarketPathName, string> = {
  calm: 'drift: small random moves around a slight upward trend, vols unchanged (10 min)',
  crash: 'ETH −30 %, BTC −25 %, OP −40 % over ten minutes while implied vols spike to 2.5x',
  depeg: 'USDC de-pegs to $0.87 over five minutes and recovers to $0.95; crypto nervous, vols 1.3x',
};

export interface MarketStep {
  /** 1-based step number. */
  index: number;
  /** Seconds since the start of the path. */
  tSec: number;
  /** Price relative to the start of the run (1 = unchanged). */
  priceMultiplier: Record<AssetSymbol, number>;
  /** Multiplier on implied vols (1 = the published base smile). */
  volMultiplier: number;
}

export interface MarketPath {
  name: MarketPathName;
  description: string;
  durationSec: number;
  steps: MarketStep[];
}

export function assertMarketPathName(value: string, field = 'path'): MarketPathName {
  if (!(MARKET_PATH_NAMES as readonly string[]).includes(value)) {
    throw new InvalidInputError(field, `unknown market path "${value}"`, {
      code: 'UNKNOWN_MARKET_PATH',
      hint: `Valid paths: ${MARKET_PATH_NAMES.map((n) => `${n} (${MARKET_PATH_DESCRIPTIONS[n]})`).join('; ')}.`,
      details: { valid: [...MARKET_PATH_NAMES] },
    });
  }
  return value as MarketPathName;
}

function normal(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function nameSeed(name: string, seed: number): number {
  let h = 2166136261 ^ seed;
  for (const ch of name) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return h >>> 0;
}

const SECONDS_PER_YEAR = 365 * 86_400;
/** Annualised vols used for the random part of the paths. */
const NOISE_VOL: Record<AssetSymbol, number> = { WETH: 0.5, WBTC: 0.4, USDC: 0.002, OP: 0.8 };

export interface PathOptions {
  /** Default 42. */
  seed?: number;
  /** Number of steps (default 60: one every 10 s over 10 minutes). */
  steps?: number;
}

/**
 * Builds the steps of a path. The deterministic shape (crash, de-peg) is exact at the last step for
 * crash (ETH at exactly −30 %); noise is added to intermediate steps only.
 */
export function buildMarketPath(name: MarketPathName, opts: PathOptions = {}): MarketPath {
  const n = opts.steps ?? 60;
  if (!Number.isInteger(n) || n < 1 || n > 10_000) {
    throw new InvalidInputError('steps', `${n} is not an integer between 1 and 10000`);
  }
  const durationSec = 600;
  const dt = durationSec / n;
  const rand = mulberry32(nameSeed(name, opts.seed ?? 42));
  const logNoise: Record<AssetSymbol, number> = { WETH: 0, WBTC: 0, USDC: 0, OP: 0 };
  const steps: MarketStep[] = [];
  for (let i = 1; i <= n; i++) {
    const tSec = Math.round(i * dt);
    const frac = i / n;
    const last = i === n;
    for (const sym of ASSET_SYMBOLS) {
      logNoise[sym] += NOISE_VOL[sym] * Math.sqrt(dt / SECONDS_PER_YEAR) * normal(rand);
    }
    const noisy = (sym: AssetSymbol, scale = 1): number => (last ? 1 : Math.exp(logNoise[sym] * scale));
    const m = {} as Record<AssetSymbol, number>;
    let volMultiplier = 1;
    switch (name) {
      case 'calm': {
        // +5 %/yr drift is invisible over 10 minutes; the moves are the noise, kept on the last step.
        for (const sym of ASSET_SYMBOLS) m[sym] = sym === 'USDC' ? 1 : Math.exp(logNoise[sym]);
        m.USDC = 1 + Math.max(-0.0005, Math.min(0.0005, logNoise.USDC));
        break;
      }
      case 'crash': {
        // Log-linear slide with a faster middle (smoothstep), ending exactly at the target.
        const s = frac * frac * (3 - 2 * frac);
        const target: Record<AssetSymbol, number> = { WETH: 0.7, WBTC: 0.75, USDC: 1, OP: 0.6 };
        for (const sym of ASSET_SYMBOLS) {
          m[sym] = sym === 'USDC' ? 1 : Math.exp(Math.log(target[sym]) * s) * noisy(sym, 3);
        }
        volMultiplier = 1 + 1.5 * s;
        break;
      }
      case 'depeg': {
        // USDC: down to 0.87 at the half-way point, then recovering to 0.95.
        const usdc = frac <= 0.5 ? 1 - 0.13 * (frac / 0.5) : 0.87 + 0.08 * ((frac - 0.5) / 0.5);
        m.USDC = usdc;
        for (const sym of ASSET_SYMBOLS) if (sym !== 'USDC') m[sym] = noisy(sym, 2);
        volMultiplier = 1 + 0.3 * Math.min(1, frac * 2);
        break;
      }
    }
    steps.push({ index: i, tSec, priceMultiplier: m, volMultiplier });
  }
  return { name, description: MARKET_PATH_DESCRIPTIONS[name], durationSec, steps };
}
