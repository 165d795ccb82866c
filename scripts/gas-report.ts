/**
 * `npm run gas:report`: what posting margin attestations costs on the OP-stack devnet.
 *
 * Starts its own devnet (free port, automine), attests 500 synthetic accounts once so every measured
 * batch is "updates of already-attested accounts", then for batches of 1, 10, 100 and 500 accounts posts
 * two updates signed 2-of-3 through `src/attestation`: one whose inputs hash commits to 1 position per
 * account and one to 100 positions per account. Posting reads no prices or balances, so the two cost the
 * same apart from calldata byte values (zero bytes are cheaper); both are printed.
 *
 * Output: one JSON line per batch size on stdout (progress on stderr). `l2GasPerAccount` = receipt
 * gasUsed / N (21,000 intrinsic + calldata + execution); `calldataBytesPerAccount` = transaction input
 * bytes / N; `l1FeeWeiPerAccount` = `estimateL1Fee` from `viem/op-stack` (the GasPriceOracle predeploy's
 * Fjord formula with the devnet's L1 attributes) for the same transaction request, / N. The devnet is
 * stopped at the end, also on error. The exit code is 1 if the batch of 100 misses issue 5's target
 * (≤ 15,000 L2 gas and ≤ 120 calldata bytes per account); that line carries `withinTarget`.
 */
import {
  encodeAbiParameters,
  encodeFunctionData,
  keccak256,
  size,
  toHex,
  type Address,
  type Hex,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  buildMarginBatch,
  collectSignatures,
  postAttestationsArgs,
  type MarginRecord,
} from '../src/attestation';
import { marginAggregatorAbi } from '../src/contracts/generated';
import { getFreePort } from '../src/devnet/anvil';
import { startDevnet, type Devnet } from '../src/devnet/devnet';

const BATCH_SIZES = [1, 10, 100, 500] as const;
const MAX_ACCOUNTS = 500;
const POSITION_COUNTS = [1, 100] as const;
const USD6 = 10n ** 6n;
const PARAMS_HASH = keccak256(toHex('netmargin-gas-report-params-v1'));
/** Issue 5's target for a batch of 100 updates. */
const TARGET = { l2GasPerAccount: 15_000, calldataBytesPerAccount: 120 };

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** Deterministic synthetic accounts (no keys needed: anyone may be attested). */
function syntheticAccount(i: number): Address {
  return privateKeyToAccount(keccak256(toHex(`netmargin-gas-report-account-${i}`))).address;
}

/** A synthetic portfolio of `positions` legs; its ABI encoding is what the inputs hash commits to. */
function inputsHash(account: Address, positions: number, round: number): Hex {
  const legs = Array.from({ length: positions }, (_, k) => ({
    venue: k % 3,
    market: BigInt(k),
    sizeWad: BigInt((k + 1) * 1_000) * 10n ** 15n * (k % 2 === 0 ? 1n : -1n),
  }));
  return keccak256(
    encodeAbiParameters(
      [
        { type: 'address' },
        { type: 'uint256' },
        {
          type: 'tuple[]',
          components: [
            { name: 'venue', type: 'uint8' },
            { name: 'market', type: 'uint256' },
            { name: 'sizeWad', type: 'int256' },
          ],
        },
      ],
      [account, BigInt(round), legs],
    ),
  );
}

function records(accounts: Address[], blockNumber: bigint, positions: number, round: number): MarginRecord[] {
  return accounts.map((account, i) => {
    const imUsd6 = BigInt(10_000 + 37 * i + positions) * USD6;
    return {
      account,
      imUsd6,
      mmUsd6: (imUsd6 * 6n) / 10n,
      mtmUsd6: -BigInt(250 + i) * USD6,
      blockNumber,
      inputsHash: inputsHash(account, positions, round),
    };
  });
}

interface Posting {
  gasUsed: bigint;
  calldataBytes: number;
  l1FeeWei: bigint;
  receiptL1FeeWei: bigint | null;
}

