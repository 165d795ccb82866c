/**
 * The attestation poster process: `npx tsx src/poster.ts`. Configuration comes from environment
 * variables (see `src/pipeline/poster/poster.config.ts`); every lifecycle event, batch and refusal is
 * one JSON line on stdout, and no line or error carries a key. SIGTERM / SIGINT stop it after the
 * round in progress; a bad configuration exits with code 2 and the error's message and hint.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NetmarginError } from './common/errors';
import { jsonLineLog } from './indexer/indexer.module';
import { loadPosterConfig } from './pipeline/poster/poster.config';
import { PosterModule } from './pipeline/poster/poster.module';
import { redactKeys } from './pipeline/poster/signer';

async function main(): Promise<void> {
  let module;
  try {
    const config = loadPosterConfig(process.env);
    jsonLineLog('starting', {
      pid: process.pid,
      role: 'poster',
      network: config.network,
      manifest: config.manifestPath,
    });
    module = PosterModule.forRoot(config);
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
  const message = redactKeys(err instanceof Error ? err.message : String(err));
  jsonLineLog(event, { code: e?.code, error: redactKeys(e?.shortMessage ?? message), hint: e?.hint });
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

void main();
