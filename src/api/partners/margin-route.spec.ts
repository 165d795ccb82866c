/**
 * The margin route in front of the framework: which requests it takes (GET, the exact path with a
 * hex address, any query) and which it leaves to the next listener (everything else), and that what
 * it answers is the API's: the signature checked by the real `PartnerAuth` on real Redis, the one
 * error shape, `Retry-After` on a 429. The full answers (views, attestation) and their equality with
 * the NestJS route are tested against the API process in test/api-partners.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { createClient, http } from 'viem';
import { redisKeys } from '../../indexer/redis/keys';
import { connectTestRedis, deleteKeys, testNetwork } from '../../indexer/redis/test-redis';
import { RedisRiskResultStore } from '../../pipeline/result-store';
import { PartnerAuth } from './auth';
import { partnerMarginRoute, routeFirst } from './margin-route';
import { PartnerMarginService } from './margin.service';
import { loadPartnersConfig } from './partners.config';
import { partnerHeaders } from './signing';

const ADDRESS = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
const KEY = { id: 'acme', secret: randomBytes(32).toString('hex'), ratePerWindow: 2 };

let redis: Redis;
let network: string;
let server: Server;
let auth: PartnerAuth;
let port: number;
/** Requests the framework (the listener behind the route) received. */
const passedOn: string[] = [];
const logged: string[] = [];

beforeAll(async () => {
  redis = await connectTestRedis();
  network = testNetwork();
  const config = loadPartnersConfig({
    NETMARGIN_PARTNER_KEYS: JSON.stringify([KEY]),
    NETMARGIN_PARTNER_RATE_WINDOW_MS: '60000',
  });
  auth = new PartnerAuth(redis.duplicate(), network, config);
  // No aggregator: a request that passes the checks is answered 503 NO_AGGREGATOR, never reads a chain.
  const margin = new PartnerMarginService({
    client: createClient({ transport: http('http://127.0.0.1:1') }),
    aggregator: undefined,
    results: new RedisRiskResultStore(redis, redisKeys(network).pipeline.results),
    headPollMs: 1_000,
  });
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    passedOn.push(`${req.method} ${req.url}`);
    res.statusCode = 299;
    res.end('framework');
  });
  routeFirst(
    server,
    partnerMarginRoute(auth, margin, (event) => logged.push(event)),
  );
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((ok) => server.close(ok));
  await auth.close();
  await deleteKeys(redis, `nm:${network}:`);
  await redis.quit();
});

function send(
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += String(d)));
      res.on('end', () => ok({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

const sign = (path: string, key: { id: string; secret: string } = KEY) =>
  partnerHeaders(key.id, key.secret, {
    method: 'GET',
    pathAndQuery: path,
    timestampSec: Math.floor(Date.now() / 1000),
    nonce: randomBytes(16).toString('hex'),
    body: '',
  });

describe('partnerMarginRoute', () => {
  it.each([
    ['the canonical path', `/v1/partners/accounts/${ADDRESS}/margin`],
    ['a lowercase address', `/v1/partners/accounts/${ADDRESS.toLowerCase()}/margin`],
    ['a query string', `/v1/partners/accounts/${ADDRESS}/margin?fresh=1`],
  ])('takes a GET of %s and answers it in the API’s error shape', async (_what, path) => {
    const before = passedOn.length;
    const res = await send('GET', path);
    expect(passedOn.length).toBe(before);
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(res.body)).toEqual({
      error: {
        code: 'PARTNER_AUTH_MISSING',
        message: 'x-nm-key: the header is missing',
        field: 'x-nm-key',
        hint: expect.stringContaining('x-nm-signature') as unknown as string,
      },
    });
  });

  it.each([
    ['HEAD', `/v1/partners/accounts/${ADDRESS}/margin`],
    ['POST', `/v1/partners/accounts/${ADDRESS}/margin`],
    ['GET', `/v1/partners/accounts/${ADDRESS}/margin/`],
    ['GET', `/v1/partners/accounts/${ADDRESS.slice(0, 41)}/margin`],
    ['GET', `/v1/partners/accounts/%30x${ADDRESS.slice(2)}/margin`],
    ['GET', `/v1/partners/accounts/${ADDRESS}/marginal`],
    ['GET', `/v1/Partners/accounts/${ADDRESS}/margin`],
    ['GET', '/v1/partners/margin'],
    ['GET', '/health'],
  ])('leaves %s %s to the framework', async (method, path) => {
    const res = await send(method, path);
    expect(res.status).toBe(299);
    expect(passedOn.at(-1)).toBe(`${method} ${path}`);
  });

  it('checks the signature before anything else and then answers from the service', async () => {
    const path = `/v1/partners/accounts/${ADDRESS}/margin`;
    const forged = await send('GET', path, sign(path, { id: KEY.id, secret: 'f'.repeat(64) }));
    expect(forged.status).toBe(401);
    expect(JSON.parse(forged.body).error.code).toBe('PARTNER_SIGNATURE_MISMATCH');
    expect(logged).toEqual([]);
    const good = await send('GET', path, sign(path));
    expect(good.status).toBe(503);
    expect(JSON.parse(good.body).error.code).toBe('NO_AGGREGATOR');
    // A 5xx is logged, as the framework's exception filter logs it.
    expect(logged).toEqual(['api.error']);
  });

  it('refuses a wrongly checksummed address with 400 naming the field', async () => {
    const path = `/v1/partners/accounts/${ADDRESS.slice(0, -1)}D/margin`;
    const res = await send('GET', path, sign(path));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error).toMatchObject({ code: 'INVALID_ADDRESS_CHECKSUM', field: 'address' });
  });

  it('answers the rate limit with 429 and Retry-After', async () => {
    const path = `/v1/partners/accounts/${ADDRESS}/margin`;
    let res = await send('GET', path, sign(path));
    for (let i = 0; i < 5 && res.status !== 429; i++) res = await send('GET', path, sign(path));
    expect(res.status).toBe(429);
    expect(JSON.parse(res.body).error.code).toBe('PARTNER_RATE_LIMITED');
    const retryAfter = Number(res.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });
});
