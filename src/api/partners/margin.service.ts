/**
 * What a partner sees for an account: the aggregator's partner interface (`marginOf`,
 * `freeCollateral`, `isLiquidatable`, `attestationOf`) read at the chain head, the attestation those
 * views rest on (its `MarginUpdated` event: inputs hash, posting transaction; the batch's
 * `BatchPosted`: parameter-set hash), and the risk workers' results for comparison — the one at the
 * attested block (does it match bit for bit?) and the latest.
 *
 * Answers are cached per account and chain head: the head is polled every `headPollMs`, so under
 * load an account costs one multicall per block, and the posting of an attestation (which never
 * changes) is looked up once.
 */
import type { Address, Client, Hex } from 'viem';
import { getAddress, parseEventLogs } from 'viem';
import { getBlockNumber, getLogs, getTransactionReceipt, multicall } from 'viem/actions';
import { marginAggregatorAbi } from '../../contracts/generated';
import type { RiskRecord, RiskResultReader } from '../../pipeline/types';
import { ApiError } from '../http/errors';
import { recordSummary, type RecordSummary } from '../http/record-summary';
import { toWireJson } from '../http/wire';

export interface OnChainMargin {
  /** The head block the views were read at. */
  blockNumber: bigint;
  imUsd6: bigint;
  mmUsd6: bigint;
  collateralUsd6: bigint;
  shortfallUsd6: bigint;
  freeCollateralUsd6: bigint;
  liquidatable: boolean;
  /** `marginOf`'s flag: no attestation, or older than the aggregator's maximum age. */
  stale: boolean;
}

export interface AttestationView {
  blockNumber: bigint;
  timestampSec: bigint;
  imUsd6: bigint;
  mmUsd6: bigint;
  mtmUsd6: bigint;
  /** From the `MarginUpdated` event that stored it (null if the event was not found). */
  inputsHash: Hex | null;
  paramsHash: Hex | null;
  postedTx: Hex | null;
  postedBlock: bigint | null;
}

export interface OffChainSummary extends RecordSummary {
  paramsHash: Hex;
  inputHash: Hex;
}

export interface PartnerMarginView {
  account: Address;
  /** What the aggregator's views answer now; null with `chainError` when a view reverts. */
  onChain: OnChainMargin | null;
  chainError: string | null;
  /** The stored attestation the views use (null if never attested). */
  attestation: AttestationView | null;
  offChain: {
    /** The risk result at the attested block, if stored. */
    atAttestedBlock: OffChainSummary | null;
    /** True when that result carries the attestation's IM, MM, MTM, inputs hash and parameter hash. */
    matchesAttestation: boolean | null;
    latest: OffChainSummary | null;
  };
}

export interface PartnerMarginDeps {
  client: Client;
  aggregator: Address | undefined;
  results: RiskResultReader;
  headPollMs: number;
}

const MAX_CACHED = 50_000;

function summary(r: RiskRecord): OffChainSummary {
  return { ...recordSummary(r), paramsHash: r.paramsHash, inputHash: r.inputHash };
}

function describe(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'shortMessage' in err) return String(err.shortMessage);
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

export class PartnerMarginService {
  private head: bigint | undefined;
  private headError: unknown;
  private headRead: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly views = new Map<
    Address,
    { block: bigint; view: Promise<PartnerMarginView>; json: Promise<string> }
  >();
  private readonly postings = new Map<
    string,
    Promise<Pick<AttestationView, 'inputsHash' | 'paramsHash' | 'postedTx' | 'postedBlock'>>
  >();

  constructor(private readonly deps: PartnerMarginDeps) {}