async function postBatch(devnet: Devnet, recordsOf: (block: bigint) => MarginRecord[]): Promise<Posting> {
  const c = devnet.clients;
  const agg = devnet.manifest.aggregator!;
  const signers = agg.signers.map((s) => privateKeyToAccount(s.privateKey!));
  const latest = await c.publicClient.getBlock();
  const batch = buildMarginBatch(
    {
      paramsHash: PARAMS_HASH,
      timestampSec: latest.timestamp,
      deadlineSec: latest.timestamp + 600n,
      records: recordsOf(latest.number),
    },
    { nowSec: latest.timestamp },
  );
  const { signatures } = await collectSignatures(
    batch,
    { chainId: devnet.manifest.network.chainId, aggregator: agg.address },
    signers,
    agg.threshold,
  );
  const data = encodeFunctionData({
    abi: marginAggregatorAbi,
    functionName: 'postAttestations',
    args: postAttestationsArgs(batch, signatures),
  });
  const from = devnet.manifest.roles.deployer;
  const l1FeeWei = await c.publicClient.estimateL1Fee({
    account: from,
    to: agg.address,
    data,
    chain: c.chain,
  });
  const hash = await c.walletClient.sendTransaction({ account: from, to: agg.address, data, chain: c.chain });
  const receipt = await c.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 50 });
  if (receipt.status !== 'success') throw new Error(`postAttestations reverted (${hash})`);
  const tx = await c.publicClient.getTransaction({ hash });
  // Read the last account back: the batch really landed.
  const last = batch.records[batch.records.length - 1]!;
  const stored = await c.publicClient.readContract({
    address: agg.address,
    abi: marginAggregatorAbi,
    functionName: 'attestationOf',
    args: [last.account],
  });
  if (BigInt(stored.blockNumber) !== last.blockNumber || BigInt(stored.imUsd6) !== last.imUsd6) {
    throw new Error(`attestation of ${last.account} not stored as posted`);
  }
  const receiptL1 = (receipt as { l1Fee?: bigint | null }).l1Fee;
  return {
    gasUsed: receipt.gasUsed,
    calldataBytes: size(tx.input),
    l1FeeWei,
    receiptL1FeeWei: typeof receiptL1 === 'bigint' ? receiptL1 : null,
  };
}

const perAccount = (total: bigint, n: number): number => Number((total + BigInt(n) / 2n) / BigInt(n));

async function main(): Promise<void> {
  const t0 = Date.now();
  const devnet = await startDevnet({ port: await getFreePort(), blockTimeSec: 0, manifestPath: null });
  try {
    log(
      `devnet ready in ${devnet.setupMs} ms at ${devnet.rpcUrl}; aggregator ${devnet.manifest.aggregator!.address}`,
    );
    const accounts = Array.from({ length: MAX_ACCOUNTS }, (_, i) => syntheticAccount(i));
    const first = await postBatch(devnet, (b) => records(accounts, b, 1, 0));
    log(`attested ${MAX_ACCOUNTS} accounts for the first time: ${first.gasUsed} gas`);

    let round = 1;
    for (const n of BATCH_SIZES) {
      const subset = accounts.slice(0, n);
      const byPositions = new Map<number, Posting>();
      for (const positions of POSITION_COUNTS) {
        byPositions.set(positions, await postBatch(devnet, (b) => records(subset, b, positions, round++)));
      }
      const one = byPositions.get(1)!;
      const many = byPositions.get(100)!;
      log(`batch ${n}: ${many.gasUsed} gas at 100 positions/account, ${one.gasUsed} at 1`);
      const withinTarget =
        perAccount(many.gasUsed, n) <= TARGET.l2GasPerAccount &&
        perAccount(BigInt(many.calldataBytes), n) <= TARGET.calldataBytesPerAccount;
      if (n === 100 && !withinTarget) {
        log(
          `batch 100 misses the target (≤ ${TARGET.l2GasPerAccount} gas, ≤ ${TARGET.calldataBytesPerAccount} bytes per account)`,
        );
        process.exitCode = 1;
      }
      const line = {
        batch: n,
        l2GasPerAccount: perAccount(many.gasUsed, n),
        calldataBytesPerAccount: perAccount(BigInt(many.calldataBytes), n),
        l1FeeWeiPerAccount: perAccount(many.l1FeeWei, n),
        positionsPerAccount: 100,
        l2GasTotal: Number(many.gasUsed),
        calldataBytes: many.calldataBytes,
        l1FeeWei: many.l1FeeWei.toString(),
        l1FeeSource: 'viem/op-stack estimateL1Fee',
        receiptL1FeeWei: many.receiptL1FeeWei === null ? null : many.receiptL1FeeWei.toString(),
        l2GasPerAccountAt1Position: perAccount(one.gasUsed, n),
        calldataBytesPerAccountAt1Position: perAccount(BigInt(one.calldataBytes), n),
        ...(n === 100 ? { withinTarget } : {}),
      };
      process.stdout.write(`${JSON.stringify(line)}\n`);
    }
    log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    await devnet.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`gas report failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
