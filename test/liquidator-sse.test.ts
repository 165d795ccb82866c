/**
 * The reference liquidator's SSE client (examples/liquidator/sse.ts) against a loopback server that
 * writes the stream in awkward pieces: fields split across chunks, CRLF line ends, multi-line data,
 * comments, an event without an id, the `Last-Event-ID` header, and an HTTP error.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readSse, SseHttpError, type SseItem } from '../examples/liquidator/sse';

let server: Server;
let url: string;
let seenHeaders: IncomingHttpHeaders | undefined;

const STREAM = [
  'retry: 2000\n\n',
  'id: 1-0\nevent: shortfall\ndata: {"a":"1',
  '2345678901234567890"}\n\n',
  ': heartbeat 17\r\n\r\n',
  'id: 2-0\r\nevent: shortfall\r\ndata: line one\r\ndata: line two\r\n\r\n',
  'data: no id or event\n',
  '\n',
];

beforeAll(async () => {
  server = createServer((req, res) => {
    seenHeaders = req.headers;
    if (req.url === '/missing') {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end('{"error":"after: \\"x\\" is not a stream id"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let i = 0;
    const next = () => {
      if (i === STREAM.length) return res.end();
      res.write(STREAM[i++]);
      setTimeout(next, 5);
    };
    next();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

describe('the liquidator’s SSE client', () => {
  it('parses split chunks, CRLF, multi-line data and comments, and sends Last-Event-ID', async () => {
    const items: SseItem[] = [];
    for await (const item of readSse(`${url}/feed`, { lastEventId: '0-7' })) items.push(item);
    expect(seenHeaders?.['last-event-id']).toBe('0-7');
    expect(seenHeaders?.accept).toBe('text/event-stream');
    expect(items).toEqual([
      { kind: 'message', id: '1-0', event: 'shortfall', data: '{"a":"12345678901234567890"}' },
      { kind: 'comment', text: 'heartbeat 17' },
      { kind: 'message', id: '2-0', event: 'shortfall', data: 'line one\nline two' },
      // The last id carries over (as in EventSource); the type defaults to "message".
      { kind: 'message', id: '2-0', event: 'message', data: 'no id or event' },
    ]);
  });

  it('stops quietly when aborted and reports an HTTP error with its body', async () => {
    const ac = new AbortController();
    const items: SseItem[] = [];
    for await (const item of readSse(`${url}/feed`, { signal: ac.signal })) {
      items.push(item);
      ac.abort();
    }
    expect(items).toHaveLength(1);
    expect(seenHeaders?.['last-event-id']).toBeUndefined();

    const failing = readSse(`${url}/missing`);
    await expect(failing.next()).rejects.toThrow(SseHttpError);
    await expect(readSse(`${url}/missing`).next()).rejects.toThrow(/HTTP 400: .*is not a stream id/);
  });
});
