/**
 * The poster's decisions as pure functions, no I/O: which results are worth posting (materiality,
 * age, never the same (account, block) twice), how many fit one batch and whether the fee per account
 * is acceptable, how much a stuck transaction's fees must rise, and what to do with a journaled batch
 * after a restart. `Poster` gathers the facts (Redis, the chain) and calls these.
 */
import { RECORD_BYTES, SIGNATURE_BYTES } from '../../attestation';
import type { HealthClass, RiskRecord } from '../types';

/** What the poster remembers of the last record it posted for an owner (Redis `poster:posted`). */
export interface PostedRecord {
  blockNumber: bigint;
  imUsd6: bigint;
  mmUsd6: bigint;
  mtmUsd6: bigint;
  /** Unknown when the entry was rebuilt from the chain's stored attestation. */
  health: HealthClass | null;
  /** The batch timestamp (s): the attestation is fresh on chain for `maxAttestationAgeSec` after it. */
  timestampSec: bigint;
}

export interface MaterialityRule {
  /** A change smaller than this (USD6) is never material on its own. */
  minAbsUsd6: bigint;
  /** A change smaller than this share of the previous value (basis points) is never material on its own. */
  minRelBps: bigint;
  /** Post again when the on-chain attestation is older than this, even without a material change. */
  maxAgeSec: bigint;
}

export type PostReason = 'first' | 'health' | 'im' | 'mm' | 'mtm' | 'age';
export type SkipReason = 'already-posted' | 'not-material';

export type Selection =
  { post: true; reason: PostReason; urgent: boolean } | { post: false; why: SkipReason };

const abs = (v: bigint): bigint => (v < 0n ? -v : v);

/** True when `next` differs from `prev` by at least the absolute floor and the relative share. */
export function materialChange(prev: bigint, next: bigint, rule: MaterialityRule): boolean {
  const delta = abs(next - prev);
  if (delta === 0n || delta < rule.minAbsUsd6) return false;
  return delta * 10_000n >= rule.minRelBps * abs(prev);
}

/**
 * Whether to post `next` given what was last posted for the owner (`undefined` = nothing on chain).
 *
 * - A record whose block is not newer than the posted one is never posted (the contract would ignore
 *   it, and the same (account, block) is never signed twice).
 * - A first attestation and a health-class change are posted, urgently (they go first in a batch).
 * - IM, MM or MTM changing by at least `minAbsUsd6` and `minRelBps` of the previous value is material
 *   (MTM enters the contract's net margin, so it moves the on-chain shortfall).
 * - Otherwise the record is posted when the on-chain attestation is older than `maxAgeSec` at `nowSec`.
 */
export function selectRecord(
  next: Pick<RiskRecord, 'blockNumber' | 'imUsd6' | 'mmUsd6' | 'mtmUsd6' | 'health'>,
  prev: PostedRecord | undefined,
  rule: MaterialityRule,
  nowSec: bigint,
): Selection {
  if (prev === undefined) return { post: true, reason: 'first', urgent: true };
  if (next.blockNumber <= prev.blockNumber) return { post: false, why: 'already-posted' };
  if (prev.health !== null && prev.health !== next.health)
    return { post: true, reason: 'health', urgent: true };
  if (materialChange(prev.imUsd6, next.imUsd6, rule)) return { post: true, reason: 'im', urgent: false };
  if (materialChange(prev.mmUsd6, next.mmUsd6, rule)) return { post: true, reason: 'mm', urgent: false };
  if (materialChange(prev.mtmUsd6, next.mtmUsd6, rule)) return { post: true, reason: 'mtm', urgent: false };
  if (nowSec - prev.timestampSec >= rule.maxAgeSec) return { post: true, reason: 'age', urgent: false };
  return { post: false, why: 'not-material' };
}

// ---------------------------------------------------------------------------------------------------
// Batch sizing

/**
 * Calldata bytes of `postAttestations` for `n` records and `m` signatures: 4 (selector) + 5 head words
 * + 2 × (length word) + the records and signatures padded to 32 bytes.
 */
export function postCalldataBytes(n: number, m: number): number {
  const pad = (b: number): number => Math.ceil(b / 32) * 32;
  return 4 + 5 * 32 + 32 + pad(n * RECORD_BYTES) + 32 + pad(m * SIGNATURE_BYTES);
}

/** The largest batch whose calldata stays within `maxCalldataBytes`, at most `maxRecords` (≥ 1). */
export function maxBatchRecords(opts: {
  maxRecords: number;
  maxCalldataBytes: number;
  signatures: number;
}): number {
  let n = Math.max(1, opts.maxRecords);
  while (n > 1 && postCalldataBytes(n, opts.signatures) > opts.maxCalldataBytes) n--;
  return n;
}

