/**
 * The exact body bytes of partner requests: the signature covers their SHA-256, so they are kept
 * (`req.rawBody`) before JSON parsing. Mounted on `/v1/partners` ahead of the application's JSON
 * parser, which then skips the already-read request. Errors take body-parser's shapes (`type`
 * `entity.too.large` / `entity.parse.failed`), so the API's error handler answers them as for any body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface RawBodyRequest extends IncomingMessage {
  rawBody?: Buffer;
  body?: unknown;
}

const EMPTY = Buffer.alloc(0);

export function rawJsonBody(limitBytes: number) {
  return (req: RawBodyRequest, _res: ServerResponse, next: (err?: unknown) => void): void => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (req.method === 'GET' || req.method === 'HEAD' || declared === 0) {
      req.rawBody = EMPTY;
      next();
      return;
    }
    if (Number.isFinite(declared) && declared > limitBytes) {
      req.resume();
      next({ type: 'entity.too.large', limit: limitBytes, length: declared, status: 413 });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limitBytes) {
        failed = true;
        next({ type: 'entity.too.large', limit: limitBytes, length: size, status: 413 });
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', (err) => {
      if (failed) return;
      failed = true;
      next(err);
    });
    req.on('end', () => {
      if (failed) return;
      const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      req.rawBody = raw;
      const type = String(req.headers['content-type'] ?? '');
      if (raw.length === 0 || !/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
        req.body = undefined;
        next();
        return;
      }
      try {
        req.body = JSON.parse(raw.toString('utf8')) as unknown;
      } catch {
        next({ type: 'entity.parse.failed', status: 400 });
        return;
      }
      next();
    });
  };
}
