/**
 * MarginAggregator end to end on the local world: attestations built and signed in TypeScript
 * (`src/attestation`, viem local accounts of the devnet's 2-of-3 signer set), posted by an ordinary
 * account, and read back through the partner interface (`IMarginReader`).
 *
 * The collateral value the contract reports is recomputed here from the persona deposit table, the
 * Chainlink feed answers, token decimals, the listed haircuts and, for aTokens, Aave's
 * `getReserveNormalizedIncome` — all read at the same block as the partner views.
 */
import {
  BaseError,
  ContractFunctionRevertedError,
  getAddress,
  encodeAbiParameters,
  parseAbiParameters,
  keccak256,
  parseEventLogs,
  toHex,
  type Address,
  type Hex,
  type TransactionReceipt,
} from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import {
  aavePoolAbi,
  iMarginReaderAbi,
  marginAggregatorAbi,
  mockV3AggregatorAbi,
} from '../src/contracts/generated';
import type { AggregatorInfo, DeploymentManifest } from '../src/config/manifest';
import { parseDecimalUnits } from '../src/common/amount';
import {
  AGGREGATOR_EIP712_NAME,
  AGGREGATOR_EIP712_VERSION,
  buildMarginBatch,
  collectSignatures,
  marginBatchDigest,
  postAttestationsArgs,
  type AggregatorTarget,
  type MarginBatch,
  type MarginRecord,
} from '../src/attestation';
import { getFreePort } from '../src/devnet/anvil';
import { startDevnet, type Devnet } from '../src/devnet/devnet';
import { PERSONAS } from '../src/devnet/personas';

const RAY = 10n ** 27n;
const USD6 = 10n ** 6n;
const PARAMS_HASH = keccak256(toHex('netmargin-e2e-params-v1'));

let devnet: Devnet;
let manifest: DeploymentManifest;
let agg: AggregatorInfo;
let signers: PrivateKeyAccount[];
let target: AggregatorTarget;

beforeAll(async () => {
  // Automine: every posting mines its own block at once, which keeps the test fast and exact.
  devnet = await startDevnet({ port: await getFreePort(), blockTimeSec: 0, manifestPath: null });
  manifest = devnet.manifest;
  if (!manifest.aggregator) throw new Error('the devnet manifest has no aggregator');
  agg = manifest.aggregator;
  signers = agg.signers.map((s) => privateKeyToAccount(s.privateKey!));
  target = { chainId: manifest.network.chainId, aggregator: agg.address };
}, 120_000);

afterAll(async () => {
  await devnet?.stop();
});

const pc = () => devnet.clients.publicClient;

function persona(name: string): { address: Address } {
  const a = manifest.accounts.find((x) => x.persona === name);
  if (!a) throw new Error(`persona ${name} not in manifest`);
  return a;
}

/** Anyone may relay a signed batch: an ordinary seeded account posts here. */
const relayer = (): Address => persona('fresh-wallet').address;

async function chainNow(): Promise<{ nowSec: bigint; block: bigint }> {
  const b = await pc().getBlock();
  return { nowSec: b.timestamp, block: b.number };
}

function record(
  account: Address,
  im: bigint,
  mm: bigint,
  mtm: bigint,
  blockNumber: bigint,
  tag: string,
): MarginRecord {
  return {
    account,
    imUsd6: im * USD6,
    mmUsd6: mm * USD6,
    mtmUsd6: mtm * USD6,
    blockNumber,
    inputsHash: keccak256(toHex(`inputs:${account}:${tag}`)),
  };
}

async function signedBatch(
  records: MarginRecord[],
  opts: { deadlineInSec?: bigint; target?: AggregatorTarget } = {},
) {
  const { nowSec } = await chainNow();
  const batch = buildMarginBatch(
    {
      paramsHash: PARAMS_HASH,
      timestampSec: nowSec,
      deadlineSec: nowSec + (opts.deadlineInSec ?? 600n),
      records,
    },
    { nowSec },
  );
  const { signatures } = await collectSignatures(batch, opts.target ?? target, signers, agg.threshold);
  return { batch, signatures };
}

