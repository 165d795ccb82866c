/** The redis-server binary for tests that crash and restart a private Redis. */
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The redis-server binary; fails with how to install it when there is none (never a silent skip). */
export function redisServerBinary(): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin', '/usr/sbin'];
  for (const d of dirs) {
    const p = join(d, 'redis-server');
    if (d !== '' && existsSync(p)) return p;
  }
  throw new Error(
    'The Redis restart test needs the redis-server binary and none was found on PATH or in /usr/bin. ' +
      'Install it (Debian/Ubuntu: sudo apt-get install -y redis-server, or bash scripts/ensure-test-tools.sh; macOS: brew install redis), then re-run.',
  );
}

/**
 * Runs `cleanups` last-registered first, each bounded by `timeoutMs`: a connection to a Redis a failed
 * test left dead would otherwise wait for it forever. Errors are swallowed (the test already failed).
 */
export async function runCleanupsBounded(
  cleanups: readonly (() => Promise<void>)[],
  timeoutMs = 5_000,
): Promise<void> {
  for (const f of [...cleanups].reverse()) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([f().catch(() => undefined), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }
}
