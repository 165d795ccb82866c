/**
 * `RedisRiskResultStore`: the risk workers' results (`RiskResultReader` plus `put`).
 *
 * Per owner: the latest record, its history (newest first, capped) and one entry in a changes
 * stream per stored change. One Lua script does each `put` atomically and decides:
 * - `unchanged`: same block, same hash and same content as the latest (the record's digest, which
 *   leaves out `computedAtMs`): nothing is written, so a job run twice stores and announces once;
 * - `superseded`: same block and hash, but computed from older positions or an older parameter
 *   version than the latest: nothing is written;
 * - `older`: a block below the latest's: kept in the history (once), the latest stays;
 * - `stored`: otherwise (a newer block, a reorg's other hash at the same height, or newer inputs at
 *   the same block): latest replaced, history appended, a `RiskChange` added to the stream
 *   (`XADD … MAXLEN ~`).
 * The script returns the latest it replaced, so listeners hear (next, previous) exactly. A stored
 * record stays "unannounced" until `announced(record)`: should the process die between the two,
 * the retried job's identical put comes back `unchanged` with the record it replaced, and the
 * listeners are told then (at least once).
 *
 * Values are `serialize`d (bigints exact). The history is a sorted set per owner scored by block
 * number; members are `<16-digit sequence>|<digest>|<record>`, so records of one block keep their
 * insertion order and a record already in the history is recognised by its digest.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { getAddress, type Address } from 'viem';
import { InvalidInputError } from '../common/errors';
import type { PipelineKeys } from '../indexer/redis/keys';
import { deserialize, serialize } from '../indexer/redis/serialize';
import type { HealthClass, RiskChange, RiskRecord, RiskResultReader } from './types';

export type PutOutcome = 'stored' | 'unchanged' | 'superseded' | 'older';

export interface PutResult {
  outcome: PutOutcome;
  /** The latest record before the put (what a `stored` record replaced). */
  previous: RiskRecord | undefined;
  /**
   * An `unchanged` put of a record stored earlier whose listeners were not all told (a crash
   * between the store and `announced`): the record it replaced, so they can be told now.
   */
  unannounced?: { previous: RiskRecord | undefined };
}

export interface ResultStoreOptions {
  /** Records kept per owner (default 1 000). */
  historyCap?: number;
  /** Approximate length of the changes stream (default 100 000). */
  changesMaxLen?: number;
}

const SEQ_PAD = 16;

/**
 * KEYS: latest, meta, seq, history, changes, unannounced. ARGV: owner, block, blockHash,
 * positionsBlock, paramsVersion, digest, record, historyCap, changesMaxLen, health.
 * Returns { outcome, replaced latest or false, unannounced entry of an unchanged put or false }.
 */
const PUT_LUA = `
local prev = redis.call('HGET', KEYS[1], ARGV[1])
local cur = redis.call('HGET', KEYS[2], ARGV[1])
local block = tonumber(ARGV[2])
local replace = true
if cur then
  local cb, ch, cp, cv, cd = string.match(cur, '^(%d+)|([^|]+)|(%d+)|(%d+)|(.+)$')
  cb = tonumber(cb)
  if block < cb then
    replace = false
  elseif block == cb and ch == ARGV[3] then
    if cd == ARGV[6] then return { 'unchanged', prev, redis.call('HGET', KEYS[6], ARGV[1]) } end
    local np, nv = tonumber(ARGV[4]), tonumber(ARGV[5])
    cp, cv = tonumber(cp), tonumber(cv)
    if np < cp or (np == cp and nv < cv) then return { 'superseded', prev } end
  end
end
local known = false
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], ARGV[2], ARGV[2])) do
  if string.sub(m, ${SEQ_PAD + 2}, ${SEQ_PAD + 1} + #ARGV[6]) == ARGV[6] then known = true end
end
if not known then
  local seq = redis.call('HINCRBY', KEYS[3], ARGV[1], 1)
  local padded = string.rep('0', ${SEQ_PAD} - #tostring(seq)) .. tostring(seq)
  redis.call('ZADD', KEYS[4], ARGV[2], padded .. '|' .. ARGV[6] .. '|' .. ARGV[7])
  redis.call('ZREMRANGEBYRANK', KEYS[4], 0, -tonumber(ARGV[8]) - 1)
end
if not replace then return { 'older', prev } end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[7])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. '|' .. ARGV[3] .. '|' .. ARGV[4] .. '|' .. ARGV[5] .. '|' .. ARGV[6])
redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[9], '*', 'owner', ARGV[1], 'block', ARGV[2], 'health', ARGV[10])
redis.call('HSET', KEYS[6], ARGV[1], ARGV[6] .. '|' .. (prev or ''))
return { 'stored', prev }
`;

/** KEYS: unannounced. ARGV: owner, digest. Deletes the owner's entry if it is for that digest. */
const ANNOUNCED_LUA = `
local e = redis.call('HGET', KEYS[1], ARGV[1])
if e and string.sub(e, 1, #ARGV[2] + 1) == ARGV[2] .. '|' then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
`;

/** sha256 (hex, no prefix) of the record without its wall-clock time. */
export function recordDigest(r: RiskRecord): string {
  const { computedAtMs: _t, ...rest } = r;
  return createHash('sha256').update(serialize(rest), 'utf8').digest('hex');
}

