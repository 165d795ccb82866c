/**
 * The partner margin read, `GET /v1/partners/accounts/{address}/margin`, answered in front of the
 * framework.
 *
 * It is the endpoint partners poll, and its answer is already serialized once per head block, so
 * what a request costs is the routing around it: Express's router walks every registered layer and
 * NestJS builds a guard, pipe and handler context per request — about 55 KB of short-lived objects
 * per request, which at 2,000 requests per second meant a young-generation collection every 100 ms
 * and the 4–15 ms pauses that made the p99 (docs/api.md, Benchmark; decision D11). Here it does only
 * what the NestJS route does, with the same functions: the signature, timestamp, nonce and rate
 * limit (`PartnerAuth.verify`), the address (`parseAddress`), the cached answer, and the API's one
 * error shape (`sendError`).
 *
 * Only the canonical form is taken: method GET, the exact path with a hex address, any query.
 * Every other request (HEAD, a trailing slash, a percent-encoded or malformed address) goes on to
 * the NestJS route, which answers it the same way — and which OpenAPI documents.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { parseAddress } from '../http/input';
import { sendError, type ApiLogFn } from '../http/errors';
import { setRetryAfter, type PartnerAuth } from './auth';
import type { PartnerMarginService } from './margin.service';

const ROUTE = /^\/v1\/partners\/accounts\/(0x[0-9a-fA-F]{40})\/margin(?:\?|$)/;
const EMPTY = Buffer.alloc(0);

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** A request listener that answers the partner margin read and returns false for anything else. */
export function partnerMarginRoute(
  auth: PartnerAuth,
  margin: PartnerMarginService,
  log: ApiLogFn,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const answer = async (req: IncomingMessage, res: ServerResponse, address: string): Promise<void> => {
    try {
      await auth.verify({ method: 'GET', url: req.url!, headers: req.headers, rawBody: EMPTY });
      const json = await margin.marginJson(parseAddress('address', address));
      res.statusCode = 200;
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(json);
    } catch (err) {
      setRetryAfter(res, err);
      sendError(res, err, log);
    }
  };
  return (req, res) => {
    if (req.method !== 'GET') return false;
    const m = ROUTE.exec(req.url ?? '');
    if (!m) return false;
    void answer(req, res, m[1]!);
    return true;
  };
}

/** Puts `route` in front of the server's request listeners (the framework's application). */
export function routeFirst(
  server: Server,
  route: (req: IncomingMessage, res: ServerResponse) => boolean,
): void {
  const rest = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (route(req, res)) return;
    for (const l of rest) l.call(server, req, res);
  });
}
