/**
 * Pinned, batched contract reads for adapters.
 *
 * Every read of one adapter call goes through `readAll`: one `eth_call` per batch via viem's
 * deployless multicall (Multicall3's bytecode is sent with the call, so nothing has to be deployed
 * and the devnet — which has no Multicall3 at the canonical address — works like a real chain), all
 * at the same `blockNumber`. A failing call fails the whole read with the call named: a half-read
 * portfolio is worse than none.
 */
import type { Abi, Address, Client, Hash } from 'viem';
import { getBlock, multicall } from 'viem/actions';
import { NetmarginError } from '../../common/errors';
import type { Position } from '../../risk/types';
import type { AdapterProtocol, AdapterReadResult, PositionHolder } from './types';

export interface ReadCall {
  address: Address;
  abi: Abi;
  functionName: string;
  args?: readonly unknown[];
}

/** Results in call order; callers narrow each one to the function's declared return type. */
export async function readAll(
  client: Client,
  calls: readonly ReadCall[],
  blockNumber: bigint,
): Promise<unknown[]> {
  if (calls.length === 0) return [];
  const results = await multicall(client, {
    contracts: calls as unknown as Parameters<typeof multicall>[1]['contracts'],
    blockNumber,
    allowFailure: true,
    deployless: true,
  });
  return results.map((r, i) => {
    if (r.status === 'success') return r.result;
    const call = calls[i]!;
    throw new NetmarginError(`Read ${call.functionName} on ${call.address} failed at block ${blockNumber}`, {
      code: 'ADAPTER_READ_FAILED',
      details: {
        address: call.address,
        functionName: call.functionName,
        blockNumber: blockNumber.toString(),
      },
      hint: 'Check that the manifest matches the chain and that the price feeds are fresh at this block.',
      cause: r.error,
    });
  });
}

/**
 * Runs `read` (calls pinned to `blockNumber`) and returns its value with the block's hash, checked
 * before and after: if the block was replaced by a reorg in between, the state read may belong to
 * either chain, so the read fails with `REORGED_DURING_READ` and the caller retries.
 */
export async function readAtBlock<T>(
  client: Client,
  blockNumber: bigint,
  read: () => Promise<T>,
): Promise<{ value: T; blockHash: Hash }> {
  const before = (await getBlock(client, { blockNumber })).hash;
  const value = await read();
  const after = (await getBlock(client, { blockNumber })).hash;
  if (before !== after) {
    throw new NetmarginError(`Block ${blockNumber} was reorganized while it was being read`, {
      code: 'REORGED_DURING_READ',
      details: { blockNumber: blockNumber.toString(), before, after },
      hint: 'Retry the read at the new canonical block.',
    });
  }
  return { value, blockHash: before };
}

/** What an adapter collects for one holder before the result is stamped with its block. */
export interface CollectedPositions {
  positions: Position[];
  attributes: Record<string, string>;
}

/**
 * The `readPositions` every adapter shares: runs the adapter's `collect` pinned to `blockNumber` and stamps
 * the result with that block's hash (failing with `REORGED_DURING_READ` if the block changed meanwhile).
 */
export async function readHolderAtBlock(
  protocol: AdapterProtocol,
  client: Client,
  holder: PositionHolder,
  blockNumber: bigint,
  collect: () => Promise<CollectedPositions>,
): Promise<AdapterReadResult> {
  const { value, blockHash } = await readAtBlock(client, blockNumber, collect);
  return { protocol, owner: holder.owner, blockNumber, blockHash, ...value };
}
