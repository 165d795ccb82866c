/**
 * The two CLIs as a user runs them: `npm run devnet` starts, prints the ready banner, writes the
 * manifest and stops anvil on Ctrl-C (SIGINT); `npm run devnet:market` drives it; bad input fails
 * fast with a message that says what to do.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadManifest } from '../src/config/manifest';
import { assertPortFree, getFreePort } from '../src/devnet/anvil';

const ROOT = join(__dirname, '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const CLI = join(ROOT, 'src', 'devnet', 'cli.ts');
const MARKET_CLI = join(ROOT, 'src', 'devnet', 'market-cli.ts');

function waitFor(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${pattern}; output:\n${out}`)),
      timeoutMs,
    );
    const onData = (b: Buffer): void => {
      out += b.toString();
      if (pattern.test(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!pattern.test(out)) reject(new Error(`exited with ${code} before ${pattern}; output:\n${out}`));
    });
  });
}

describe('npm run devnet (CLI)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'netmargin-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts, prints the ready banner and manifest, is driven by devnet:market, and stops anvil on SIGINT', async () => {
    const port = await getFreePort();
    const manifestPath = join(dir, 'local.json');
    const child = spawn(TSX, [CLI, '--port', String(port), '--manifest', manifestPath, '--block-time', '1'], {
      cwd: ROOT,
    });
    try {
      const out = await waitFor(child, /ready in [0-9.]+ s/, 90_000);
      expect(out).toContain(`RPC URL     http://127.0.0.1:${port}`);
      expect(out).toContain('chain id    901');
      expect(out).toContain('aave-near-liquidation');
      expect(existsSync(manifestPath)).toBe(true);
      expect(loadManifest(manifestPath).network.rpcUrl).toBe(`http://127.0.0.1:${port}`);

      const market = spawnSync(
        TSX,
        [MARKET_CLI, 'calm', '--manifest', manifestPath, '--instant', '--steps', '2'],
        {
          cwd: ROOT,
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      expect(market.status).toBe(0);
      expect(market.stdout).toMatch(/step 1\/2 .*WETH [0-9.]+/);
      expect(market.stdout).toContain('done: 2 steps');
    } finally {
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    }
    // anvil is gone: the port can be bound again.
    await expect(assertPortFree('127.0.0.1', port)).resolves.toBeUndefined();
  }, 150_000);

  it('exits 1 at once on a busy port, naming the port and how to pick another', async () => {
    const port = await getFreePort();
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(port, '127.0.0.1', () => r()));
    try {
      const t0 = Date.now();
      const res = spawnSync(TSX, [CLI, '--port', String(port)], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(res.status).toBe(1);
      expect(res.stderr).toContain(`Port ${port} on 127.0.0.1 is already in use`);
      expect(res.stderr).toContain('--port');
      expect(Date.now() - t0).toBeLessThan(15_000);
    } finally {
      srv.close();
    }
  }, 30_000);

  it('rejects an unknown flag listing the valid ones, and an unknown market path listing the paths', () => {
    const flag = spawnSync(TSX, [CLI, '--prot', '1'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(flag.status).toBe(1);
    expect(flag.stderr).toContain('--prot: unknown option');
    expect(flag.stderr).toContain('--block-time');

    const path = spawnSync(TSX, [MARKET_CLI, 'sideways'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(path.status).toBe(1);
    expect(path.stderr).toContain('unknown market path "sideways"');
    for (const n of ['calm', 'crash', 'depeg']) expect(path.stderr).toContain(n);
  }, 60_000);
});
