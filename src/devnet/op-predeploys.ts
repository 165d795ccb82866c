/**
 * Installs the OP-stack predeploys that price the L1 data fee, which `anvil --network optimism` lacks.
 *
 * GasPriceOracle (0x…0F) and L1Block (0x…15) get the runtime bytecode shipped in
 * `@eth-optimism/contracts-bedrock`. Then the depositor account — the sender of the L1-attributes
 * deposit transaction that opens every OP block — is impersonated to do what the sequencer does: write
 * the L1 block attributes (Ecotone calldata layout, with L1 base fee / blob base fee and the OP Mainnet
 * fee scalars) and activate Ecotone and Fjord on the GasPriceOracle. After that `estimateL1Fee` from
 * `viem/op-stack` returns a real, non-zero fee computed by Optimism's own code (FastLZ-compressed size).
 */
import {
  concat,
  encodeFunctionData,
  numberToHex,
  pad,
  parseAbi,
  parseGwei,
  toHex,
  type Address,
  type Hex,
} from 'viem';
import { optimismDeployedBytecode } from './artifacts';
import { confirm, type DevnetClients } from './chain';

export const GAS_PRICE_ORACLE: Address = '0x420000000000000000000000000000000000000F';
export const L1_BLOCK: Address = '0x4200000000000000000000000000000000000015';
export const DEPOSITOR: Address = '0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001';

/** OP Mainnet's post-Ecotone fee scalars (base fee scalar 5227, blob base fee scalar 1014213). */
export const L1_FEE_PARAMS = {
  baseFeeScalar: 5_227,
  blobBaseFeeScalar: 1_014_213,
  l1BaseFeeWei: parseGwei('10'),
  l1BlobBaseFeeWei: parseGwei('1'),
  l1BlockNumber: 21_000_000n,
} as const;

const gpoAbi = parseAbi([
  'function setEcotone()',
  'function setFjord()',
  'function isFjord() view returns (bool)',
]);

/** Calldata of `setL1BlockValuesEcotone()`: selector then tightly packed attributes (Ecotone spec). */
export function encodeL1BlockValuesEcotone(p: {
  baseFeeScalar: number;
  blobBaseFeeScalar: number;
  sequenceNumber: bigint;
  timestampSec: bigint;
  l1BlockNumber: bigint;
  l1BaseFeeWei: bigint;
  l1BlobBaseFeeWei: bigint;
  l1BlockHash: Hex;
  batcherHash: Hex;
}): Hex {
  const selector = encodeFunctionData({ abi: parseAbi(['function setL1BlockValuesEcotone()']) });
  return concat([
    selector,
    numberToHex(p.baseFeeScalar, { size: 4 }),
    numberToHex(p.blobBaseFeeScalar, { size: 4 }),
    numberToHex(p.sequenceNumber, { size: 8 }),
    numberToHex(p.timestampSec, { size: 8 }),
    numberToHex(p.l1BlockNumber, { size: 8 }),
    numberToHex(p.l1BaseFeeWei, { size: 32 }),
    numberToHex(p.l1BlobBaseFeeWei, { size: 32 }),
    p.l1BlockHash,
    p.batcherHash,
  ]);
}

export async function installOpPredeploys(c: DevnetClients): Promise<void> {
  await c.testClient.setCode({
    address: GAS_PRICE_ORACLE,
    bytecode: optimismDeployedBytecode('GasPriceOracle'),
  });
  await c.testClient.setCode({ address: L1_BLOCK, bytecode: optimismDeployedBytecode('L1Block') });
  await c.testClient.setBalance({ address: DEPOSITOR, value: 10n ** 18n });
  await c.testClient.impersonateAccount({ address: DEPOSITOR });
  try {
    const block = await c.publicClient.getBlock();
    const data = encodeL1BlockValuesEcotone({
      ...L1_FEE_PARAMS,
      sequenceNumber: 0n,
      timestampSec: block.timestamp,
      l1BlockHash: pad(toHex('netmargin-l1'), { size: 32 }),
      batcherHash: pad('0x6887246668a3b87F54DeB3b94Ba47a6f63F32985', { size: 32 }),
    });
    const send = async (to: Address, calldata: Hex, label: string): Promise<void> => {
      const hash = await c.walletClient.sendTransaction({
        account: DEPOSITOR,
        chain: c.chain,
        to,
        data: calldata,
      });
      await confirm(c, hash, label);
    };
    await send(L1_BLOCK, data, 'L1Block.setL1BlockValuesEcotone');
    const fjord = await c.publicClient.readContract({
      address: GAS_PRICE_ORACLE,
      abi: gpoAbi,
      functionName: 'isFjord',
    });
    if (!fjord) {
      await send(
        GAS_PRICE_ORACLE,
        encodeFunctionData({ abi: gpoAbi, functionName: 'setEcotone' }),
        'GasPriceOracle.setEcotone',
      );
      await send(
        GAS_PRICE_ORACLE,
        encodeFunctionData({ abi: gpoAbi, functionName: 'setFjord' }),
        'GasPriceOracle.setFjord',
      );
    }
  } finally {
    await c.testClient.stopImpersonatingAccount({ address: DEPOSITOR });
  }
}
