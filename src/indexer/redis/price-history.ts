/**
 * Price history per asset, for the risk engine's volatility, correlation and historical VaR.
 *
 * The indexer appends block-stamped observations (a Chainlink round: raw answer with its decimals,
 * `updatedAt`, round id, and the block it was read at). The engine wants evenly spaced closes
 * (`PriceHistory`), so `readWindow` samples the stored observations on a grid aligned to a fixed
 * interval: the close at grid time t is the last observation with `timestampSec <= t` (as-of
 * sampling, what a feed reported at t). On a reorg, `rollbackAbove(n)` removes every observation
 * read above block n, for every asset, in one script; the new branch's are appended after.
 *
 * Storage (see `keys.ts`): per asset two sorted sets holding the same members, one scored by
 * timestamp (for windows) and one by block number (for rollback), plus a set of asset names.
 * Members embed the zero-padded block number first, so two observations with the same timestamp
 * sort by block and the later read wins. Appends are one MULTI/EXEC, rollback one Lua script, a
 * window read one MULTI: no reader sees half an append or half a rollback. Appending the same
 * observation twice is a no-op (same member). Amounts stay bigint until `toPriceHistory`, the one
 * place they become the engine's floats (through the engine's own `fixedToNumber`).
 */
import type { Redis } from 'ioredis';
import type { Hex } from 'viem';
import { InvalidInputError, NetmarginError } from '../../common/errors';
import type { FixedPoint, PriceHistory } from '../../risk/types';
import { fixedToNumber } from '../../risk/validate';
import type { PriceHistoryKeys } from './keys';
import { deserialize, serialize } from './serialize';

export interface PriceObservation {
  /** Underlying as the engine names it (`ETH`, `BTC`). */
  asset: string;
  /** The feed's answer in its own decimals. */
  price: FixedPoint;
  /** The feed's `updatedAt` (seconds). */
  timestampSec: number;
  roundId?: bigint;
  blockNumber: bigint;
  blockHash: Hex;
}

export interface WindowRequest {
  /** The window ends at the last grid point at or before this time. */
  endSec: number;
  /** Grid spacing; grid points are multiples of it (so every asset shares one grid). */
  intervalSec: number;
  /** Number of closes (grid points). */
  count: number;
  /** Refuse a close whose observation is older than this at its grid point (a feed gap). */
  maxStalenessSec?: number;
}

export interface PriceWindow {
  asset: string;
  intervalSec: number;
  /** Grid times, oldest first. */
  timesSec: number[];
  /** Closes in `decimals`, oldest first. */
  closesRaw: bigint[];
  decimals: number;
}

const BLOCK_PAD = 16; // 2^53 has 16 digits

/** KEYS: assets set. ARGV: per-asset key prefix, block number. Removes observations above it. */
const ROLLBACK_LUA = `
local removed = 0
for _, asset in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local byTime = ARGV[1] .. asset .. ':by-time'
  local byBlock = ARGV[1] .. asset .. ':by-block'
  local gone = redis.call('ZRANGEBYSCORE', byBlock, '(' .. ARGV[2], '+inf')
  for _, m in ipairs(gone) do
    redis.call('ZREM', byTime, m)
    redis.call('ZREM', byBlock, m)
  end
  removed = removed + #gone
  if redis.call('ZCARD', byBlock) == 0 then redis.call('SREM', KEYS[1], asset) end
end
return removed
`;

function member(o: PriceObservation): string {
  return `${o.blockNumber.toString().padStart(BLOCK_PAD, '0')}|${serialize(o)}`;
}

function parseMember(m: string): PriceObservation {
  return deserialize<PriceObservation>(m.slice(m.indexOf('|') + 1));
}

function validate(o: PriceObservation, field: string): void {
  if (!Number.isSafeInteger(o.timestampSec) || o.timestampSec < 0)
    throw new InvalidInputError(
      `${field}.timestampSec`,
      `${o.timestampSec} is not a whole number of seconds >= 0`,
    );
  if (o.blockNumber < 0n || o.blockNumber >= 2n ** 53n)
    throw new InvalidInputError(`${field}.blockNumber`, `${o.blockNumber} is outside 0 … 2^53 - 1`);
  if (typeof o.price?.raw !== 'bigint' || !Number.isInteger(o.price.decimals) || o.price.decimals < 0)
    throw new InvalidInputError(`${field}.price`, 'must be { raw: bigint, decimals: whole number >= 0 }', {
      hint: 'Pass the feed answer as read (bigint) with the feed decimals.',
    });
}

export class RedisPriceHistory {
  constructor(
    private readonly redis: Redis,
    private readonly keys: PriceHistoryKeys,
  ) {}

  /** Appends observations atomically (one MULTI/EXEC); re-appending one already stored is a no-op. */
  async append(observations: PriceObservation[]): Promise<void> {
    observations.forEach((o, i) => validate(o, `observations[${i}]`));
    if (observations.length === 0) return;
    const tx = this.redis.multi();
    for (const o of observations) {
      const m = member(o);
      tx.sadd(this.keys.assets, o.asset);
      tx.zadd(this.keys.byTime(o.asset), o.timestampSec, m);
      tx.zadd(this.keys.byBlock(o.asset), o.blockNumber.toString(), m);
    }
    await tx.exec();
  }

