/**
 * The indexer worker process: `npm run start:worker` (or `npx tsx src/worker.ts`). Configuration comes
 * from environment variables (see `src/indexer/indexer.config.ts`, and `src/pipeline/pipeline.config.ts`
 * for the `risk` role); every lifecycle event and every failed job is one JSON line on stdout. SIGTERM / SIGINT stop it gracefully (active jobs finish);
 * a bad configuration exits with code 2 and the error's message and hint.
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NetmarginError } from './common/errors';
import { loadIndexerConfig } from './indexer/indexer.config';
import { IndexerModule, jsonLineLog } from './indexer/indexer.module';
import { loadPipelineConfig } from './pipeline/pipeline.config';
import { PipelineModule } from './pipeline/pipeline.module';

/** The root module when the worker runs the risk role too. */
@Module({})
class WorkerModule {}

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
    const indexer = IndexerModule.forRoot(config);
    // The risk role (the `risk`, `risk-market` and `params` queues) is its own module beside the indexer's.
    module = config.roles.includes('risk')
      ? {
          module: WorkerModule,
          imports: [indexer, PipelineModule.forRoot(config, loadPipelineConfig(process.env))],
        }
      : indexer;
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
