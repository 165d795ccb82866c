/**
 * The operations endpoints against real API processes, real Redis and the devnet: liveness, the
 * readiness checks (Redis, RPC, indexer lag) passing and failing — behind, and with Redis and the
 * RPC pointed at closed ports —, the metrics the workers' Redis hashes and queues feed, and Bull
 * Board behind the admin token.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { getFreePort } from '../src/devnet/anvil';
import { startDevnet, type Devnet } from '../src/devnet/devnet';
import type { OwnerPositions } from '../src/indexer/indexer.service';
import { queuePrefix } from '../src/indexer/queues';
import { redisKeys, type RedisKeys } from '../src/indexer/redis/keys';
import { RedisReorgStore } from '../src/indexer/redis/redis-store';
import { connectTestRedis, deleteKeys, redisUrl, testNetwork } from '../src/indexer/redis/test-redis';
import { RECONCILE_METRICS } from '../src/indexer/reconcile';
import { POSTER_METRICS } from '../src/pipeline/poster/poster';
import { startApiProcess, stopApiProcess, type ApiProcess } from './helpers/api-process';

const TOKEN = 'ops-test-admin-token-0123456789';

let devnet: Devnet;
let redis: Redis;
let network: string;
let keys: RedisKeys;
let api: ApiProcess;
let dir: string;
let manifestPath: string;

interface ReadyBody {
  status: string;
  details: Record<string, { status: string; message?: string; lagBlocks?: number }>;
}

beforeAll(async () => {
  redis = await connectTestRedis();
  network = testNetwork();
  keys = redisKeys(network);
  devnet = await startDevnet({ port: await getFreePort(), blockTimeSec: 0, manifestPath: null });
  dir = mkdtempSync(join(tmpdir(), 'nm-ops-'));
  manifestPath = join(dir, 'manifest.json');
  writeFileSync(manifestPath, JSON.stringify(devnet.manifest));
  api = await startApiProcess(network, {
    NETMARGIN_MANIFEST: manifestPath,
    API_ADMIN_TOKEN: TOKEN,
    NETMARGIN_READY_MAX_LAG_BLOCKS: '5',
  });
}, 180_000);

afterAll(async () => {
  await stopApiProcess(api);
  await deleteKeys(redis, keys.prefix);
  await redis.quit();
  await devnet?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The positions store with its head at `block` (the refresh worker's writes, as in production). */
async function indexedTo(block: bigint): Promise<void> {
  await deleteKeys(redis, `${keys.prefix}store:`);
  const b = await devnet.clients.publicClient.getBlock({ blockNumber: block });
  const store = await RedisReorgStore.open<OwnerPositions>({
    redis,
    keys: keys.reorgStore('positions'),
    anchor: { number: b.number - 1n, hash: b.parentHash },
  });
  await store.applyBlock({ number: b.number, hash: b.hash }, []);
}

describe('/health', () => {
  it('answers 200 while the process serves', async () => {
    const res = await request(api.url).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });
});

