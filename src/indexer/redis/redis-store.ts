/**
 * `RedisReorgStore<T>`: the Redis implementation of `ReorgSafeStore<T>` with exactly the semantics
 * of the in-memory `ReorgBuffer` (`../chain/store.ts`); `reorg-store.contract.spec.ts` runs one
 * behavioural spec against both so they cannot drift.
 *
 * Layout (see `keys.ts` and docs/indexer.md, "Redis keys and storage"): one hash of serialized
 * `BlockStamped<T>` values, a sorted set of applied blocks above the finalized line, one hash of
 * per-block undo logs, and the anchor (the finalized block the state rests on).
 *
 * Atomicity: every mutating operation (seed, applyBlock, amendHead, rollbackTo, finalize) is one
 * Lua script. Redis runs a script to completion with no other command in between, so another process
 * (or a crash of this one) sees either the state before the block or after it, never half. All checks
 * happen in the script before its first write. Values are serialized in TypeScript before the
 * script is sent, so a value that cannot be stored fails before anything reaches Redis.
 *
 * Limits: block numbers must be below 2^53 (Lua and sorted-set scores are doubles); keys are
 * built inside the scripts only from the four keys passed in, so a single Redis (or one cluster
 * slot, with a hash tag in the network name) is required.
 */
import type { Redis } from 'ioredis';
import type { Hex } from 'viem';
import { InvalidInputError, NetmarginError } from '../../common/errors';
import type { BlockRef, BlockStamped, KeyWrite, ReorgSafeStore } from '../chain/store';
import type { ReorgStoreKeys } from './keys';
import { deserialize, serialize } from './serialize';

const MAX_BLOCK = 2n ** 53n;

/** Shared prologue: the head (top applied block, else the anchor) as `headN`, `headMember`. */
const HEAD_LUA = `
local function head()
  local top = redis.call('ZREVRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if #top > 0 then return tonumber(top[2]), top[1] end
  local a = redis.call('HMGET', KEYS[4], 'number', 'hash')
  if a[1] then return tonumber(a[1]), a[1] .. ':' .. a[2] end
  return nil, nil
end
`;

/** KEYS: values, blocks, undo, anchor. ARGV: number, hash, then key / serialized-or-'' pairs. */
const APPLY_LUA = `${HEAD_LUA}
local n = tonumber(ARGV[1])
local member = ARGV[1] .. ':' .. ARGV[2]
local same = redis.call('ZRANGEBYSCORE', KEYS[2], ARGV[1], ARGV[1])
if #same > 0 then
  if same[1] == member then return {'DUPLICATE'} end
  return {'CONFLICT', same[1]}
end
local headN, headMember = head()
if headN then
  if n <= headN then
    if n == headN and member ~= headMember then return {'ANCHOR_CONFLICT', headMember} end
    return {'BELOW_HEAD'}
  end
  if n ~= headN + 1 then return {'GAP', headMember} end
end
local undo = {}
local seen = {}
for i = 3, #ARGV, 2 do
  local k, v = ARGV[i], ARGV[i + 1]
  if not seen[k] then
    seen[k] = true
    undo[#undo + 1] = k
    undo[#undo + 1] = redis.call('HGET', KEYS[1], k) or ''
  end
  if v == '' then redis.call('HDEL', KEYS[1], k) else redis.call('HSET', KEYS[1], k, v) end
end
redis.call('ZADD', KEYS[2], ARGV[1], member)
redis.call('HSET', KEYS[3], member, cjson.encode(undo))
return {'OK'}
`;

/**
 * KEYS: values, blocks, undo, anchor. ARGV: number, hash, then key / serialized-or-'' pairs. Adds
 * the writes to the top applied block; a key already in its undo log keeps its earliest prior.
 */
const AMEND_LUA = `${HEAD_LUA}
local member = ARGV[1] .. ':' .. ARGV[2]
local headN, headMember = head()
if not headN or headN ~= tonumber(ARGV[1]) then return {'GAP', headMember or ''} end
if headMember ~= member then return {'CONFLICT', headMember} end
local raw = redis.call('HGET', KEYS[3], member)
if not raw then return {'FINALIZED', headMember} end
local log = cjson.decode(raw)
local seen = {}
for i = 1, #log, 2 do seen[log[i]] = true end
for i = 3, #ARGV, 2 do
  local k, v = ARGV[i], ARGV[i + 1]
  if not seen[k] then
    seen[k] = true
    log[#log + 1] = k
    log[#log + 1] = redis.call('HGET', KEYS[1], k) or ''
  end
  if v == '' then redis.call('HDEL', KEYS[1], k) else redis.call('HSET', KEYS[1], k, v) end
end
redis.call('HSET', KEYS[3], member, cjson.encode(log))
return {'OK'}
`;

