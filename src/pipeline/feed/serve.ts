/**
 * Runs the shortfall feed's SSE endpoint on its own: `npx tsx src/pipeline/feed/serve.ts`.
 * Configuration from the environment: `REDIS_URL` (default `redis://127.0.0.1:6379`),
 * `NETMARGIN_NETWORK` (default `local`), `FEED_HOST` (default `127.0.0.1`), `FEED_PORT` (default 8788;
 * 0 = any free port), `FEED_HEARTBEAT_MS` (default 15000). Prints one JSON line
 * `{"event":"feed-listening","url":…}` when it serves; SIGTERM / SIGINT close it (open streams end).
 */
import { NetmarginError } from '../../common/errors';
import { startFeedServer } from './feed.module';

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^[0-9]+$/.test(raw))
    throw new NetmarginError(`${name}="${raw}" is not a whole number`, {
      code: 'INVALID_CONFIG',
      hint: `Set ${name} to a whole number (or unset it for ${fallback}).`,
    });
  return Number(raw);
}

function line(event: string, fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
}

async function main(): Promise<void> {
  const server = await startFeedServer({
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    network: process.env.NETMARGIN_NETWORK ?? 'local',
    host: process.env.FEED_HOST ?? '127.0.0.1',
    port: intEnv('FEED_PORT', 8788),
    sse: { heartbeatMs: intEnv('FEED_HEARTBEAT_MS', 15_000) },
  });
  line('feed-listening', { url: `${server.url}/v1/feed/shortfalls`, pid: process.pid });
  const stop = (signal: string) => {
    void server.close().then(() => {
      line('feed-stopped', { signal });
      process.exit(0);
    });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  const e = err instanceof NetmarginError ? err : undefined;
  line('feed-start-error', {
    error: e?.shortMessage ?? (err instanceof Error ? err.message : String(err)),
    hint: e?.hint ?? null,
  });
  process.exit(1);
});
