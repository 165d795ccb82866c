import { InvalidInputError } from '../common/errors';
import { loadIndexerConfig } from './indexer.config';

/** The error `loadIndexerConfig(env)` throws (fails the test when it throws none). */
function refusal(env: Record<string, string>): InvalidInputError {
  try {
    loadIndexerConfig(env);
  } catch (e) {
    if (e instanceof InvalidInputError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe('loadIndexerConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    expect(loadIndexerConfig({})).toEqual({
      rpcUrls: undefined,
      rpcTimeoutMs: 10_000,
      redisUrl: 'redis://127.0.0.1:6379',
      network: 'local',
      manifestPath: 'deployments/local.json',
      roles: ['head', 'index', 'refresh'],
      indexConcurrency: 2,
      refreshConcurrency: 4,
      finalityDepth: 6,
      pollMs: 2_000,
      lockDurationMs: undefined,
      stalledIntervalMs: undefined,
      reconcileEveryMs: 300_000,
    });
  });

  it('reads every variable, trimming blanks and duplicate roles', () => {
    const c = loadIndexerConfig({
      NETMARGIN_RPC_URLS: ' http://127.0.0.1:8545 , https://rpc.example.org/key ,',
      NETMARGIN_RPC_TIMEOUT_MS: '750',
      REDIS_URL: 'redis://:secret@redis:6380/2',
      NETMARGIN_NETWORK: 'op-sepolia',
      NETMARGIN_MANIFEST: '/etc/netmargin/op-sepolia.json',
      NETMARGIN_ROLES: 'index, refresh,index',
      NETMARGIN_INDEX_CONCURRENCY: '8',
      NETMARGIN_REFRESH_CONCURRENCY: '16',
      NETMARGIN_FINALITY_DEPTH: '64',
      NETMARGIN_POLL_MS: '500',
      NETMARGIN_LOCK_DURATION_MS: '1500',
      NETMARGIN_STALLED_INTERVAL_MS: '700',
      NETMARGIN_RECONCILE_EVERY_MS: '0',
    });
    expect(c).toEqual({
      rpcUrls: ['http://127.0.0.1:8545', 'https://rpc.example.org/key'],
      rpcTimeoutMs: 750,
      redisUrl: 'redis://:secret@redis:6380/2',
      network: 'op-sepolia',
      manifestPath: '/etc/netmargin/op-sepolia.json',
      roles: ['index', 'refresh'],
      indexConcurrency: 8,
      refreshConcurrency: 16,
      finalityDepth: 64,
      pollMs: 500,
      lockDurationMs: 1_500,
      stalledIntervalMs: 700,
      reconcileEveryMs: 0,
    });
  });

  it('treats a blank variable as unset', () => {
    expect(loadIndexerConfig({ NETMARGIN_NETWORK: '  ', NETMARGIN_INDEX_CONCURRENCY: '' })).toMatchObject({
      network: 'local',
      indexConcurrency: 2,
    });
  });

  it.each([
    ['NETMARGIN_RPC_URLS', 'ws://127.0.0.1:8545', /not an http\(s\) URL/],
    [
      'NETMARGIN_RPC_URLS',
      'http://127.0.0.1:8545,localhost:8545',
      /"localhost:8545" is not an http\(s\) URL/,
    ],
    ['NETMARGIN_RPC_URLS', ' , ', /no URL/],
    ['REDIS_URL', '127.0.0.1:6379', /not a redis:\/\/ or rediss:\/\/ URL/],
    ['NETMARGIN_NETWORK', 'op:sepolia', /may only contain/],
    ['NETMARGIN_ROLES', 'index,writer', /unknown role "writer"/],
    ['NETMARGIN_ROLES', ',', /no role/],
    ['NETMARGIN_INDEX_CONCURRENCY', '0', /not a whole number ≥ 1/],
    ['NETMARGIN_INDEX_CONCURRENCY', '2.5', /not a whole number/],
    ['NETMARGIN_FINALITY_DEPTH', '-1', /not a whole number ≥ 1/],
    ['NETMARGIN_POLL_MS', '1e3', /not a whole number/],
    ['NETMARGIN_RPC_TIMEOUT_MS', 'soon', /not a whole number/],
    ['NETMARGIN_LOCK_DURATION_MS', '50', /not a whole number ≥ 100/],
    ['NETMARGIN_STALLED_INTERVAL_MS', '99999999999999999999', /not a whole number/],
    ['NETMARGIN_RECONCILE_EVERY_MS', '500', /below one second/],
  ])('refuses %s=%s, naming the variable and what to set', (name, value, problem) => {
    const e = refusal({ [name]: value });
    expect(e.field).toBe(name);
    expect(e.shortMessage).toMatch(problem);
    expect(e.shortMessage.startsWith(`${name}: `)).toBe(true);
    expect(e.hint).toContain(name);
  });
});
