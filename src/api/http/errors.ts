/**
 * Errors the API answers with, and the one wire shape they take:
 * `{ "error": { "code", "message", "field", "hint" } }`.
 *
 * `ApiError` is a `NetmarginError` that carries its HTTP status (404 unknown account, 413 too large,
 * 503 not ready). Every other `NetmarginError` (an `InvalidInputError` included) is a 400: the
 * caller sent something the project refuses, and the message says what.
 */
import type { ServerResponse } from 'node:http';
import { NetmarginError, type NetmarginErrorOptions } from '../../common/errors';
import { toWireJson } from './wire';

export type ApiLogFn = (event: string, fields?: Record<string, unknown>) => void;

export interface ApiErrorOptions extends NetmarginErrorOptions {
  /** The request field at fault (`address`, `trades[2].size`, `body`), when there is one. */
  field?: string;
}

export class ApiError extends NetmarginError {
  override readonly name: string = 'ApiError';
  readonly status: number;
  readonly field: string | undefined;

  constructor(status: number, shortMessage: string, options: ApiErrorOptions) {
    super(shortMessage, {
      ...options,
      details: { ...(options.field ? { field: options.field } : {}), ...options.details },
    });
    this.status = status;
    this.field = options.field;
  }
}

/** The JSON body of every error answer. */
export interface ErrorBody {
  error: { code: string; message: string; field: string | null; hint: string | null };
}

/** What an answer to `err` is: its status and body. Unknown errors are a 500 that shows no internals. */
export function errorResponse(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof NetmarginError) {
    const field = typeof err.details.field === 'string' ? err.details.field : null;
    return {
      status: err instanceof ApiError ? err.status : 400,
      body: { error: { code: err.code, message: err.shortMessage, field, hint: err.hint ?? null } },
    };
  }
  const parser = bodyParserError(err);
  if (parser) return errorResponse(parser);
  if (isStoreUnavailable(err))
    return errorResponse(
      new ApiError(503, 'The result store (Redis) is unavailable', {
        code: 'STORE_UNAVAILABLE',
        hint: 'Retry shortly; if it persists, check that Redis is running and REDIS_URL points at it.',
      }),
    );
  const status = httpStatusOf(err);
  if (status !== undefined && status < 500) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      status,
      body: { error: { code: `HTTP_${status}`, message, field: null, hint: null } },
    };
  }
  return {
    status: 500,
    body: {
      error: {
        code: 'INTERNAL',
        message: 'internal error',
        field: null,
        hint: 'Retry; if it persists, the server log has the cause.',
      },
    },
  };
}

/** body-parser's own errors (too large, not JSON) as API errors naming the body. */
function bodyParserError(err: unknown): ApiError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { type?: unknown; limit?: unknown; length?: unknown };
  if (e.type === 'entity.too.large') {
    const limit = typeof e.limit === 'number' ? e.limit : undefined;
    return new ApiError(
      413,
      `body: the request body${typeof e.length === 'number' ? ` (${e.length} bytes)` : ''} is larger than the limit of ${limit ?? '?'} bytes`,
      {
        code: 'BODY_TOO_LARGE',
        field: 'body',
        hint: 'Send a smaller body: split a batch into several requests.',
        details: { limitBytes: limit },
      },
    );
  }
  if (e.type === 'entity.parse.failed')
    return new ApiError(400, 'body: the request body is not valid JSON', {
      code: 'INVALID_JSON',
      field: 'body',
      hint: 'Send a JSON object with Content-Type: application/json.',
    });
  if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported')
    return new ApiError(415, 'body: the request body’s encoding is not supported', {
      code: 'UNSUPPORTED_ENCODING',
      field: 'body',
      hint: 'Send UTF-8 JSON, uncompressed.',
    });
  return undefined;
}

/** ioredis gave up on a command: Redis is down or unreachable (not a fault of the request). */
function isStoreUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return (
    err.name === 'MaxRetriesPerRequestError' ||
    /ECONNREFUSED|ECONNRESET|ETIMEDOUT|Connection is closed|Stream isn't writeable/.test(err.message)
  );
}

/** The status of an HTTP-aware error (NestJS `HttpException`, http-errors), if it has one. */
function httpStatusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { getStatus?: () => unknown; status?: unknown; statusCode?: unknown };
  const s = typeof e.getStatus === 'function' ? e.getStatus() : (e.status ?? e.statusCode);
  return typeof s === 'number' && Number.isInteger(s) && s >= 400 && s <= 599 ? s : undefined;
}

/** 404 for an account the risk workers have not margined (or the indexer has not seen). */
export function accountNotFound(what: 'risk result' | 'positions' | 'risk history', owner: string): ApiError {
  return new ApiError(404, `address: no ${what} stored for ${owner} yet`, {
    code: 'ACCOUNT_NOT_FOUND',
    field: 'address',
    hint: 'Check the address; an account appears once it holds a position in a tracked protocol and the workers have processed its block.',
    details: { owner },
  });
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
