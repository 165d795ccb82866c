import {
  CallExecutionError,
  ExecutionRevertedError,
  HttpRequestError,
  InternalRpcError,
  InvalidParamsRpcError,
  LimitExceededRpcError,
  MethodNotFoundRpcError,
  ResponseBodyTooLargeError,
  RpcRequestError,
  TimeoutError,
  UnknownRpcError,
} from 'viem';
import { mulberry32 } from '../../risk/stats/prng';
import { backoffMs, classifyRpcError, isRangeTooLargeError, retryAfterMs } from './retry';

const url = 'http://127.0.0.1:1';
const body = { method: 'eth_getLogs', params: [] };
const rpcErr = (code: number, message: string) =>
  new RpcRequestError({ body, url, error: { code, message } });

describe('classifyRpcError', () => {
  it.each([
    ['HTTP 429', new HttpRequestError({ url, body, status: 429, details: 'Too Many Requests' })],
    ['HTTP 502', new HttpRequestError({ url, body, status: 502 })],
    ['HTTP 503', new HttpRequestError({ url, body, status: 503 })],
    ['a timeout', new TimeoutError({ url, body })],
    [
      'a refused connection (no status)',
      new HttpRequestError({ url, body, cause: new Error('ECONNREFUSED') }),
    ],
    ['code 429 inside HTTP 200', rpcErr(429, 'rate limited')],
    ['-32005 rate limit', new LimitExceededRpcError(rpcErr(-32005, 'daily request limit reached'))],
    ['-32603 internal error', new InternalRpcError(rpcErr(-32603, 'server busy'))],
    ['-32000 header not found', rpcErr(-32000, 'header not found')],
  ])('retries %s', (_name, err) => {
    expect(classifyRpcError(err)).toBe('retry');
  });

  it.each([
    ['an execution revert', new ExecutionRevertedError({ message: 'execution reverted: HF too low' })],
    [
      'a revert wrapped by eth_call',
      new CallExecutionError(new ExecutionRevertedError({ message: 'execution reverted' }), {}),
    ],
    ['a revert inside -32603', new InternalRpcError(rpcErr(-32603, 'execution reverted: paused'))],
    [
      '-32601 method not found',
      new MethodNotFoundRpcError(rpcErr(-32601, 'the method eth_foo does not exist')),
    ],
    ['-32602 invalid params', new InvalidParamsRpcError(rpcErr(-32602, 'invalid argument 0'))],
    ['HTTP 400', new HttpRequestError({ url, body, status: 400 })],
    ['HTTP 401', new HttpRequestError({ url, body, status: 401 })],
    [
      'a range too large (-32005)',
      new LimitExceededRpcError(rpcErr(-32005, 'query returned more than 10000 results')),
    ],
    ['an unknown non-RPC error', new Error('boom')],
    ['-32000 nonce too low', rpcErr(-32000, 'nonce too low')],
    ['-32000 unknown block tag', rpcErr(-32000, 'unknown block')],
  ])('fails fast on %s', (_name, err) => {
    expect(classifyRpcError(err)).toBe('fatal');
  });

  it('reads the code through viem wrappers (UnknownRpcError around a 429 code)', () => {
    expect(classifyRpcError(new UnknownRpcError(rpcErr(429, 'slow down')))).toBe('retry');
  });
});

describe('isRangeTooLargeError', () => {
  it.each([
    'query returned more than 10000 results',
    'block range is too large',
    'Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range',
    'eth_getLogs is limited to a 10,000 range',
    'exceed maximum block range: 5000',
  ])('recognizes "%s"', (message) => {
    const err = new LimitExceededRpcError(rpcErr(-32005, message));
    expect(isRangeTooLargeError(err)).toBe(true);
    expect(isRangeTooLargeError(rpcErr(-32602, message))).toBe(true);
    expect(classifyRpcError(err)).toBe('fatal');
  });

  it("treats viem's refusal of an oversized HTTP response as a range to split", () => {
    const err = new ResponseBodyTooLargeError({ maxSize: 10_485_760, size: 12_000_000 });
    expect(isRangeTooLargeError(err)).toBe(true);
    expect(isRangeTooLargeError(new UnknownRpcError(err))).toBe(true);
    expect(classifyRpcError(err)).toBe('fatal');
  });

  it('does not mistake a rate limit for a range problem', () => {
    expect(isRangeTooLargeError(new LimitExceededRpcError(rpcErr(-32005, 'rate limit exceeded')))).toBe(
      false,
    );
    expect(isRangeTooLargeError(new HttpRequestError({ url, body, status: 429 }))).toBe(false);
  });
});

describe('backoffMs', () => {
  const opts = { baseMs: 100, capMs: 2_000 };

  it('doubles the ceiling per attempt and stays within [ceiling/2, ceiling]', () => {
    const random = mulberry32(7);
    for (let attempt = 0; attempt < 12; attempt += 1) {
      const ceiling = Math.min(2_000, 100 * 2 ** attempt);
      for (let i = 0; i < 50; i += 1) {
        const ms = backoffMs(attempt, { ...opts, random });
        expect(ms).toBeGreaterThanOrEqual(ceiling / 2);
        expect(ms).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it('never exceeds the cap, even for huge attempt numbers', () => {
    expect(backoffMs(1_000, { ...opts, random: () => 0.999999 })).toBeLessThanOrEqual(2_000);
    expect(backoffMs(1_000, { ...opts, random: () => 0 })).toBe(1_000);
  });

  it('is exact with an injected random source', () => {
    expect(backoffMs(0, { ...opts, random: () => 0 })).toBe(50);
    expect(backoffMs(0, { ...opts, random: () => 0.5 })).toBe(75);
    expect(backoffMs(3, { ...opts, random: () => 0.5 })).toBe(600);
  });

  it('spreads clients that failed together (jitter)', () => {
    const random = mulberry32(1);
    const waits = new Set(Array.from({ length: 20 }, () => backoffMs(4, { ...opts, random })));
    expect(waits.size).toBeGreaterThan(10);
  });

  it('rejects a negative or fractional attempt', () => {
    expect(() => backoffMs(-1, { ...opts, random: Math.random })).toThrow(RangeError);
    expect(() => backoffMs(0.5, { ...opts, random: Math.random })).toThrow(RangeError);
  });
});

describe('retryAfterMs', () => {
  const with429 = (value: string) =>
    new HttpRequestError({ url, body, status: 429, headers: new Headers({ 'Retry-After': value }) });

  it('reads seconds and HTTP dates, capped', () => {
    expect(retryAfterMs(with429('3'), 10_000)).toBe(3_000);
    expect(retryAfterMs(with429('120'), 10_000)).toBe(10_000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs(with429('Thu, 01 Jan 2026 00:00:05 GMT'), 10_000, now)).toBe(5_000);
  });

  it('is undefined without the header or with garbage', () => {
    expect(retryAfterMs(new HttpRequestError({ url, body, status: 429 }), 10_000)).toBeUndefined();
    expect(retryAfterMs(with429('soon'), 10_000)).toBeUndefined();
    expect(retryAfterMs(new TimeoutError({ url, body }), 10_000)).toBeUndefined();
  });
});