/** KEYS: values, blocks, undo, anchor. ARGV: ancestor number. Returns { undone, head member }. */
const ROLLBACK_LUA = `${HEAD_LUA}
local n = tonumber(ARGV[1])
local undone = 0
while true do
  local top = redis.call('ZREVRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if #top == 0 or tonumber(top[2]) <= n then break end
  local raw = redis.call('HGET', KEYS[3], top[1])
  if not raw then return redis.error_reply('netmargin: undo log missing for block ' .. top[1]) end
  local log = cjson.decode(raw)
  for i = #log - 1, 1, -2 do
    if log[i + 1] == '' then redis.call('HDEL', KEYS[1], log[i])
    else redis.call('HSET', KEYS[1], log[i], log[i + 1]) end
  end
  redis.call('HDEL', KEYS[3], top[1])
  redis.call('ZREM', KEYS[2], top[1])
  undone = undone + 1
end
local _, headMember = head()
return {undone, headMember or ''}
`;

/** KEYS: values, blocks, undo, anchor. ARGV: block number. Moves the anchor up. */
const FINALIZE_LUA = `
local done = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
for _, m in ipairs(done) do
  redis.call('HDEL', KEYS[3], m)
  redis.call('ZREM', KEYS[2], m)
end
if #done > 0 then
  local last = done[#done]
  local sep = string.find(last, ':', 1, true)
  redis.call('HSET', KEYS[4], 'number', string.sub(last, 1, sep - 1), 'hash', string.sub(last, sep + 1))
end
return #done
`;

/** KEYS: values, blocks, undo, anchor. ARGV: anchor number or '', anchor hash, key / value pairs. */
const SEED_LUA = `
if redis.call('EXISTS', KEYS[1], KEYS[2], KEYS[3], KEYS[4]) > 0 then return 0 end
if ARGV[1] ~= '' then redis.call('HSET', KEYS[4], 'number', ARGV[1], 'hash', ARGV[2]) end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
`;

/** HEAD as one read: top applied block and the anchor. */
const HEAD_READ_LUA = `${HEAD_LUA}
local _, m = head()
return m or ''
`;

export interface RedisReorgStoreOptions<T> {
  redis: Redis;
  keys: ReorgStoreKeys;
  /** Seeds an EMPTY store (like `ReorgBuffer`'s constructor); ignored when the store has state. */
  anchor?: BlockRef;
  initial?: Iterable<[string, BlockStamped<T>]>;
}

function blockNumberArg(field: string, n: bigint): string {
  if (n < 0n || n >= MAX_BLOCK)
    throw new InvalidInputError(field, `block number ${n} is outside 0 … 2^53 - 1`, {
      hint: 'Redis sorted-set scores are doubles; block numbers this large are not supported.',
    });
  return n.toString();
}

function parseMember(member: string): BlockRef | undefined {
  if (member === '') return undefined;
  const sep = member.indexOf(':');
  return { number: BigInt(member.slice(0, sep)), hash: member.slice(sep + 1) as Hex };
}

export class RedisReorgStore<T> implements ReorgSafeStore<T> {
  private constructor(
    private readonly redis: Redis,
    private readonly keys: ReorgStoreKeys,
  ) {}

  private get keyArgs(): [number, string, string, string, string] {
    return [4, this.keys.values, this.keys.blocks, this.keys.undo, this.keys.anchor];
  }

  /**
   * Opens the store at `keys`. An empty store is seeded with `anchor` / `initial` atomically; a
   * store with state (written earlier, possibly by another process) is resumed as it is.
   */
  static async open<T>(options: RedisReorgStoreOptions<T>): Promise<RedisReorgStore<T>> {
    const store = new RedisReorgStore<T>(options.redis, options.keys);
    const args: string[] = options.anchor
      ? [blockNumberArg('anchor.number', options.anchor.number), options.anchor.hash]
      : ['', ''];
    for (const [k, v] of options.initial ?? []) args.push(k, serialize(v));
    await options.redis.eval(SEED_LUA, ...store.keyArgs, ...args);
    return store;
  }

  async get(key: string): Promise<BlockStamped<T> | undefined> {
    const raw = await this.redis.hget(this.keys.values, key);
    return raw === null ? undefined : deserialize<BlockStamped<T>>(raw);
  }

  async entries(): Promise<Map<string, BlockStamped<T>>> {
    const all = await this.redis.hgetall(this.keys.values);
    return new Map(Object.entries(all).map(([k, raw]) => [k, deserialize<BlockStamped<T>>(raw)]));
  }

  async head(): Promise<BlockRef | undefined> {
    return parseMember((await this.redis.eval(HEAD_READ_LUA, ...this.keyArgs)) as string);
  }

  async history(): Promise<BlockRef[]> {
    const res = await this.redis.multi().hgetall(this.keys.anchor).zrange(this.keys.blocks, '0', '-1').exec();
    const anchor = (res?.[0]?.[1] ?? {}) as Record<string, string>;
    const members = (res?.[1]?.[1] ?? []) as string[];
    const blocks = members.map((m) => parseMember(m)).filter((b): b is BlockRef => b !== undefined);
    return anchor.number !== undefined && anchor.hash !== undefined
      ? [{ number: BigInt(anchor.number), hash: anchor.hash as Hex }, ...blocks]
      : blocks;
  }

