/**
 * `npm run demo` as a user runs it (`src/demo/demo.ts` under tsx, a child process): `--fast` runs to
 * its end and prints each section (start-up steps with ✓, the dashboard URL, the first attestations,
 * market steps, margin tables, attestations, shortfall events, a liquidation, the summary); Ctrl-C
 * (SIGINT) during the run stops every process it started (the API and the devnet stop answering); a
 * child killed during the run ends the demo with exit code 1 and its last lines; `--help` and a bad
 * option answer without starting anything.
 */
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { redisUrl } from '../src/indexer/redis/test-redis';

const ROOT = resolve(__dirname, '..');

function startDemo(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/demo/demo.ts', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, REDIS_URL: redisUrl() },
  });
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => void lines.push(l));
  child.stderr!.on('data', (d) => void lines.push(String(d)));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const waitFor = async (re: RegExp, timeoutMs: number): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = lines.find((l) => re.test(l));
      if (hit) return hit;
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`no line matching ${re}:\n${lines.join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return { child, lines, exited, waitFor };
}

const answers = async (url: string, body?: string): Promise<boolean> => {
  try {
    await fetch(url, body ? { method: 'POST', body, headers: { 'content-type': 'application/json' } } : {});
    return true;
  } catch {
    return false;
  }
};

describe('npm run demo', () => {
  it('--fast runs to its end and narrates every section', async () => {
    const demo = startDemo(['--fast', '--steps', '8']);
    const code = await demo.exited;
    const out = demo.lines.join('\n');
    expect({ code, out }).toEqual({ code: 0, out: expect.any(String) });
    for (const step of [
      'Redis',
      'devnet',
      'risk parameter set',
      'worker',
      'poster',
      'API',
      'reference liquidator',
    ])
      expect(out).toMatch(new RegExp(`^✓ ${step}.*\\([0-9.]+ s\\)$`, 'm'));
    expect(out).toMatch(/^ {2}dashboard http:\/\/127\.0\.0\.1:[0-9]+\/dashboard$/m);
    expect(out).toMatch(/^✓ first attestations on chain/m);
    expect(out).toMatch(/^market step 8\/8: ETH \$[0-9.]+ /m);
    expect(out).toMatch(/^margins at block [0-9]+:$/m);
    expect(out).toMatch(/^ {2}aave-near-liquidation +(healthy|warning|below-im|below-mm|liquidatable) +\$/m);
    expect(out).toMatch(/^attestation: tx 0x[0-9a-f]{64} in block [0-9]+, [0-9]+ account\(s\): /m);
    expect(out).toMatch(/^shortfall event [0-9]+-[0-9]+: \S+ \S+ → (below-mm|liquidatable) /m);
    expect(out).toMatch(
      /^liquidation \(aave\): aave-near-liquidation by 0x[0-9a-fA-F]{8}…, repaid .* tx 0x[0-9a-f]{64} in block [0-9]+$/m,
    );
    expect(out).toMatch(/^ {2}attestations: [1-9][0-9]* transaction\(s\)/m);
    expect(out).toMatch(/^stopped$/m);
  }, 240_000);

  it('Ctrl-C stops everything it started', async () => {
    const demo = startDemo(['--steps', '60', '--speed', '1']);
    try {
      const dashboard = (await demo.waitFor(/^ {2}dashboard /, 180_000)).trim().split(' ')[1]!;
      const rpc = (await demo.waitFor(/^ {2}RPC /, 1_000)).trim().split(' ')[1]!;
      expect(await answers(dashboard)).toBe(true);
      expect(await answers(rpc, '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}')).toBe(true);
      demo.child.kill('SIGINT');
      expect(await demo.exited).toBe(130);
      expect(demo.lines).toContain('stopped');
      expect(await answers(dashboard)).toBe(false);
      expect(await answers(rpc, '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}')).toBe(false);
    } finally {
      if (demo.child.exitCode === null) demo.child.kill('SIGKILL');
    }
  }, 240_000);

  it('a child that stops on its own is reported with its last lines and ends the demo', async () => {
    const demo = startDemo(['--steps', '60', '--speed', '1', '--no-liquidator']);
    try {
      const poster = await demo.waitFor(/^✓ poster, pid [0-9]+ /, 180_000);
      await demo.waitFor(/^ {2}dashboard /, 60_000);
      expect(demo.lines.some((l) => l.startsWith('✓ reference liquidator'))).toBe(false);
      const pid = Number(/pid ([0-9]+)/.exec(poster)![1]);
      process.kill(-pid, 'SIGKILL'); // the poster's own process group, started by the demo
      expect(await demo.exited).toBe(1);
      const out = demo.lines.join('\n');
      expect(out).toMatch(/^demo failed: The poster stopped on its own \(SIGKILL\)\. Its last lines:$/m);
      expect(out).toMatch(/"event":"poster.started"/);
      expect(demo.lines).toContain('stopped');
    } finally {
      if (demo.child.exitCode === null) demo.child.kill('SIGKILL');
    }
  }, 240_000);

  it('--help prints the options; a bad option exits 2 with the fix', () => {
    const help = spawnSync(process.execPath, ['--import', 'tsx', 'src/demo/demo.ts', '--help'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(help.status).toBe(0);
    for (const flag of ['--fast', '--no-liquidator', '--speed', '--steps'])
      expect(help.stdout).toContain(flag);
    const bad = spawnSync(process.execPath, ['--import', 'tsx', 'src/demo/demo.ts', '--turbo'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(bad.status).toBe(2);
    expect(bad.stdout).toMatch(/unknown option "--turbo"/);
    expect(bad.stdout).toMatch(/--help/);
  }, 60_000);
});
