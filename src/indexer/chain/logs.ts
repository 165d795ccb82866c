/**
 * `getLogsChunked`: read the logs of a long block range without tripping providers' limits.
 *
 * Providers cap `eth_getLogs` by block span and by result count, and each words the refusal
 * differently (see `isRangeTooLargeError`). We walk the range in chunks of `chunkSize` blocks; when a
 * chunk is refused we split it in half and try the halves, down to one block (a single block that is
 * still too large is a real error). The chunk size that worked is kept for the next chunk and grown
 * back slowly, so one dense stretch does not slow the whole backfill.
 */
import { formatLog, toHex, type Hex, type Log, type PublicClient } from 'viem';
import { InvalidInputError, NetmarginError } from '../../common/errors';
import { isRangeTooLargeError } from './retry';

export interface LogFilter {
  address?: Hex | Hex[];
  topics?: (Hex | Hex[] | null)[];
}

/** One `eth_getLogs` call; the caller binds the client (keeps this module free of I/O choices). */
export type GetLogsFn = (range: { fromBlock: bigint; toBlock: bigint } & LogFilter) => Promise<Log[]>;

export interface ChunkProgress {
  fromBlock: bigint;
  toBlock: bigint;
  /** Last block covered so far. */
  doneThrough: bigint;
  logs: number;
  /** Times a range was split because the node refused it. */
  splits: number;
}

export interface GetLogsChunkedOptions extends LogFilter {
  fromBlock: bigint;
  toBlock: bigint;
  /** Blocks per request to start with. */
  chunkSize?: bigint;
  onProgress?: (p: ChunkProgress) => void;
}

/** Binds `eth_getLogs` on a viem client (raw request, so any address / topics filter passes through). */
export function rpcGetLogs(client: PublicClient): GetLogsFn {
  return async ({ fromBlock, toBlock, address, topics }) => {
    const logs = await client.request({
      method: 'eth_getLogs',
      params: [
        {
          fromBlock: toHex(fromBlock),
          toBlock: toHex(toBlock),
          ...(address !== undefined ? { address } : {}),
          ...(topics !== undefined ? { topics } : {}),
        },
      ],
    });
    return logs.map((l) => formatLog(l));
  };
}

/**
 * The logs of one block, asked for by block hash (EIP-234): the node answers for exactly that block or
 * fails, so a log can never come from another branch after a reorg. What the live path uses.
 */
export async function getLogsAtBlock(
  client: PublicClient,
  blockHash: Hex,
  filter: LogFilter = {},
): Promise<Log[]> {
  const logs = await client.request({
    method: 'eth_getLogs',
    params: [
      {
        blockHash,
        ...(filter.address !== undefined ? { address: filter.address } : {}),
        ...(filter.topics !== undefined ? { topics: filter.topics } : {}),
      },
    ],
  });
  return logs.map((l) => formatLog(l));
}

/** Halves of [from, to]; the lower half gets the middle block. */
export function splitRange(from: bigint, to: bigint): [[bigint, bigint], [bigint, bigint]] {
  if (to <= from) throw new RangeError(`cannot split the one-block range ${from}..${to}`);
  const mid = from + (to - from) / 2n;
  return [
    [from, mid],
    [mid + 1n, to],
  ];
}

export async function getLogsChunked(getLogs: GetLogsFn, opts: GetLogsChunkedOptions): Promise<Log[]> {
  const { fromBlock, toBlock } = opts;
  if (fromBlock < 0n || toBlock < fromBlock)
    throw new InvalidInputError('fromBlock/toBlock', `empty or negative range ${fromBlock}..${toBlock}`, {
      hint: 'Pass fromBlock ≤ toBlock, both ≥ 0.',
    });
  let chunk = opts.chunkSize ?? 2_000n;
  if (chunk < 1n) throw new InvalidInputError('chunkSize', `${chunk} is below 1 block`);
  const maxChunk = chunk;
  const filter: LogFilter = {
    ...(opts.address !== undefined ? { address: opts.address } : {}),
    ...(opts.topics !== undefined ? { topics: opts.topics } : {}),
  };
  const out: Log[] = [];
  let splits = 0;
  let cursor = fromBlock;
  while (cursor <= toBlock) {
    const end = cursor + chunk - 1n < toBlock ? cursor + chunk - 1n : toBlock;
    // Depth-first over the halves of a refused range, in block order.
    const stack: [bigint, bigint][] = [[cursor, end]];
    let smallestOk = end - cursor + 1n;
    while (stack.length > 0) {
      const [a, b] = stack.pop() as [bigint, bigint];
      try {
        out.push(...(await getLogs({ fromBlock: a, toBlock: b, ...filter })));
        if (b - a + 1n < smallestOk) smallestOk = b - a + 1n;
        opts.onProgress?.({ fromBlock, toBlock, doneThrough: b, logs: out.length, splits });
      } catch (err) {
        if (!isRangeTooLargeError(err)) throw err;
        if (a === b)
          throw new NetmarginError(`The RPC refuses the logs of block ${a} even alone`, {
            code: 'LOGS_TOO_LARGE',
            hint: 'Narrow the filter (address / topics) or use an RPC with a higher log limit.',
            details: { block: a },
            cause: err,
          });
        splits += 1;
        const [lo, hi] = splitRange(a, b);
        stack.push(hi, lo);
      }
    }
    cursor = end + 1n;
    // Continue at the size that last worked, growing back by half toward the starting size.
    const grown = smallestOk + (smallestOk / 2n > 1n ? smallestOk / 2n : 1n);
    chunk = grown > maxChunk ? maxChunk : grown;
  }
  return out;
}