async function post(batch: MarginBatch, signatures: Hex): Promise<TransactionReceipt> {
  const hash = await devnet.clients.walletClient.writeContract({
    account: relayer(),
    chain: devnet.clients.chain,
    address: agg.address,
    abi: marginAggregatorAbi,
    functionName: 'postAttestations',
    args: postAttestationsArgs(batch, signatures),
  });
  const receipt = await pc().waitForTransactionReceipt({ hash, pollingInterval: 50 });
  expect(receipt.status).toBe('success');
  return receipt;
}

/** The custom error name a call reverts with (from a simulation of the same call). */
async function revertName(batch: MarginBatch, signatures: Hex): Promise<string> {
  try {
    await pc().simulateContract({
      account: relayer(),
      address: agg.address,
      abi: marginAggregatorAbi,
      functionName: 'postAttestations',
      args: postAttestationsArgs(batch, signatures),
    });
  } catch (e) {
    const reverted =
      e instanceof BaseError ? e.walk((x) => x instanceof ContractFunctionRevertedError) : null;
    if (reverted instanceof ContractFunctionRevertedError) return reverted.data?.errorName ?? 'unknown';
    throw e;
  }
  return 'did not revert';
}

/** Haircut-weighted USD6 value of an account's aggregator collateral, recomputed from its inputs. */
async function expectedCollateralUsd6(account: Address, blockNumber: bigint): Promise<bigint> {
  let total = 0n;
  for (const asset of agg.assets) {
    const balance = await pc().readContract({
      address: agg.address,
      abi: marginAggregatorAbi,
      functionName: 'balanceOf',
      args: [account, asset.address],
      blockNumber,
    });
    if (balance === 0n) continue;
    const [, answer] = await pc().readContract({
      address: asset.feed,
      abi: mockV3AggregatorAbi,
      functionName: 'latestRoundData',
      blockNumber,
    });
    const feedDecimals = BigInt(manifest.feeds.prices.USDC.decimals);
    const tokens = asset.isAToken
      ? (balance *
          (await pc().readContract({
            address: manifest.aave.pool,
            abi: aavePoolAbi,
            functionName: 'getReserveNormalizedIncome',
            args: [asset.underlying!],
            blockNumber,
          }))) /
        RAY
      : balance;
    const valueUsd6 = (tokens * answer * USD6) / 10n ** (BigInt(asset.decimals) + feedDecimals);
    total += (valueUsd6 * BigInt(10_000 - asset.haircutBps)) / 10_000n;
  }
  return total;
}

async function partnerView(account: Address, blockNumber: bigint) {
  const [imUsd6, mmUsd6, collateralUsd6, shortfallUsd6, attestedBlock, stale] = await pc().readContract({
    address: agg.address,
    abi: iMarginReaderAbi,
    functionName: 'marginOf',
    args: [account],
    blockNumber,
  });
  const liquidatable = await pc().readContract({
    address: agg.address,
    abi: iMarginReaderAbi,
    functionName: 'isLiquidatable',
    args: [account],
    blockNumber,
  });
  const freeUsd6 = await pc().readContract({
    address: agg.address,
    abi: iMarginReaderAbi,
    functionName: 'freeCollateral',
    args: [account],
    blockNumber,
  });
  return { imUsd6, mmUsd6, collateralUsd6, shortfallUsd6, attestedBlock, stale, liquidatable, freeUsd6 };
}

const depositors = PERSONAS.filter((p) => p.aggregator).map((p) => p.persona);