export interface FeeEstimate {
  /** L1 data fee of the whole transaction (`estimateL1Fee` from `viem/op-stack`). */
  l1FeeWei: bigint;
  /** L2 execution gas of the whole transaction. */
  l2Gas: bigint;
  /** The fee per gas the transaction will pay at most. */
  maxFeePerGasWei: bigint;
}

/** (L1 fee + L2 gas × max fee per gas) / records, rounded up. */
export function feePerAccountWei(fee: FeeEstimate, records: number): bigint {
  const total = fee.l1FeeWei + fee.l2Gas * fee.maxFeePerGasWei;
  const n = BigInt(Math.max(1, records));
  return (total + n - 1n) / n;
}

/**
 * Whether a batch goes now. A batch under the per-account cap goes; one over it goes only when it is
 * already as large as a batch may be (waiting cannot make it cheaper), when it carries an urgent record
 * (a first attestation or a health-class change), or when its oldest candidate has waited `maxHoldMs`.
 */
export function batchDecision(opts: {
  perAccountWei: bigint;
  capWei: bigint;
  records: number;
  maxRecords: number;
  urgent: boolean;
  oldestWaitMs: number;
  maxHoldMs: number;
}): { go: true; overCap: boolean } | { go: false } {
  if (opts.perAccountWei <= opts.capWei) return { go: true, overCap: false };
  if (opts.records >= opts.maxRecords || opts.urgent || opts.oldestWaitMs >= opts.maxHoldMs)
    return { go: true, overCap: true };
  return { go: false };
}

// ---------------------------------------------------------------------------------------------------
// Fees of a replacement

/** The smallest increase nodes accept for a replacement with the same nonce (geth: 10 %; kept at 12.5 %). */
export const REPLACEMENT_BUMP_BPS = 1_250n;

export interface Fees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

/** `v × (1 + bps / 10,000)` rounded up, and at least `v + 1`. */
export function bumped(v: bigint, bps: bigint = REPLACEMENT_BUMP_BPS): bigint {
  const up = (v * (10_000n + bps) + 9_999n) / 10_000n;
  return up > v ? up : v + 1n;
}

/**
 * Fees of the replacement of a stuck transaction: both fees at least 12.5 % above the stuck one's,
 * and never below what the network asks now; the priority fee never above the max fee.
 */
export function replacementFees(stuck: Fees, network: Fees): Fees {
  const maxPriorityFeePerGas = max(bumped(stuck.maxPriorityFeePerGas), network.maxPriorityFeePerGas);
  const maxFeePerGas = max(max(bumped(stuck.maxFeePerGas), network.maxFeePerGas), maxPriorityFeePerGas);
  return { maxFeePerGas, maxPriorityFeePerGas };
}

const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);

/** A transaction is stuck when not mined `stuckBlocks` blocks or `stuckMs` after it was broadcast. */
export function isStuck(opts: {
  sentAtBlock: bigint;
  headBlock: bigint;
  sentAtMs: number;
  nowMs: number;
  stuckBlocks: bigint;
  stuckMs: number;
}): boolean {
  return opts.headBlock - opts.sentAtBlock >= opts.stuckBlocks || opts.nowMs - opts.sentAtMs >= opts.stuckMs;
}

// ---------------------------------------------------------------------------------------------------
// Journal recovery

/** What the chain says about a journaled batch's transactions. */
export interface JournalChainState {
  /** Status of the one mined transaction of the batch, if any of its hashes has a receipt. */
  mined: 'success' | 'reverted' | null;
  /** The relayer's mined transaction count (`getTransactionCount(latest)`). */
  minedNonce: number;
  /** The batch's nonce. */
  nonce: number;
  /** The journal holds a signed transaction for the batch (it may have died before signing one). */
  hasSignedTx: boolean;
}

/**
 * What to do with an unfinished journal entry on restart:
 * - `posted`: one of its transactions mined and succeeded — record the postings;
 * - `release`: it reverted, or its nonce was consumed by a transaction that is not one of its own,
 *   or it never got a signed transaction — free the records so they are selected again;
 * - `rebroadcast`: its nonce is still open — send the last signed transaction again (same nonce),
 *   then follow it like any in-flight transaction.
 */
export function recoveryDecision(s: JournalChainState): 'posted' | 'release' | 'rebroadcast' {
  if (s.mined === 'success') return 'posted';
  if (s.mined === 'reverted') return 'release';
  if (s.minedNonce > s.nonce) return 'release';
  return s.hasSignedTx ? 'rebroadcast' : 'release';
}

/**
 * The next nonce after recovery: the chain's pending count, or past the highest nonce still held by an
 * unfinished batch if that is higher (its transaction may not be in the node's pool yet).
 */
export function nextNonce(chainPending: number, unfinishedNonces: readonly number[]): number {
  return unfinishedNonces.reduce((n, x) => Math.max(n, x + 1), chainPending);
}
