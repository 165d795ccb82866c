/**
 * A minimal Server-Sent Events client on `fetch` (Node ≥ 18), enough for the shortfall feed:
 * `id:` / `event:` / `data:` fields (multi-line data joined with "\n"), comment lines (`: heartbeat …`)
 * reported separately, `Last-Event-ID` sent on connect. No reconnection here: the caller decides
 * (it knows the last id it handled). No dependency beyond the platform.
 */

export interface SseMessage {
  kind: 'message';
  id: string | undefined;
  event: string;
  data: string;
}

export interface SseComment {
  kind: 'comment';
  text: string;
}

export type SseItem = SseMessage | SseComment;

export class SseHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`the feed answered HTTP ${status}: ${body.slice(0, 300)}`);
  }
}

/**
 * Connects to `url` and yields messages and comments as they arrive, until the server ends the
 * stream or `signal` aborts (then the generator returns quietly).
 */
export async function* readSse(
  url: string,
  opts: { lastEventId?: string; signal?: AbortSignal } = {},
): AsyncGenerator<SseItem> {
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (opts.lastEventId) headers['last-event-id'] = opts.lastEventId;
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: opts.signal });
  } catch (err) {
    if (opts.signal?.aborted) return;
    throw err;
  }
  if (res.status !== 200 || !res.body) throw new SseHttpError(res.status, await res.text());
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let id: string | undefined;
  let event = '';
  let data: string[] = [];
  try {
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (err) {
        if (opts.signal?.aborted) return;
        throw err;
      }
      if (chunk.done) return;
      buffer += decoder.decode(chunk.value, { stream: true });
      let nl: number;
      while ((nl = buffer.search(/\r?\n/)) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + (buffer[nl] === '\r' ? 2 : 1));
        if (line === '') {
          // A blank line dispatches the message gathered so far.
          if (data.length > 0)
            yield { kind: 'message', id, event: event || 'message', data: data.join('\n') };
          event = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) {
          yield { kind: 'comment', text: line.slice(1).trim() };
          continue;
        }
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') id = value;
        else if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
        // `retry:` and unknown fields are ignored: reconnection is the caller's.
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
