/**
 * The attestation poster: reads changed risk results, picks what is worth posting, refuses to sign on
 * stale inputs, signs m-of-n EIP-712 batches and posts them to the `MarginAggregator` with its own
 * nonces, replacing a stuck transaction with the same nonce and higher fees. Everything it must not
 * forget lives in Redis (`redisKeys(network).poster`), so a poster killed at any point resumes:
 *
 * 1. `ingest`: changes after the stored cursor join the `candidates` set; owners whose on-chain
 *    attestation is older than `maxAgeSec` join it too.
 * 2. `select`: each candidate's latest record against the last posted one (`policy.selectRecord`); a
 *    record whose own `stale` flags are set is refused (`record-stale`) and dropped.
 * 3. `checks`: the poster's own input checks (`checks.judgeInputs`); any refusal stops the round before
 *    anything is signed, with one log line and one `poster_refusals_total{reason}` count per reason.
 * 4. `size`: as many records as the calldata limit allows; the L1 data fee (`estimateL1Fee`, viem/op-stack)
 *    plus the L2 fee per account decides whether the batch goes now (`policy.batchDecision`).
 * 5. `journal`, then `broadcast`: the signed batch, its nonce and its signed transaction are written to
 *    the journal and the owners marked in flight in one MULTI, and only then is the transaction sent.
 * 6. `follow`: until one of the batch's transactions is mined; a transaction not mined within
 *    `stuckBlocks` / `stuckMs` is re-signed with the same nonce and fees ≥ 12.5 % higher, journaled, and
 *    re-broadcast. A mined batch updates `posted`; a reverted one frees its owners to be selected again.
 *
 * One batch is in flight at a time, so nonces never have gaps. On start, `recover` settles every open
 * journal entry against the chain (mined → posted; nonce taken by another transaction or reverted →
 * released; otherwise the signed transaction is re-broadcast) and reconciles the next nonce with
 * `getTransactionCount(pending)`.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  BaseError,
  ContractFunctionRevertedError,
  encodeFunctionData,
  keccak256,
  TransactionReceiptNotFoundError,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
} from 'viem';
import { estimateL1Fee } from 'viem/op-stack';
import {
  buildMarginBatch,
  collectSignatures,
  marginBatchDigest,
  postAttestationsArgs,
  SIGNATURE_BYTES,
  validateRecord,
  type AggregatorTarget,
  type AttestationSigner,
  type MarginRecord,
} from '../../attestation';
import { InvalidInputError, NetmarginError } from '../../common/errors';
import { marginAggregatorAbi } from '../../contracts/generated';
import { redisKeys, type PosterKeys } from '../../indexer/redis/keys';
import { deserialize, serialize } from '../../indexer/redis/serialize';
import type { HealthClass, RiskRecord, RiskResultReader } from '../types';
import { judgeInputs, readInputs, recordRefusal, type Refusal, type WatchedFeed } from './checks';
import {
  batchDecision,
  feePerAccountWei,
  isStuck,
  maxBatchRecords,
  nextNonce,
  recoveryDecision,
  replacementFees,
  selectRecord,
  type Fees,
  type MaterialityRule,
  type PostedRecord,
  type PostReason,
} from './policy';
import type { TransactionSigner } from './signer';

export type PosterLogFn = (event: string, fields?: Record<string, unknown>) => void;

export interface PosterRules {
  materiality: MaterialityRule;
  /** Refuse to sign when the indexer's cursor is more than this many blocks behind the head. */
  maxIndexerLagBlocks: bigint;
  /** Batch deadline = signing time + this. */
  deadlineSec: bigint;
  maxBatchRecords: number;
  maxCalldataBytes: number;
  /** (L1 fee + L2 fee) per account above which a batch waits for more records. */
  feeCapPerAccountWei: bigint;
  /** How long a candidate may wait for a cheaper batch. */
  maxHoldMs: number;
  /** L2 gas model used for sizing (the real limit comes from `estimateGas`). */
  gasFixed: bigint;
  gasPerRecord: bigint;
  /** A transaction not mined within this many blocks or milliseconds is replaced. */
  stuckBlocks: bigint;
  stuckMs: number;
  /** Receipt polling interval while a batch is in flight. */
  followPollMs: number;
}