  /** Removes every observation read above `blockNumber` (all assets); returns how many. */
  async rollbackAbove(blockNumber: bigint): Promise<number> {
    if (blockNumber < 0n || blockNumber >= 2n ** 53n)
      throw new InvalidInputError('blockNumber', `${blockNumber} is outside 0 … 2^53 - 1`);
    return (await this.redis.eval(
      ROLLBACK_LUA,
      1,
      this.keys.assets,
      this.keys.assetPrefix,
      blockNumber.toString(),
    )) as number;
  }

  async assets(): Promise<string[]> {
    return (await this.redis.smembers(this.keys.assets)).sort();
  }

  /** Every stored observation of `asset`, oldest first (tests, export). */
  async observations(asset: string): Promise<PriceObservation[]> {
    const members: string[] = await this.redis.zrange(this.keys.byTime(asset), 0, '-1');
    return members.map((m) => parseMember(m));
  }

  /** `count` closes on the grid of multiples of `intervalSec` ending at or before `endSec`. */
  async readWindow(asset: string, req: WindowRequest): Promise<PriceWindow> {
    const { endSec, intervalSec, count } = req;
    if (!Number.isSafeInteger(intervalSec) || intervalSec <= 0)
      throw new InvalidInputError('intervalSec', `${intervalSec} is not a whole number of seconds > 0`);
    if (!Number.isSafeInteger(count) || count < 1)
      throw new InvalidInputError('count', `${count} is not a whole number >= 1`);
    if (!Number.isSafeInteger(endSec) || endSec < 0)
      throw new InvalidInputError('endSec', `${endSec} is not a whole number of seconds >= 0`);
    const lastSec = Math.floor(endSec / intervalSec) * intervalSec;
    const firstSec = lastSec - (count - 1) * intervalSec;
    const key = this.keys.byTime(asset);
    // One MULTI: the as-of observation at each grid point (one member each, however dense the
    // feed), and the earliest observation for the error message.
    const tx = this.redis.multi();
    for (let i = 0; i < count; i += 1)
      tx.zrevrangebyscore(key, String(firstSec + i * intervalSec), '-inf', 'LIMIT', 0, 1);
    tx.zrange(key, 0, '0', 'WITHSCORES');
    const replies = ((await tx.exec()) ?? []).map(([err, r]) => {
      if (err) throw err;
      return r as string[];
    });
    const earliest = replies[count] ?? [];
    const timesSec: number[] = [];
    const closesRaw: bigint[] = [];
    let decimals: number | undefined;
    for (let i = 0; i < count; i += 1) {
      const t = firstSec + i * intervalSec;
      const m = replies[i]?.[0];
      if (m === undefined)
        throw new NetmarginError(`Not enough price history for ${asset}: nothing at or before ${t}`, {
          code: 'HISTORY_TOO_SHORT',
          hint: 'Backfill older rounds for this asset, or ask for fewer closes / a later window.',
          details: {
            asset,
            firstSec,
            earliestSec: earliest[1] === undefined ? undefined : Number(earliest[1]),
          },
        });
      const current = parseMember(m);
      decimals ??= current.price.decimals;
      if (current.price.decimals !== decimals)
        throw new NetmarginError(`Price history for ${asset} mixes decimals within one window`, {
          code: 'HISTORY_DECIMALS',
          hint: 'The feed changed; re-read the history from the new feed or rescale it before storing.',
          details: { asset, atSec: t },
        });
      if (req.maxStalenessSec !== undefined && t - current.timestampSec > req.maxStalenessSec)
        throw new NetmarginError(
          `Price history for ${asset} has a gap: the close at ${t} is ${t - current.timestampSec}s old`,
          {
            code: 'HISTORY_STALE',
            hint: 'Backfill the missing rounds, or raise maxStalenessSec if the feed heartbeat is longer.',
            details: {
              asset,
              atSec: t,
              observedSec: current.timestampSec,
              maxStalenessSec: req.maxStalenessSec,
            },
          },
        );
      timesSec.push(t);
      closesRaw.push(current.price.raw);
    }
    return { asset, intervalSec, timesSec, closesRaw, decimals: decimals as number };
  }

  /** Deletes every key of the price history (tests, or a re-sync from scratch). */
  async destroy(): Promise<void> {
    const assets = await this.redis.smembers(this.keys.assets);
    await this.redis.del(
      this.keys.assets,
      ...assets.flatMap((a) => [this.keys.byTime(a), this.keys.byBlock(a)]),
    );
  }
}

/** The engine's `PriceHistory` from windows read on one grid (same interval and times). */
export function toPriceHistory(windows: PriceWindow[]): PriceHistory {
  const first = windows[0];
  const closesUsdByUnderlying: Record<string, number[]> = {};
  for (const w of windows) {
    if (!first || w.intervalSec !== first.intervalSec || w.timesSec.join() !== first.timesSec.join())
      throw new InvalidInputError(`windows.${w.asset}`, 'is not on the same grid as the other windows', {
        hint: 'Read every asset with the same endSec, intervalSec and count.',
      });
    closesUsdByUnderlying[w.asset] = w.closesRaw.map((raw) => fixedToNumber({ raw, decimals: w.decimals }));
  }
  return { intervalSec: first?.intervalSec ?? 0, closesUsdByUnderlying };
}
