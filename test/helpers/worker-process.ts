/**
 * The indexer worker as a child process (`src/worker.ts` under tsx, configured by environment
 * variables, as in production), in its own process group so a test can kill it and anything it
 * started. Its stdout JSON lines are collected with their `event`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = resolve(__dirname, '..', '..');

export interface WorkerProcess {
  child: ChildProcess;
  /** Every stdout line so far, with its JSON `event` ('?' for a line that is not JSON). */
  lines: { event: string; line: string }[];
  /** Everything written to stderr so far. */
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once the worker logged `event`; rejects, with its output, if it exits first. */
  until(event: string, timeoutMs?: number): Promise<void>;
}

/** Starts `src/worker.ts` with `env` on top of this process's environment. */
export function spawnWorker(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const lines: WorkerProcess['lines'] = [];
  let stderr = '';
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let event = '?';
    try {
      event = String((JSON.parse(line) as { event?: unknown }).event);
    } catch {
      // not one of the worker's JSON lines
    }
    lines.push({ event, line });
  });
  child.stderr!.on('data', (d) => (stderr += String(d)));
  let gone = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('exit', (code, signal) => {
      gone = true;
      r({ code, signal });
    }),
  );
  const output = (): string => `${lines.map((l) => l.line).join('\n')}\n${stderr}`;
  const until = async (event: string, timeoutMs = 60_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!lines.some((l) => l.event === event)) {
      if (gone) throw new Error(`the worker exited before logging ${event}:\n${output()}`);
      if (Date.now() > deadline)
        throw new Error(`the worker did not log ${event} in ${timeoutMs} ms:\n${output()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { child, lines, stderr: () => stderr, exited, until };
}

/** SIGKILLs the worker's whole process group unless it has exited. */
export function killWorkerGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
