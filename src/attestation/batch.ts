/**
 * Building a `MarginBatch`: validation, EIP-712 typed data, digest and the packed calldata.
 *
 * Pure functions, no I/O: the caller passes the current chain time (`nowSec`) so validation of the
 * deadline is deterministic and testable. Amounts are bigint USD6 (1 USD = 1e6) and are checked against
 * the contract's packed field widths here, before anything is signed: a value that does not fit would
 * otherwise be truncated by `encodePacked` or rejected on chain after the signers have spent a signature.
 *
 * The contract's own rules mirrored here (docs/aggregator.md "Rules when posting"): MM ≤ IM, record
 * block in [1, 2^32), timestamp not after now, deadline not before now. Rules only the chain can check
 * (record block ≤ current block, the stored attestation being older) are left to the contract.
 */
import {
  encodePacked,
  getAddress,
  hashTypedData,
  isAddress,
  isHex,
  concat,
  type Address,
  type Hex,
} from 'viem';
import { InvalidInputError } from '../common/errors';
import { MARGIN_BATCH_PRIMARY_TYPE, MARGIN_BATCH_TYPES, RECORD_BYTES, aggregatorDomain } from './eip712';

export const UINT64_MAX = (1n << 64n) - 1n;
export const INT64_MIN = -(1n << 63n);
export const INT64_MAX = (1n << 63n) - 1n;
/** The contract stores record blocks and batch timestamps in 32 bits. */
export const UINT32_MAX = (1n << 32n) - 1n;

/** One account's attested margin outside the aggregator. */
export interface MarginRecord {
  /** EIP-55 checksummed account address. */
  account: Address;
  /** Initial margin requirement, USD6, uint64. */
  imUsd6: bigint;
  /** Maintenance margin requirement, USD6, uint64, ≤ imUsd6. */
  mmUsd6: bigint;
  /** Mark-to-market of the positions outside the aggregator, USD6, int64. */
  mtmUsd6: bigint;
  /** L2 block the margin was computed at, in [1, 2^32). */
  blockNumber: bigint;
  /** Hash of the inputs (positions, prices) the margin was computed from. */
  inputsHash: Hex;
}

export interface MarginBatch {
  /** Hash of the risk parameter set the margins were computed with. */
  paramsHash: Hex;
  /** Signing time, unix seconds; attestations are fresh for `maxAttestationAgeSec` after it. */
  timestampSec: bigint;
  /** Last second at which the batch may be posted. */
  deadlineSec: bigint;
  records: MarginRecord[];
}

/** Where the batch is going: the chain id and the aggregator address (the EIP-712 domain). */
export interface AggregatorTarget {
  chainId: number;
  aggregator: Address;
}

function bytes32(v: unknown, field: string): Hex {
  if (typeof v !== 'string' || !isHex(v, { strict: true }) || v.length !== 66) {
    throw new InvalidInputError(field, `expected 32 bytes of 0x-prefixed hex, got ${JSON.stringify(v)}`, {
      hint: 'Pass a keccak256 hash (e.g. of the canonical inputs) as a 0x-prefixed 64-digit hex string.',
    });
  }
  return v;
}

function inRange(v: unknown, field: string, min: bigint, max: bigint, hint: string): bigint {
  if (typeof v !== 'bigint') {
    throw new InvalidInputError(field, `expected a bigint, got ${typeof v}`, {
      hint: 'Amounts stay bigint (USD6 = USD × 1e6); convert once with parseDecimalUnits.',
    });
  }
  if (v < min || v > max) {
    throw new InvalidInputError(field, `${v} is outside [${min}, ${max}]`, { hint, details: { value: v } });
  }
  return v;
}

function checksummed(v: unknown, field: string): Address {
  if (typeof v !== 'string' || !isAddress(v, { strict: false })) {
    throw new InvalidInputError(field, `expected a 20-byte hex address, got ${JSON.stringify(v)}`);
  }
  const good = getAddress(v);
  if (good !== v) {
    throw new InvalidInputError(field, `address ${v} is not EIP-55 checksummed (expected ${good})`, {
      hint: 'Pass addresses through viem getAddress() once, where they enter the program.',
    });
  }
  return good;
}

/** Validates one record (throws `InvalidInputError` naming `field.<name>`). */
export function validateRecord(r: MarginRecord, field = 'record'): MarginRecord {
  const account = checksummed(r.account, `${field}.account`);
  const usd = 'USD6 amounts are packed as uint64 (≤ ~1.8e13 USD); split or cap the requirement.';
  const imUsd6 = inRange(r.imUsd6, `${field}.imUsd6`, 0n, UINT64_MAX, usd);
  const mmUsd6 = inRange(r.mmUsd6, `${field}.mmUsd6`, 0n, UINT64_MAX, usd);
  if (mmUsd6 > imUsd6) {
    throw new InvalidInputError(`${field}.mmUsd6`, `${mmUsd6} exceeds imUsd6 ${imUsd6}`, {
      hint: 'Maintenance margin must not exceed initial margin; the contract rejects the whole batch.',
    });
  }
  const mtmUsd6 = inRange(
    r.mtmUsd6,
    `${field}.mtmUsd6`,
    INT64_MIN,
    INT64_MAX,
    'Mark-to-market is packed as int64 (±9.2e12 USD).',
  );
  const blockNumber = inRange(
    r.blockNumber,
    `${field}.blockNumber`,
    1n,
    UINT32_MAX,
    'The block the margin was computed at must be ≥ 1 and fit 32 bits.',
  );
  return {
    account,
    imUsd6,
    mmUsd6,
    mtmUsd6,
    blockNumber,
    inputsHash: bytes32(r.inputsHash, `${field}.inputsHash`),
  };
}

