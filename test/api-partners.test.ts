/**
 * The partner endpoints against a real API process, real Redis and the devnet: records computed by
 * the real engine from the devnet personas (test/helpers/api-seed.ts), posted on chain by the real
 * poster, then read back by signed requests. Covers every authentication path (good signature, bad
 * signature, stale timestamp, replayed nonce, unknown key, missing header), the per-key rate limit
 * (429 + Retry-After), the batch limit (413) and bad addresses (400).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { getAddress } from 'viem';
import { privateKeyToAddress, generatePrivateKey } from 'viem/accounts';
import { iMarginReaderAbi } from '../src/contracts/generated';
import { getFreePort } from '../src/devnet/anvil';
import { startDevnet, type Devnet } from '../src/devnet/devnet';
import { connectTestRedis, deleteKeys, testNetwork } from '../src/indexer/redis/test-redis';
import { partnerHeaders } from '../src/api/partners/signing';
import { startApiProcess, stopApiProcess, type ApiProcess } from './helpers/api-process';
import { seedFromDevnet, type Seeded } from './helpers/api-seed';
import { postSeededRecords } from './helpers/post-seeded';

const KEY = { id: 'acme', secret: randomBytes(32).toString('hex') };
const SLOW = { id: 'slow-partner', secret: randomBytes(32).toString('hex'), ratePerWindow: 3 };
const SLOW_TOO = { id: 'slow-partner-2', secret: randomBytes(32).toString('hex'), ratePerWindow: 3 };
const MAX_BATCH = 5;

let devnet: Devnet;
let redis: Redis;
let network: string;
let seeded: Seeded;
let api: ApiProcess;
let dir: string;

const nowSec = () => Math.floor(Date.now() / 1000);
const nonce = () => randomBytes(16).toString('hex');

function signed(
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  opts: { key?: { id: string; secret: string }; timestampSec?: number; nonce?: string } = {},
) {
  const k = opts.key ?? KEY;
  const raw = body === undefined ? '' : JSON.stringify(body);
  const headers = partnerHeaders(k.id, k.secret, {
    method,
    pathAndQuery: path,
    timestampSec: opts.timestampSec ?? nowSec(),
    nonce: opts.nonce ?? nonce(),
    body: raw,
  });
  const r = method === 'GET' ? request(api.url).get(path) : request(api.url).post(path);
  r.set(headers);
  if (body !== undefined) r.set('content-type', 'application/json').send(raw);
  return r;
}

beforeAll(async () => {
  redis = await connectTestRedis();
  network = testNetwork();
  devnet = await startDevnet({ port: await getFreePort(), blockTimeSec: 0, manifestPath: null });
  seeded = await seedFromDevnet(devnet, redis, network);
  await postSeededRecords(devnet, redis, network, seeded);
  dir = mkdtempSync(join(tmpdir(), 'nm-partners-'));
  const manifestPath = join(dir, 'manifest.json');
  writeFileSync(manifestPath, JSON.stringify(devnet.manifest));
  api = await startApiProcess(network, {
    NETMARGIN_MANIFEST: manifestPath,
    NETMARGIN_PARTNER_KEYS: JSON.stringify([KEY, SLOW, SLOW_TOO]),
    NETMARGIN_PARTNER_RATE_WINDOW_MS: '60000',
    NETMARGIN_PARTNER_HEAD_POLL_MS: '100',
    API_MAX_BATCH: String(MAX_BATCH),
  });
}, 240_000);

afterAll(async () => {
  await stopApiProcess(api);
  await deleteKeys(redis, `nm:${network}:`);
  await redis.quit();
  await devnet?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('GET /v1/partners/accounts/{address}/margin', () => {
  it('answers what the aggregator’s views say, with the attestation and the matching off-chain result', async () => {
    const owner = seeded.owners[0]!;
    const res = await signed('GET', `/v1/partners/accounts/${owner.toLowerCase()}/margin`);
    expect(res.status).toBe(200);
    const pc = devnet.clients.publicClient;
    const agg = devnet.manifest.aggregator!.address;
    const [im, mm, collateral, shortfall, attestedBlock, stale] = await pc.readContract({
      address: agg,
      abi: iMarginReaderAbi,
      functionName: 'marginOf',
      args: [owner],
    });
    const free = await pc.readContract({
      address: agg,
      abi: iMarginReaderAbi,
      functionName: 'freeCollateral',
      args: [owner],
    });
    const liq = await pc.readContract({
      address: agg,
      abi: iMarginReaderAbi,
      functionName: 'isLiquidatable',
      args: [owner],
    });
    const body = res.body as {
      account: string;
      chainError: string | null;
      onChain: Record<string, unknown>;
      attestation: Record<string, unknown> & { postedTx: `0x${string}`; postedBlock: string };
      offChain: { matchesAttestation: boolean; atAttestedBlock: { inputHash: string }; latest: unknown };
    };
    expect(body.account).toBe(getAddress(owner));
    expect(body.chainError).toBeNull();
    expect(body.onChain).toMatchObject({
      imUsd6: im.toString(),
      mmUsd6: mm.toString(),
      collateralUsd6: collateral.toString(),
      shortfallUsd6: shortfall.toString(),
      freeCollateralUsd6: free.toString(),
      liquidatable: liq,
      stale,
    });
    const record = [...seeded.records.values()][0]!.get(owner)!;
    expect(attestedBlock).toBe(record.blockNumber);
    expect(body.attestation).toMatchObject({
      blockNumber: record.blockNumber.toString(),
      imUsd6: record.imUsd6.toString(),
      mmUsd6: record.mmUsd6.toString(),
      mtmUsd6: record.mtmUsd6.toString(),
      inputsHash: record.inputHash,
      paramsHash: record.paramsHash,
    });
    const receipt = await pc.getTransactionReceipt({ hash: body.attestation.postedTx });
    expect(receipt.status).toBe('success');
    expect(body.attestation.postedBlock).toBe(receipt.blockNumber.toString());
    expect(body.offChain.matchesAttestation).toBe(true);
    expect(body.offChain.atAttestedBlock.inputHash).toBe(record.inputHash);
    expect(body.offChain.latest).toMatchObject({ imUsd6: record.imUsd6.toString(), health: record.health });
  });

  it('is documented with exactly the fields it answers, down to the off-chain results', async () => {
    const doc = await request(api.url).get('/docs-json').expect(200);
    const schema =
      doc.body.paths['/v1/partners/accounts/{address}/margin'].get.responses['200'].content[
        'application/json'
      ].schema;
    const res = await signed('GET', `/v1/partners/accounts/${seeded.owners[0]}/margin`);
    expect(res.status).toBe(200);
    const keys = (o: object) => Object.keys(o).sort();
    expect(keys(schema.properties)).toEqual(keys(res.body));
    for (const part of ['onChain', 'attestation', 'offChain'])
      expect(keys(schema.properties[part].properties)).toEqual(keys(res.body[part]));
    for (const part of ['atAttestedBlock', 'latest'])
      expect(keys(schema.properties.offChain.properties[part].properties)).toEqual(
        keys(res.body.offChain[part]),
      );
  });

  it('answers an account never attested with the views’ zeros and no attestation', async () => {
    const stranger = privateKeyToAddress(generatePrivateKey());
    const res = await signed('GET', `/v1/partners/accounts/${stranger}/margin`);
    expect(res.status).toBe(200);
    expect(res.body.attestation).toBeNull();
    expect(res.body.onChain).toMatchObject({ imUsd6: '0', mmUsd6: '0', stale: true, liquidatable: false });
    expect(res.body.offChain).toEqual({ atAttestedBlock: null, matchesAttestation: null, latest: null });
  });

  it('answers the same bytes on the margin route and through the NestJS route', async () => {
    const path = `/v1/partners/accounts/${seeded.owners[1]}/margin`;
    const fast = await signed('GET', path);
    const framework = await signed('GET', `${path}/`);
    expect(fast.status).toBe(200);
    expect(framework.status).toBe(200);
    expect(fast.headers['content-type']).toBe(framework.headers['content-type']);
    expect(fast.text).toBe(framework.text);
    expect(fast.body.account).toBe(seeded.owners[1]);
  });

  it.each([
    ['malformed', '0x1234', 'INVALID_ADDRESS'],
    ['wrongly checksummed', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD', 'INVALID_ADDRESS_CHECKSUM'],
  ])('refuses a %s address with 400 naming the field, on both routes', async (_what, address, code) => {
    for (const suffix of ['', '/']) {
      const res = await signed('GET', `/v1/partners/accounts/${address}/margin${suffix}`);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code, field: 'address' });
    }
  });
});

describe('POST /v1/partners/margin', () => {
  it('answers every account in request order', async () => {
    const accounts = seeded.owners.slice(0, 3);
    const res = await signed('POST', '/v1/partners/margin', {
      accounts: accounts.map((a) => a.toLowerCase()),
    });
    expect(res.status).toBe(200);
    expect((res.body.accounts as { account: string }[]).map((v) => v.account)).toEqual(accounts);
    for (const v of res.body.accounts as { offChain: { matchesAttestation: boolean } }[])
      expect(v.offChain.matchesAttestation).toBe(true);
  });

  it('refuses more accounts than the batch limit with 413 naming the field', async () => {
    const accounts = Array.from({ length: MAX_BATCH + 1 }, () => privateKeyToAddress(generatePrivateKey()));
    const res = await signed('POST', '/v1/partners/margin', { accounts });
    expect(res.status).toBe(413);
    expect(res.body.error).toMatchObject({ code: 'BATCH_TOO_LARGE', field: 'accounts' });
  });

  it('refuses a bad address in the list, naming its index', async () => {
    const res = await signed('POST', '/v1/partners/margin', { accounts: [seeded.owners[0], '0xnope'] });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'INVALID_ADDRESS', field: 'accounts[1]' });
  });

  it('refuses a body without an accounts array', async () => {
    const res = await signed('POST', '/v1/partners/margin', { account: seeded.owners[0] });
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe('accounts');
  });

  it('refuses a body that differs from the one signed', async () => {
    const path = '/v1/partners/margin';
    const headers = partnerHeaders(KEY.id, KEY.secret, {
      method: 'POST',
      pathAndQuery: path,
      timestampSec: nowSec(),
      nonce: nonce(),
      body: JSON.stringify({ accounts: [seeded.owners[0]] }),
    });
    const res = await request(api.url)
      .post(path)
      .set(headers)
      .set('content-type', 'application/json')
      .send(JSON.stringify({ accounts: [seeded.owners[1]] }));
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('PARTNER_SIGNATURE_MISMATCH');
  });
});

// The canonical GET is answered by the margin route in front of the framework
// (src/api/partners/margin-route.ts); the same path with a trailing slash goes through NestJS's
// guard, pipe and controller. Every check must hold on both.
describe.each([
  ['the margin route', '', SLOW],
  ['the NestJS route (trailing slash)', '/', SLOW_TOO],
])('authentication, %s', (_route, suffix, SLOW) => {
  const path = () => `/v1/partners/accounts/${seeded.owners[0]}/margin${suffix}`;

  it('refuses a signature made with another secret', async () => {
    const res = await signed('GET', path(), undefined, { key: { id: KEY.id, secret: 'x'.repeat(64) } });
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'PARTNER_SIGNATURE_MISMATCH', field: 'x-nm-signature' });
  });

  it('refuses a signature over another path', async () => {
    const headers = partnerHeaders(KEY.id, KEY.secret, {
      method: 'GET',
      pathAndQuery: `/v1/partners/accounts/${seeded.owners[1]}/margin`,
      timestampSec: nowSec(),
      nonce: nonce(),
      body: '',
    });
    const res = await request(api.url).get(path()).set(headers);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('PARTNER_SIGNATURE_MISMATCH');
  });

  it.each([
    ['six minutes old', -360],
    ['six minutes ahead', 360],
  ])('refuses a timestamp %s', async (_what, offset) => {
    const res = await signed('GET', path(), undefined, { timestampSec: nowSec() + offset });
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'PARTNER_TIMESTAMP_SKEW', field: 'x-nm-timestamp' });
  });

  it('refuses a replayed nonce, even with a fresh signature', async () => {
    const n = nonce();
    expect((await signed('GET', path(), undefined, { nonce: n })).status).toBe(200);
    const again = await signed('GET', path(), undefined, { nonce: n });
    expect(again.status).toBe(401);
    expect(again.body.error).toMatchObject({ code: 'PARTNER_NONCE_REPLAYED', field: 'x-nm-nonce' });
  });

  it('refuses an unknown key', async () => {
    const res = await signed('GET', path(), undefined, { key: { id: 'nobody', secret: KEY.secret } });
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'PARTNER_KEY_UNKNOWN', field: 'x-nm-key' });
  });

  it('refuses an unsigned request, naming the missing header', async () => {
    const res = await request(api.url).get(path());
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'PARTNER_AUTH_MISSING', field: 'x-nm-key' });
  });

  it('limits each key to its rate and answers 429 with Retry-After', async () => {
    const statuses: number[] = [];
    let limited: request.Response | undefined;
    for (let i = 0; i < SLOW.ratePerWindow + 1; i++) {
      const res = await signed('GET', path(), undefined, { key: SLOW });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    const retryAfter = Number(limited!.headers['retry-after']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited!.body.error.code).toBe('PARTNER_RATE_LIMITED');
    // Another key is not limited by it.
    expect((await signed('GET', path())).status).toBe(200);
  });
});

describe('logs', () => {
  it('never contain a secret', () => {
    const out = api.lines.join('\n');
    for (const k of [KEY, SLOW, SLOW_TOO]) expect(out).not.toContain(k.secret);
  });
});