  /** Blocks that can still be rolled back (for metrics and tests). */
  async pendingBlocks(): Promise<number> {
    return this.redis.zcard(this.keys.blocks);
  }

  /** Script arguments for one block's writes: number, hash, then key / serialized-or-'' pairs. */
  private writeArgs(block: BlockRef, writes: KeyWrite<T>[]): string[] {
    const args: string[] = [blockNumberArg('block.number', block.number), block.hash];
    for (const w of writes)
      args.push(
        w.key,
        w.value === null
          ? ''
          : serialize({ value: w.value, blockNumber: block.number, blockHash: block.hash }),
      );
    return args;
  }

  async applyBlock(block: BlockRef, writes: KeyWrite<T>[]): Promise<void> {
    const args = this.writeArgs(block, writes);
    const number = block.number.toString();
    const [status, other] = (await this.redis.eval(APPLY_LUA, ...this.keyArgs, ...args)) as [string, string?];
    const details = { number, incoming: block.hash, stored: parseMember(other ?? '')?.hash };
    switch (status) {
      case 'OK':
      case 'DUPLICATE': // redelivered: already applied
      case 'BELOW_HEAD': // at or below the anchor / finalized line: already part of the state
        return;
      case 'CONFLICT':
        throw new NetmarginError(`Block ${block.number} is already applied with another hash`, {
          code: 'BLOCK_CONFLICT',
          hint: 'Roll back to the common ancestor (rollbackTo) before applying the new branch.',
          details,
        });
      case 'ANCHOR_CONFLICT':
        throw new NetmarginError(`Block ${block.number} conflicts with the store's anchor`, {
          code: 'BLOCK_CONFLICT',
          details,
        });
      case 'GAP':
        throw new NetmarginError(
          `Block ${block.number} skips ahead of the store's head ${parseMember(other ?? '')?.number}`,
          {
            code: 'BLOCK_GAP',
            hint: 'Apply blocks in order, one at a time (the head tracker emits them so).',
            details,
          },
        );
      default:
        throw new NetmarginError(`Unexpected reply from the apply script: ${String(status)}`, {
          code: 'REDIS_SCRIPT',
        });
    }
  }

  async amendHead(block: BlockRef, writes: KeyWrite<T>[]): Promise<void> {
    const args = this.writeArgs(block, writes);
    const [status, other] = (await this.redis.eval(AMEND_LUA, ...this.keyArgs, ...args)) as [string, string?];
    const stored = parseMember(other ?? '');
    switch (status) {
      case 'OK':
        return;
      case 'GAP':
        throw new NetmarginError(
          `Block ${block.number} is not the store's head ${stored?.number ?? '(none)'}`,
          {
            code: 'BLOCK_GAP',
            hint: 'amendHead only adds to the current head block; apply a new block with applyBlock.',
            details: { number: block.number.toString(), head: stored?.number.toString() },
          },
        );
      case 'CONFLICT':
        throw new NetmarginError(`Block ${block.number} is the head with another hash`, {
          code: 'BLOCK_CONFLICT',
          hint: 'Roll back to the common ancestor (rollbackTo) before applying the new branch.',
          details: { number: block.number.toString(), applied: stored?.hash, incoming: block.hash },
        });
      case 'FINALIZED':
        throw new NetmarginError(`Block ${block.number} is the store's anchor and cannot be amended`, {
          code: 'BLOCK_FINALIZED',
          hint: 'The anchor has no undo log; write at a later block with applyBlock.',
          details: { number: block.number.toString(), anchor: stored?.hash },
        });
      default:
        throw new NetmarginError(`Unexpected reply from the amend script: ${String(status)}`, {
          code: 'REDIS_SCRIPT',
        });
    }
  }

  async rollbackTo(ancestor: BlockRef): Promise<number> {
    const number = blockNumberArg('ancestor.number', ancestor.number);
    const [undone, headMember] = (await this.redis.eval(ROLLBACK_LUA, ...this.keyArgs, number)) as [
      number,
      string,
    ];
    const head = parseMember(headMember);
    if (!head || head.number !== ancestor.number || head.hash !== ancestor.hash)
      throw new NetmarginError(
        `Cannot roll back to block ${ancestor.number}: it is not in the store's history`,
        {
          code: 'ROLLBACK_OUT_OF_RANGE',
          hint: 'The ancestor is below the finalized line or on another branch; re-sync from scratch.',
          details: { ancestor: ancestor.hash, head: head?.hash },
        },
      );
    return undone;
  }

  async finalize(blockNumber: bigint): Promise<void> {
    await this.redis.eval(FINALIZE_LUA, ...this.keyArgs, blockNumberArg('blockNumber', blockNumber));
  }

  /** Deletes every key of this store (tests, or a re-sync from scratch). */
  async destroy(): Promise<void> {
    await this.redis.del(this.keys.values, this.keys.blocks, this.keys.undo, this.keys.anchor);
  }
}
