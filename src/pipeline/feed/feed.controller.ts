/**
 * `GET /v1/feed/shortfalls`: the shortfall feed as Server-Sent Events.
 *
 * - Each event: `id: <stream id>`, `event: shortfall`, `data: <JSON>` with every bigint as a decimal
 *   string (event.ts `toWireJson`).
 * - Resume: the `Last-Event-ID` header (what an `EventSource` sends on reconnect) or else `?after=<id>`;
 *   delivery starts strictly after that id. `after=0` replays what the stream still holds; with
 *   neither, only events published after the connection opened are sent.
 * - When the reader has caught up it sends a comment line `: heartbeat <ms>` at once, then one per
 *   `heartbeatMs` of silence (keeps proxies from closing the connection; lets a client tell "caught
 *   up" from "slow").
 * - A bad resume id is answered `400` with a JSON `{ error, hint }` before the stream starts.
 * Each subscriber gets its own Redis connection (a waiting XREAD holds it); it is closed when the
 * client goes away.
 */
import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NetmarginError } from '../../common/errors';
import { toWireJson } from './event';
import { assertStreamId, type ShortfallFeedStream } from './shortfall-feed';

export const FEED_STREAM = 'NETMARGIN_FEED_STREAM';
export const FEED_SSE_OPTIONS = 'NETMARGIN_FEED_SSE_OPTIONS';
/** The open SSE responses (a `Set<ServerResponse>`), ended when the application shuts down. */
export const FEED_SUBSCRIBERS = 'NETMARGIN_FEED_SUBSCRIBERS';

export interface FeedSseOptions {
  /** Silence after which a heartbeat comment is sent (default 15,000 ms). */
  heartbeatMs: number;
  /** Events read from Redis per round trip (default 100). */
  batchSize: number;
  /** The `retry:` hint sent to clients, ms (default 2,000). */
  retryMs: number;
}

export const DEFAULT_FEED_SSE_OPTIONS: FeedSseOptions = {
  heartbeatMs: 15_000,
  batchSize: 100,
  retryMs: 2_000,
};

/** The resume id of a request: `Last-Event-ID` wins over `?after=`; undefined = only new events. */
export function resumeIdOf(req: IncomingMessage): string | undefined {
  const header = req.headers['last-event-id'];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  if (fromHeader !== undefined && fromHeader.trim() !== '')
    return assertStreamId(fromHeader.trim(), 'Last-Event-ID');
  const after = new URL(req.url ?? '/', 'http://feed.local').searchParams.get('after');
  if (after !== null) return assertStreamId(after.trim(), 'after');
  return undefined;
}

@Controller('v1/feed')
export class FeedController {
  constructor(
    @Inject(FEED_STREAM) private readonly stream: ShortfallFeedStream,
    @Inject(FEED_SSE_OPTIONS) private readonly opts: FeedSseOptions,
    @Inject(FEED_SUBSCRIBERS) private readonly subscribers: Set<ServerResponse>,
  ) {}

  @Get('shortfalls')
  async shortfalls(@Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    let after: string;
    try {
      after = resumeIdOf(req) ?? (await this.stream.lastId());
    } catch (err) {
      const e = err instanceof NetmarginError ? err : undefined;
      res.writeHead(e ? 400 : 500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: e?.shortMessage ?? 'internal error', hint: e?.hint ?? null }));
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${this.opts.retryMs}\n\n`);
    const reader = this.stream.openReader();
    let open = true;
    this.subscribers.add(res);
    res.on('close', () => {
      open = false;
      this.subscribers.delete(res);
      reader.close();
    });
    let waitMs = 0; // the first read never waits, so a caught-up client hears a heartbeat at once
    while (open) {
      let events;
      try {
        events = await reader.read(after, this.opts.batchSize, waitMs);
      } catch (err) {
        if (!open) break; // the client left and the connection was closed under the read
        const message = err instanceof Error ? err.message : String(err);
        res.write(`event: error\ndata: ${JSON.stringify({ error: message })}\n\n`);
        res.end();
        break;
      }
      if (!open) break;
      if (events.length === 0) {
        res.write(`: heartbeat ${Date.now()}\n\n`);
        waitMs = this.opts.heartbeatMs;
        continue;
      }
      for (const e of events) res.write(`id: ${e.id}\nevent: shortfall\ndata: ${toWireJson(e)}\n\n`);
      after = events[events.length - 1]!.id;
      waitMs = 0;
    }
  }
}
