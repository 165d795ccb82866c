/**
 * The API entrypoint: a bad variable exits with code 2 and one JSON line naming it; with Redis down
 * the API still starts, and answers 503 with a hint instead of hanging or failing with a 500.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import request from 'supertest';
import { getFreePort } from '../src/devnet/anvil';
import { testNetwork } from '../src/indexer/redis/test-redis';
import { startApiProcess, stopApiProcess } from './helpers/api-process';

function run(env: Record<string, string>) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/api.ts'], {
    cwd: resolve(__dirname, '..'),
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const lines = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { event: string; code?: string; error?: string; hint?: string });
  return { status: r.status, lines };
}

describe('src/api.ts', () => {
  it.each([
    ['API_PORT', 'eighty', /API_PORT/],
    ['API_MAX_TRADES', '0', /API_MAX_TRADES/],
    ['NETMARGIN_MANIFEST', '/nonexistent.json', /NETMARGIN_MANIFEST/],
  ])('exits 2 on %s=%s with the variable and a hint', (name, value, pattern) => {
    const { status, lines } = run({ [name]: value });
    expect(status).toBe(2);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ event: 'config-error', code: 'INVALID_INPUT' });
    expect(lines[0]!.error).toMatch(pattern);
    expect(lines[0]!.hint).toMatch(pattern);
  });

  it('starts with Redis down and answers 503 STORE_UNAVAILABLE', async () => {
    const port = await getFreePort(); // nothing listens there
    const api = await startApiProcess(testNetwork(), { REDIS_URL: `redis://127.0.0.1:${port}` });
    try {
      const res = await request(api.url).get(
        '/v1/accounts/0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed/health',
      );
      expect(res.status).toBe(503);
      expect(res.body.error).toMatchObject({
        code: 'STORE_UNAVAILABLE',
        hint: expect.stringMatching(/REDIS_URL/),
      });
      const errors = api.lines.filter((l) => l.includes('"api.redis-error"'));
      expect(errors.length).toBeGreaterThan(0);
    } finally {
      await stopApiProcess(api);
    }
  });
});
