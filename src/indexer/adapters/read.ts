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

/** The hash of `blockNumber`, so results carry the exact block they were read at. */
export async function blockHashAt(client: Client, blockNumber: bigint): Promise<Hash> {
  const block = await getBlock(client, { blockNumber });
  return block.hash;
}
