/**
 * The indexer worker process: `npm run start:worker` (or `npx tsx src/worker.ts`). Configuration comes
 * from environment variables (see `src/indexer/indexer.config.ts`); every lifecycle event and every
 * failed job is one JSON line on stdout. SIGTERM / SIGINT stop it gracefully (active jobs finish);
 * a bad configuration exits with code 2 and the error's message and hint.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NetmarginError } from './common/errors';
import { loadIndexerConfig } from './indexer/indexer.config';
import { IndexerModule, jsonLineLog } from './indexer/indexer.module';

async function main(): Promise<void> {
  let module;
  try {
    const config = loadIndexerConfig(process.env);
    jsonLineLog('starting', {
      pid: process.pid,
      network: config.network,
      roles: config.roles,
      manifest: config.manifestPath,
    });
    module = IndexerModule.forRoot(config);
  } catch (err) {
    fail('config-error', err, 2);
    return;
  }
  try {
    const app = await NestFactory.createApplicationContext(module, { logger: false, abortOnError: false });
    app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
    await app.init();
  } catch (err) {
    fail('start-error', err, 1);
  }
}

function fail(event: string, err: unknown, code: number): void {
  const e = err instanceof NetmarginError ? err : undefined;
  jsonLineLog(event, {
    code: e?.code,
    error: e?.shortMessage ?? (err instanceof Error ? err.message : String(err)),
    hint: e?.hint,
  });
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(code);
}

void main();
