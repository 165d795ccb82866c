/**
 * What the demo shows while the market moves, read from where the system writes it: the risk results
 * (Redis), the aggregator's and Aave's events (the chain), the shortfall feed (its Redis stream).
 * `poll()` reads everything new up to the current head and returns it; the caller prints it.
 */
import type { Redis } from 'ioredis';
import type { Address, Hash } from 'viem';
import type { DeploymentManifest } from '../config/manifest';
import { aavePoolAbi, marginAggregatorAbi } from '../contracts/generated';
import type { Devnet } from '../devnet/devnet';
import { redisKeys } from '../indexer/redis/keys';
import type { FeedEvent } from '../pipeline/feed/event';
import { ShortfallFeedStream } from '../pipeline/feed/shortfall-feed';
import { RedisRiskResultStore } from '../pipeline/result-store';
import type { HealthClass } from '../pipeline/types';

/** Personas built to sit near a liquidation threshold; always in the margin table. */
export const NEAR_LIQUIDATION = [
  'aave-near-liquidation',
  'perps-high-leverage',
  'leveraged-perp-long',
  'basis-trader',
  'aave-eth-looper',
] as const;
const MAX_ROWS = 8;

export interface MarginRow {
  persona: string;
  owner: Address;
  block: bigint;
  health: HealthClass;
  mmUsd6: bigint;
  equityUsd6: bigint;
}

export interface AttestationTx {
  tx: Hash;
  /** The block the transaction was mined in. */
  block: bigint;
  /** Each attested account with the block its margin was computed at. */
  accounts: { owner: Address; persona: string; attestedBlock: bigint; mmUsd6: bigint }[];
}

export interface Liquidation {
  venue: 'aggregator' | 'aave';
  owner: Address;
  persona: string;
  liquidator: Address;
  /** What was seized and paid, in words. */
  what: string;
  tx: Hash;
  block: bigint;
}

export interface Observed {
  head: bigint;
  margins: MarginRow[] | null;
  attestations: AttestationTx[];
  feed: FeedEvent[];
  flagged: { owner: Address; persona: string; shortfallUsd6: bigint; tx: Hash; block: bigint }[];
  liquidations: Liquidation[];
}

const short = (h: string) => `${h.slice(0, 10)}…`;

export class Watcher {
  private readonly results: RedisRiskResultStore;
  private readonly feed: ShortfallFeedStream;
  private readonly names = new Map<string, string>();
  private fromBlock: bigint | undefined;
  private feedId = '0';
  private lastTable = '';

  constructor(
    private readonly devnet: Devnet,
    redis: Redis,
    network: string,
    fromBlock?: bigint,
  ) {
    this.fromBlock = fromBlock;
    const keys = redisKeys(network);
    this.results = new RedisRiskResultStore(redis, keys.pipeline.results);
    this.feed = new ShortfallFeedStream(redis, network);
    for (const a of devnet.manifest.accounts) this.names.set(a.address.toLowerCase(), a.persona);
  }

  persona(owner: string): string {
    return this.names.get(owner.toLowerCase()) ?? short(owner);
  }

  private get m(): DeploymentManifest {
    return this.devnet.manifest;
  }

