/**
 * `--api <url>`: `health` and `what-if` asked of a running netmargin API instead of the stores
 * (`GET /v1/accounts/{address}/health`, `POST /v1/margin/what-if`). The answers are the same
 * documents the store path builds (the API runs the same `AccountsService`); their decimal-string
 * amounts are turned back into bigints for the text output. The API's error answers keep their
 * meaning: a 400 / 413 naming a field is bad usage (exit status 2), anything else an error.
 */
import type { Address } from 'viem';
import type { WhatIfAnswer } from '../api/accounts/accounts.service';
import type { Trade } from '../api/accounts/trades';
import type { HealthView } from '../api/accounts/views';
import { NetmarginError } from '../common/errors';
import { UsageError } from './args';
import { USD6_FIELDS } from '../pipeline/classify';

type Json = Record<string, unknown>;

function big(o: Json, keys: readonly string[]): void {
  for (const k of keys) if (typeof o[k] === 'string') o[k] = BigInt(o[k]);
}

/** A health answer as received (amounts as decimal strings) with its bigints restored. */
export function reviveHealth(body: unknown): HealthView {
  const o = { ...(body as Json) };
  big(o, ['blockNumber', 'positionsBlockNumber', ...USD6_FIELDS]);
  return o as unknown as HealthView;
}

/** A what-if answer as received, with its bigints restored. */
export function reviveWhatIf(body: unknown): WhatIfAnswer {
  const o = { ...(body as Json) };
  const basis = { ...(o.basis as Json) };
  big(basis, ['blockNumber', 'positionsBlockNumber']);
  const delta = { ...(o.delta as Json) };
  big(delta, USD6_FIELDS);
  return {
    ...o,
    basis,
    delta,
    now: reviveHealth(o.now),
    whatIf: reviveHealth(o.whatIf),
  } as unknown as WhatIfAnswer;
}

interface ApiErrorBody {
  error?: { code?: string; message?: string; field?: string; hint?: string };
}

async function call(base: string, path: string, init?: RequestInit): Promise<unknown> {
  const url = `${base.replace(/\/+$/, '')}${path}`;
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(60_000) });
  } catch (cause) {
    throw new NetmarginError(`Cannot reach the netmargin API at ${base}`, {
      code: 'API_UNAVAILABLE',
      hint: 'Check --api (e.g. http://127.0.0.1:8787), or leave it out to read the stores directly.',
      cause,
    });
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    throw new NetmarginError(`The API at ${base} answered ${res.status} without JSON`, {
      code: 'API_BAD_ANSWER',
      hint: 'Check that --api points at a netmargin API.',
      details: { status: res.status, body: text.slice(0, 200) },
      cause,
    });
  }
  if (res.ok) return body;
  const e = (body as ApiErrorBody).error ?? {};
  const message = e.message ?? `HTTP ${res.status}`;
  if ((res.status === 400 || res.status === 413) && e.field)
    throw new UsageError(
      e.field,
      message.startsWith(`${e.field}: `) ? message.slice(e.field.length + 2) : message,
      {
        code: e.code ?? 'BAD_USAGE',
        ...(e.hint ? { hint: e.hint } : {}),
      },
    );
  throw new NetmarginError(message, {
    code: e.code ?? `HTTP_${res.status}`,
    ...(e.hint ? { hint: e.hint } : {}),
    details: { status: res.status },
  });
}

export async function apiHealth(base: string, owner: Address): Promise<unknown> {
  return call(base, `/v1/accounts/${owner}/health`);
}

export async function apiWhatIf(base: string, owner: Address, trades: readonly Trade[]): Promise<unknown> {
  return call(base, '/v1/margin/what-if', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ address: owner, trades }),
  });
}