export interface PosterOptions {
  reader: RiskResultReader;
  redis: Redis;
  network: string;
  client: PublicClient;
  chain: Chain;
  target: AggregatorTarget;
  signers: readonly AttestationSigner[];
  threshold: number;
  relayer: TransactionSigner;
  /** Price feeds checked against their heartbeat before signing. */
  feeds: readonly WatchedFeed[];
  sequencer?: { address: Address; gracePeriodSec: number };
  rules: PosterRules;
  log?: PosterLogFn;
  /** Fault injection for tests: called after the journal write / after the broadcast of a batch. */
  hooks?: {
    beforeBroadcast?: (entry: JournalEntry) => Promise<void> | void;
    afterBroadcast?: (entry: JournalEntry) => Promise<void> | void;
  };
}

export interface JournalRecord {
  owner: Address;
  blockNumber: bigint;
  imUsd6: bigint;
  mmUsd6: bigint;
  mtmUsd6: bigint;
  health: HealthClass;
}

export interface JournalTx {
  hash: Hex;
  /** The signed transaction (public data: what the node receives). */
  raw: Hex;
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
  sentAtMs: number;
  sentAtBlock: bigint;
}

/** One batch, written before its first broadcast and updated before every re-broadcast. */
export interface JournalEntry {
  id: string;
  digest: Hex;
  nonce: number;
  paramsHash: Hex;
  timestampSec: bigint;
  deadlineSec: bigint;
  records: JournalRecord[];
  data: Hex;
  gas: bigint;
  txs: JournalTx[];
  state: 'open' | 'posted' | 'released';
  minedTx: Hex | null;
  createdAtMs: number;
}

export interface TickResult {
  /** Batches followed this round: mined, released, or still open when the poster was stopped. */
  settled: { id: string; state: 'posted' | 'released' | 'open' }[];
  /** The batch broadcast this round, if any. */
  broadcast: JournalEntry | null;
  refusals: Refusal[];
  held: boolean;
  /** True when the round waited for unjournaled relayer transactions to be mined. */
  waitingForPool: boolean;
}

