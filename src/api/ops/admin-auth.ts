/**
 * Admin authentication for `/queues`: `Authorization: Bearer <token>` or `Basic` with any user name
 * and the token as password. Compared in constant time (SHA-256 of both sides, equal lengths).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { toWireJson } from '../http/wire';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** A checker of `Authorization` header values against `token`. */
export function adminTokenCheck(token: string): (authorization: string | undefined) => boolean {
  const want = digest(token);
  return (authorization) => {
    if (!authorization) return false;
    const [scheme, value = ''] = authorization.trim().split(/\s+/, 2);
    let sent: string;
    if (scheme?.toLowerCase() === 'bearer') sent = value;
    else if (scheme?.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      sent = decoded.slice(decoded.indexOf(':') + 1);
    } else return false;
    return timingSafeEqual(digest(sent), want);
  };
}

/** Express-style middleware answering 401 (in the API's error shape) unless `check` accepts the request. */
export function requireAdmin(check: ((authorization: string | undefined) => boolean) | undefined) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    if (check?.(req.headers.authorization)) {
      next();
      return;
    }
    res.statusCode = 401;
    res.setHeader('www-authenticate', 'Basic realm="netmargin admin", charset="UTF-8"');
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(
      toWireJson({
        error: {
          code: 'ADMIN_AUTH_REQUIRED',
          message: 'authorization: an admin token is required',
          field: 'authorization',
          hint: check
            ? 'Send Authorization: Bearer <API_ADMIN_TOKEN> (or Basic with the token as password).'
            : 'The operator has not set API_ADMIN_TOKEN; /queues stays closed until it is set.',
        },
      }),
    );
  };
}