describe('MarginAggregator on the devnet', () => {
  it('is deployed as the manifest says: signer set, threshold, listed collateral, EIP-712 domain', async () => {
    const read = <T>(functionName: string, args: readonly unknown[] = []) =>
      pc().readContract({
        address: agg.address,
        abi: marginAggregatorAbi,
        functionName,
        args,
      } as never) as Promise<T>;
    expect(await read<bigint>('threshold')).toBe(BigInt(agg.threshold));
    expect(await read<bigint>('signerCount')).toBe(BigInt(agg.signers.length));
    for (const s of agg.signers) expect(await read<boolean>('isSigner', [s.address])).toBe(true);
    expect(signers.map((s) => s.address)).toEqual(agg.signers.map((s) => s.address));
    expect(await read<Address>('settlementAsset')).toBe(manifest.tokens.USDC.address);
    expect(await read<Address>('owner')).toBe(manifest.roles.deployer);
    expect((await read<Address[]>('assets')).map((a) => getAddress(a))).toEqual(
      agg.assets.map((a) => a.address),
    );
    expect(await read<bigint>('insuranceFund')).toBe(BigInt(agg.insuranceFundUnits));
    expect(await read<Address>('sequencerFeed')).toBe(manifest.feeds.sequencerUptime.address);
    const code = await pc().getCode({ address: agg.address, blockNumber: BigInt(agg.deployBlock) });
    const before = await pc().getCode({ address: agg.address, blockNumber: BigInt(agg.deployBlock - 1) });
    expect(code && code.length > 2).toBe(true);
    expect(before ?? '0x').toBe('0x');
    // The TypeScript domain is the contract's: a separator mismatch would make every batch fail.
    expect(await read<Hex>('domainSeparator')).toBe(
      keccak256(
        encodeAbiParameters(parseAbiParameters('bytes32, bytes32, bytes32, uint256, address'), [
          keccak256(
            toHex('EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)'),
          ),
          keccak256(toHex(AGGREGATOR_EIP712_NAME)),
          keccak256(toHex(AGGREGATOR_EIP712_VERSION)),
          BigInt(manifest.network.chainId),
          agg.address,
        ]),
      ),
    );
  });

  it('holds the seeded personas’ cross-protocol collateral', async () => {
    expect(depositors.length).toBeGreaterThanOrEqual(3);
    for (const p of PERSONAS.filter((x) => x.aggregator)) {
      for (const [symbol, human] of p.aggregator!.deposit) {
        const asset = agg.assets.find((a) => a.symbol === symbol)!;
        const bal = await pc().readContract({
          address: agg.address,
          abi: marginAggregatorAbi,
          functionName: 'balanceOf',
          args: [persona(p.persona).address, asset.address],
        });
        const amount = parseDecimalUnits(symbol, human, asset.decimals);
        if (!asset.isAToken) {
          expect(bal).toBe(amount);
        } else {
          // aTokens are held in Aave scaled units; their value is scaled × index, ≥ the deposit (interest).
          const index = await pc().readContract({
            address: manifest.aave.pool,
            abi: aavePoolAbi,
            functionName: 'getReserveNormalizedIncome',
            args: [asset.underlying!],
          });
          const tokens = (bal * index) / RAY;
          expect(tokens + 2n).toBeGreaterThanOrEqual(amount);
          expect(tokens).toBeLessThan(amount + amount / 1000n);
          expect(bal).toBeLessThanOrEqual(amount); // index ≥ 1
        }
      }
    }
  });

  it('posts a 2-of-3 signed batch and reads every field back through the partner interface', async () => {
    const { block } = await chainNow();
    const plan: [string, bigint, bigint, bigint][] = [
      // persona, IM, MM, MTM (USD)
      ['basis-trader', 40_000n, 25_000n, -3_000n],
      ['delta-hedged-options-book', 30_000n, 20_000n, 1_500n],
      ['cross-venue-btc-hedger', 200_000n, 150_000n, -10_000n],
      ['all-venues-balanced', 9_000n, 6_000n, -4_500n],
      ['leveraged-perp-long', 15_000n, 9_000n, 2_000n], // nothing deposited here
    ];
    const records = plan.map(([name, im, mm, mtm]) =>
      record(persona(name).address, im, mm, mtm, block, 'first'),
    );
    const { batch, signatures } = await signedBatch(records);
    const receipt = await post(batch, signatures);

    const posted = parseEventLogs({ abi: marginAggregatorAbi, logs: receipt.logs, eventName: 'BatchPosted' });
    expect(posted).toHaveLength(1);
    expect(posted[0]!.args.digest).toBe(marginBatchDigest(batch, target));
    expect(posted[0]!.args.accounts).toBe(BigInt(records.length));
    const updated = parseEventLogs({
      abi: marginAggregatorAbi,
      logs: receipt.logs,
      eventName: 'MarginUpdated',
    });
    expect(updated.map((l) => l.args.account)).toEqual(records.map((r) => r.account));

    const at = receipt.blockNumber;
    let someFree = false;
    let someCollateral = 0;
    for (const r of records) {
      const v = await partnerView(r.account, at);
      const collateral = await expectedCollateralUsd6(r.account, at);
      if (collateral > 0n) someCollateral++;
      const net = collateral + r.mtmUsd6;
      expect(v.imUsd6).toBe(r.imUsd6);
      expect(v.mmUsd6).toBe(r.mmUsd6);
      expect(v.attestedBlock).toBe(r.blockNumber);
      expect(v.stale).toBe(false);
      expect(v.collateralUsd6).toBe(collateral);
      expect(v.shortfallUsd6).toBe(net < r.mmUsd6 ? r.mmUsd6 - net : 0n);
      expect(v.liquidatable).toBe(net < r.mmUsd6);
      expect(v.freeUsd6).toBe(net > r.imUsd6 ? net - r.imUsd6 : 0n);
      if (v.freeUsd6 > 0n) someFree = true;
      const stored = await pc().readContract({
        address: agg.address,
        abi: marginAggregatorAbi,
        functionName: 'attestationOf',
        args: [r.account],
        blockNumber: at,
      });
      expect(stored.mtmUsd6).toBe(r.mtmUsd6);
      expect(BigInt(stored.timestampSec)).toBe(batch.timestampSec);
    }
    // The case is not vacuous: collateral is valued for every depositor and some accounts have room.
    expect(someCollateral).toBe(depositors.length);
    expect(someFree).toBe(true);
    // The account with nothing deposited has only its MTM: 2,000 < 9,000 MM, so it is liquidatable.
    expect((await partnerView(persona('leveraged-perp-long').address, at)).liquidatable).toBe(true);
  });

  it('rejects a batch signed for another chain id or another aggregator', async () => {
    const { block } = await chainNow();
    const r = [record(persona('basis-trader').address, 1n, 1n, 0n, block, 'other-chain')];
    const otherChain = await signedBatch(r, { target: { ...target, chainId: 10 } });
    expect(await revertName(otherChain.batch, otherChain.signatures)).toBe('UnknownSigner');
    const otherContract = await signedBatch(r, { target: { ...target, aggregator: manifest.aave.pool } });
    expect(await revertName(otherContract.batch, otherContract.signatures)).toBe('UnknownSigner');
    // Control: the same records signed for this chain and contract are accepted.
    const good = await signedBatch(r);
    expect(await revertName(good.batch, good.signatures)).toBe('did not revert');
  });

  it('rejects a batch whose deadline has passed', async () => {
    const { block } = await chainNow();
    const r = [record(persona('basis-trader').address, 1n, 1n, 0n, block, 'expired')];
    const { batch, signatures } = await signedBatch(r, { deadlineInSec: 30n });
    expect(await revertName(batch, signatures)).toBe('did not revert');
    await devnet.clients.testClient.increaseTime({ seconds: 60 });
    await devnet.clients.testClient.mine({ blocks: 1 });
    expect(await revertName(batch, signatures)).toBe('AttestationExpired');
  });

  it('ignores an attestation older than the stored one, with an event', async () => {
    const account = persona('delta-hedged-options-book').address;
    const before = await pc().readContract({
      address: agg.address,
      abi: marginAggregatorAbi,
      functionName: 'attestationOf',
      args: [account],
    });
    const older = BigInt(before.blockNumber) - 1n;
    const { batch, signatures } = await signedBatch([record(account, 999n, 999n, 0n, older, 'older')]);
    const receipt = await post(batch, signatures);
    const ignored = parseEventLogs({
      abi: marginAggregatorAbi,
      logs: receipt.logs,
      eventName: 'AttestationIgnored',
    });
    expect(ignored).toHaveLength(1);
    expect(ignored[0]!.args).toEqual({
      account,
      blockNumber: older,
      storedBlockNumber: BigInt(before.blockNumber),
    });
    expect(
      parseEventLogs({ abi: marginAggregatorAbi, logs: receipt.logs, eventName: 'MarginUpdated' }),
    ).toHaveLength(0);
    const after = await partnerView(account, receipt.blockNumber);
    expect(after.imUsd6).toBe(before.imUsd6);
    expect(after.attestedBlock).toBe(BigInt(before.blockNumber));
  });

  it('makes an account liquidatable on a below-MM attestation and emits ShortfallFlagged when flagged', async () => {
    const account = persona('basis-trader').address;
    const { block } = await chainNow();
    const collateral = await expectedCollateralUsd6(account, block);
    expect(collateral).toBeGreaterThan(0n);
    // MM 10,000 USD above the collateral value, MTM −1,000 USD: shortfall ≈ 11,000 USD.
    const mmUsd6 = collateral + 10_000n * USD6;
    const r: MarginRecord = {
      account,
      imUsd6: (mmUsd6 * 12n) / 10n,
      mmUsd6,
      mtmUsd6: -1_000n * USD6,
      blockNumber: block,
      inputsHash: keccak256(toHex('below-mm')),
    };
    const healthyBefore = await pc().readContract({
      address: agg.address,
      abi: iMarginReaderAbi,
      functionName: 'isLiquidatable',
      args: [account],
    });
    expect(healthyBefore).toBe(false);
    const { batch, signatures } = await signedBatch([r]);
    const receipt = await post(batch, signatures);
    const v = await partnerView(account, receipt.blockNumber);
    const valued = await expectedCollateralUsd6(account, receipt.blockNumber);
    expect(v.liquidatable).toBe(true);
    expect(v.freeUsd6).toBe(0n);
    expect(v.shortfallUsd6).toBe(mmUsd6 - (valued + r.mtmUsd6));

    const hash = await devnet.clients.walletClient.writeContract({
      account: persona('liquidator-bot').address,
      chain: devnet.clients.chain,
      address: agg.address,
      abi: marginAggregatorAbi,
      functionName: 'flagShortfall',
      args: [account],
    });
    const flagReceipt = await pc().waitForTransactionReceipt({ hash, pollingInterval: 50 });
    expect(flagReceipt.status).toBe('success');
    const flagged = parseEventLogs({
      abi: marginAggregatorAbi,
      logs: flagReceipt.logs,
      eventName: 'ShortfallFlagged',
    });
    expect(flagged).toHaveLength(1);
    const flagBlock = await pc().getBlock({ blockNumber: flagReceipt.blockNumber });
    const shortfallAtFlag = (await partnerView(account, flagReceipt.blockNumber)).shortfallUsd6;
    expect(flagged[0]!.args).toEqual({
      account,
      shortfallUsd6: shortfallAtFlag,
      flaggedAtSec: flagBlock.timestamp,
    });
    expect(shortfallAtFlag).toBeGreaterThan(10_000n * USD6);
  });
});