/** Metric names in the `poster:metrics` hash (counters unless noted). */
export const POSTER_METRICS = {
  refusals: (reason: string) => `poster_refusals_total{reason="${reason}"}`,
  batches: 'poster_batches_posted_total',
  records: 'poster_records_posted_total',
  released: 'poster_batches_released_total',
  replacements: 'poster_replacements_total',
  overCap: 'poster_batches_over_fee_cap_total',
  rejected: 'poster_batches_rejected_total',
  /** Gauge: 1 while the last round refused to sign, else 0. */
  refusing: 'poster_refusing',
  /** Gauge: the relayer's next nonce. */
  nextNonce: 'poster_next_nonce',
} as const;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const LEASE_MS = 15_000;
/** Receipt look-ups before a batch whose nonce was used by another transaction is released. */
const RECHECKS = 5;
/** Settled journal entries are kept this long (pruned at start). */
const JOURNAL_KEEP_MS = 7 * 24 * 3_600_000;
/** Candidates read at once while selecting. */
const SELECT_SLICE = 100;
const RENEW_LUA = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE_LUA = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export class Poster {
  private readonly keys: PosterKeys;
  private readonly indexerCursorKey: string;
  private readonly log: PosterLogFn;
  private readonly id = `${process.pid}-${randomBytes(4).toString('hex')}`;
  private stopping = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly o: PosterOptions) {
    const k = redisKeys(o.network);
    this.keys = k.poster;
    this.indexerCursorKey = k.indexer.cursor;
    this.log = o.log ?? (() => undefined);
    if (o.threshold < 1 || o.signers.length < o.threshold)
      throw new NetmarginError(
        `The poster has ${o.signers.length} signers for a threshold of ${o.threshold}`,
        {
          code: 'POSTER_SIGNERS',
          hint: 'Configure at least as many attestation signer keys as the aggregator threshold.',
        },
      );
  }

  // -------------------------------------------------------------------------------------------------
  // Lifecycle

  /** Takes the network's poster lease, settles the journal and reconciles the nonce. */
  async start(): Promise<void> {
    const ok = await this.o.redis.set(this.keys.leader, this.id, 'PX', LEASE_MS, 'NX');
    if (ok !== 'OK')
      throw new NetmarginError(`Another poster holds the lease of network ${this.o.network}`, {
        code: 'POSTER_LEASE',
        hint: 'Run one poster per network (two would race for the relayer nonce); stop the other or wait for its lease to expire.',
        details: { holder: await this.o.redis.get(this.keys.leader) },
      });
    await this.recover();
  }

  /** Runs rounds until `stop()`; a failed round is logged and retried after `pollMs`. */
  run(pollMs: number): void {
    this.loop = (async () => {
      while (!this.stopping) {
        try {
          await this.tick();
        } catch (err) {
          this.log('poster.round-failed', { error: err instanceof Error ? err.message : String(err) });
        }
        if (!this.stopping) await sleep(pollMs);
      }
    })();
  }

  /** Ends the loop after the round in progress and releases the lease. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
    await this.o.redis.eval(RELEASE_LUA, 1, this.keys.leader, this.id);
  }

  /** Reads a counter or gauge of the `poster:metrics` hash (0 when absent). */
  async metric(name: string): Promise<number> {
    return Number((await this.o.redis.hget(this.keys.metrics, name)) ?? '0');
  }

  /** Renews the lease; throws when another poster holds it now. */
  private async renewLease(): Promise<void> {
    const renewed = await this.o.redis.eval(RENEW_LUA, 1, this.keys.leader, this.id, LEASE_MS);
    if (renewed !== 1)
      throw new NetmarginError('The poster lost its lease', {
        code: 'POSTER_LEASE',
        hint: 'Another poster took over (this one stalled longer than the lease); stop one of them.',
      });
  }

  // -------------------------------------------------------------------------------------------------
  // One round

  async tick(): Promise<TickResult> {
    const out: TickResult = {
      settled: [],
      broadcast: null,
      refusals: [],
      held: false,
      waitingForPool: false,
    };
    await this.renewLease();
    for (const e of await this.openEntries()) out.settled.push({ id: e.id, state: await this.follow(e) });
    if (this.stopping) return out;
    // Relayer transactions in the pool that no journal entry knows (Redis lost its state while one was
    // in flight): wait until they are mined, so the contract's stored blocks reflect them before
    // anything is selected against them.
    const [minedCount, pendingCount] = await Promise.all([
      this.o.client.getTransactionCount({ address: this.o.relayer.address, blockTag: 'latest' }),
      this.o.client.getTransactionCount({ address: this.o.relayer.address, blockTag: 'pending' }),
    ]);
    if (pendingCount > minedCount) {
      this.log('poster.waiting-for-pool', { mined: minedCount, pending: pendingCount });
      out.waitingForPool = true;
      return out;
    }
    const head = await this.o.client.getBlock({ blockTag: 'latest' });
    await this.ingest(head.timestamp);
    const chosen = await this.select(head.timestamp, head.number);
    if (chosen.length === 0) return out;

    const facts = await readInputs({
      client: this.o.client,
      redis: this.o.redis,
      indexerCursorKey: this.indexerCursorKey,
      feeds: this.o.feeds,
      ...(this.o.sequencer ? { sequencer: this.o.sequencer } : {}),
    });
    const refusals = judgeInputs(facts, { maxIndexerLagBlocks: this.o.rules.maxIndexerLagBlocks });
    if (refusals.length > 0) {
      // One count and one log line per reason (several stale feeds are one `oracle-stale` refusal).
      const byReason = new Map<Refusal['reason'], string[]>();
      for (const r of refusals) byReason.set(r.reason, [...(byReason.get(r.reason) ?? []), r.detail]);
      for (const [reason, details] of byReason)
        await this.refuse({ reason, detail: details.join('; ') }, { candidates: chosen.length });
      await this.o.redis.hset(this.keys.metrics, POSTER_METRICS.refusing, '1');
      out.refusals = refusals;
      return out;
    }
    await this.o.redis.hset(this.keys.metrics, POSTER_METRICS.refusing, '0');

    const entry = await this.buildAndSign(chosen, facts.nowSec);
    if (!entry) {
      out.held = true;
      return out;
    }
    await this.broadcastNew(entry, facts.headBlock);
    out.broadcast = entry;
    out.settled.push({ id: entry.id, state: await this.follow(entry) });
    return out;
  }

  // -------------------------------------------------------------------------------------------------
  // Ingest and select

  private async ingest(nowSec: bigint): Promise<void> {
    const { redis, reader } = this.o;
    let cursor = (await redis.get(this.keys.cursor)) ?? '0';
    for (;;) {
      const changes = await reader.changes(cursor, { count: 500, blockMs: 0 });
      if (changes.length === 0) break;
      const m = redis.multi();
      for (const c of changes) m.zadd(this.keys.candidates, 'NX', Date.now(), c.owner);
      cursor = changes[changes.length - 1]!.id;
      m.set(this.keys.cursor, cursor);
      await m.exec();
      if (changes.length < 500) break;
    }
    // The age sweep: attestations about to outlive `maxAgeSec` are reconsidered.
    const due = await redis.zrangebyscore(
      this.keys.postedAt,
      '-inf',
      (nowSec - this.o.rules.materiality.maxAgeSec).toString(),
    );
    if (due.length > 0) {
      const m = redis.multi();
      for (const owner of due) m.zadd(this.keys.candidates, 'NX', Date.now(), owner);
      await m.exec();
    }
  }

  /** The last posted record: Redis, else the contract's stored attestation (the truth after a loss). */
  private async posted(owner: Address): Promise<PostedRecord | undefined> {
    const raw = await this.o.redis.hget(this.keys.posted, owner);
    if (raw !== null) return deserialize<PostedRecord>(raw);
    const a = await this.o.client.readContract({
      address: this.o.target.aggregator,
      abi: marginAggregatorAbi,
      functionName: 'attestationOf',
      args: [owner],
    });
    if (a.blockNumber === 0) return undefined;
    const rec: PostedRecord = {
      blockNumber: BigInt(a.blockNumber),
      imUsd6: a.imUsd6,
      mmUsd6: a.mmUsd6,
      mtmUsd6: a.mtmUsd6,
      health: null,
      timestampSec: BigInt(a.timestampSec),
    };
    await this.o.redis
      .multi()
      .hset(this.keys.posted, owner, serialize(rec))
      .zadd(this.keys.postedAt, rec.timestampSec.toString(), owner)
      .exec();
    return rec;
  }

  private async select(nowSec: bigint, headBlock: bigint): Promise<Chosen[]> {
    const { redis, reader, rules } = this.o;
    const raw = await redis.zrange(this.keys.candidates, '0', '-1', 'WITHSCORES');
    const inFlight = new Set(await redis.hkeys(this.keys.inFlight));
    const chosen: Chosen[] = [];
    const drop: string[] = [];
    const waiting: { owner: Address; since: number }[] = [];
    for (let i = 0; i < raw.length; i += 2)
      if (!inFlight.has(raw[i]!)) waiting.push({ owner: raw[i] as Address, since: Number(raw[i + 1]) });
    // Reads in parallel, a slice at a time (a crash path makes hundreds of candidates at once).
    const facts: { owner: Address; since: number; record?: RiskRecord; prev?: PostedRecord }[] = [];
    for (let i = 0; i < waiting.length; i += SELECT_SLICE)
      facts.push(
        ...(await Promise.all(
          waiting.slice(i, i + SELECT_SLICE).map(async (w) => {
            const record = await reader.latest(w.owner);
            return record ? { ...w, record, prev: await this.posted(w.owner) } : w;
          }),
        )),
      );
    for (const { owner, since, record, prev } of facts) {
      if (!record) {
        drop.push(owner);
        continue;
      }
      const sel = selectRecord(record, prev, rules.materiality, nowSec);
      if (!sel.post) {
        drop.push(owner);
        continue;
      }
      const stale = recordRefusal(record.stale);
      if (stale) {
        await this.refuse(stale, { owner, block: record.blockNumber });
        drop.push(owner);
        continue;
      }
      // A block this node has not reached yet (a lagging RPC): the contract would revert; next round.
      if (record.blockNumber > headBlock) continue;
      try {
        validateRecord(marginRecordOf(record), 'record');
      } catch (err) {
        if (!(err instanceof InvalidInputError)) throw err;
        // One malformed result must not block every batch: it is refused and dropped.
        await this.refuse(
          { reason: 'record-invalid', detail: err.shortMessage },
          { owner, block: record.blockNumber },
        );
        drop.push(owner);
        continue;
      }
      chosen.push({ record, reason: sel.reason, urgent: sel.urgent, sinceMs: since });
    }
    if (drop.length > 0) await redis.zrem(this.keys.candidates, ...drop);
    // Urgent first (first attestations, health changes), then the longest waiting.
    return chosen.sort((a, b) => Number(b.urgent) - Number(a.urgent) || a.sinceMs - b.sinceMs);
  }

  private async refuse(r: Refusal, fields: Record<string, unknown>): Promise<void> {
    await this.o.redis.hincrby(this.keys.metrics, POSTER_METRICS.refusals(r.reason), 1);
    this.log('poster.refused', { reason: r.reason, detail: r.detail, ...fields });
  }

  // -------------------------------------------------------------------------------------------------
  // Size, sign, journal, broadcast

  private async buildAndSign(chosen: Chosen[], nowSec: bigint): Promise<JournalEntry | null> {
    const { rules, target, client, threshold } = this.o;
    const nMax = maxBatchRecords({
      maxRecords: rules.maxBatchRecords,
      maxCalldataBytes: rules.maxCalldataBytes,
      signatures: threshold,
    });
    const n = Math.min(chosen.length, nMax);
    const picked = chosen.slice(0, n);
    // All records of a batch share one parameter set: take the first one's, leave the others for later.
    const paramsHash = picked[0]!.record.paramsHash;
    const batchRecords = picked.filter((c) => c.record.paramsHash === paramsHash);
    const batch = buildMarginBatch(
      {
        paramsHash,
        timestampSec: nowSec,
        deadlineSec: nowSec + rules.deadlineSec,
        records: batchRecords.map(({ record }) => marginRecordOf(record)),
      },
      { nowSec },
    );
    // Fee estimate on the real records with incompressible placeholder signatures of the right size.
    const placeholder = keccakFill(threshold * SIGNATURE_BYTES, batch.paramsHash);
    const draft = encodeFunctionData({
      abi: marginAggregatorAbi,
      functionName: 'postAttestations',
      args: postAttestationsArgs(batch, placeholder),
    });
    const [l1FeeWei, fees] = await Promise.all([
      estimateL1Fee(client, {
        account: this.o.relayer.address,
        to: target.aggregator,
        data: draft,
        chain: this.o.chain,
      }),
      this.networkFees(),
    ]);
    const perAccountWei = feePerAccountWei(
      {
        l1FeeWei,
        l2Gas: rules.gasFixed + rules.gasPerRecord * BigInt(batch.records.length),
        maxFeePerGasWei: fees.maxFeePerGas,
      },
      batch.records.length,
    );
    const decision = batchDecision({
      perAccountWei,
      capWei: rules.feeCapPerAccountWei,
      records: batch.records.length,
      maxRecords: nMax,
      urgent: batchRecords.some((c) => c.urgent),
      oldestWaitMs: Date.now() - Math.min(...batchRecords.map((c) => c.sinceMs)),
      maxHoldMs: rules.maxHoldMs,
    });
    if (!decision.go) {
      this.log('poster.batch-held', {
        records: batch.records.length,
        feePerAccountWei: perAccountWei,
        capWei: rules.feeCapPerAccountWei,
      });
      return null;
    }
    if (decision.overCap) await this.o.redis.hincrby(this.keys.metrics, POSTER_METRICS.overCap, 1);

    const { signatures } = await collectSignatures(batch, target, [...this.o.signers], threshold);
    const data = encodeFunctionData({
      abi: marginAggregatorAbi,
      functionName: 'postAttestations',
      args: postAttestationsArgs(batch, signatures),
    });
    let estimated: bigint;
    try {
      // Same calldata as `data`, with the ABI so a revert is decoded (e.g. `UnknownSigner(0x…)`).
      estimated = await client.estimateContractGas({
        account: this.o.relayer.address,
        address: target.aggregator,
        abi: marginAggregatorAbi,
        functionName: 'postAttestations',
        args: postAttestationsArgs(batch, signatures),
      });
    } catch (err) {
      // The batch would revert (e.g. a signer removed from the set): nothing is journaled or sent.
      const reverted =
        err instanceof BaseError ? err.walk((e) => e instanceof ContractFunctionRevertedError) : null;
      const why =
        reverted instanceof ContractFunctionRevertedError && reverted.data
          ? `${reverted.data.errorName}(${(reverted.data.args ?? []).map(String).join(', ')})`
          : err instanceof BaseError
            ? err.shortMessage
            : String(err);
      await this.o.redis.hincrby(this.keys.metrics, POSTER_METRICS.rejected, 1);
      this.log('poster.batch-rejected', { records: batch.records.length, error: why });
      throw new NetmarginError(`The aggregator would reject the batch: ${why}`, {
        code: 'POSTER_BATCH_REJECTED',
        hint: 'Check that the configured signers are the aggregator’s current set and the relayer is funded; the records stay candidates.',
        cause: err,
      });
    }
    const digest = marginBatchDigest(batch, target);
    this.log('poster.batch-signed', {
      digest,
      records: batch.records.length,
      reasons: countBy(batchRecords.map((c) => c.reason)),
      l1FeeWei,
      feePerAccountWei: perAccountWei,
      overCap: decision.overCap,
    });
    return {
      id: `${Date.now()}-${digest.slice(2, 14)}`,
      digest,
      nonce: -1,
      paramsHash,
      timestampSec: batch.timestampSec,
      deadlineSec: batch.deadlineSec,
      records: batchRecords.map(({ record: r }, i) => ({
        owner: r.owner,
        blockNumber: batch.records[i]!.blockNumber,
        imUsd6: r.imUsd6,
        mmUsd6: r.mmUsd6,
        mtmUsd6: r.mtmUsd6,
        health: r.health,
      })),
      data,
      gas: (estimated * 12n) / 10n,
      txs: [],
      state: 'open',
      minedTx: null,
      createdAtMs: Date.now(),
    };
  }

  private async networkFees(): Promise<Fees> {
    const f = await this.o.client.estimateFeesPerGas({ chain: this.o.chain });
    return { maxFeePerGas: f.maxFeePerGas, maxPriorityFeePerGas: f.maxPriorityFeePerGas };
  }

  private async signTx(entry: JournalEntry, fees: Fees, headBlock: bigint): Promise<JournalTx> {
    const raw = await this.o.relayer.signTransaction({
      type: 'eip1559',
      chainId: this.o.target.chainId,
      nonce: entry.nonce,
      to: this.o.target.aggregator,
      data: entry.data,
      gas: entry.gas,
      value: 0n,
      maxFeePerGas: fees.maxFeePerGas,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    });
    return { hash: keccak256(raw), raw, ...fees, sentAtMs: Date.now(), sentAtBlock: headBlock };
  }

  /** Takes a nonce, signs the transaction, journals the batch and marks its owners, then broadcasts. */
  private async broadcastNew(entry: JournalEntry, headBlock: bigint): Promise<void> {
    const { redis } = this.o;
    entry.nonce = Number((await redis.get(this.keys.nonce)) ?? '0');
    entry.txs.push(await this.signTx(entry, await this.networkFees(), headBlock));
    const m = redis.multi();
    m.hset(this.keys.journal, entry.id, serialize(entry));
    m.sadd(this.keys.openBatches, entry.id);
    for (const r of entry.records) m.hset(this.keys.inFlight, r.owner, entry.id);
    m.zrem(this.keys.candidates, ...entry.records.map((r) => r.owner));
    m.set(this.keys.nonce, String(entry.nonce + 1));
    m.hset(this.keys.metrics, POSTER_METRICS.nextNonce, String(entry.nonce + 1));
    await m.exec();
    await this.o.hooks?.beforeBroadcast?.(entry);
    await this.send(entry, entry.txs[entry.txs.length - 1]!);
    await this.o.hooks?.afterBroadcast?.(entry);
  }

  private async send(entry: JournalEntry, tx: JournalTx): Promise<void> {
    try {
      await this.o.client.sendRawTransaction({ serializedTransaction: tx.raw });
      this.log('poster.broadcast', {
        batch: entry.id,
        nonce: entry.nonce,
        tx: tx.hash,
        attempt: entry.txs.length,
        records: entry.records.length,
        maxFeePerGas: tx.maxFeePerGas,
        maxPriorityFeePerGas: tx.maxPriorityFeePerGas,
      });
    } catch (err) {
      // "already known" / "nonce too low" mean the node has it or it is mined: `follow` finds out.
      this.log('poster.broadcast-error', {
        batch: entry.id,
        nonce: entry.nonce,
        tx: tx.hash,
        error: err instanceof Error ? err.message.split('\n')[0] : String(err),
      });
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Follow, settle, recover

  private async receiptOf(entry: JournalEntry): Promise<TransactionReceipt | undefined> {
    for (const tx of entry.txs) {
      try {
        return await this.o.client.getTransactionReceipt({ hash: tx.hash });
      } catch (err) {
        if (!(err instanceof TransactionReceiptNotFoundError)) throw err;
      }
    }
    return undefined;
  }

  /** Follows an open batch until it is mined (or its nonce is taken), replacing it while stuck. */
  private async follow(entry: JournalEntry): Promise<'posted' | 'released' | 'open'> {
    const { client, rules } = this.o;
    let unconfirmed = 0;
    for (;;) {
      await this.renewLease(); // following a stuck batch may take longer than the lease
      // The nonce first, then the receipts: a transaction mined in between is then seen as mined.
      const minedNonce = await client.getTransactionCount({
        address: this.o.relayer.address,
        blockTag: 'latest',
      });
      const receipt = await this.receiptOf(entry);
      const decision = recoveryDecision({
        mined: receipt ? receipt.status : null,
        minedNonce,
        nonce: entry.nonce,
        hasSignedTx: entry.txs.length > 0,
      });
      // A used nonce without a receipt of ours is asked again before the batch is given up.
      if (decision === 'release' && !receipt && entry.txs.length > 0 && unconfirmed++ < RECHECKS) {
        await sleep(rules.followPollMs);
        continue;
      }
      if (decision !== 'rebroadcast') return this.settle(entry, decision, receipt);
      const head = await client.getBlockNumber({ cacheTime: 0 });
      const last = entry.txs[entry.txs.length - 1]!;
      if (
        isStuck({
          sentAtBlock: last.sentAtBlock,
          headBlock: head,
          sentAtMs: last.sentAtMs,
          nowMs: Date.now(),
          stuckBlocks: rules.stuckBlocks,
          stuckMs: rules.stuckMs,
        })
      ) {
        const fees = replacementFees(last, await this.networkFees());
        const tx = await this.signTx(entry, fees, head);
        entry.txs.push(tx);
        await this.o.redis
          .multi()
          .hset(this.keys.journal, entry.id, serialize(entry))
          .hincrby(this.keys.metrics, POSTER_METRICS.replacements, 1)
          .exec();
        this.log('poster.replacing', {
          batch: entry.id,
          nonce: entry.nonce,
          stuckTx: last.hash,
          blocksWaited: head - last.sentAtBlock,
          msWaited: Date.now() - last.sentAtMs,
        });
        await this.send(entry, tx);
      }
      if (this.stopping) return 'open'; // resumed by the next round or the next start
      await sleep(rules.followPollMs);
    }
  }

  private async settle(
    entry: JournalEntry,
    decision: 'posted' | 'release',
    receipt: TransactionReceipt | undefined,
  ): Promise<'posted' | 'released'> {
    const m = this.o.redis.multi();
    const owners = entry.records.map((r) => r.owner);
    m.hdel(this.keys.inFlight, ...owners);
    if (decision === 'posted') {
      entry.state = 'posted';
      entry.minedTx = receipt?.transactionHash ?? null;
      for (const r of entry.records) {
        const rec: PostedRecord = {
          blockNumber: r.blockNumber,
          imUsd6: r.imUsd6,
          mmUsd6: r.mmUsd6,
          mtmUsd6: r.mtmUsd6,
          health: r.health,
          timestampSec: entry.timestampSec,
        };
        m.hset(this.keys.posted, r.owner, serialize(rec));
        m.zadd(this.keys.postedAt, entry.timestampSec.toString(), r.owner);
      }
      m.hincrby(this.keys.metrics, POSTER_METRICS.batches, 1);
      m.hincrby(this.keys.metrics, POSTER_METRICS.records, entry.records.length);
    } else {
      entry.state = 'released';
      entry.minedTx = receipt?.transactionHash ?? null;
      // Selected again at the next round (against what is now on chain).
      for (const o of owners) m.zadd(this.keys.candidates, 'NX', Date.now(), o);
      m.hincrby(this.keys.metrics, POSTER_METRICS.released, 1);
    }
    m.hset(this.keys.journal, entry.id, serialize(entry));
    m.srem(this.keys.openBatches, entry.id);
    await m.exec();
    this.log(decision === 'posted' ? 'poster.posted' : 'poster.released', {
      batch: entry.id,
      nonce: entry.nonce,
      tx: entry.minedTx,
      records: entry.records.length,
      block: receipt?.blockNumber ?? null,
      status: receipt?.status ?? null,
    });
    return entry.state;
  }

  /** Journal entries not yet posted or released, oldest nonce first. */
  async openEntries(): Promise<JournalEntry[]> {
    const ids = await this.o.redis.smembers(this.keys.openBatches);
    if (ids.length === 0) return [];
    const raw = await this.o.redis.hmget(this.keys.journal, ...ids);
    return raw
      .flatMap((s) => (s === null ? [] : [deserialize<JournalEntry>(s)]))
      .filter((e) => e.state === 'open')
      .sort((a, b) => a.nonce - b.nonce);
  }

  /** Deletes settled journal entries created more than `keepMs` ago; returns how many. */
  async pruneJournal(keepMs: number): Promise<number> {
    const { redis } = this.o;
    let cursor = '0';
    let pruned = 0;
    do {
      const [next, flat] = await redis.hscan(this.keys.journal, cursor, 'COUNT', 500);
      cursor = next;
      const old: string[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const e = deserialize<JournalEntry>(flat[i + 1]!);
        if (e.state !== 'open' && e.createdAtMs < Date.now() - keepMs) old.push(flat[i]!);
      }
      if (old.length > 0) pruned += await redis.hdel(this.keys.journal, ...old);
    } while (cursor !== '0');
    return pruned;
  }

  /** Every journal entry (open and settled), oldest first. */
  async journal(): Promise<JournalEntry[]> {
    const all = await this.o.redis.hvals(this.keys.journal);
    return all.map((s) => deserialize<JournalEntry>(s)).sort((a, b) => a.createdAtMs - b.createdAtMs);
  }

  private async recover(): Promise<void> {
    const { client } = this.o;
    const minedNonce = await client.getTransactionCount({
      address: this.o.relayer.address,
      blockTag: 'latest',
    });
    const stillOpen: number[] = [];
    for (const entry of await this.openEntries()) {
      const receipt = await this.receiptOf(entry);
      const decision = recoveryDecision({
        mined: receipt ? receipt.status : null,
        minedNonce,
        nonce: entry.nonce,
        hasSignedTx: entry.txs.length > 0,
      });
      this.log('poster.recovering', { batch: entry.id, nonce: entry.nonce, decision });
      if (decision === 'rebroadcast') {
        stillOpen.push(entry.nonce);
        await this.send(entry, entry.txs[entry.txs.length - 1]!);
      } else await this.settle(entry, decision, receipt);
    }
    const pending = await client.getTransactionCount({
      address: this.o.relayer.address,
      blockTag: 'pending',
    });
    const next = nextNonce(pending, stillOpen);
    await this.o.redis
      .multi()
      .set(this.keys.nonce, String(next))
      .hset(this.keys.metrics, POSTER_METRICS.nextNonce, String(next))
      .exec();
    const pruned = await this.pruneJournal(JOURNAL_KEEP_MS);
    this.log('poster.started', {
      relayer: this.o.relayer.address,
      nextNonce: next,
      open: stillOpen.length,
      prunedJournalEntries: pruned,
    });
  }
}

interface Chosen {
  record: RiskRecord;
  reason: PostReason;
  urgent: boolean;
  sinceMs: number;
}

function marginRecordOf(r: RiskRecord): MarginRecord {
  return {
    account: r.owner,
    imUsd6: r.imUsd6,
    mmUsd6: r.mmUsd6,
    mtmUsd6: r.mtmUsd6,
    blockNumber: r.blockNumber,
    inputsHash: r.inputHash,
  };
}

function countBy(xs: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

/** `bytes` pseudo-random bytes (chained keccak of `seed`): incompressible like real signatures. */
function keccakFill(bytes: number, seed: Hex): Hex {
  let out = '';
  let h = seed;
  while (out.length < bytes * 2) {
    h = keccak256(h);
    out += h.slice(2);
  }
  return `0x${out.slice(0, bytes * 2)}`;
}
