/**
 * The resilient transport and chunked log reads against a tiny loopback JSON-RPC server that sits in
 * front of a real anvil and misbehaves on cue: HTTP 429 / 503, hangs, -32601, "block range is too
 * large" (`test/helpers/fake-rpc.ts`). Sleeps are injected, so the retry waits cost no wall time.
 */
import { HttpRequestError, MethodNotFoundRpcError, type Hex, type PublicClient } from 'viem';
import { FakeRpc } from '../../../test/helpers/fake-rpc';
import { getFreePort, startAnvil, type AnvilHandle } from '../../devnet/anvil';
import { makeClients } from '../../devnet/chain';
import { createChainClient, type RetryPolicy } from './client';
import { getLogsAtBlock, getLogsChunked, rpcGetLogs } from './logs';

let anvil: AnvilHandle;
let fake: FakeRpc;
let fake2: FakeRpc;
let sleeps: number[];

function policy(over: Partial<RetryPolicy> = {}): Partial<RetryPolicy> {
  return {
    maxRetries: 4,
    baseMs: 100,
    capMs: 1_000,
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...over,
  };
}

function client(urls: string[], over: Partial<RetryPolicy> = {}, timeoutMs = 2_000): PublicClient {
  return createChainClient({ urls, retry: policy(over), timeoutMs });
}

beforeAll(async () => {
  anvil = await startAnvil({
    host: '127.0.0.1',
    port: await getFreePort(),
    chainId: 901,
    accounts: 2,
    balanceEth: 100,
  });
  fake = new FakeRpc(anvil.rpcUrl);
  fake2 = new FakeRpc(anvil.rpcUrl);
  await fake.start();
  await fake2.start();
}, 30_000);

afterAll(async () => {
  await fake?.stop();
  await fake2?.stop();
  await anvil?.stop();
});

beforeEach(() => {
  sleeps = [];
  for (const f of [fake, fake2]) {
    f.httpRequests = 0;
    f.calls = [];
    f.behave = () => 'proxy';
  }
});