/**
 * Validates and returns a batch ready to sign. `nowSec` is the current chain time: the timestamp must
 * not be after it (the contract rejects batches from the future) and the deadline must be after it.
 */
export function buildMarginBatch(input: MarginBatch, opts: { nowSec: bigint }): MarginBatch {
  const paramsHash = bytes32(input.paramsHash, 'batch.paramsHash');
  const timestampSec = inRange(
    input.timestampSec,
    'batch.timestampSec',
    1n,
    UINT32_MAX,
    'Use the chain time (unix seconds) at signing; it must fit 32 bits.',
  );
  if (timestampSec > opts.nowSec) {
    throw new InvalidInputError('batch.timestampSec', `${timestampSec} is after now (${opts.nowSec})`, {
      hint: 'Sign with the latest block timestamp, not a future time; the contract rejects future batches.',
    });
  }
  const deadlineSec = inRange(input.deadlineSec, 'batch.deadlineSec', 0n, UINT64_MAX, 'uint64 seconds.');
  if (deadlineSec <= opts.nowSec) {
    throw new InvalidInputError(
      'batch.deadlineSec',
      `${deadlineSec} is not in the future (now ${opts.nowSec})`,
      {
        hint: 'Set the deadline a few minutes after now so the batch can still be posted.',
      },
    );
  }
  if (!Array.isArray(input.records) || input.records.length === 0) {
    throw new InvalidInputError('batch.records', 'expected at least one record', {
      hint: 'A batch attests one or more accounts; do not post an empty batch.',
    });
  }
  const seen = new Map<string, number>();
  const records = input.records.map((r, i) => {
    const v = validateRecord(r, `batch.records[${i}]`);
    const first = seen.get(v.account);
    if (first !== undefined) {
      throw new InvalidInputError(
        `batch.records[${i}].account`,
        `${v.account} already appears at records[${first}]`,
        {
          hint: 'One record per account per batch: the second would be ignored on chain.',
        },
      );
    }
    seen.set(v.account, i);
    return v;
  });
  return { paramsHash, timestampSec, deadlineSec, records };
}

/** The EIP-712 typed data viem's `signTypedData` / `hashTypedData` take for this batch. */
export function marginBatchTypedData(batch: MarginBatch, target: AggregatorTarget) {
  return {
    domain: aggregatorDomain(target.chainId, target.aggregator),
    types: MARGIN_BATCH_TYPES,
    primaryType: MARGIN_BATCH_PRIMARY_TYPE,
    message: {
      paramsHash: batch.paramsHash,
      timestamp: batch.timestampSec,
      deadline: batch.deadlineSec,
      records: batch.records.map((r) => ({
        account: r.account,
        imUsd6: r.imUsd6,
        mmUsd6: r.mmUsd6,
        mtmUsd6: r.mtmUsd6,
        blockNumber: r.blockNumber,
        inputsHash: r.inputsHash,
      })),
    },
  } as const;
}

export type MarginBatchTypedData = ReturnType<typeof marginBatchTypedData>;

/** The digest the signers sign and the contract recovers from (emitted in `BatchPosted`). */
export function marginBatchDigest(batch: MarginBatch, target: AggregatorTarget): Hex {
  return hashTypedData(marginBatchTypedData(batch, target));
}

/** The `records` calldata: 84-byte big-endian records back to back (int64 as two's complement). */
export function packRecords(records: readonly MarginRecord[]): Hex {
  const packed = records.map((r) =>
    encodePacked(
      ['address', 'uint64', 'uint64', 'int64', 'uint64', 'bytes32'],
      [r.account, r.imUsd6, r.mmUsd6, r.mtmUsd6, r.blockNumber, r.inputsHash],
    ),
  );
  const out = concat(packed);
  if ((out.length - 2) / 2 !== records.length * RECORD_BYTES) {
    throw new InvalidInputError('records', 'packed length is not 84 bytes per record', {
      hint: 'Validate the batch with buildMarginBatch before packing.',
    });
  }
  return out;
}

/** Arguments of `postAttestations(paramsHash, timestampSec, deadlineSec, records, signatures)`. */
export function postAttestationsArgs(
  batch: MarginBatch,
  signatures: Hex,
): readonly [Hex, bigint, bigint, Hex, Hex] {
  return [batch.paramsHash, batch.timestampSec, batch.deadlineSec, packRecords(batch.records), signatures];
}
