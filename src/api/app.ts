/**
 * `createApiApp(config)`: the API as a configured NestJS application (not listening yet) — the JSON
 * body limit (413 beyond it), the shared exception filter, bigints as decimal strings in every JSON
 * answer, OpenAPI at `/docs` (JSON at `/docs-json`). `startApiServer` also listens.
 */
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiConfig } from './api.config';
import { ApiModule } from './api.module';
import { sendError, type ApiLogFn } from './http/errors';
import { ApiExceptionFilter } from './http/exception.filter';
import { bigintReplacer } from './http/wire';

export interface ApiAppOptions {
  log?: ApiLogFn;
}

export async function createApiApp(config: ApiConfig, opts: ApiAppOptions = {}): Promise<INestApplication> {
  const log = opts.log ?? (() => undefined);
  const app = await NestFactory.create<NestExpressApplication>(ApiModule.forRoot(config, { log }), {
    bodyParser: false,
    logger: false,
    abortOnError: false,
  });
  const express = app.getHttpAdapter().getInstance() as {
    set(name: string, value: unknown): void;
    disable(name: string): void;
  };
  express.set('json replacer', bigintReplacer);
  express.disable('x-powered-by');
  app.useBodyParser('json', { limit: config.bodyLimitBytes });
  // body-parser errors (too large, not JSON) are raised before any route: answer them in the API's shape.
  app.use((err: unknown, _req: IncomingMessage, res: ServerResponse, next: (e?: unknown) => void) => {
    if (err === undefined || err === null) {
      next();
      return;
    }
    sendError(res, err, log);
  });
  app.useGlobalFilters(new ApiExceptionFilter(log));
  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('netmargin API')
      .setDescription(
        'Portfolio margin across Aave V3, perps and options. Amounts are decimal strings (bigints, never JSON numbers). Errors: `{ error: { code, message, field, hint } }`.',
      )
      .setVersion('1')
      .build(),
  );
  SwaggerModule.setup('docs', app, doc, { jsonDocumentUrl: 'docs-json' });
  return app;
}

export interface ApiServer {
  app: INestApplication;
  /** e.g. `http://127.0.0.1:8787` */
  url: string;
  close(): Promise<void>;
}

/** Creates the application and listens on `config.host:config.port` (port 0 = any free port). */
export async function startApiServer(config: ApiConfig, opts: ApiAppOptions = {}): Promise<ApiServer> {
  const app = await createApiApp(config, opts);
  await app.listen(config.port, config.host);
  const address = app.getHttpServer().address() as { port: number };
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return { app, url: `http://${host}:${address.port}`, close: () => app.close() };
}