describe('createChainClient', () => {
  it('retries HTTP 429 with growing backoff, then returns the answer', async () => {
    fake.behave = (_c, n) => (n < 2 ? { httpStatus: 429 } : 'proxy');
    const expected = await makeClients(anvil.rpcUrl).publicClient.getBlockNumber();
    expect(await client([fake.url]).getBlockNumber({ cacheTime: 0 })).toBe(expected);
    expect(fake.httpRequests).toBe(3);
    expect(sleeps).toEqual([75, 150]); // equal jitter at random=0.5: 0.75 × 100, 0.75 × 200
  });

  it('waits as long as the server asks with Retry-After (up to the cap)', async () => {
    fake.behave = (_c, n) => (n === 0 ? { httpStatus: 429, retryAfter: '1' } : 'proxy');
    expect(await client([fake.url]).getChainId()).toBe(901);
    expect(sleeps).toEqual([1_000]);
  });

  it('retries a request that hangs past the timeout', async () => {
    fake.behave = (_c, n) => (n === 0 ? 'hang' : 'proxy');
    const t0 = Date.now();
    await client([fake.url], {}, 1_000).getChainId();
    expect(fake.httpRequests).toBe(2);
    expect(sleeps).toHaveLength(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900); // waited for the timeout, then retried
  });

  it('fails fast on -32601 method not found (one request, no wait)', async () => {
    fake.behave = () => ({ rpcError: { code: -32601, message: 'the method eth_chainId does not exist' } });
    await expect(client([fake.url]).getChainId()).rejects.toBeInstanceOf(MethodNotFoundRpcError);
    expect(fake.httpRequests).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('fails fast on an execution revert from the real node behind the proxy', async () => {
    const reverter = '0x00000000000000000000000000000000000000aa' as Hex;
    await makeClients(anvil.rpcUrl).testClient.setCode({ address: reverter, bytecode: '0x60006000fd' });
    const c = client([fake.url, fake2.url]);
    await expect(c.call({ to: reverter, data: '0x' })).rejects.toThrow(/revert/i);
    expect(fake.calls.filter((m) => m === 'eth_call')).toHaveLength(1);
    expect(fake2.calls).toEqual([]); // a revert is not passed to the next URL
    expect(sleeps).toEqual([]);
  });

  it('falls back to the next URL when the first answers 503, without waiting', async () => {
    fake.behave = () => ({ httpStatus: 503 });
    expect(await client([fake.url, fake2.url]).getChainId()).toBe(901);
    expect(fake.httpRequests).toBe(1);
    expect(fake2.httpRequests).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('gives up after maxRetries with the last HTTP error', async () => {
    fake.behave = () => ({ httpStatus: 429 });
    await expect(client([fake.url], { maxRetries: 3 }).getChainId()).rejects.toBeInstanceOf(HttpRequestError);
    expect(fake.httpRequests).toBe(4);
    expect(sleeps).toEqual([75, 150, 300]);
  });

  it('batches concurrent calls into one HTTP request', async () => {
    const c = client([fake.url]);
    await Promise.all([c.getChainId(), c.getBlockNumber({ cacheTime: 0 }), c.getGasPrice()]);
    expect(fake.httpRequests).toBe(1);
    expect(fake.calls.sort()).toEqual(['eth_blockNumber', 'eth_chainId', 'eth_gasPrice']);
  });
});

// These tests are about range splitting, not timeouts: a generous timeout keeps a slow, loaded machine
// from turning one slow answer into a retry (which the first test asserts never happens).
const SLOW_MACHINE_TIMEOUT_MS = 30_000;

describe('getLogsChunked', () => {
  it('splits ranges the node refuses and returns exactly the logs of the whole range', async () => {
    // A contract that emits one LOG0 per call; automine gives each call its own block.
    const emitter = '0x00000000000000000000000000000000000000bb' as Hex;
    const dev = makeClients(anvil.rpcUrl);
    await dev.testClient.setCode({ address: emitter, bytecode: '0x60006000a000' });
    const [from] = await dev.walletClient.getAddresses();
    const first = (await dev.publicClient.getBlockNumber({ cacheTime: 0 })) + 1n;
    for (let i = 0; i < 40; i += 1) {
      const hash = await dev.walletClient.sendTransaction({ account: from as Hex, to: emitter, chain: null });
      await dev.publicClient.waitForTransactionReceipt({ hash });
    }
    await dev.testClient.mine({ blocks: 25 }); // empty tail
    const last = await dev.publicClient.getBlockNumber({ cacheTime: 0 });
    const maxBlocks = 8n;
    fake.behave = (c) => {
      if (c.method !== 'eth_getLogs') return 'proxy';
      const f = (c.params?.[0] ?? {}) as { fromBlock?: Hex; toBlock?: Hex };
      if (f.fromBlock === undefined || f.toBlock === undefined) return 'proxy'; // by block hash
      return BigInt(f.toBlock) - BigInt(f.fromBlock) + 1n > maxBlocks
        ? { rpcError: { code: -32005, message: 'block range is too large' } }
        : 'proxy';
    };
    const progress: bigint[] = [];
    let splits = 0;
    const logs = await getLogsChunked(rpcGetLogs(client([fake.url], {}, SLOW_MACHINE_TIMEOUT_MS)), {
      fromBlock: first,
      toBlock: last,
      address: emitter,
      chunkSize: 50n,
      onProgress: (p) => {
        progress.push(p.doneThrough);
        splits = p.splits;
      },
    });
    const direct = await dev.publicClient.getLogs({ address: emitter, fromBlock: first, toBlock: last });
    expect(logs.map((l) => l.transactionHash)).toEqual(direct.map((l) => l.transactionHash));
    expect(logs).toHaveLength(40);
    expect(splits).toBeGreaterThan(0);
    expect(progress[progress.length - 1]).toBe(last);
    expect([...progress].sort((a, b) => (a < b ? -1 : 1))).toEqual(progress); // in block order
    expect(sleeps).toEqual([]); // a too-large range is split, never retried as is
    const one = direct[5] as (typeof direct)[number];
    const atBlock = await getLogsAtBlock(client([fake.url], {}, SLOW_MACHINE_TIMEOUT_MS), one.blockHash, {
      address: emitter,
    });
    expect(atBlock.map((l) => [l.blockNumber, l.transactionHash])).toEqual([
      [one.blockNumber, one.transactionHash],
    ]);
  });

  it('says which block is too large when even one block is refused', async () => {
    fake.behave = (c) =>
      c.method === 'eth_getLogs'
        ? { rpcError: { code: -32005, message: 'Log response size exceeded' } }
        : 'proxy';
    await expect(
      getLogsChunked(rpcGetLogs(client([fake.url], {}, SLOW_MACHINE_TIMEOUT_MS)), {
        fromBlock: 1n,
        toBlock: 4n,
        chunkSize: 4n,
      }),
    ).rejects.toMatchObject({ code: 'LOGS_TOO_LARGE', details: { block: 1n } });
  });
});
