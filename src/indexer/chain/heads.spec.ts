import { HttpRequestError, InvalidParamsRpcError, RpcRequestError, type Hex, type PublicClient } from 'viem';
import { NetmarginError } from '../../common/errors';
import { HeadTracker, HeadWatcher, ReorgTooDeepError, type BlockHeader, type HeadEvent } from './heads';

/** A fake chain of hand-built headers; branches are told apart by a one-hex-digit tag in the hash. */
const hashOf = (branch: number, n: bigint): Hex =>
  `0x${branch.toString(16)}${n.toString(16).padStart(63, '0')}` as Hex;

class FakeChain {
  readonly byHash = new Map<Hex, BlockHeader>();
  fetches = 0;
  /** Builds blocks from+1..to on `branch`, the first one's parent being `parent`. */
  extend(parent: BlockHeader, to: bigint, branch: number): BlockHeader[] {
    const out: BlockHeader[] = [];
    let p = parent;
    for (let n = parent.number + 1n; n <= to; n += 1n) {
      const h = { number: n, hash: hashOf(branch, n), parentHash: p.hash };
      this.byHash.set(h.hash, h);
      out.push(h);
      p = h;
    }
    return out;
  }
  fetch = async (hash: Hex): Promise<BlockHeader> => {
    this.fetches += 1;
    const h = this.byHash.get(hash);
    if (!h) throw new Error(`unknown block ${hash}`);
    return h;
  };
}

const genesis: BlockHeader = { number: 100n, hash: hashOf(0, 100n), parentHash: hashOf(0, 99n) };

function setup(finalityDepth = 5, windowSize?: number) {
  const chain = new FakeChain();
  chain.byHash.set(genesis.hash, genesis);
  const tracker = new HeadTracker({
    finalityDepth,
    getHeaderByHash: chain.fetch,
    ...(windowSize ? { windowSize } : {}),
  });
  tracker.reset(genesis);
  return { chain, tracker };
}

async function feed(tracker: HeadTracker, heads: BlockHeader[]): Promise<HeadEvent[]> {
  const all: HeadEvent[] = [];
  for (const h of heads) all.push(...(await tracker.onHead(h)));
  return all;
}

const blocksOf = (events: HeadEvent[]) => events.flatMap((e) => (e.type === 'block' ? [e.block.number] : []));

