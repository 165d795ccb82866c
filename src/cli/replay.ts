/**
 * `netmargin replay <tx>`: recomputes a posted attestation from chain data and the published
 * parameter set, and says per account whether IM, MM, MTM and the inputs hash match bit for bit.
 *
 * 1. The transaction must be a successful `postAttestations` call to the manifest's aggregator; its
 *    calldata gives the parameter-set hash and the packed 84-byte records (`unpackRecords`).
 * 2. The parameter set is looked up by that hash in the network's `ParamStore` (every published
 *    version stays readable by hash): its engine parameters, price history and liquidity.
 * 3. Per record, at its block B: the market through `readMarketData` at B (the market the risk
 *    workers margined against), the positions through the indexer's own adapters and identity index
 *    (`IndexerService.readOwner`) at the block the stored result says they were read at (positions
 *    are re-read only when an event touches them, so it can be below B), or at B when no stored
 *    result has that inputs hash; then the engine (`prepareMarket` + `computeAccountRiskIn`) and the
 *    USD6 conversion the risk workers use.
 * 4. Each of `imUsd6`, `mmUsd6`, `mtmUsd6`, `inputsHash` is compared exactly; a mismatch names the
 *    field with the posted and the recomputed value.
 */
import {
  decodeFunctionData,
  getAddress,
  hexToBigInt,
  sliceHex,
  type Address,
  type Hex,
  type PublicClient,
} from 'viem';
import { RECORD_BYTES, type MarginRecord } from '../attestation';
import { InvalidInputError, NetmarginError } from '../common/errors';
import type { DeploymentManifest } from '../config/manifest';
import { marginAggregatorAbi } from '../contracts/generated';
import { createAdapters } from '../indexer/adapters';
import { rpcGetLogs } from '../indexer/chain/logs';
import { IndexerService, type OwnerPositions } from '../indexer/indexer.service';
import { readMarketData } from '../indexer/market-data';
import type { MarketRecord } from '../indexer/market-recorder';
import type { ReorgSafeStore } from '../indexer/chain/store';
import { computeAccountRiskIn, prepareMarket, type MarketContext } from '../risk';
import { usd6Figures } from '../pipeline/classify';
import { positionsOf, snapshotOf } from '../api/accounts/accounts.service';
import type { ParamReader, ParamSet, RiskResultReader } from '../pipeline/types';
import { formatTimeSec, formatUsd6, pairs, table } from './format';

const INT64_SIGN = 1n << 63n;

/** The `records` calldata back into records (the inverse of `packRecords`). */
export function unpackRecords(packed: Hex): MarginRecord[] {
  const bytes = (packed.length - 2) / 2;
  if (!Number.isInteger(bytes) || bytes % RECORD_BYTES !== 0)
    throw new InvalidInputError(
      'records',
      `${bytes} bytes is not a whole number of ${RECORD_BYTES}-byte records`,
      {
        hint: 'The calldata is not a MarginAggregator postAttestations call of this version.',
      },
    );
  const out: MarginRecord[] = [];
  for (let at = 0; at < bytes; at += RECORD_BYTES) {
    const field = (offset: number, size: number): Hex =>
      sliceHex(packed, at + offset, at + offset + size, { strict: true });
    const mtm = hexToBigInt(field(36, 8));
    out.push({
      account: getAddress(field(0, 20)),
      imUsd6: hexToBigInt(field(20, 8)),
      mmUsd6: hexToBigInt(field(28, 8)),
      mtmUsd6: mtm >= INT64_SIGN ? mtm - (INT64_SIGN << 1n) : mtm,
      blockNumber: hexToBigInt(field(44, 8)),
      inputsHash: field(52, 32),
    });
  }
  return out;
}

export type ReplayField = 'imUsd6' | 'mmUsd6' | 'mtmUsd6' | 'inputsHash';
export const REPLAY_FIELDS: readonly ReplayField[] = ['imUsd6', 'mmUsd6', 'mtmUsd6', 'inputsHash'];

export interface FieldComparison {
  field: ReplayField;
  posted: string;
  recomputed: string;
  match: boolean;
}

export interface RecordReplay {
  account: Address;
  blockNumber: bigint;
  /** The block the positions were read at (null when the replay failed before reading them). */
  positionsBlockNumber: bigint | null;
  /** Where that block came from: the stored result with this inputs hash, or the record's block. */
  positionsBlockSource: 'stored-result' | 'record-block' | null;
  matches: boolean;
  fields: FieldComparison[];
  /** Why the record could not be recomputed (then `matches` is false and `fields` empty). */
  error: { code: string; message: string; hint: string | undefined } | null;
}