export class RedisRiskResultStore implements RiskResultReader {
  private readonly historyCap: number;
  private readonly changesMaxLen: number;
  private blocking: Redis | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: PipelineKeys['results'],
    opts: ResultStoreOptions = {},
  ) {
    this.historyCap = opts.historyCap ?? 1_000;
    this.changesMaxLen = opts.changesMaxLen ?? 100_000;
    if (!Number.isSafeInteger(this.historyCap) || this.historyCap < 1)
      throw new InvalidInputError('historyCap', `${this.historyCap} is not a whole number ≥ 1`);
    if (!Number.isSafeInteger(this.changesMaxLen) || this.changesMaxLen < 1)
      throw new InvalidInputError('changesMaxLen', `${this.changesMaxLen} is not a whole number ≥ 1`);
  }

  async put(record: RiskRecord): Promise<PutResult> {
    const owner = getAddress(record.owner);
    if (owner !== record.owner)
      throw new InvalidInputError('record.owner', `${record.owner} is not checksummed`, {
        hint: 'Store results under getAddress(owner), the key every reader uses.',
      });
    const digest = recordDigest(record);
    const [outcome, prev, pending] = (await this.redis.eval(
      PUT_LUA,
      6,
      this.keys.latest,
      this.keys.meta,
      this.keys.seq,
      this.keys.history(owner),
      this.keys.changes,
      this.keys.unannounced,
      owner,
      record.blockNumber.toString(),
      record.blockHash,
      record.positionsBlockNumber.toString(),
      String(record.paramsVersion),
      digest,
      serialize(record),
      String(this.historyCap),
      String(this.changesMaxLen),
      record.health,
    )) as [PutOutcome, string | null, string | null | undefined];
    const previous = prev ? deserialize<RiskRecord>(prev) : undefined;
    if (outcome === 'unchanged' && pending && pending.startsWith(`${digest}|`)) {
      const replaced = pending.slice(digest.length + 1);
      return {
        outcome,
        previous,
        unannounced: { previous: replaced ? deserialize<RiskRecord>(replaced) : undefined },
      };
    }
    return { outcome, previous };
  }

  /** Every listener has heard `record` (stored by `put`): a later identical put will not re-announce it. */
  async announced(record: RiskRecord): Promise<void> {
    await this.redis.eval(
      ANNOUNCED_LUA,
      1,
      this.keys.unannounced,
      getAddress(record.owner),
      recordDigest(record),
    );
  }

  async latest(owner: Address): Promise<RiskRecord | undefined> {
    const text = await this.redis.hget(this.keys.latest, getAddress(owner));
    return text === null ? undefined : deserialize<RiskRecord>(text);
  }

  /** Latest records of several owners at once (undefined where none). */
  async latestMany(owners: readonly Address[]): Promise<(RiskRecord | undefined)[]> {
    if (owners.length === 0) return [];
    const texts = await this.redis.hmget(this.keys.latest, ...owners.map((o) => getAddress(o)));
    return texts.map((t) => (t === null ? undefined : deserialize<RiskRecord>(t)));
  }

  async history(owner: Address, opts: { limit?: number; beforeBlock?: bigint } = {}): Promise<RiskRecord[]> {
    const limit = opts.limit ?? 100;
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new InvalidInputError('limit', `${limit} is not a whole number ≥ 1`);
    const max = opts.beforeBlock === undefined ? '+inf' : `(${opts.beforeBlock}`;
    const members = await this.redis.zrevrangebyscore(
      this.keys.history(getAddress(owner)),
      max,
      '-inf',
      'LIMIT',
      0,
      limit,
    );
    return members.map((m) => {
      const body = m.indexOf('|', SEQ_PAD + 1);
      return deserialize<RiskRecord>(m.slice(body + 1));
    });
  }

  async owners(): Promise<Address[]> {
    return ((await this.redis.hkeys(this.keys.latest)) as Address[]).sort();
  }

  async changes(afterId: string, opts: { count?: number; blockMs?: number } = {}): Promise<RiskChange[]> {
    const count = opts.count ?? 100;
    const args: (string | number)[] = ['COUNT', count];
    let conn = this.redis;
    if (opts.blockMs !== undefined && opts.blockMs > 0) {
      // A blocking read holds its connection: use one of our own, not the shared one.
      this.blocking ??= this.redis.duplicate();
      conn = this.blocking;
      args.push('BLOCK', opts.blockMs);
    }
    const reply = (await conn.xread(
      ...(args as ['COUNT', number]),
      'STREAMS',
      this.keys.changes,
      afterId,
    )) as [string, [string, string[]][]][] | null;
    const entries = reply?.[0]?.[1] ?? [];
    return entries.map(([id, fields]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
      return {
        id,
        owner: f.owner as Address,
        blockNumber: BigInt(f.block ?? '0'),
        health: f.health as HealthClass,
      };
    });
  }

  /** Closes the blocking connection, if one was opened. */
  async close(): Promise<void> {
    await this.blocking?.quit().catch(() => this.blocking?.disconnect());
    this.blocking = undefined;
  }
}