describe('HeadTracker', () => {
  it('emits one block event per head on a simple extension, with no fetches', async () => {
    const { chain, tracker } = setup();
    const main = chain.extend(genesis, 110n, 0);
    const events = await feed(tracker, main);
    expect(events.map((e) => e.type)).toEqual(Array(10).fill('block'));
    expect(blocksOf(events)).toEqual(main.map((b) => b.number));
    expect(chain.fetches).toBe(0);
    expect(tracker.tip).toEqual(main[9]);
  });

  it('ignores a repeated head and a stale lower head it already holds', async () => {
    const { chain, tracker } = setup();
    const main = chain.extend(genesis, 105n, 0);
    await feed(tracker, main);
    expect(await tracker.onHead(main[4] as BlockHeader)).toEqual([]);
    expect(await tracker.onHead(main[1] as BlockHeader)).toEqual([]);
    expect(tracker.tip?.number).toBe(105n);
  });

  it('handles a 1-deep reorg: rolls back one block, applies the replacement', async () => {
    const { chain, tracker } = setup();
    const main = chain.extend(genesis, 105n, 0);
    await feed(tracker, main);
    const [alt] = chain.extend(main[3] as BlockHeader, 105n, 1);
    const events = await tracker.onHead(alt as BlockHeader);
    expect(events).toEqual([
      { type: 'reorg', commonAncestor: main[3], depth: 1, dropped: [main[4]] },
      { type: 'block', block: alt },
    ]);
  });

  it('handles a k-deep reorg to a longer branch, emitting the new branch oldest first', async () => {
    const { chain, tracker } = setup(5);
    const main = chain.extend(genesis, 110n, 0);
    await feed(tracker, main);
    const ancestor = main[6] as BlockHeader; // block 107
    const alt = chain.extend(ancestor, 112n, 1);
    const events = await tracker.onHead(alt[alt.length - 1] as BlockHeader);
    expect(events[0]).toEqual({ type: 'reorg', commonAncestor: ancestor, depth: 3, dropped: main.slice(7) });
    expect(blocksOf(events)).toEqual([108n, 109n, 110n, 111n, 112n]);
    expect(tracker.headers.slice(-6).map((h) => h.hash)).toEqual([ancestor, ...alt].map((h) => h.hash));
  });

  it('follows a reorg of exactly the finality depth', async () => {
    const { chain, tracker } = setup(5);
    const main = chain.extend(genesis, 110n, 0);
    await feed(tracker, main);
    const alt = chain.extend(main[4] as BlockHeader, 111n, 1); // ancestor 105, depth 5
    const events = await tracker.onHead(alt[alt.length - 1] as BlockHeader);
    expect(events[0]).toMatchObject({ type: 'reorg', depth: 5 });
    expect(tracker.halted).toBeUndefined();
  });

  it('halts on a reorg one block deeper than the finality depth and stops advancing', async () => {
    const { chain, tracker } = setup(5);
    const main = chain.extend(genesis, 110n, 0);
    await feed(tracker, main);
    const alt = chain.extend(main[3] as BlockHeader, 111n, 1); // ancestor 104, depth 6
    const events = await tracker.onHead(alt[alt.length - 1] as BlockHeader);
    expect(events).toHaveLength(1);
    const halt = events[0] as Extract<HeadEvent, { type: 'halt' }>;
    expect(halt.type).toBe('halt');
    expect(halt.error).toBeInstanceOf(ReorgTooDeepError);
    expect(halt.error).toBeInstanceOf(NetmarginError);
    expect(halt.error.code).toBe('REORG_TOO_DEEP');
    expect(halt.error.details).toMatchObject({ finalityDepth: 5, tipNumber: '110' });
    expect(tracker.tip?.number).toBe(110n); // nothing was rolled back
    const more = chain.extend(alt[alt.length - 1] as BlockHeader, 113n, 1);
    expect(await feed(tracker, more)).toEqual([]);
  });

  it('halts when the node reports a finalized block above tip − finalityDepth and the reorg drops it', async () => {
    const { chain, tracker } = setup(5);
    const main = chain.extend(genesis, 110n, 0);
    await feed(tracker, main);
    tracker.setNodeHeads({ finalized: 108n, safe: 109n });
    expect(tracker.heads()).toMatchObject({ finalized: 108n, safe: 109n });
    const alt = chain.extend(main[6] as BlockHeader, 111n, 1); // ancestor 107 < finalized 108
    const events = await tracker.onHead(alt[alt.length - 1] as BlockHeader);
    expect(events.map((e) => e.type)).toEqual(['halt']);
  });

  it('catches up past a node-reported finalized block above its tip without halting', async () => {
    const { chain, tracker } = setup(5);
    const main = chain.extend(genesis, 140n, 0);
    tracker.setNodeHeads({ finalized: 130n });
    const events = await tracker.onHead(main[39] as BlockHeader);
    expect(blocksOf(events)).toEqual(main.map((b) => b.number));
    expect(tracker.halted).toBeUndefined();
  });

  it('uses finalityDepth for the finalized head when the node reports none', async () => {
    const { chain, tracker } = setup(5);
    await feed(tracker, chain.extend(genesis, 110n, 0));
    expect(tracker.heads().finalized).toBe(105n);
  });

  it('fills a gap in head numbers by fetching the missing parents', async () => {
    const { chain, tracker } = setup();
    const main = chain.extend(genesis, 120n, 0);
    await feed(tracker, main.slice(0, 2)); // tip 102
    chain.fetches = 0;
    const events = await tracker.onHead(main[19] as BlockHeader); // head 120
    expect(events.every((e) => e.type === 'block')).toBe(true);
    expect(blocksOf(events)).toEqual(main.slice(2).map((b) => b.number));
    expect(chain.fetches).toBe(17); // 103..119; 120 came as the head
  });

  it('detects a reorg hidden behind a gap (new branch longer than the poll interval)', async () => {
    const { chain, tracker } = setup(5);
    const main = chain.extend(genesis, 106n, 0);
    await feed(tracker, main);
    const alt = chain.extend(main[2] as BlockHeader, 115n, 2); // ancestor 103, 3 dropped
    const events = await tracker.onHead(alt[alt.length - 1] as BlockHeader);
    expect(events[0]).toMatchObject({ type: 'reorg', depth: 3 });
    expect(blocksOf(events)).toEqual(alt.map((b) => b.number));
  });

  it('treats a different block at a lower height as a reorg to a shorter chain', async () => {
    const { chain, tracker } = setup(5);
    const main = chain.extend(genesis, 106n, 0);
    await feed(tracker, main);
    const [alt] = chain.extend(main[2] as BlockHeader, 104n, 3); // 104' replaces 104..106
    const events = await tracker.onHead(alt as BlockHeader);
    expect(events).toEqual([
      { type: 'reorg', commonAncestor: main[2], depth: 3, dropped: main.slice(3) },
      { type: 'block', block: alt },
    ]);
  });

  it('keeps only windowSize headers', async () => {
    const { chain, tracker } = setup(3, 4);
    await feed(tracker, chain.extend(genesis, 120n, 0));
    expect(tracker.headers.map((h) => h.number)).toEqual([117n, 118n, 119n, 120n]);
  });

  it('halts instead of walking below the headers it holds just after a start', async () => {
    const { chain, tracker } = setup(5);
    const main = chain.extend(genesis, 102n, 0);
    await feed(tracker, main);
    const before = { number: 99n, hash: hashOf(0, 99n), parentHash: hashOf(0, 98n) };
    chain.byHash.set(before.hash, before);
    const alt = chain.extend(before, 104n, 4); // diverges below the anchor 100
    const events = await tracker.onHead(alt[alt.length - 1] as BlockHeader);
    expect(events.map((e) => e.type)).toEqual(['halt']);
  });

  it('rejects a window too small for the finality depth', () => {
    expect(
      () => new HeadTracker({ finalityDepth: 5, windowSize: 5, getHeaderByHash: async () => genesis }),
    ).toThrow(/windowSize/);
  });
});

