/**
 * The API as a process of its own (`src/api.ts` under tsx, configured by environment variables as in
 * production), on a free loopback port. NestJS 12 is ESM, which Jest's CommonJS runtime cannot load,
 * so API tests talk to it over HTTP (supertest against the URL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { redisUrl } from '../../src/indexer/redis/test-redis';

export interface ApiProcess {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  url: string;
  child: ChildProcess;
  /** Every stdout line so far (JSON log lines). */
  lines: string[];
}

/** Extra Node flags for the API process, from `API_NODE_FLAGS` (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`). */
function nodeFlags(): string[] {
  return (process.env.API_NODE_FLAGS ?? '').split(/\s+/).filter((f) => f !== '');
}

/** Starts the API for `network` (plus `env`) and waits for its `api-listening` line. */
export async function startApiProcess(
  network: string,
  env: Record<string, string> = {},
): Promise<ApiProcess> {
  const child = spawn(process.execPath, [...nodeFlags(), '--import', 'tsx', 'src/api.ts'], {
    cwd: resolve(__dirname, '..', '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      REDIS_URL: redisUrl(),
      NETMARGIN_NETWORK: network,
      API_HOST: '127.0.0.1',
      API_PORT: '0',
      ...env,
    },
  });
  let stderr = '';
  const lines: string[] = [];
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`the API did not start: ${stderr}`)), 60_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      let msg: { event?: string; url?: string } = {};
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        return;
      }
      if (msg.event === 'api-listening') {
        clearTimeout(timer);
        ok(msg.url!);
      } else if (msg.event === 'config-error' || msg.event === 'start-error') {
        clearTimeout(timer);
        fail(new Error(`the API failed: ${line}\n${stderr}`));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`the API exited (${code}): ${stderr}`));
    });
  });
  return { url, child, lines };
}

/** SIGTERM, and waits for the exit. */
export async function stopApiProcess(p: ApiProcess | undefined): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise((r) => p.child.once('exit', r));
  p.child.kill('SIGTERM');
  await exited;
}
