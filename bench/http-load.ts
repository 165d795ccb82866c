/**
 * An open-loop HTTP/1.1 load generator that stays out of the way of what it measures.
 *
 * The requests are prepared before the run (every byte of each one: request line, headers,
 * signature), so during the run the generator only writes bytes to keep-alive sockets and reads the
 * answers' status line and `Content-Length` — no HTTP client objects, no signing, little garbage, so
 * its own garbage-collection pauses do not show up as server latency.
 *
 * Open loop: request `i` is due at `start + i / rps` whatever happened to the earlier ones. It goes
 * out on the idle socket that has waited longest (one request in flight per socket, no pipelining); when every socket is busy
 * it waits for the first to free up, and that wait counts in its latency from schedule.
 */
import { connect, type Socket } from 'node:net';

export interface LoadResult {
  /** Per request, from its write to the last byte of its answer (ms). */
  latencyMs: Float64Array;
  /** Per request, from the moment it was due to the last byte of its answer (ms). */
  fromScheduleMs: Float64Array;
  /** HTTP status per request (0 = the connection failed). */
  status: Uint16Array;
  /** First and last answer of the run (performance.now()). */
  startMs: number;
  endMs: number;
}

interface Conn {
  socket: Socket;
  /** Index of the request in flight, or -1. */
  inFlight: number;
  buf: Buffer;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** Status and total length of the first complete answer in `buf`, or undefined if not complete yet. */
function parseAnswer(buf: Buffer): { status: number; length: number } | undefined {
  const end = buf.indexOf(HEADER_END);
  if (end < 0) return undefined;
  const head = buf.toString('latin1', 0, end);
  const status = Number(head.slice(9, 12));
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  // An answer without a length must close its connection (e.g. a 408); chunked answers are not read.
  if (!m && !/\r\nconnection:\s*close/i.test(head))
    throw new Error(`the answer has no Content-Length (chunked answers are not supported): ${head}`);
  const length = end + 4 + Number(m?.[1] ?? 0);
  return buf.length >= length ? { status, length } : undefined;
}

/**
 * Sends `requests` (raw HTTP/1.1 bytes, keep-alive) to `host:port` at `rps` over `sockets`
 * connections; `onSend(i)` is called as request `i` is written (e.g. to mark the measured window).
 */
export async function openLoop(opts: {
  host: string;
  port: number;
  requests: readonly Buffer[];
  rps: number;
  sockets: number;
  onSend?: (i: number) => void;
}): Promise<LoadResult> {
  const { requests, rps } = opts;
  const n = requests.length;
  const latencyMs = new Float64Array(n);
  const fromScheduleMs = new Float64Array(n);
  const status = new Uint16Array(n);
  const writtenAt = new Float64Array(n);
  const conns: Conn[] = await Promise.all(
    Array.from(
      { length: opts.sockets },
      () =>
        new Promise<Conn>((ok, fail) => {
          const socket = connect({ host: opts.host, port: opts.port, noDelay: true });
          socket.once('connect', () => ok({ socket, inFlight: -1, buf: Buffer.alloc(0) }));
          socket.once('error', fail);
        }),
    ),
  );
  const intervalMs = 1_000 / rps;
  let t0 = 0;
  let sent = 0;
  let done = 0;
  let endMs = 0;
  const idle: Conn[] = [...conns];
  const waiting: number[] = [];
  let waitingHead = 0;

  return new Promise<LoadResult>((resolve, reject) => {
    const finish = () => {
      for (const c of conns) c.socket.destroy();
      resolve({ latencyMs, fromScheduleMs, status, startMs: t0, endMs });
    };
    const write = (c: Conn, i: number) => {
      c.inFlight = i;
      opts.onSend?.(i);
      writtenAt[i] = performance.now();
      c.socket.write(requests[i]!);
    };
    const complete = (c: Conn, code: number) => {
      const i = c.inFlight;
      const now = performance.now();
      latencyMs[i] = now - writtenAt[i]!;
      fromScheduleMs[i] = now - (t0 + i * intervalMs);
      status[i] = code;
      endMs = now;
      c.inFlight = -1;
      if (waitingHead < waiting.length) write(c, waiting[waitingHead++]!);
      else idle.push(c);
      if (++done === n) finish();
    };
    for (const c of conns) {
      c.socket.on('data', (chunk: Buffer) => {
        c.buf = c.buf.length === 0 ? chunk : Buffer.concat([c.buf, chunk]);
        let answer: ReturnType<typeof parseAnswer>;
        try {
          answer = parseAnswer(c.buf);
        } catch (err) {
          reject(err as Error);
          return;
        }
        if (!answer) return;
        c.buf = c.buf.subarray(answer.length);
        complete(c, answer.status);
      });
      c.socket.on('error', () => undefined);
      c.socket.on('close', () => {
        if (c.inFlight >= 0 && done < n) reject(new Error(`the server closed a connection mid-request`));
      });
    }
    const tick = () => {
      const due = Math.min(n, Math.floor((performance.now() - t0) / intervalMs) + 1);
      while (sent < due) {
        const i = sent++;
        // Round robin over the idle sockets keeps every connection in use (none idles out).
        const c = idle.shift();
        if (c) write(c, i);
        else waiting.push(i);
      }
      // A 1 ms timer, not a spin: the generator must leave the cores to the server it measures.
      if (sent < n) setTimeout(tick, 1);
    };
    t0 = performance.now();
    tick();
  });
}

/** The raw bytes of a keep-alive HTTP/1.1 GET. */
export function rawGet(host: string, path: string, headers: Readonly<Record<string, string>>): Buffer {
  let s = `GET ${path} HTTP/1.1\r\nhost: ${host}\r\nconnection: keep-alive\r\n`;
  for (const [k, v] of Object.entries(headers)) s += `${k}: ${v}\r\n`;
  return Buffer.from(`${s}\r\n`, 'latin1');
}
