/**
 * viem clients for the local world and two small helpers that every deploy step uses.
 *
 * The chain is viem's OP Mainnet definition (OP formatters/serializers, the GasPriceOracle predeploy
 * address) with the devnet's own chain id, so `publicActionsL2()` works against it unchanged.
 * Transactions go through anvil's unlocked test accounts (`eth_sendTransaction`), which is what makes
 * a few hundred setup transactions take seconds rather than minutes.
 */
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  getAddress,
  http,
  TransactionReceiptNotFoundError,
  type Abi,
  type Address,
  type Chain,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type Hash,
  type Hex,
  type TransactionReceipt,
} from 'viem';
import { optimism } from 'viem/chains';
import { publicActionsL2 } from 'viem/op-stack';
import { NetmarginError } from '../common/errors';

export const DEVNET_CHAIN_ID = 901;

export function devnetChain(rpcUrl: string, chainId = DEVNET_CHAIN_ID): Chain {
  return defineChain({
    ...optimism,
    id: chainId,
    name: 'netmargin local (OP)',
    network: 'netmargin-local',
    rpcUrls: { default: { http: [rpcUrl] } },
    blockExplorers: undefined,
    testnet: true,
  });
}

export function makeClients(rpcUrl: string, chainId = DEVNET_CHAIN_ID) {
  const chain = devnetChain(rpcUrl, chainId);
  const transport = http(rpcUrl, { retryCount: 0, timeout: 30_000 });
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 50 }).extend(
    publicActionsL2(),
  );
  const walletClient = createWalletClient({ chain, transport, pollingInterval: 50 });
  const testClient = createTestClient({ chain, transport, mode: 'anvil', pollingInterval: 50 });
  return { chain, publicClient, walletClient, testClient };
}

export type DevnetClients = ReturnType<typeof makeClients>;

/** How long `confirm` waits for a receipt before it gives up. */
const RECEIPT_TIMEOUT_MS = 120_000;

/**
 * Waits for a transaction's receipt and throws (naming `label`) if it reverted. Polls
 * `eth_getTransactionReceipt` itself rather than waiting for new block numbers: with automine, the
 * block holding the transaction may be the last one for a long time, and a wait keyed on the next
 * block can miss it when the receipt appears just after the first look (seen on a loaded machine).
 */
export async function confirm(c: DevnetClients, hash: Hash, label: string): Promise<TransactionReceipt> {
  const deadline = Date.now() + RECEIPT_TIMEOUT_MS;
  let receipt: TransactionReceipt | undefined;
  for (let wait = 10; !receipt; wait = Math.min(wait * 2, 200)) {
    receipt = await c.publicClient.getTransactionReceipt({ hash }).catch((err: unknown) => {
      if (err instanceof TransactionReceiptNotFoundError) return undefined;
      throw err;
    });
    if (receipt) break;
    if (Date.now() > deadline) {
      const known = await c.publicClient.getTransaction({ hash }).then(
        () => 'known to the node, not mined',
        () => 'unknown to the node',
      );
      throw new NetmarginError(
        `Devnet transaction not mined after ${RECEIPT_TIMEOUT_MS / 1000} s: ${label}`,
        {
          code: 'DEVNET_TX_NOT_MINED',
          hint: 'Is anvil still running and mining (automine or --block-time)? Check the devnet log.',
          details: { hash, label, state: known },
        },
      );
    }
    await new Promise((r) => setTimeout(r, wait));
  }
  if (receipt.status !== 'success') {
    throw new NetmarginError(`Devnet setup transaction reverted: ${label}`, {
      code: 'DEVNET_TX_REVERTED',
      details: { hash, label },
    });
  }
  return receipt;
}

/** Calls a contract function from an unlocked anvil account and waits for success. */
export async function write<
  const abi extends Abi,
  fn extends ContractFunctionName<abi, 'nonpayable' | 'payable'>,
  const args extends ContractFunctionArgs<abi, 'nonpayable' | 'payable', fn>,
