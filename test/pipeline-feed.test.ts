/**
 * The shortfall feed against the real Redis and its SSE endpoint on loopback: risk records go
 * through `ShortfallFeed.onRecord` (the threshold rule decides), the endpoint streams the Redis
 * Stream in order, resumes from `Last-Event-ID` (or `?after=`) with exactly the missed events, keeps
 * bigints exact as decimal strings, and says "caught up" with heartbeat comments.
 *
 * The endpoint runs as its own process (`src/pipeline/feed/serve.ts` under tsx: NestJS 12 is ESM, which
 * Jest's CommonJS runtime cannot load), on a free loopback port.
 *
 * The chain reads (seizable amounts, price rounds) come from a deterministic `FeedChainReader` with
 * amounts beyond 2^53, so a bigint squeezed through a JS number anywhere on the way would show.
 */
import type { Redis } from 'ioredis';
import { getAddress, type Address } from 'viem';
import type { FeedChainReader } from '../src/pipeline/feed/chain-reader';
import { parseWireEvent, type FeedEvent } from '../src/pipeline/feed/event';
import { ShortfallFeed } from '../src/pipeline/feed/shortfall-feed';
import { redisKeys } from '../src/indexer/redis/keys';
import { connectTestRedis, deleteKeys, testNetwork } from '../src/indexer/redis/test-redis';
import { riskRecord, startFeedProcess, stopFeedProcess, type FeedProcess } from './helpers/feed-records';

const A: Address = getAddress('0x00000000000000000000000000000000000a11ce');
const B: Address = getAddress('0x0000000000000000000000000000000000000b0b');
const TOKEN: Address = getAddress('0x00000000000000000000000000000000000000e1');
const USD = 1_000_000n;

/** Seizable amount and round id grow with the block, so every event carries different big numbers. */
class BlockChainReader implements FeedChainReader {
  reads: { owner: Address; blockNumber: bigint }[] = [];
  async read(owner: Address, blockNumber: bigint) {
    this.reads.push({ owner, blockNumber });
    return {
      seizable: [{ token: TOKEN, symbol: 'aWETH', amount: 10n ** 24n + blockNumber * 7n + 1n, decimals: 18 }],
      prices: {
        ETH: {
          answer: 210_000_000_000n - blockNumber,
          decimals: 8,
          updatedAtSec: 1_767_225_000 + Number(blockNumber),
          roundId: (1n << 80n) + blockNumber,
        },
      },
    };
  }
}

interface Frame {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
  retry?: string;
}

function parseFrame(text: string): Frame {
  const f: Frame = {};
  for (const line of text.split('\n')) {
    if (line.startsWith(':')) f.comment = line.slice(1).trim();
    else {
      const at = line.indexOf(':');
      const field = line.slice(0, at) as keyof Frame;
      f[field] = line.slice(at + 1).replace(/^ /, '');
    }
  }
  return f;
}

/** Opens the endpoint and reads frames until `done(frames)` says so; returns them and the status. */
async function collect(
  server: FeedProcess,
  opts: { query?: string; lastEventId?: string; done: (frames: Frame[]) => boolean; timeoutMs?: number },
): Promise<{ status: number; frames: Frame[]; contentType: string | null }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), opts.timeoutMs ?? 10_000);
  const res = await fetch(`${server.url}/v1/feed/shortfalls${opts.query ?? ''}`, {
    headers: opts.lastEventId !== undefined ? { 'Last-Event-ID': opts.lastEventId } : {},
    signal: ac.signal,
  });
  const frames: Frame[] = [];
  try {
    if (res.status !== 200)
      return { status: res.status, frames, contentType: res.headers.get('content-type') };
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    while (!opts.done(frames)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0 && !opts.done(frames)) {
        frames.push(parseFrame(buffer.slice(0, end)));
        buffer = buffer.slice(end + 2);
      }
    }
    return { status: res.status, frames, contentType: res.headers.get('content-type') };
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
}

const events = (frames: Frame[]) => frames.filter((f) => f.event === 'shortfall');
const heartbeatAfterEvents = (n: number) => (frames: Frame[]) =>
  events(frames).length >= n && frames[frames.length - 1]?.comment?.startsWith('heartbeat') === true;

let redis: Redis;
let network: string;
let chain: BlockChainReader;
let feed: ShortfallFeed;
let server: FeedProcess;

beforeAll(async () => {
  redis = await connectTestRedis();
  network = testNetwork();
  chain = new BlockChainReader();
  feed = new ShortfallFeed({ redis, network, chain });
  server = await startFeedProcess(network);
});

afterAll(async () => {
  if (server) await stopFeedProcess(server);
  await feed?.close();
  if (redis) {
    await deleteKeys(redis, redisKeys(network).prefix);
    redis.disconnect();
  }
});

