/**
 * Shared checks of the indexer's end state on the devnet: wait for queues to drain (a failed job fails
 * the test with its reason), read an owner's positions independently of the indexer (identity rebuilt
 * from the start block, every adapter at one block), and compare every persona's stored value with it.
 */
import type { Queue } from 'bullmq';
import { erc20Abi, maxUint256, type Address, type Client, type PublicClient } from 'viem';
import { aavePoolAbi, snxPerpsMarketAbi } from '../../src/contracts/generated';
import type { DeploymentManifest, SeededAccount } from '../../src/config/manifest';
import { write } from '../../src/devnet/chain';
import type { Devnet } from '../../src/devnet/devnet';
import { runMarketPath } from '../../src/devnet/market';
import type { ProtocolAdapter } from '../../src/indexer/adapters/types';
import type { BlockStamped } from '../../src/indexer/chain/store';
import { IdentityIndex, syncIdentity } from '../../src/indexer/identity';
import type { OwnerPositions } from '../../src/indexer/indexer.service';
import { jobIds, type IndexerQueues, type QueueName } from '../../src/indexer/queues';
import { serialize } from '../../src/indexer/redis/serialize';

/** What the checks need to know about one indexed devnet. */
export interface IndexedChain {
  client: PublicClient;
  adapters: readonly ProtocolAdapter[];
  manifest: DeploymentManifest;
  queues: IndexerQueues;
  store: { get(key: string): Promise<BlockStamped<OwnerPositions> | undefined> };
}

export function persona(m: DeploymentManifest, name: string): SeededAccount {
  const a = m.accounts.find((x) => x.persona === name);
  if (!a) throw new Error(`persona ${name} not in manifest`);
  return a;
}

/** Waits until `names` hold no waiting, active or delayed job; a failed job fails with its reason. */
export async function drained(
  queues: IndexerQueues,
  names: readonly QueueName[] = ['index-range', 'refresh'],
  timeoutMs = 40_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let pending = 0;
    for (const q of names) {
      const c = await queues[q].getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed');
      if ((c.failed ?? 0) > 0) {
        const [job] = await (queues[q] as Queue).getFailed(0, 0);
        throw new Error(`a ${q} job failed: ${job?.id}: ${job?.failedReason}`);
      }
      pending += (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0);
    }
    if (pending === 0) return;
    if (Date.now() > deadline) throw new Error(`queues not drained after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** An independent read: identity rebuilt from the start block, every adapter read at `block`. */
export async function directRead(
  chain: Pick<IndexedChain, 'client' | 'adapters' | 'manifest'>,
  owner: Address,
  block: bigint,
): Promise<OwnerPositions> {
  const client = chain.client as unknown as Client;
  const identity = IdentityIndex.forAdapters(chain.adapters);
  await syncIdentity(client, identity, BigInt(chain.manifest.network.startBlock), block);
  const reads = await Promise.all(
    chain.adapters.map((a) => a.readPositions(client, identity.holderFor(owner, a.protocol), block)),
  );
  return {
    owner,
    protocols: reads.map((r) => ({ protocol: r.protocol, positions: r.positions, attributes: r.attributes })),
  };
}

export const hasPositions = (v: OwnerPositions): boolean => v.protocols.some((p) => p.positions.length > 0);

/** Ids of the risk jobs queued (nothing drains them in these tests), sorted. */
export async function riskJobIds(queues: IndexerQueues): Promise<string[]> {
  const jobs = await queues.risk.getJobs(['waiting', 'active', 'completed', 'delayed', 'prioritized']);
  return jobs.map((j) => j.id ?? '').sort();
}

/**
 * Every persona: the stored value equals a direct read at the block it is stamped with (whose hash
 * must be canonical), and one with positions has its risk job; a persona never stored must hold
 * nothing at `indexedTo`. Returns how many stored personas have positions.
 */
export async function expectStoredEqualsChain(chain: IndexedChain, indexedTo: bigint): Promise<number> {
  let withPositions = 0;
  const risk = new Set(await riskJobIds(chain.queues));
  for (const p of chain.manifest.accounts) {
    const stored = await chain.store.get(p.address);
    if (!stored) {
      // Never touched by an event: must hold nothing anywhere.
      expect(hasPositions(await directRead(chain, p.address, indexedTo))).toBe(false);
      continue;
    }
    expect(stored.blockHash).toBe((await chain.client.getBlock({ blockNumber: stored.blockNumber })).hash);
    expect(serialize(stored.value)).toBe(serialize(await directRead(chain, p.address, stored.blockNumber)));
    if (hasPositions(stored.value)) {
      withPositions += 1;
      const id = jobIds.risk(p.address, { number: stored.blockNumber, hash: stored.blockHash });
      expect(risk.has(id) ? id : `missing ${id}`).toBe(id);
    }
  }
  return withPositions;
}

/**
 * The crash path with two liquidations: prices fall, the liquidator persona liquidates the Aave
 * near-liquidation account and the perps high-leverage account, two more blocks are mined. Returns
 * the two liquidated personas.
 */
export async function crashWithLiquidations(
  devnet: Devnet,
): Promise<{ nearLiq: SeededAccount; highLev: SeededAccount }> {
  const m = devnet.manifest;
  const nearLiq = persona(m, 'aave-near-liquidation');
  const highLev = persona(m, 'perps-high-leverage');
  const liquidator = persona(m, 'liquidator-bot');
  await runMarketPath(devnet.clients, m, 'crash', { clock: 'instant', steps: 6 });
  await write(devnet.clients, liquidator.address, m.tokens.USDC.address, erc20Abi, 'approve', [
    m.aave.pool,
    maxUint256,
  ]);
  await write(devnet.clients, liquidator.address, m.aave.pool, aavePoolAbi, 'liquidationCall', [
    m.tokens.WETH.address,
    m.tokens.USDC.address,
    nearLiq.address,
    maxUint256,
    false,
  ]);
  const perpsMarket = m.venues.perps!.contracts.perpsMarket!;
  await write(devnet.clients, liquidator.address, perpsMarket, snxPerpsMarketAbi, 'liquidate', [
    BigInt(highLev.venueAccounts.perps!),
  ]);
  await devnet.clients.testClient.mine({ blocks: 2 });
  return { nearLiq, highLev };
}