describe('HeadWatcher', () => {
  /** A stand-in for viem's client: serves `latest`, `safe`, `finalized` and blocks by hash from a FakeChain. */
  function fakeClient(chain: FakeChain, tip: () => BlockHeader, tags: () => 'ok' | 'unsupported' | 'busy') {
    const asked: string[] = [];
    const client = {
      getBlock: async (args: { blockTag?: string; blockHash?: Hex }) => {
        await new Promise((r) => setTimeout(r, 1));
        if (args.blockHash) return chain.fetch(args.blockHash);
        asked.push(args.blockTag ?? 'latest');
        const t = tip();
        if (args.blockTag === 'latest') return t;
        const mode = tags();
        const url = 'http://127.0.0.1:1';
        if (mode === 'unsupported')
          throw new InvalidParamsRpcError(
            new RpcRequestError({ url, body: {}, error: { code: -32602, message: 'unknown block tag' } }),
          );
        if (mode === 'busy') throw new HttpRequestError({ url, status: 429 });
        return { ...t, number: t.number - (args.blockTag === 'safe' ? 1n : 2n) };
      },
    };
    return { client: client as unknown as PublicClient, asked };
  }

  it('runs overlapping polls one after the other, so each block is delivered once', async () => {
    const chain = new FakeChain();
    chain.byHash.set(genesis.hash, genesis);
    const main = chain.extend(genesis, 104n, 0);
    const tracker = new HeadTracker({ finalityDepth: 3, getHeaderByHash: chain.fetch });
    tracker.reset(genesis);
    const delivered: bigint[] = [];
    const { client } = fakeClient(
      chain,
      () => main[3] as BlockHeader,
      () => 'ok',
    );
    const watcher = new HeadWatcher({
      client,
      tracker,
      onEvent: async (e) => {
        await new Promise((r) => setTimeout(r, 2));
        if (e.type === 'block') delivered.push(e.block.number);
      },
    });
    const [a, b] = await Promise.all([watcher.poll(), watcher.poll()]);
    expect(a).toHaveLength(4);
    expect(b).toEqual([]);
    expect(delivered).toEqual([101n, 102n, 103n, 104n]);
    expect(tracker.heads()).toMatchObject({ safe: 103n, finalized: 102n });
  });

  it('stops asking for safe / finalized once the node rejects the tags, but not after a rate limit', async () => {
    const chain = new FakeChain();
    chain.byHash.set(genesis.hash, genesis);
    const main = chain.extend(genesis, 110n, 0);
    let i = 0;
    let mode: 'ok' | 'unsupported' | 'busy' = 'busy';
    const tracker = new HeadTracker({ finalityDepth: 4, getHeaderByHash: chain.fetch });
    tracker.reset(genesis);
    const { client, asked } = fakeClient(
      chain,
      () => main[i] as BlockHeader,
      () => mode,
    );
    const watcher = new HeadWatcher({ client, tracker, onEvent: () => undefined });
    await watcher.poll();
    i = 1;
    await watcher.poll(); // still asked after a 429
    expect(asked.filter((t) => t === 'finalized')).toHaveLength(2);
    mode = 'unsupported';
    i = 2;
    await watcher.poll();
    i = 9;
    await watcher.poll();
    expect(asked.filter((t) => t === 'finalized')).toHaveLength(3);
    expect(tracker.heads().finalized).toBe(106n); // 110 − finalityDepth
  });
});