  /** Starts polling the chain head. */
  start(): void {
    if (this.timer || !this.deps.aggregator) return;
    this.headRead = this.pollHead();
    this.timer = setInterval(() => void this.pollHead(), this.deps.headPollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async pollHead(): Promise<void> {
    try {
      const n = await getBlockNumber(this.deps.client, { cacheTime: 0 });
      this.head = n;
      this.headError = undefined;
    } catch (err) {
      this.head = undefined;
      this.headError = err;
    }
  }

  private async currentHead(): Promise<bigint> {
    if (!this.deps.aggregator)
      throw new ApiError(503, 'the API has no aggregator to read: the manifest lists none', {
        code: 'NO_AGGREGATOR',
        hint: 'Set NETMARGIN_MANIFEST to a deployment manifest with an aggregator.',
      });
    if (this.head === undefined) {
      this.start();
      await (this.headRead ?? this.pollHead());
      if (this.head === undefined) await this.pollHead();
    }
    if (this.head === undefined)
      throw new ApiError(503, `the chain is unreachable: ${describe(this.headError)}`, {
        code: 'CHAIN_UNAVAILABLE',
        hint: 'Retry shortly; the operator should check NETMARGIN_RPC_URLS.',
      });
    return this.head;
  }

  /** The partner view of `account` at the current head (cached per head block). */
  async margin(account: Address): Promise<PartnerMarginView> {
    return (await this.entry(account)).view;
  }

  /** The same view as wire JSON (bigints as decimal strings), serialized once per head block. */
  async marginJson(account: Address): Promise<string> {
    return (await this.entry(account)).json;
  }

  async marginMany(accounts: readonly Address[]): Promise<PartnerMarginView[]> {
    return Promise.all(accounts.map((a) => this.margin(a)));
  }

  /** `{"accounts":[…]}` for a batch, from the per-account cached JSON. */
  async marginManyJson(accounts: readonly Address[]): Promise<string> {
    const parts = await Promise.all(accounts.map((a) => this.marginJson(a)));
    return `{"accounts":[${parts.join(',')}]}`;
  }

  private async entry(
    account: Address,
  ): Promise<{ view: Promise<PartnerMarginView>; json: Promise<string> }> {
    const head = await this.currentHead();
    const hit = this.views.get(account);
    if (hit && hit.block === head) return hit;
    if (this.views.size >= MAX_CACHED) this.views.clear();
    const view = this.build(account, head);
    const e = { block: head, view, json: view.then(toWireJson) };
    this.views.set(account, e);
    e.json.catch(() => {
      if (this.views.get(account) === e) this.views.delete(account);
    });
    return e;
  }

  private async build(account: Address, head: bigint): Promise<PartnerMarginView> {
    const agg = this.deps.aggregator!;
    const c = { address: agg, abi: marginAggregatorAbi } as const;
    const [reads, latest] = await Promise.all([
      multicall(this.deps.client, {
        contracts: [
          { ...c, functionName: 'marginOf', args: [account] },
          { ...c, functionName: 'freeCollateral', args: [account] },
          { ...c, functionName: 'isLiquidatable', args: [account] },
          { ...c, functionName: 'attestationOf', args: [account] },
        ],
        blockNumber: head,
        allowFailure: true,
        deployless: true,
      }),
      this.deps.results.latest(account),
    ]);
    const [marginOf, free, liq, att] = reads;
    let onChain: OnChainMargin | null = null;
    let chainError: string | null = null;
    if (marginOf.status === 'success' && free.status === 'success' && liq.status === 'success') {
      const [imUsd6, mmUsd6, collateralUsd6, shortfallUsd6, , stale] = marginOf.result;
      onChain = {
        blockNumber: head,
        imUsd6,
        mmUsd6,
        collateralUsd6,
        shortfallUsd6,
        freeCollateralUsd6: free.result,
        liquidatable: liq.result,
        stale,
      };
    } else {
      const failed = [marginOf, free, liq].find((r) => r.status === 'failure');
      chainError = `the aggregator's view reverted: ${describe(failed?.error)}`;
    }
    if (att.status !== 'success') throw att.error;
    const a = att.result;
    let attestation: AttestationView | null = null;
    let atAttested: RiskRecord | undefined;
    if (a.blockNumber !== 0) {
      const attestedBlock = BigInt(a.blockNumber);
      const [posting, near] = await Promise.all([
        this.posting(account, a, head),
        this.deps.results.history(account, { beforeBlock: attestedBlock + 1n, limit: 4 }),
      ]);
      attestation = {
        blockNumber: attestedBlock,
        timestampSec: BigInt(a.timestampSec),
        imUsd6: a.imUsd6,
        mmUsd6: a.mmUsd6,
        mtmUsd6: a.mtmUsd6,
        ...posting,
      };
      const candidates = near.filter((r) => r.blockNumber === attestedBlock);
      atAttested =
        candidates.find((r) => r.inputHash === posting.inputsHash && r.paramsHash === posting.paramsHash) ??
        candidates[0];
    }
    const matches =
      attestation && atAttested
        ? atAttested.inputHash === attestation.inputsHash &&
          atAttested.paramsHash === attestation.paramsHash &&
          atAttested.imUsd6 === attestation.imUsd6 &&
          atAttested.mmUsd6 === attestation.mmUsd6 &&
          atAttested.mtmUsd6 === attestation.mtmUsd6
        : null;
    return {
      account,
      onChain,
      chainError,
      attestation,
      offChain: {
        atAttestedBlock: atAttested ? summary(atAttested) : null,
        matchesAttestation: matches,
        latest: latest ? summary(latest) : null,
      },
    };
  }

  /** The `MarginUpdated` that stored the attestation and its batch's `BatchPosted` (looked up once). */
  private posting(
    account: Address,
    a: { blockNumber: number; timestampSec: number; imUsd6: bigint; mmUsd6: bigint; mtmUsd6: bigint },
    head: bigint,
  ): Promise<Pick<AttestationView, 'inputsHash' | 'paramsHash' | 'postedTx' | 'postedBlock'>> {
    const id = `${account}:${a.blockNumber}:${a.timestampSec}:${a.imUsd6}:${a.mmUsd6}:${a.mtmUsd6}`;
    const hit = this.postings.get(id);
    if (hit) return hit;
    if (this.postings.size >= MAX_CACHED) this.postings.clear();
    const p = this.findPosting(account, a, head);
    this.postings.set(id, p);
    p.catch(() => this.postings.delete(id));
    return p;
  }

  private async findPosting(
    account: Address,
    a: { blockNumber: number; imUsd6: bigint; mmUsd6: bigint; mtmUsd6: bigint },
    head: bigint,
  ): Promise<Pick<AttestationView, 'inputsHash' | 'paramsHash' | 'postedTx' | 'postedBlock'>> {
    const agg = this.deps.aggregator!;
    // A record is posted after the block it was computed at: its event lies in [attested block, head].
    const logs = await getLogs(this.deps.client, {
      address: agg,
      event: marginAggregatorAbi.find((x) => x.type === 'event' && x.name === 'MarginUpdated')!,
      args: { account: getAddress(account) },
      fromBlock: BigInt(a.blockNumber),
      toBlock: head,
      strict: true,
    });
    const log = logs
      .filter(
        (l) =>
          l.args.blockNumber === BigInt(a.blockNumber) &&
          l.args.imUsd6 === a.imUsd6 &&
          l.args.mmUsd6 === a.mmUsd6 &&
          l.args.mtmUsd6 === a.mtmUsd6,
      )
      .at(-1);
    if (!log) return { inputsHash: null, paramsHash: null, postedTx: null, postedBlock: null };
    const receipt = await getTransactionReceipt(this.deps.client, { hash: log.transactionHash });
    const posted = parseEventLogs({
      abi: marginAggregatorAbi,
      logs: receipt.logs,
      eventName: 'BatchPosted',
    }).find((l) => l.address.toLowerCase() === agg.toLowerCase());
    return {
      inputsHash: log.args.inputsHash,
      paramsHash: posted?.args.paramsHash ?? null,
      postedTx: log.transactionHash,
      postedBlock: log.blockNumber,
    };
  }
}