describe('shortfall feed over SSE', () => {
  const published: FeedEvent[] = [];

  it('publishes threshold crossings only, and streams them in order with exact bigints', async () => {
    const steps = [
      // [owner, block, class, shortfall USD]: which ones cross is the rule's business.
      [A, 100n, 'healthy', 0n], // first result, safe: nothing
      [A, 101n, 'liquidatable', 5_000n], // entered
      [B, 101n, 'below-mm', 200n], // entered (no previous result)
      [A, 102n, 'liquidatable', 5_100n], // +2 %: not material
      [A, 103n, 'liquidatable', 7_000n], // +37 % of the last published-or-not previous: changed
      [B, 103n, 'liquidatable', 200n], // class changed
      [A, 104n, 'below-im', 0n], // left
      [A, 105n, 'warning', 0n], // safe → safe: nothing
    ] as const;
    const previous = new Map<Address, ReturnType<typeof riskRecord>>();
    for (const [owner, block, health, shortfall] of steps) {
      const rec = riskRecord(owner, health, { blockNumber: block, shortfallUsd6: shortfall * USD });
      await feed.onRecord(rec, previous.get(owner));
      previous.set(owner, rec);
    }
    const stored = await feed.readFeed('0', 100);
    expect(stored.map((e) => [e.owner, e.blockNumber, e.reason])).toEqual([
      [A, 101n, 'entered'],
      [B, 101n, 'entered'],
      [A, 103n, 'shortfall-changed'],
      [B, 103n, 'class-changed'],
      [A, 104n, 'left'],
    ]);
    // The chain is read only for what is published, at the record's block.
    expect(chain.reads.map((r) => r.blockNumber)).toEqual([101n, 101n, 103n, 103n, 104n]);
    published.push(...stored);

    const { status, frames, contentType } = await collect(server, {
      query: '?after=0',
      done: heartbeatAfterEvents(published.length),
    });
    expect(status).toBe(200);
    expect(contentType).toMatch(/^text\/event-stream/);
    expect(frames[0]!.retry).toBe('2000');
    const got = events(frames);
    expect(got.map((f) => f.id)).toEqual(published.map((e) => e.id));
    for (const [i, f] of got.entries()) {
      expect(parseWireEvent(f.data!)).toEqual(published[i]);
      // Bigints travel as decimal strings, never as JSON numbers.
      expect(f.data).toContain(`"amount":"${published[i]!.seizable[0]!.amount}"`);
      expect(f.data).toContain(`"roundId":"${published[i]!.prices.ETH!.roundId}"`);
    }
    expect(published[0]!.seizable[0]!.amount).toBeGreaterThan(BigInt(Number.MAX_SAFE_INTEGER));
  });

  it('resumes from Last-Event-ID with exactly the missed events, then live ones as they come', async () => {
    expect(published.length).toBe(5);
    const seen = published[1]!.id;
    const replay = await collect(server, { lastEventId: seen, done: heartbeatAfterEvents(3) });
    expect(events(replay.frames).map((f) => f.id)).toEqual(published.slice(2).map((e) => e.id));

    // The header wins over ?after=; a live event published while connected arrives after the backlog.
    const live = collect(server, {
      query: '?after=0',
      lastEventId: published[4]!.id,
      done: (frames) => events(frames).length >= 1,
    });
    await new Promise((r) => setTimeout(r, 300));
    const rec = riskRecord(B, 'below-im', { blockNumber: 110n });
    await feed.onRecord(rec, riskRecord(B, 'liquidatable', { blockNumber: 103n, shortfallUsd6: 200n * USD }));
    const { frames } = await live;
    const [liveEvent] = events(frames).map((f) => parseWireEvent(f.data!));
    expect(liveEvent).toMatchObject({ owner: B, blockNumber: 110n, reason: 'left', health: 'below-im' });
    expect(frames.some((f) => f.comment?.startsWith('heartbeat'))).toBe(true); // caught up before it came
    const [newest] = await feed.readFeed(published[4]!.id, 10);
    expect(liveEvent!.id).toBe(newest!.id);
  });

  it('sends only new events when no resume id is given', async () => {
    const { frames } = await collect(server, {
      done: (f) => f.some((x) => x.comment?.startsWith('heartbeat')),
    });
    expect(events(frames)).toHaveLength(0);
  });

  it('answers 400 with a hint to a malformed resume id', async () => {
    for (const [query, lastEventId] of [
      ['', 'yesterday'],
      ['?after=%24', undefined],
    ] as const) {
      const res = await fetch(`${server.url}/v1/feed/shortfalls${query}`, {
        headers: lastEventId ? { 'Last-Event-ID': lastEventId } : {},
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: string; hint: string };
      expect(body.error).toMatch(lastEventId ? /Last-Event-ID/ : /after/);
      expect(body.hint).toMatch(/id of the last event/);
    }
  });
});
