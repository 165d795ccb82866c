/**
 * The worker entrypoint's refusals, as an operator meets them: a bad variable (the risk role's
 * included), `reconcile` without `refresh`, a missing manifest. Each stops the process before it
 * connects anywhere, with a non-zero code and a JSON line giving the error and what to do. (The
 * working paths are covered by test/indexer-faults.test.ts.)
 */
import { killWorkerGroup, spawnWorker, type WorkerProcess } from './helpers/worker-process';

const started: WorkerProcess[] = [];

afterAll(() => {
  for (const w of started) killWorkerGroup(w.child);
});

/** Runs the worker with `env` until it exits; returns its exit and its one failure line, parsed. */
async function refusal(env: Record<string, string>): Promise<{
  code: number | null;
  event: string;
  fields: { code?: string; error?: string; hint?: string };
}> {
  // A port nothing listens on: a worker that got as far as connecting would log redis errors instead.
  const w = spawnWorker({
    REDIS_URL: 'redis://127.0.0.1:1',
    NETMARGIN_RPC_URLS: 'http://127.0.0.1:1',
    ...env,
  });
  started.push(w);
  const { code } = await w.exited;
  const failures = w.lines.filter((l) => l.event === 'config-error' || l.event === 'start-error');
  expect(failures).toHaveLength(1);
  const [f] = failures as [{ event: string; line: string }];
  return {
    code,
    event: f.event,
    fields: JSON.parse(f.line) as { code?: string; error?: string; hint?: string },
  };
}

describe('src/worker.ts', () => {
  it('exits 2 on a bad variable, naming it and what to set', async () => {
    const r = await refusal({ NETMARGIN_INDEX_CONCURRENCY: 'many' });
    expect(r.code).toBe(2);
    expect(r.event).toBe('config-error');
    expect(r.fields.error).toBe('NETMARGIN_INDEX_CONCURRENCY: "many" is not a whole number ≥ 1');
    expect(r.fields.hint).toMatch(/^Set NETMARGIN_INDEX_CONCURRENCY to a whole number/);
  }, 60_000);

  it('exits 2 on reconcile without refresh, and on a bad risk-role variable', async () => {
    const risk = await refusal({ NETMARGIN_ROLES: 'index,risk', NETMARGIN_RISK_WARNING_BPS: '10%' });
    expect(risk).toMatchObject({ code: 2, event: 'config-error' });
    expect(risk.fields.error).toBe('NETMARGIN_RISK_WARNING_BPS: "10%" is not a whole number ≥ 0');
    const reconcile = await refusal({ NETMARGIN_ROLES: 'index,reconcile' });
    expect(reconcile).toMatchObject({ code: 2, fields: { code: 'ROLE_NOT_AVAILABLE' } });
    expect(reconcile.fields.hint).toMatch(/NETMARGIN_ROLES=refresh,reconcile/);
  }, 60_000);

  it('exits 1 when the manifest cannot be read, with the hint to start the devnet', async () => {
    const r = await refusal({ NETMARGIN_ROLES: 'index', NETMARGIN_MANIFEST: '/nonexistent/netmargin.json' });
    expect(r).toMatchObject({ code: 1, event: 'start-error', fields: { code: 'MANIFEST_NOT_FOUND' } });
    expect(r.fields.error).toContain('/nonexistent/netmargin.json');
    expect(r.fields.hint).toMatch(/npm run devnet/);
  }, 60_000);
});
