/**
 * The account endpoints end to end: the API process (src/api.ts) over the Redis stores, seeded the
 * way production fills them (devnet personas read by the real adapters, records computed by the real
 * engine). Checked: health / positions / history answer exactly what is stored, bigints as decimal
 * strings; a what-if equals the engine run directly on the modified positions on the same market and
 * parameter set; every bad input is refused with the status and the field; OpenAPI lists the routes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import request from 'supertest';
import type { Address } from 'viem';
import { applyTrades, type Trade } from '../src/api/accounts/trades';
import { getFreePort } from '../src/devnet/anvil';
import { startDevnet, type Devnet } from '../src/devnet/devnet';
import { runMarketPath } from '../src/devnet/market';
import { connectTestRedis, deleteKeys, testNetwork } from '../src/indexer/redis/test-redis';
import { usd6Figures } from '../src/pipeline/classify';
import type { RiskRecord } from '../src/pipeline/types';
import { computeAccountRisk, computeAccountRiskIn, computeScenarioGrid, prepareMarket } from '../src/risk';
import type { Position } from '../src/risk/types';
import { startApiProcess, stopApiProcess, type ApiProcess } from './helpers/api-process';
import { positionsOf, seedBlock, seedFromDevnet, seedSnapshot, type Seeded } from './helpers/api-seed';
import { persona } from './helpers/indexer';
import { USD6_FIELDS } from '../src/pipeline/classify';

let devnet: Devnet;
let redis: Redis;
let seeded: Seeded;
let api: ApiProcess;
let dir: string;
let b1: bigint;
let b2: bigint;

/** A bigint-bearing value as it must appear on the wire (bigints as decimal strings). */
const wire = (v: unknown): unknown =>
  JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)));

/** The address with the case of every hex letter flipped: still mixed case, checksum wrong. */
const flipCase = (a: string): string =>
  a.slice(0, 2) +
  [...a.slice(2)].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');

beforeAll(async () => {
  redis = await connectTestRedis();
  devnet = await startDevnet({ port: await getFreePort(), blockTimeSec: 0, manifestPath: null });
  seeded = await seedFromDevnet(devnet, redis, testNetwork());
  b1 = seeded.positionsBlock;
  await runMarketPath(devnet.clients, devnet.manifest, 'calm', { clock: 'instant', steps: 2 });
  b2 = await seedBlock(seeded, devnet, redis);
  dir = mkdtempSync(join(tmpdir(), 'netmargin-api-'));
  const manifestPath = join(dir, 'manifest.json');
  writeFileSync(manifestPath, JSON.stringify(devnet.manifest));
  api = await startApiProcess(seeded.network, {
    NETMARGIN_MANIFEST: manifestPath,
    API_MAX_TRADES: '8',
    API_BODY_LIMIT_BYTES: '16384',
  });
}, 240_000);