describe('/ready', () => {
  it('fails while nothing is indexed', async () => {
    await deleteKeys(redis, keys.prefix);
    const res = await request(api.url).get('/ready');
    expect(res.status).toBe(503);
    const body = res.body as ReadyBody;
    expect(body.details.redis!.status).toBe('up');
    expect(body.details.rpc!.status).toBe('up');
    expect(body.details.indexer).toMatchObject({ status: 'down', message: 'nothing indexed yet' });
  });

  it('fails when indexing is more blocks behind the head than allowed, and passes once it catches up', async () => {
    const tc = devnet.clients.testClient;
    await tc.mine({ blocks: 8 });
    const head = await devnet.clients.publicClient.getBlockNumber({ cacheTime: 0 });
    await indexedTo(head - 6n);
    const behind = await request(api.url).get('/ready');
    expect(behind.status).toBe(503);
    expect((behind.body as ReadyBody).details.indexer).toMatchObject({ status: 'down', lagBlocks: 6 });
    await indexedTo(head - 5n);
    const ok = await request(api.url).get('/ready');
    expect(ok.status).toBe(200);
    expect((ok.body as ReadyBody).details.indexer).toMatchObject({ status: 'up', lagBlocks: 5 });
  });

  it('reads the head runner’s cursor when the store has no head yet', async () => {
    await deleteKeys(redis, keys.prefix);
    const head = await devnet.clients.publicClient.getBlock({ blockTag: 'latest' });
    await redis.hset(keys.indexer.cursor, {
      number: head.number.toString(),
      hash: head.hash,
      parentHash: head.parentHash,
    });
    const res = await request(api.url).get('/ready');
    expect(res.status).toBe(200);
    expect((res.body as ReadyBody).details.indexer).toMatchObject({ status: 'up', lagBlocks: 0 });
  });

  it('fails, naming each, when Redis and the RPC are unreachable', async () => {
    const [redisPort, rpcPort] = [await getFreePort(), await getFreePort()];
    const down = await startApiProcess(network, {
      NETMARGIN_MANIFEST: manifestPath,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      NETMARGIN_RPC_URLS: `http://127.0.0.1:${rpcPort}`,
      API_ADMIN_TOKEN: TOKEN,
    });
    try {
      const res = await request(down.url).get('/ready');
      expect(res.status).toBe(503);
      const body = res.body as ReadyBody;
      expect(body.status).toBe('error');
      expect(body.details.redis!.status).toBe('down');
      expect(body.details.rpc!.status).toBe('down');
      expect(body.details.indexer!.status).toBe('down');
      const metrics = await request(down.url).get('/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.text).toMatch(/^netmargin_dependency_up\{dependency="redis"\} 0$/m);
      expect(metrics.text).toMatch(/^netmargin_dependency_up\{dependency="rpc"\} 0$/m);
      const board = await request(down.url).get('/queues/api/queues').set('authorization', `Bearer ${TOKEN}`);
      expect(board.status).toBe(503);
      expect(board.body.error.code).toBe('STORE_UNAVAILABLE');
      // The outage is answered, not fatal: the process still serves.
      expect((await request(down.url).get('/health')).status).toBe(200);
    } finally {
      await stopApiProcess(down);
    }
  }, 120_000);
});

describe('/metrics', () => {
  it('exports queue depths, indexer lag and the workers’ and poster’s counters', async () => {
    await deleteKeys(redis, keys.prefix);
    const head = await devnet.clients.publicClient.getBlockNumber({ cacheTime: 0 });
    await indexedTo(head - 2n);
    const refresh = new Queue('refresh', { connection: { url: redisUrl() }, prefix: queuePrefix(network) });
    await refresh.add('refresh', { owner: '0x0000000000000000000000000000000000000001' }, { delay: 600_000 });
    await refresh.add('refresh', { owner: '0x0000000000000000000000000000000000000002' }, { delay: 600_000 });
    await refresh.add('refresh', { owner: '0x0000000000000000000000000000000000000003' });
    await refresh.close();
    // Counters under the names the indexer, the risk workers and the poster write.
    await redis.hincrby(keys.indexer.metrics, 'runner_blocks', 7);
    await redis.hincrby(keys.indexer.metrics, RECONCILE_METRICS.runs, 2);
    await redis.hincrby(keys.pipeline.metrics, 'risk_stored', 11);
    await redis.hincrby(keys.poster.metrics, POSTER_METRICS.refusals('oracle-stale'), 3);
    await redis.hset(keys.poster.metrics, POSTER_METRICS.refusing, '1');

    const res = await request(api.url).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.text;
    const value = (series: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    expect(value('netmargin_queue_jobs{queue="refresh",state="delayed"}')).toBe(2);
    expect(value('netmargin_queue_jobs{queue="refresh",state="waiting"}')).toBe(1);
    for (const q of ['index-range', 'risk', 'reconcile', 'risk-market', 'params'])
      expect(value(`netmargin_queue_jobs{queue="${q}",state="waiting"}`)).toBe(0);
    expect(value('netmargin_indexer_lag_blocks')).toBe(2);
    expect(value('netmargin_chain_head_block')).toBe(Number(head));
    expect(value('netmargin_indexer_runner_blocks')).toBe(7);
    expect(value(`netmargin_indexer_${RECONCILE_METRICS.runs}`)).toBe(2);
    expect(value('netmargin_risk_stored')).toBe(11);
    expect(value('netmargin_poster_refusals_total{reason="oracle-stale"}')).toBe(3);
    expect(value('netmargin_poster_refusing')).toBe(1);
    expect(value('netmargin_dependency_up{dependency="redis"}')).toBe(1);
    expect(value('netmargin_dependency_up{dependency="rpc"}')).toBe(1);
  });
});

describe('/queues', () => {
  it('answers 401 without the admin token, and with a wrong one', async () => {
    const none = await request(api.url).get('/queues');
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('ADMIN_AUTH_REQUIRED');
    expect(
      (await request(api.url).get('/queues').set('authorization', 'Bearer wrong-token-xxxxxxxx')).status,
    ).toBe(401);
    expect((await request(api.url).get('/queues/api/queues')).status).toBe(401);
  });

  it('serves Bull Board with the token (Bearer or Basic), listing every queue', async () => {
    const page = await request(api.url).get('/queues').set('authorization', `Bearer ${TOKEN}`);
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/<html/i);
    const basic = Buffer.from(`admin:${TOKEN}`).toString('base64');
    const list = await request(api.url).get('/queues/api/queues').set('authorization', `Basic ${basic}`);
    expect(list.status).toBe(200);
    const names = (list.body as { queues: { name: string }[] }).queues.map((q) => q.name).sort();
    expect(names).toEqual(['index-range', 'params', 'reconcile', 'refresh', 'risk', 'risk-market']);
  });
});
