/**
 * A loopback JSON-RPC server in front of a real node (anvil) that misbehaves on cue: per call, the
 * test's `behave(call, n)` answers `'proxy'` (forward), `'hang'` (never answer), `{ delayMs }`
 * (forward late), an HTTP status (with an optional `Retry-After`) or a JSON-RPC error. A batched
 * HTTP request hangs if any call in it hangs, gets the HTTP status if any call asks for one, and is
 * delayed by the longest delay asked; JSON-RPC errors are per call.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RpcCall {
  id: number;
  jsonrpc: string;
  method: string;
  params?: unknown[];
}

export type Reply =
  | 'proxy'
  | 'hang'
  | { delayMs: number }
  | { httpStatus: number; retryAfter?: string }
  | { rpcError: { code: number; message: string } };

type Answer = 'hang' | { status: number; body: string; headers?: Record<string, string> };

export class FakeRpc {
  server!: Server;
  url = '';
  /** HTTP requests received (a JSON-RPC batch is one). */
  httpRequests = 0;
  /** Method of every JSON-RPC call received, in order. */
  calls: string[] = [];
  /** Decides each call's fate; `n` is the index of the HTTP request carrying it. */
  behave: (call: RpcCall, n: number) => Reply = () => 'proxy';

  constructor(private readonly upstream: string) {}

  /** Listens on a free loopback port (or `port`, e.g. to come back on the same URL). */
  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(
        (out) => {
          if (out === 'hang') return; // never answer; closed in stop()
          res.writeHead(out.status, { 'content-type': 'application/json', ...out.headers });
          res.end(out.body);
        },
        () => {
          if (res.headersSent) return;
          res.writeHead(500);
          res.end();
        },
      );
    });
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  private async handle(req: IncomingMessage): Promise<Answer> {
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    const n = this.httpRequests++;
    const parsed = JSON.parse(raw) as RpcCall | RpcCall[];
    const items = Array.isArray(parsed) ? parsed : [parsed];
    const replies = items.map((c) => {
      this.calls.push(c.method);
      return this.behave(c, n);
    });
    if (replies.includes('hang')) return 'hang';
    const http = replies.find(
      (r): r is { httpStatus: number; retryAfter?: string } => typeof r === 'object' && 'httpStatus' in r,
    );
    if (http)
      return {
        status: http.httpStatus,
        body: '{"error":"nope"}',
        headers: http.retryAfter ? { 'retry-after': http.retryAfter } : {},
      };
    const delayMs = Math.max(
      0,
      ...replies.map((r) => (typeof r === 'object' && 'delayMs' in r ? r.delayMs : 0)),
    );
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    const answers = await Promise.all(
      items.map(async (c, i) => {
        const r = replies[i] as Reply;
        if (typeof r === 'object' && 'rpcError' in r) return { jsonrpc: '2.0', id: c.id, error: r.rpcError };
        const up = await fetch(this.upstream, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(c),
        });
        return (await up.json()) as unknown;
      }),
    );
    return { status: 200, body: JSON.stringify(Array.isArray(parsed) ? answers : answers[0]) };
  }
}
