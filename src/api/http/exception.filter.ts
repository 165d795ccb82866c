/**
 * The one exception filter of the API: every error leaves as `{ error: { code, message, field,
 * hint } }` (http/errors.ts decides the status). Unknown errors are logged and answered 500
 * without internals.
 */
import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { errorResponse } from './errors';
import { toWireJson } from './wire';

export type ApiLogFn = (event: string, fields?: Record<string, unknown>) => void;

@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  constructor(private readonly log: ApiLogFn = () => undefined) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<ServerResponse>();
    sendError(res, exception, this.log);
  }
}

/** Writes the error answer for `err` on `res` (also used by the Express error handler for body-parser errors). */
export function sendError(res: ServerResponse, err: unknown, log: ApiLogFn): void {
  const { status, body } = errorResponse(err);
  if (status >= 500)
    log('api.error', {
      error: err instanceof Error ? err.message : String(err),
      stack: err instanceof Error ? err.stack : undefined,
    });
  if (res.headersSent) {
    res.end();
    return;
  }
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(toWireJson(body));
}
