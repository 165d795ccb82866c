/**
 * The one exception filter of the API: every error leaves as `{ error: { code, message, field,
 * hint } }` (http/errors.ts decides the status). Unknown errors are logged and answered 500
 * without internals.
 */
import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { sendError, type ApiLogFn } from './errors';

@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  constructor(private readonly log: ApiLogFn = () => undefined) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<ServerResponse>();
    sendError(res, exception, this.log);
  }
}
