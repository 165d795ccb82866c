/**
 * `GET /v1/accounts/{address}/stream`: one account's risk results as Server-Sent Events, for the
 * dashboard's live view (any `EventSource` client works).
 *
 * - Each event: `id: <change id>` (the results' change stream), `event: health`, `data:` the same JSON
 *   as `GET /v1/accounts/{address}/health` (bigints as decimal strings) for the account's latest result.
 * - Opening without a resume id: the first event is the current result (id = the stream's newest
 *   change), then one event per stored change of the account. An account with no result yet gets
 *   its first event when one is stored.
 * - Resume: `Last-Event-ID` (what `EventSource` sends on reconnect) or `?after=<id>`: if the account
 *   changed after that id, one event with the current result (id = the last change read), then live.
 *   Several changes read together become one event: the page only ever needs the latest result.
 * - A comment `: heartbeat <ms>` once the opening events are sent (caught up), then after each
 *   `heartbeatMs` of silence.
 * - A bad address or resume id is answered 400 (`{ error: { code, message, field, hint } }`) before
 *   the stream starts.
 */
import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Address } from 'viem';
import { assertStreamId } from '../../pipeline/feed/shortfall-feed';
import type { RiskChange, RiskResultReader } from '../../pipeline/types';
import type { AccountsService } from '../accounts/accounts.service';
import { API_ACCOUNTS, API_LOG, API_RESULTS } from '../api.tokens';
import type { ApiLogFn } from '../http/errors';
import { ERROR_BODY } from '../http/openapi';
import { AddressPipe } from '../http/pipes';
import { toWireJson } from '../http/wire';
import { compareStreamIds, type ChangeHub } from './change-hub';

export const DASHBOARD_HUB = 'api.dashboard.hub';
export const DASHBOARD_STREAM_OPTIONS = 'api.dashboard.stream-options';
/** The open account streams (`Set<ServerResponse>`), ended when the application shuts down. */
export const DASHBOARD_SUBSCRIBERS = 'api.dashboard.subscribers';

export interface AccountStreamOptions {
  /** Silence after which a heartbeat comment is sent (ms). */
  heartbeatMs: number;
  /** The `retry:` hint sent to clients (ms). */
  retryMs: number;
}

export const DEFAULT_ACCOUNT_STREAM_OPTIONS: AccountStreamOptions = { heartbeatMs: 15_000, retryMs: 2_000 };

/** The resume id of a request: `Last-Event-ID` wins over `?after=`; undefined = start from now. */
export function accountResumeId(req: IncomingMessage): string | undefined {
  const header = req.headers['last-event-id'];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  if (fromHeader !== undefined && fromHeader.trim() !== '')
    return assertStreamId(fromHeader.trim(), 'Last-Event-ID');
  const after = new URL(req.url ?? '/', 'http://api.local').searchParams.get('after');
  if (after !== null) return assertStreamId(after.trim(), 'after');
  return undefined;
}

@ApiTags('accounts')
@Controller('v1/accounts')
export class AccountStreamController {
  constructor(
    @Inject(DASHBOARD_HUB) private readonly hub: ChangeHub,
    @Inject(API_RESULTS) private readonly results: RiskResultReader,
    @Inject(API_ACCOUNTS) private readonly accounts: Pick<AccountsService, 'healthOf'>,
    @Inject(DASHBOARD_STREAM_OPTIONS) private readonly opts: AccountStreamOptions,
    @Inject(DASHBOARD_SUBSCRIBERS) private readonly subscribers: Set<ServerResponse>,
    @Inject(API_LOG) private readonly log: ApiLogFn,
  ) {}

  @Get(':address/stream')
  @ApiOperation({
    summary: 'The account’s latest risk result as Server-Sent Events, one event per stored change',
    description:
      'Events `health` carry the JSON of `GET /v1/accounts/{address}/health`; `id:` is the change id — resume with `Last-Event-ID` or `?after=`. Heartbeat comments every 15 s of silence.',
  })
  @ApiParam({ name: 'address', description: 'The owner (EIP-55; all-lowercase is accepted).' })
  @ApiProduces('text/event-stream')
  @ApiResponse({ status: 200, description: 'An event stream.' })
  @ApiResponse({ status: 400, description: 'Malformed address or resume id.', schema: ERROR_BODY })
  async stream(
    @Param('address', AddressPipe) owner: Address,
    @Req() req: IncomingMessage,
    @Res() res: ServerResponse,
  ): Promise<void> {
    const resumeId = accountResumeId(req); // throws before any byte is written: a 400
    let open = true;
    let lastWriteMs = Date.now();
    const write = (text: string) => {
      if (!open) return;
      lastWriteMs = Date.now();
      res.write(text);
    };
    // Listen first, so nothing stored from here on is missed; what arrives before the start
    // position is known is held, then only what lies beyond it is sent, in order.
    let position: string | undefined;
    const held: RiskChange[] = [];
    let chain = Promise.resolve();
    const send = (id: string) => {
      chain = chain.then(() => (open ? this.sendLatest(write, () => res.end(), owner, id) : undefined));
    };
    const onChange = (c: RiskChange) => {
      if (position === undefined) held.push(c);
      else if (compareStreamIds(c.id, position) > 0) {
        position = c.id;
        send(c.id);
      }
    };
    const heartbeat: { timer?: NodeJS.Timeout } = {};
    let unsubscribe = () => undefined as void;
    res.on('close', () => {
      open = false;
      clearInterval(heartbeat.timer);
      this.subscribers.delete(res);
      unsubscribe();
    });
    unsubscribe = await this.hub.subscribe(owner, onChange);
    if (!open) unsubscribe(); // the client left while the tail was being positioned

    let startId: string | undefined;
    let through: string;
    try {
      if (resumeId === undefined) {
        through = await this.hub.lastId();
        startId = through;
      } else {
        const caught = await this.hub.catchUp(owner, resumeId);
        through = caught.throughId;
        startId = caught.changes[caught.changes.length - 1]?.id;
      }
    } catch (err) {
      unsubscribe();
      throw err;
    }
    if (!open) return;

    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    write(`retry: ${this.opts.retryMs}\n\n`);
    this.subscribers.add(res);
    heartbeat.timer = setInterval(
      () => {
        if (Date.now() - lastWriteMs >= this.opts.heartbeatMs) write(`: heartbeat ${Date.now()}\n\n`);
      },
      Math.max(250, Math.floor(this.opts.heartbeatMs / 2)),
    );

    position = through;
    if (startId !== undefined) send(startId);
    const later = held.filter((c) => compareStreamIds(c.id, through) > 0);
    const newest = later[later.length - 1];
    if (newest) {
      position = newest.id;
      send(newest.id);
    }
    // Caught up: a heartbeat right after the opening events tells a client so.
    chain = chain.then(() => write(`: heartbeat ${Date.now()}\n\n`));
  }

  /** Writes the account's latest result as one `health` event with `id`. */
  private async sendLatest(
    write: (text: string) => void,
    end: () => void,
    owner: Address,
    id: string,
  ): Promise<void> {
    try {
      const r = await this.results.latest(owner);
      if (!r) return; // nothing stored yet: the first stored change brings an event
      write(`id: ${id}\nevent: health\ndata: ${toWireJson(await this.accounts.healthOf(r))}\n\n`);
    } catch (err) {
      this.log('api.stream-error', { owner, error: err instanceof Error ? err.message : String(err) });
      write(`event: error\ndata: ${toWireJson({ error: 'the stored result could not be read' })}\n\n`);
      end();
    }
  }
}