export interface ReplayReport {
  txHash: Hex;
  txBlockNumber: bigint;
  aggregator: Address;
  paramsHash: Hex;
  paramsVersion: number;
  timestampSec: bigint;
  deadlineSec: bigint;
  records: RecordReplay[];
  /** Every record matches on every field. */
  matches: boolean;
}

/** Compares a posted record with recomputed figures, field by field, exactly. */
export function compareRecord(
  posted: Pick<MarginRecord, ReplayField>,
  recomputed: Pick<MarginRecord, ReplayField>,
): FieldComparison[] {
  return REPLAY_FIELDS.map((field) => {
    const a = String(posted[field]);
    const b = String(recomputed[field]);
    return { field, posted: a, recomputed: b, match: a === b };
  });
}

export interface ReplayDeps {
  client: PublicClient;
  manifest: DeploymentManifest;
  params: ParamReader;
  /** The stored results' history: where each record's positions block is found. */
  results: Pick<RiskResultReader, 'history'>;
  /** Never written by a replay; `IndexerService` wants one. */
  positionsStore: ReorgSafeStore<OwnerPositions>;
}

/** The attestation posted by `txHash`: decoded calldata, checked against the manifest's aggregator. */
async function decodeAttestation(deps: ReplayDeps, txHash: Hex) {
  const agg = deps.manifest.aggregator;
  if (!agg)
    throw new NetmarginError('The deployment manifest has no aggregator', {
      code: 'NO_AGGREGATOR',
      hint: 'Pass the manifest of the network the attestation was posted on (--manifest).',
    });
  let tx;
  try {
    tx = await deps.client.getTransaction({ hash: txHash });
  } catch (cause) {
    throw new NetmarginError(`Transaction ${txHash} was not found`, {
      code: 'TX_NOT_FOUND',
      hint: 'Check the hash and that --rpc points at the network it was posted on.',
      cause,
    });
  }
  if (!tx.to || getAddress(tx.to) !== agg.address)
    throw new NetmarginError(`Transaction ${txHash} is not a call to the aggregator ${agg.address}`, {
      code: 'NOT_AN_ATTESTATION',
      hint: 'Pass the hash of a postAttestations transaction sent to the manifest’s aggregator.',
      details: { to: tx.to },
    });
  let decoded;
  try {
    decoded = decodeFunctionData({ abi: marginAggregatorAbi, data: tx.input });
  } catch (cause) {
    throw new NetmarginError(`Transaction ${txHash} does not call a known aggregator function`, {
      code: 'NOT_AN_ATTESTATION',
      hint: 'Pass the hash of a postAttestations transaction.',
      cause,
    });
  }
  if (decoded.functionName !== 'postAttestations')
    throw new NetmarginError(`Transaction ${txHash} calls ${decoded.functionName}, not postAttestations`, {
      code: 'NOT_AN_ATTESTATION',
      hint: 'Pass the hash of a postAttestations transaction.',
    });
  const receipt = await deps.client.getTransactionReceipt({ hash: txHash });
  if (receipt.status !== 'success')
    throw new NetmarginError(`Transaction ${txHash} reverted: it attested nothing`, {
      code: 'TX_REVERTED',
      hint: 'Replay a postAttestations transaction that succeeded.',
    });
  const [paramsHash, timestampSec, deadlineSec, packed] = decoded.args as readonly [
    Hex,
    bigint,
    bigint,
    Hex,
    Hex,
  ];
  return {
    aggregator: agg.address,
    txBlockNumber: receipt.blockNumber,
    paramsHash,
    timestampSec,
    deadlineSec,
    records: unpackRecords(packed),
  };
}

function describe(err: unknown): RecordReplay['error'] {
  if (err instanceof NetmarginError) return { code: err.code, message: err.shortMessage, hint: err.hint };
  return { code: 'ERROR', message: err instanceof Error ? err.message : String(err), hint: undefined };
}