  /** Everything new since the last call (the first starts at `fromBlock`, else at the current head). */
  async poll(): Promise<Observed> {
    const pc = this.devnet.clients.publicClient;
    const head = await pc.getBlockNumber();
    const from = this.fromBlock ?? head;
    const out: Observed = { head, margins: null, attestations: [], feed: [], flagged: [], liquidations: [] };
    if (from <= head) {
      this.fromBlock = head + 1n;
      const aggLogs = await pc.getContractEvents({
        address: this.m.aggregator!.address,
        abi: marginAggregatorAbi,
        fromBlock: from,
        toBlock: head,
      });
      const byTx = new Map<Hash, AttestationTx>();
      for (const log of aggLogs) {
        if (log.eventName === 'MarginUpdated') {
          const a = log.args as { account: Address; mmUsd6: bigint; blockNumber: bigint };
          const tx = byTx.get(log.transactionHash) ?? {
            tx: log.transactionHash,
            block: log.blockNumber,
            accounts: [],
          };
          tx.accounts.push({
            owner: a.account,
            persona: this.persona(a.account),
            attestedBlock: a.blockNumber,
            mmUsd6: a.mmUsd6,
          });
          byTx.set(log.transactionHash, tx);
        } else if (log.eventName === 'ShortfallFlagged') {
          const a = log.args as { account: Address; shortfallUsd6: bigint };
          out.flagged.push({
            owner: a.account,
            persona: this.persona(a.account),
            shortfallUsd6: a.shortfallUsd6,
            tx: log.transactionHash,
            block: log.blockNumber,
          });
        } else if (log.eventName === 'Liquidated') {
          const a = log.args as {
            account: Address;
            liquidator: Address;
            asset: Address;
            seized: bigint;
            paid: bigint;
          };
          const asset = this.m.aggregator!.assets.find(
            (x) => x.address.toLowerCase() === a.asset.toLowerCase(),
          );
          out.liquidations.push({
            venue: 'aggregator',
            owner: a.account,
            persona: this.persona(a.account),
            liquidator: a.liquidator,
            what: `seized ${fmtUnits(a.seized, asset?.decimals ?? 18)} ${asset?.symbol ?? short(a.asset)} for ${fmtUnits(a.paid, 6)} USDC`,
            tx: log.transactionHash,
            block: log.blockNumber,
          });
        }
      }
      out.attestations = [...byTx.values()];
      const aaveLogs = await pc.getContractEvents({
        address: this.m.aave.pool,
        abi: aavePoolAbi,
        eventName: 'LiquidationCall',
        fromBlock: from,
        toBlock: head,
      });
      for (const log of aaveLogs) {
        const a = log.args as {
          user: Address;
          liquidator: Address;
          collateralAsset: Address;
          debtAsset: Address;
          debtToCover: bigint;
          liquidatedCollateralAmount: bigint;
        };
        const token = (x: Address) =>
          Object.entries(this.m.tokens).find(([, t]) => t.address.toLowerCase() === x.toLowerCase());
        const [cSym, c] = token(a.collateralAsset) ?? [short(a.collateralAsset), { decimals: 18 }];
        const [dSym, d] = token(a.debtAsset) ?? [short(a.debtAsset), { decimals: 18 }];
        out.liquidations.push({
          venue: 'aave',
          owner: a.user,
          persona: this.persona(a.user),
          liquidator: a.liquidator,
          what: `repaid ${fmtUnits(a.debtToCover, d.decimals)} ${dSym}, received ${fmtUnits(a.liquidatedCollateralAmount, c.decimals)} ${cSym}`,
          tx: log.transactionHash,
          block: log.blockNumber,
        });
      }
      out.margins = await this.margins();
    }
    out.feed = await this.feed.readFeed(this.feedId, 100);
    if (out.feed.length > 0) this.feedId = out.feed[out.feed.length - 1]!.id;
    return out;
  }

  /** The near-liquidation personas and any other account that is not healthy. */
  async margins(): Promise<MarginRow[]> {
    const accounts = this.m.accounts.map((a) => ({ persona: a.persona, owner: a.address as Address }));
    const records = await this.results.latestMany(accounts.map((a) => a.owner));
    const rows: MarginRow[] = [];
    accounts.forEach((a, i) => {
      const r = records[i];
      if (!r) return;
      const near = (NEAR_LIQUIDATION as readonly string[]).includes(a.persona);
      if (!near && r.health === 'healthy') return;
      rows.push({
        ...a,
        block: r.blockNumber,
        health: r.health,
        mmUsd6: r.mmUsd6,
        equityUsd6: r.adjustedEquityUsd6,
      });
    });
    const rank = (r: MarginRow) => (NEAR_LIQUIDATION as readonly string[]).indexOf(r.persona);
    rows.sort((x, y) => (rank(x) === -1 ? 99 : rank(x)) - (rank(y) === -1 ? 99 : rank(y)));
    return rows.slice(0, MAX_ROWS);
  }

  /** The table's lines, or [] when nothing in it changed since the last one printed. */
  table(rows: MarginRow[]): string[] {
    const body = rows.map(
      (r) =>
        `  ${r.persona.padEnd(26)} ${r.health.padEnd(12)} ${usd(r.mmUsd6).padStart(14)} ${usd(r.equityUsd6).padStart(14)}  #${r.block}`,
    );
    const key = rows.map((r) => `${r.persona}|${r.health}|${r.mmUsd6}|${r.equityUsd6}`).join(';');
    if (key === this.lastTable || rows.length === 0) return [];
    this.lastTable = key;
    return [
      `  ${'account'.padEnd(26)} ${'health'.padEnd(12)} ${'MM'.padStart(14)} ${'equity'.padStart(14)}  block`,
      ...body,
    ];
  }
}

/** USD6 as `$1,234.56` (negative with a minus). */
export function usd(v: bigint): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  const cents = (a + 5_000n) / 10_000n;
  const whole = (cents / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${neg ? '-' : ''}$${whole}.${(cents % 100n).toString().padStart(2, '0')}`;
}

/** A token amount with up to 4 decimals. */
export function fmtUnits(v: bigint, decimals: number): string {
  const base = 10n ** BigInt(decimals);
  const frac = ((v % base) * 10_000n) / base;
  return `${v / base}.${frac.toString().padStart(4, '0')}`.replace(/\.?0+$/, '') || '0';
}
