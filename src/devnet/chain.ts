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

/** Waits for a transaction's receipt and throws (naming `label`) if it reverted. */
export async function confirm(c: DevnetClients, hash: Hash, label: string): Promise<TransactionReceipt> {
  const receipt = await c.publicClient.waitForTransactionReceipt({
    hash,
    pollingInterval: 50,
    timeout: 60_000,
  });
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
    hash = await c.walletClient.writeContract({
      account: from,
      chain: c.chain,
      address,
      abi,
      functionName,
      args,
      value: opts.value,
    } as unknown as Parameters<typeof c.walletClient.writeContract>[0]);
  } catch (cause) {
    throw new NetmarginError(`Devnet setup call failed: ${label}`, {
      code: 'DEVNET_TX_FAILED',
      details: { from, address, functionName },
      cause,
    });
  }
  try {
    return await confirm(c, hash, label);
  } catch (e) {
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
    hash = await c.walletClient.sendTransaction({ account: from, chain: c.chain, data });
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