afterAll(async () => {
  await stopApiProcess(api);
  if (redis) {
    if (seeded) await deleteKeys(redis, seeded.keys.prefix);
    redis.disconnect();
  }
  await devnet?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const latest = (owner: Address): RiskRecord => seeded.records.get(b2)!.get(owner)!;
const owner = (name: string): Address => persona(devnet.manifest, name).address as Address;

function expectError(res: request.Response, status: number, field: string | null, code?: string): void {
  expect({ status: res.status, field: res.body?.error?.field }).toEqual({ status, field });
  expect(typeof res.body.error.message).toBe('string');
  if (field) expect(res.body.error.message).toContain(field);
  if (code) expect(res.body.error.code).toBe(code);
}

describe('GET /v1/accounts/{address}/health', () => {
  it('answers every seeded account’s latest stored result, USD6 figures as exact decimal strings', async () => {
    expect(seeded.owners.length).toBeGreaterThan(10);
    for (const o of seeded.owners) {
      const r = latest(o);
      const res = await request(api.url).get(`/v1/accounts/${o}/health`).expect(200);
      for (const f of USD6_FIELDS) expect(res.body[f]).toBe(r[f].toString());
      expect(res.body).toMatchObject({
        owner: o,
        blockNumber: b2.toString(),
        blockHash: r.blockHash,
        positionsBlockNumber: b1.toString(),
        params: { version: seeded.set.version, hash: seeded.set.hash },
        inputHash: r.inputHash,
        health: r.health,
        marginRatio: r.marginRatio,
        stale: { ...r.stale, any: r.stale.oracle || r.stale.sequencer || r.stale.indexer },
      });
      expect(res.body.byProtocol).toEqual(wire(r.result.byProtocol));
      expect(res.body.byUnderlying).toEqual(wire(r.result.byUnderlying));
      expect(res.body.worstScenario).toEqual(wire(r.result.worstScenario));
      expect(res.body.liquidationDistance).toEqual(wire(r.result.liquidationDistance));
      const deltaUsd = r.result.byUnderlying.reduce((s, u) => s + u.greeks.deltaUsd, 0);
      expect(res.body.greeks.deltaUsd).toBe(deltaUsd);
    }
  });

  it('carries the scenario grid of the result’s positions, market and parameter set', async () => {
    const snapshot = seedSnapshot(seeded.markets.get(b2)!, seeded.set);
    const ctx = prepareMarket(snapshot, seeded.set.params);
    let withLoss = 0;
    for (const o of seeded.owners) {
      const res = await request(api.url).get(`/v1/accounts/${o}/health`).expect(200);
      const grid = computeScenarioGrid(ctx, { account: o, positions: positionsOf(seeded.positions.get(o)!) });
      expect({ o, grid: res.body.scenarioGrid }).toEqual({ o, grid: wire(grid) });
      if (grid.worst.pnlUsd < 0) withLoss++;
    }
    expect(withLoss).toBeGreaterThan(0);
  });

  it('accepts an all-lowercase address and answers under the checksummed one', async () => {
    const o = seeded.owners[0]!;
    const res = await request(api.url).get(`/v1/accounts/${o.toLowerCase()}/health`).expect(200);
    expect(res.body.owner).toBe(o);
  });

  it('refuses a mixed-case address with a wrong checksum', async () => {
    const o = seeded.owners[0]!;
    const flipped = flipCase(o);
    expectError(
      await request(api.url).get(`/v1/accounts/${flipped}/health`),
      400,
      'address',
      'INVALID_ADDRESS_CHECKSUM',
    );
  });

  it.each(['0x1234', 'vitalik.eth', `0x${'g'.repeat(40)}`])('refuses the malformed address %s', async (a) => {
    expectError(await request(api.url).get(`/v1/accounts/${a}/health`), 400, 'address', 'INVALID_ADDRESS');
  });

  it('answers 404 with a hint for an account with no result', async () => {
    const res = await request(api.url).get(`/v1/accounts/${owner('fresh-wallet')}/health`);
    expectError(res, 404, 'address', 'ACCOUNT_NOT_FOUND');
    expect(res.body.error.hint).toMatch(/position/);
  });
});

describe('GET /v1/accounts/{address}/positions', () => {
  it('answers the stored positions, block-stamped, with exact token units', async () => {
    let above53 = 0;
    for (const o of seeded.owners) {
      const res = await request(api.url).get(`/v1/accounts/${o}/positions`).expect(200);
      const stored = seeded.positions.get(o)!;
      expect(res.body.blockNumber).toBe(b1.toString());
      expect(res.body.protocols.map((p: { protocol: string }) => p.protocol)).toEqual(
        stored.protocols.map((p) => p.protocol),
      );
      stored.protocols.forEach((p, i) =>
        p.positions.forEach((pos, j) => {
          const got = res.body.protocols[i].positions[j];
          const amount = pos.kind === 'perp' ? pos.size : pos.amount;
          const gotAmount = pos.kind === 'perp' ? got.size : got.amount;
          expect(gotAmount.raw).toBe(amount.raw.toString());
          expect(gotAmount.decimals).toBe(amount.decimals);
          if (amount.raw > BigInt(Number.MAX_SAFE_INTEGER) || -amount.raw > BigInt(Number.MAX_SAFE_INTEGER))
            above53++;
        }),
      );
    }
    expect(above53).toBeGreaterThan(0); // 18-decimal balances: beyond 2^53, and still exact
  });

  it('answers 404 for an account the indexer holds nothing for', async () => {
    expectError(
      await request(api.url).get(`/v1/accounts/${owner('fresh-wallet')}/positions`),
      404,
      'address',
    );
  });
});

describe('GET /v1/accounts/{address}/history', () => {
  it('answers stored results newest first, pages with limit and before', async () => {
    const o = seeded.owners[0]!;
    const all = await request(api.url).get(`/v1/accounts/${o}/history`).expect(200);
    expect(all.body.records.map((r: { blockNumber: string }) => r.blockNumber)).toEqual([
      b2.toString(),
      b1.toString(),
    ]);
    expect(all.body.records[1].mmUsd6).toBe(seeded.records.get(b1)!.get(o)!.mmUsd6.toString());
    expect(all.body.nextBefore).toBeNull();
    const page = await request(api.url).get(`/v1/accounts/${o}/history?limit=1`).expect(200);
    expect(page.body.records).toHaveLength(1);
    expect(page.body.nextBefore).toBe(b2.toString());
    const next = await request(api.url)
      .get(`/v1/accounts/${o}/history?limit=1&before=${page.body.nextBefore}`)
      .expect(200);
    expect(next.body.records[0].blockNumber).toBe(b1.toString());
    expect(next.body.nextBefore).toBeNull();
    const exact = await request(api.url).get(`/v1/accounts/${o}/history?limit=2`).expect(200);
    expect(exact.body.records).toHaveLength(2);
    expect(exact.body.nextBefore).toBeNull();
  });

  it.each([
    ['limit', '0'],
    ['limit', '1e2'],
    ['limit', '1001'],
    ['before', '1e18'],
    ['before', '-1'],
    ['before', '0x10'],
    ['before', (1n << 256n).toString()],
  ])('refuses %s=%s', async (name, value) => {
    expectError(
      await request(api.url).get(`/v1/accounts/${seeded.owners[0]}/history?${name}=${value}`),
      400,
      name,
    );
  });

  it('answers 404 for an unknown account', async () => {
    expectError(await request(api.url).get(`/v1/accounts/${owner('fresh-wallet')}/history`), 404, 'address');
  });
});

describe('POST /v1/margin/what-if', () => {
  const who = () => owner('all-venues-balanced');

  /** The engine run directly on the stored positions with `trades` applied, on the latest result's market and set. */
  function direct(o: Address, trades: Trade[]) {
    const market = seeded.markets.get(b2)!;
    const snapshot = seedSnapshot(market, seeded.set);
    const ctx = prepareMarket(snapshot, seeded.set.params);
    const positions: Position[] = applyTrades(
      positionsOf(seeded.positions.get(o)!),
      trades,
      market.snapshot.market,
      (leg) => computeAccountRiskIn(ctx, { account: o, positions: [leg] }).mtmUsd,
    );
    return Object.assign(computeAccountRisk({ account: o, positions, ...snapshot }, seeded.set.params), {
      scenarioGrid: computeScenarioGrid(ctx, { account: o, positions }),
    });
  }

  it('equals the engine run directly on the modified positions, with the delta against now', async () => {
    const o = who();
    const eth = seeded.markets.get(b2)!.snapshot.market.volSurfaces.ETH!;
    const trades: Trade[] = [
      { type: 'perp', underlying: 'ETH', size: '-0.75' },
      {
        type: 'option',
        side: 'sell',
        underlying: 'ETH',
        expirySec: eth[0]!.expirySec,
        strikeUsd: '4000',
        optionType: 'call',
        amount: '1.5',
      },
      { type: 'aave', action: 'borrow', asset: 'USDC', amount: '1200.5' },
    ];
    const res = await request(api.url)
      .post('/v1/margin/what-if')
      .send({ address: o.toLowerCase(), trades })
      .expect(200);
    const expected = direct(o, trades);
    const figures = usd6Figures(expected);
    for (const f of USD6_FIELDS) expect(res.body.whatIf[f]).toBe(figures[f].toString());
    expect(res.body.whatIf.inputHash).toBe(expected.inputHash);
    expect(res.body.whatIf.byUnderlying).toEqual(wire(expected.byUnderlying));
    expect(res.body.whatIf.worstScenario).toEqual(wire(expected.worstScenario));
    expect(res.body.whatIf.scenarioGrid).toEqual(wire(expected.scenarioGrid));
    expect(res.body.whatIf.scenarioGrid).not.toEqual(res.body.now.scenarioGrid);
    // `now` is the latest stored result, recomputed on the same basis: identical.
    const r = latest(o);
    expect(res.body.basis).toEqual({
      blockNumber: b2.toString(),
      blockHash: r.blockHash,
      paramsVersion: r.paramsVersion,
      paramsHash: r.paramsHash,
      positionsBlockNumber: b1.toString(),
      sameAsLatest: true,
    });
    for (const f of USD6_FIELDS) {
      expect(res.body.now[f]).toBe(r[f].toString());
      expect(res.body.delta[f]).toBe((figures[f] - r[f]).toString());
    }
    expect(res.body.now.inputHash).toBe(r.inputHash);
    expect(res.body.delta.health).toEqual({ from: r.health, to: res.body.whatIf.health });
    expect(res.body.whatIf.mmUsd6).not.toBe(res.body.now.mmUsd6);
  });

  it('keeps amounts beyond 2^53 exact end to end', async () => {
    const o = who();
    const trades: Trade[] = [
      { type: 'aave', action: 'supply', asset: 'WETH', amount: '123456789.123456789123456789' },
    ];
    const res = await request(api.url).post('/v1/margin/what-if').send({ address: o, trades }).expect(200);
    const figures = usd6Figures(direct(o, trades));
    expect(figures.mtmUsd6 > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(res.body.whatIf.mtmUsd6).toBe(figures.mtmUsd6.toString());
    expect(res.text).toContain(`"mtmUsd6":"${figures.mtmUsd6}"`);
  });

  const base = (t: Record<string, unknown>) => ({ address: seeded.owners[0], trades: [t] });
  it.each([
    ['1e18', 'trades[0].amount'],
    ['-1', 'trades[0].amount'],
    ['0x10', 'trades[0].amount'],
    [(1n << 256n).toString(), 'trades[0].amount'],
  ])('refuses the amount %s', async (amount, field) => {
    const res = await request(api.url)
      .post('/v1/margin/what-if')
      .send(base({ type: 'aave', action: 'supply', asset: 'USDC', amount }));
    expectError(res, 400, field, 'INVALID_AMOUNT');
  });

  it('refuses a JSON number where a decimal string is required', async () => {
    const res = await request(api.url)
      .post('/v1/margin/what-if')
      .send(base({ type: 'perp', underlying: 'ETH', size: 1.5 }));
    expectError(res, 400, 'trades[0].size', 'INVALID_AMOUNT');
  });

  it('refuses a malformed or wrongly checksummed address', async () => {
    const trades = [{ type: 'perp', underlying: 'ETH', size: '1' }];
    expectError(
      await request(api.url).post('/v1/margin/what-if').send({ address: '0xabc', trades }),
      400,
      'address',
    );
    expectError(
      await request(api.url)
        .post('/v1/margin/what-if')
        .send({ address: flipCase(seeded.owners[0]!), trades }),
      400,
      'address',
      'INVALID_ADDRESS_CHECKSUM',
    );
  });

  it('answers 413 for a trade list over the limit, naming trades', async () => {
    const trades = new Array(9).fill({ type: 'aave', action: 'supply', asset: 'USDC', amount: '1' });
    const res = await request(api.url).post('/v1/margin/what-if').send({ address: seeded.owners[0], trades });
    expectError(res, 413, 'trades', 'BATCH_TOO_LARGE');
    expect(res.body.error.message).toMatch(/at most 8/);
  });

  it('answers 413 for a body over the limit, naming the limit', async () => {
    const res = await request(api.url)
      .post('/v1/margin/what-if')
      .send({ address: seeded.owners[0], trades: [], pad: 'x'.repeat(20_000) });
    expectError(res, 413, 'body', 'BODY_TOO_LARGE');
    expect(res.body.error.message).toMatch(/16384 bytes/);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const res = await request(api.url)
      .post('/v1/margin/what-if')
      .set('content-type', 'application/json')
      .send('{"address":');
    expectError(res, 400, 'body', 'INVALID_JSON');
  });

  it('answers 404 for an account with no result', async () => {
    const res = await request(api.url)
      .post('/v1/margin/what-if')
      .send({ address: owner('fresh-wallet'), trades: [{ type: 'perp', underlying: 'ETH', size: '1' }] });
    expectError(res, 404, 'address', 'ACCOUNT_NOT_FOUND');
  });

  it('refuses a trade the account cannot make, naming it', async () => {
    const res = await request(api.url)
      .post('/v1/margin/what-if')
      .send({
        address: who(),
        trades: [{ type: 'aave', action: 'withdraw', asset: 'WETH', amount: '100000000' }],
      });
    expectError(res, 400, 'trades[0].amount', 'INSUFFICIENT_BALANCE');
  });
});

describe('OpenAPI and modules', () => {
  it('lists every route at /docs-json and serves the UI at /docs', async () => {
    const doc = await request(api.url).get('/docs-json').expect(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/accounts/{address}/health',
        '/v1/accounts/{address}/positions',
        '/v1/accounts/{address}/history',
        '/v1/margin/what-if',
        '/v1/feed/shortfalls',
      ]),
    );
    const health = doc.body.paths['/v1/accounts/{address}/health'].get.responses;
    const schema = health['200'].content['application/json'].schema;
    expect(schema.properties.imUsd6.type).toBe('string'); // bigints are documented as strings
    expect(schema.properties.scenarioGrid.required).toEqual([
      'spotShockFractions',
      'volShocks',
      'pnlUsd',
      'worst',
    ]);
    expect(Object.keys(health)).toEqual(expect.arrayContaining(['200', '400', '404']));
    const whatIf = doc.body.paths['/v1/margin/what-if'].post;
    expect(Object.keys(whatIf.responses)).toEqual(expect.arrayContaining(['200', '400', '404', '413']));
    expect(whatIf.requestBody.content['application/json'].schema.required).toEqual(['address', 'trades']);
    const ui = await request(api.url).get('/docs').expect(200);
    expect(ui.text).toMatch(/swagger/i);
  });

  it('documents a history row with exactly the fields the answer carries', async () => {
    const doc = await request(api.url).get('/docs-json').expect(200);
    const rows =
      doc.body.paths['/v1/accounts/{address}/history'].get.responses['200'].content['application/json'].schema
        .properties.records.items.properties;
    const answer = await request(api.url).get(`/v1/accounts/${seeded.owners[0]}/history?limit=1`).expect(200);
    expect(Object.keys(rows).sort()).toEqual(Object.keys(answer.body.records[0]).sort());
  });

  it('serves the shortfall feed (a bad resume id is refused before the stream starts)', async () => {
    const res = await request(api.url).get('/v1/feed/shortfalls?after=not-an-id');
    expect(res.status).toBe(400);
  });
});
