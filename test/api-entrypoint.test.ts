/** The API entrypoint's refusals: a bad variable exits with code 2 and one JSON line naming it. */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

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
});
