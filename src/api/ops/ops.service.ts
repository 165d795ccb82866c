/**
 * What the operations endpoints read: Redis reachability, the chain head over RPC, how far the
 * indexer is behind it (the positions store's head, else the head runner's cursor), the depth of
 * every BullMQ queue, and the counters the indexer, the risk workers and the poster keep in their
 * Redis metrics hashes — exported through one prom-client registry, refreshed at each scrape.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Gauge, Registry } from 'prom-client';
import type { Client } from 'viem';
import { getBlockNumber } from 'viem/actions';
import type { BlockRef } from '../../indexer/chain/store';
import type { RedisKeys } from '../../indexer/redis/keys';

export const JOB_STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'failed',
  'completed',
] as const;

export interface OpsDeps {
  redis: Redis;
  keys: RedisKeys;
  client: Client | undefined;
  queues: readonly Queue[];
  /** The positions store's head (how far indexing has got). */
  storeHead: () => Promise<BlockRef | undefined>;
  maxLagBlocks: number;
}

export interface LagReading {
  chainHead: bigint;
  indexedTo: bigint | null;
  source: 'positions-store' | 'cursor' | null;
  lagBlocks: number | null;
}

/** `name{a="b"}` → name and labels (the Redis hashes' field format); undefined for anything else. */
export function parseMetricField(
  field: string,
): { name: string; labels: Record<string, string> } | undefined {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?$/.exec(field);
  if (!m) return undefined;
  const labels: Record<string, string> = {};
  if (m[2]) {
    for (const part of m[2].split(',')) {
      const lm = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*$/.exec(part);
      if (!lm) return undefined;
      labels[lm[1]!] = lm[2]!;
    }
  }
  return { name: m[1]!, labels };
}

export class OpsService {
  readonly registry = new Registry();
  private readonly mirrored = new Map<string, Gauge>();
  private readonly queueJobs: Gauge<'queue' | 'state'>;
  private readonly lag: Gauge;
  private readonly head: Gauge;
  private readonly indexed: Gauge;
  private readonly up: Gauge<'dependency'>;

  constructor(private readonly deps: OpsDeps) {
    const registers = [this.registry];
    this.queueJobs = new Gauge({
      name: 'netmargin_queue_jobs',
      help: 'Jobs per BullMQ queue and state',
      labelNames: ['queue', 'state'],
      registers,
    });
    this.lag = new Gauge({
      name: 'netmargin_indexer_lag_blocks',
      help: 'Chain head minus the newest indexed block (-1 when unknown)',
      registers,
    });
    this.head = new Gauge({
      name: 'netmargin_chain_head_block',
      help: 'Chain head seen over RPC',
      registers,
    });
    this.indexed = new Gauge({
      name: 'netmargin_indexer_head_block',
      help: 'Newest indexed block (positions store head, else the head runner cursor)',
      registers,
    });
    this.up = new Gauge({
      name: 'netmargin_dependency_up',
      help: '1 when the dependency answered at the last scrape',
      labelNames: ['dependency'],
      registers,
    });
  }

  async pingRedis(): Promise<void> {
    const pong = await this.deps.redis.ping();
    if (pong !== 'PONG') throw new Error(`PING answered ${pong}`);
  }

  async chainHead(): Promise<bigint> {
    if (!this.deps.client) throw new Error('no RPC configured (NETMARGIN_RPC_URLS or the manifest’s rpcUrl)');
    return getBlockNumber(this.deps.client, { cacheTime: 0 });
  }

  async indexerLag(chainHead: bigint): Promise<LagReading> {
    const store = await this.deps.storeHead();
    if (store)
      return {
        chainHead,
        indexedTo: store.number,
        source: 'positions-store',
        lagBlocks: Number(chainHead - store.number),
      };
    const cursor = await this.deps.redis.hget(this.deps.keys.indexer.cursor, 'number');
    if (cursor !== null && /^\d+$/.test(cursor)) {
      const n = BigInt(cursor);
      return { chainHead, indexedTo: n, source: 'cursor', lagBlocks: Number(chainHead - n) };
    }
    return { chainHead, indexedTo: null, source: null, lagBlocks: null };
  }

  /** Refreshes every metric, then renders the registry (Prometheus text format). */
  async metrics(): Promise<string> {
    const [redisOk, head] = await Promise.all([
      this.pingRedis().then(
        () => true,
        () => false,
      ),
      this.chainHead().catch(() => undefined),
    ]);
    this.up.set({ dependency: 'redis' }, redisOk ? 1 : 0);
    this.up.set({ dependency: 'rpc' }, head === undefined ? 0 : 1);
    if (redisOk) {
      await Promise.all([this.queueDepths(), this.mirrorHashes()]);
      if (head !== undefined) {
        this.head.set(Number(head));
        const lag = await this.indexerLag(head);
        this.indexed.set(lag.indexedTo === null ? -1 : Number(lag.indexedTo));
        this.lag.set(lag.lagBlocks ?? -1);
      }
    }
    return this.registry.metrics();
  }

  private async queueDepths(): Promise<void> {
    await Promise.all(
      this.deps.queues.map(async (q) => {
        const counts = await q.getJobCounts(...JOB_STATES);
        for (const state of JOB_STATES) this.queueJobs.set({ queue: q.name, state }, counts[state] ?? 0);
      }),
    );
  }

  /** The indexer, risk and poster counters, as `netmargin_<field name>` with the field's labels. */
  private async mirrorHashes(): Promise<void> {
    const sources: [string, string][] = [
      ['indexer', this.deps.keys.indexer.metrics],
      ['risk', this.deps.keys.pipeline.metrics],
      ['poster', this.deps.keys.poster.metrics],
    ];
    const hashes = await Promise.all(sources.map(([, key]) => this.deps.redis.hgetall(key)));
    hashes.forEach((hash, i) => {
      const source = sources[i]![0];
      for (const [field, raw] of Object.entries(hash)) {
        const parsed = parseMetricField(field);
        const value = Number(raw);
        if (!parsed || !Number.isFinite(value)) continue;
        const base = parsed.name.startsWith(`${source}_`) ? parsed.name : `${source}_${parsed.name}`;
        const name = `netmargin_${base}`;
        const labelNames = Object.keys(parsed.labels).sort();
        const id = `${name}|${labelNames.join(',')}`;
        let g = this.mirrored.get(id);
        if (!g) {
          if (this.registry.getSingleMetric(name)) continue; // same name, other labels: skip rather than fail
          g = new Gauge({
            name,
            help: `${source} metric ${parsed.name} (Redis ${sources[i]![1].replace(/^nm:[^:]+:/, '')})`,
            labelNames,
            registers: [this.registry],
          });
          this.mirrored.set(id, g);
        }
        g.set(parsed.labels, value);
      }
    });
  }
}