>(
  c: DevnetClients,
  from: Address,
  address: Address,
  abi: abi,
  functionName: fn,
  args: args,
  opts: { value?: bigint; label?: string } = {},
): Promise<TransactionReceipt> {
  const label = opts.label ?? `${String(functionName)} on ${address}`;
  let hash: Hash;
  try {
    // The generic signature above already type-checks the call; viem's overloads cannot be re-derived here.
    const request = { account: from, chain: c.chain, address, abi, functionName, args, value: opts.value };
    // Estimates run in the current block; the transaction mines in the next one, where Aave may
    // accrue interest (more storage writes). A margin on the estimate avoids spurious out-of-gas.
    const estimate = await c.publicClient.estimateContractGas(
      request as unknown as Parameters<typeof c.publicClient.estimateContractGas>[0],
    );
    hash = await c.walletClient.writeContract({
      ...request,
      gas: (estimate * 3n) / 2n + 50_000n,
    } as unknown as Parameters<typeof c.walletClient.writeContract>[0]);
  } catch (cause) {
    const reason =
      cause instanceof Error ? ((cause as { shortMessage?: string }).shortMessage ?? cause.message) : '';
    throw new NetmarginError(`Devnet setup call failed: ${label}: ${reason}`, {
      code: 'DEVNET_TX_FAILED',
      details: { from, address, functionName },
      cause,
    });
  }
  try {
    return await confirm(c, hash, label);
  } catch (e) {
    if (e instanceof NetmarginError && e.code === 'DEVNET_TX_NOT_MINED') throw e;
    // Replay the call to recover the revert reason (Aave error codes, custom errors) for the message.
    const reason = await c.publicClient
      .simulateContract({
        account: from,
        address,
        abi,
        functionName,
        args,
        value: opts.value,
      } as unknown as Parameters<typeof c.publicClient.simulateContract>[0])
      .then(
        () => 'replay succeeded (state changed since)',
        (err: unknown) =>
          err instanceof Error
            ? ((err as { shortMessage?: string }).shortMessage ?? err.message)
            : String(err),
      );
    throw new NetmarginError(`Devnet setup transaction reverted: ${label}: ${reason}`, {
      code: 'DEVNET_TX_REVERTED',
      details: { hash, label, reason },
      cause: e,
    });
  }
}

/** Deploys creation bytecode (constructor args already appended) and returns the new address. */
export async function deployRaw(c: DevnetClients, from: Address, data: Hex, label: string): Promise<Address> {
  let hash: Hash;
  try {
    const estimate = await c.publicClient.estimateGas({ account: from, data });
    hash = await c.walletClient.sendTransaction({
      account: from,
      chain: c.chain,
      data,
      gas: (estimate * 6n) / 5n,
    });
  } catch (cause) {
    throw new NetmarginError(`Devnet deployment failed: ${label}`, { code: 'DEVNET_DEPLOY_FAILED', cause });
  }
  const receipt = await confirm(c, hash, `deploy ${label}`);
  if (!receipt.contractAddress) {
    throw new NetmarginError(`Deployment of ${label} produced no contract address`, {
      code: 'DEVNET_DEPLOY_FAILED',
    });
  }
  return getAddress(receipt.contractAddress);
}

/** One contract call of a batch (see `sendBatch`). */
export interface BatchCall {
  address: Address;
  abi: Abi;
  functionName: string;
  args: readonly unknown[];
  label: string;
}

/**
 * Sends several calls from one account without waiting between them (explicit nonces, fixed gas
 * limit, so no per-call estimation round trip) and returns their hashes. Under interval mining they
 * land in the same block; callers mine and then `confirmAll`.
 */
export async function sendBatch(c: DevnetClients, from: Address, calls: BatchCall[]): Promise<Hash[]> {
  let nonce = await c.publicClient.getTransactionCount({ address: from, blockTag: 'pending' });
  const hashes: Hash[] = [];
  for (const call of calls) {
    const hash = await c.walletClient.writeContract({
      account: from,
      chain: c.chain,
      address: call.address,
      abi: call.abi,
      functionName: call.functionName,
      args: call.args,
      nonce: nonce++,
      gas: 1_500_000n,
    } as unknown as Parameters<typeof c.walletClient.writeContract>[0]);
    hashes.push(hash);
  }
  return hashes;
}

export async function confirmAll(c: DevnetClients, hashes: Hash[], labels: string[]): Promise<void> {
  await Promise.all(hashes.map((h, i) => confirm(c, h, labels[i] ?? h)));
}
