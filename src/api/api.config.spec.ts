import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from '../common/errors';
import { loadApiConfig } from './api.config';

function refusal(env: Record<string, string>): InvalidInputError {
  try {
    loadApiConfig(env);
  } catch (err) {
    if (err instanceof InvalidInputError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('loadApiConfig', () => {
  it('has defaults for everything', () => {
    const c = loadApiConfig({ NETMARGIN_MANIFEST: '' });
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 8_787,
      redisUrl: 'redis://127.0.0.1:6379',
      network: 'local',
      bodyLimitBytes: 65_536,
      maxTrades: 50,
      maxBatch: 100,
      warningBufferBps: 1_000,
    });
  });

  it('reads every variable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netmargin-api-config-'));
    const manifest = join(dir, 'm.json');
    writeFileSync(manifest, '{}');
    try {
      const c = loadApiConfig({
        API_HOST: '0.0.0.0',
        API_PORT: '0',
        REDIS_URL: 'redis://redis:6379/1',
        NETMARGIN_NETWORK: 'op-sepolia',
        NETMARGIN_MANIFEST: manifest,
        API_BODY_LIMIT_BYTES: '1024',
        API_MAX_TRADES: '3',
        API_MAX_BATCH: '7',
        NETMARGIN_RISK_WARNING_BPS: '500',
      });
      expect(c).toMatchObject({
        host: '0.0.0.0',
        port: 0,
        redisUrl: 'redis://redis:6379/1',
        network: 'op-sepolia',
        manifestPath: manifest,
        bodyLimitBytes: 1_024,
        maxTrades: 3,
        maxBatch: 7,
        warningBufferBps: 500,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['API_PORT', '80000'],
    ['API_PORT', 'http'],
    ['API_BODY_LIMIT_BYTES', '1e6'],
    ['API_MAX_TRADES', '0'],
    ['API_MAX_BATCH', '-1'],
    ['REDIS_URL', 'localhost:6379'],
    ['NETMARGIN_NETWORK', 'a:b'],
    ['API_HOST', 'a host'],
    ['NETMARGIN_MANIFEST', '/nonexistent/manifest.json'],
  ])('refuses %s=%s, naming it with a hint', (name, value) => {
    const e = refusal({ [name]: value });
    expect(e.field).toBe(name);
    expect(e.hint).toContain(name === 'NETMARGIN_MANIFEST' ? 'manifest' : name);
  });
});
