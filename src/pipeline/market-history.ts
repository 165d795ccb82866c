/**
 * `RedisMarketHistory`: the recorded market snapshot of each recent block, so a risk job at block
 * B margins against the market at B (or the newest recorded below it), not whatever the head is
 * now. The head runner's `onMarketRecorded` hook adds each record (`record`); the set is capped to
 * the newest `capBlocks` blocks.
 *
 * One sorted set scored by block number, members `<block hash>|<serialized record>`. Recording a
 * block already held with the same hash is a no-op (a restart re-records); a different hash at a
 * height held (a reorg's new branch) first drops that height and everything above it, in the same
 * Lua script, so the set always describes one branch.
 */
import type { Redis } from 'ioredis';
import type { Hex } from 'viem';
import type { MarketRecord } from '../indexer/market-recorder';
import { deserialize, serialize } from '../indexer/redis/serialize';

/** KEYS: set. ARGV: block, hash, member, cap. */
const RECORD_LUA = `
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1])) do
  if string.sub(m, 1, #ARGV[2]) == ARGV[2] then return 0 end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], ARGV[1], '+inf')
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -tonumber(ARGV[4]) - 1)
return 1
`;

function parse(member: string): MarketRecord {
  return deserialize<MarketRecord>(member.slice(member.indexOf('|') + 1));
}

export class RedisMarketHistory {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly capBlocks = 1_024,
  ) {}

  /** Stores `record` at its block; true when written, false when that block and hash were held. */
  async record(record: MarketRecord): Promise<boolean> {
    const written = await this.redis.eval(
      RECORD_LUA,
      1,
      this.key,
      record.blockNumber.toString(),
      record.blockHash,
      `${record.blockHash}|${serialize(record)}`,
      String(this.capBlocks),
    );
    return written === 1;
  }

  /** The record at exactly `blockNumber`, if held. */
  async at(blockNumber: bigint): Promise<MarketRecord | undefined> {
    const [m] = await this.redis.zrangebyscore(this.key, blockNumber.toString(), blockNumber.toString());
    return m === undefined ? undefined : parse(m);
  }

  /** The newest record at or below `blockNumber`. */
  async atOrBefore(blockNumber: bigint): Promise<MarketRecord | undefined> {
    const [m] = await this.redis.zrevrangebyscore(this.key, blockNumber.toString(), '-inf', 'LIMIT', 0, 1);
    return m === undefined ? undefined : parse(m);
  }

  /** The newest record held. */
  async newest(): Promise<MarketRecord | undefined> {
    const [m] = await this.redis.zrevrange(this.key, 0, 0);
    return m === undefined ? undefined : parse(m);
  }

  /** Whether `hash` is the held record's at `blockNumber`. */
  async holds(blockNumber: bigint, hash: Hex): Promise<boolean> {
    return (await this.at(blockNumber))?.blockHash === hash;
  }
}