export async function replayAttestation(deps: ReplayDeps, txHash: Hex): Promise<ReplayReport> {
  const att = await decodeAttestation(deps, txHash);
  const set: ParamSet | undefined = await deps.params.byHash(att.paramsHash);
  if (!set)
    throw new NetmarginError(`Parameter set ${att.paramsHash} is not published in this network's store`, {
      code: 'PARAMS_UNKNOWN',
      hint: 'Point --redis / --network at the network whose risk workers computed the attestation.',
    });
  const indexer = new IndexerService({
    client: deps.client,
    adapters: createAdapters(deps.manifest),
    store: deps.positionsStore,
    jobs: {
      refresh: () => Promise.reject(new Error('a replay asks for no jobs')),
      advance: () => Promise.reject(new Error('a replay asks for no jobs')),
      risk: () => Promise.reject(new Error('a replay asks for no jobs')),
    },
    getLogs: rpcGetLogs(deps.client),
    startBlock: BigInt(deps.manifest.network.startBlock),
  });

  // Where each record's positions were read: the stored result with the same block and inputs hash.
  const plans = await Promise.all(
    att.records.map(async (r) => {
      const stored = await deps.results.history(r.account, { beforeBlock: r.blockNumber + 1n, limit: 50 });
      const hit = stored.find((s) => s.blockNumber === r.blockNumber && s.inputHash === r.inputsHash);
      return hit
        ? { record: r, positionsBlock: hit.positionsBlockNumber, source: 'stored-result' as const }
        : { record: r, positionsBlock: r.blockNumber, source: 'record-block' as const };
    }),
  );

  // The identity index only moves forward: read positions in block order.
  const order = plans
    .map((_, i) => i)
    .sort((a, b) => Number(plans[a]!.positionsBlock - plans[b]!.positionsBlock));
  const contexts = new Map<bigint, MarketContext>();
  const out: RecordReplay[] = new Array<RecordReplay>(plans.length);
  for (const i of order) {
    const { record: r, positionsBlock, source } = plans[i]!;
    try {
      const positions = await indexer.readOwner(r.account, positionsBlock);
      let ctx = contexts.get(r.blockNumber);
      if (!ctx) {
        const read = await readMarketData(deps.client, deps.manifest, r.blockNumber, {
          history: set.history,
          liquidity: set.liquidity,
        });
        const { history: _h, liquidity: _l, ...market } = read.snapshot.market;
        const record: MarketRecord = { ...read, snapshot: { ...read.snapshot, market } };
        ctx = prepareMarket(snapshotOf(record, set), set.params);
        contexts.set(r.blockNumber, ctx);
      }
      const result = computeAccountRiskIn(ctx, { account: r.account, positions: positionsOf(positions) });
      const f = usd6Figures(result);
      const fields = compareRecord(r, { ...f, inputsHash: result.inputHash });
      out[i] = {
        account: r.account,
        blockNumber: r.blockNumber,
        positionsBlockNumber: positionsBlock,
        positionsBlockSource: source,
        matches: fields.every((x) => x.match),
        fields,
        error: null,
      };
    } catch (err) {
      out[i] = {
        account: r.account,
        blockNumber: r.blockNumber,
        positionsBlockNumber: null,
        positionsBlockSource: null,
        matches: false,
        fields: [],
        error: describe(err),
      };
    }
  }
  return {
    txHash,
    txBlockNumber: att.txBlockNumber,
    aggregator: att.aggregator,
    paramsHash: att.paramsHash,
    paramsVersion: set.version,
    timestampSec: att.timestampSec,
    deadlineSec: att.deadlineSec,
    records: out,
    matches: out.every((r) => r.matches),
  };
}

function show(field: ReplayField, v: string): string {
  return field === 'inputsHash' ? v : `${v} (${formatUsd6(BigInt(v))})`;
}

export function replayText(rep: ReplayReport): string {
  const bad = rep.records.filter((r) => !r.matches).length;
  const head = pairs([
    ['Transaction', `${rep.txHash} (block ${rep.txBlockNumber})`],
    ['Aggregator', rep.aggregator],
    ['Parameters', `v${rep.paramsVersion} ${rep.paramsHash}`],
    [
      'Signed at',
      `${formatTimeSec(Number(rep.timestampSec))}, deadline ${formatTimeSec(Number(rep.deadlineSec))}`,
    ],
    [
      'Verdict',
      rep.matches
        ? `all ${rep.records.length} records match bit for bit`
        : `${bad} of ${rep.records.length} records do not match`,
    ],
  ]);
  const rows = rep.records.map((r) => [
    r.account,
    String(r.blockNumber),
    r.positionsBlockNumber === null ? '—' : String(r.positionsBlockNumber),
    r.error ? 'error' : r.matches ? 'matches' : 'MISMATCH',
    r.error
      ? ''
      : r.fields
          .filter((f) => !f.match)
          .map((f) => f.field)
          .join(', '),
  ]);
  const lines = [
    head,
    '',
    table(
      [['Account', 'Block', 'Positions at', 'Result', 'Differs'], ...rows],
      ['left', 'right', 'right', 'left', 'left'],
    ),
  ];
  for (const r of rep.records) {
    if (r.error)
      lines.push('', `${r.account}: ${r.error.message}${r.error.hint ? `\n  ${r.error.hint}` : ''}`);
    for (const f of r.fields.filter((x) => !x.match))
      lines.push(
        '',
        `${r.account} ${f.field}:`,
        `  posted      ${show(f.field, f.posted)}`,
        `  recomputed  ${show(f.field, f.recomputed)}`,
      );
  }
  return lines.join('\n');
}
