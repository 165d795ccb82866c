/**
 * The API process: `npm run start:api` (or `npx tsx src/api.ts`). Configuration from environment
 * variables (src/api/api.config.ts). Prints one JSON line `{"event":"api-listening","url":…}` when it
 * serves; SIGTERM / SIGINT close it (open SSE streams end). A bad configuration exits with code 2
 * and the variable's message and hint.
 */
import { NetmarginError } from './common/errors';
import { loadApiConfig, type ApiConfig } from './api/api.config';
import { startApiServer } from './api/app';

function line(event: string, fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
}

function fail(event: string, err: unknown, code: number): void {
  const e = err instanceof NetmarginError ? err : undefined;
  line(event, {
    code: e?.code,
    error: e?.shortMessage ?? (err instanceof Error ? err.message : String(err)),
    hint: e?.hint,
  });
  process.exit(code);
}

async function main(): Promise<void> {
  let config: ApiConfig;
  try {
    config = loadApiConfig(process.env);
  } catch (err) {
    fail('config-error', err, 2);
    return;
  }
  try {
    const server = await startApiServer(config, { log: (event, fields) => line(event, fields ?? {}) });
    line('api-listening', { url: server.url, network: config.network, pid: process.pid });
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      void server.close().then(() => {
        line('api-stopped', { signal });
        process.exit(0);
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  } catch (err) {
    fail('start-error', err, 1);
  }
}

void main();
