/**
 * Puts the seeded records on chain the way production does: the indexer's cursor written at the
 * head (as the head runner writes it; the poster refuses to sign when the indexer is behind), then
 * one round of the real `Poster` with the manifest's signers and a relayer key. Used by the partner
 * tests and `bench:api`, whose endpoint answers from the aggregator's views and the attestation they
 * rest on.
 */
import type { Redis } from 'ioredis';
import type { PublicClient } from 'viem';
import type { Devnet } from '../../src/devnet/devnet';
import { Poster } from '../../src/pipeline/poster/poster';
import { LocalKeySigner, LocalTransactionSigner } from '../../src/pipeline/poster/signer';
import { RedisRiskResultStore } from '../../src/pipeline/result-store';
import type { Seeded } from './api-seed';

/** Posts every seeded account's latest record in one round; throws if the poster refused anything. */
export async function postSeededRecords(
  devnet: Devnet,
  redis: Redis,
  network: string,
  seeded: Seeded,
): Promise<void> {
  const m = devnet.manifest;
  const agg = m.aggregator!;
  const head = await devnet.clients.publicClient.getBlock({ blockTag: 'latest' });
  await redis.hset(seeded.keys.indexer.cursor, {
    number: head.number.toString(),
    hash: head.hash,
    parentHash: head.parentHash,
  });
  const poster = new Poster({
    reader: new RedisRiskResultStore(redis, seeded.keys.pipeline.results),
    redis,
    network,
    client: devnet.clients.publicClient as unknown as PublicClient,
    chain: devnet.clients.chain,
    target: { chainId: m.network.chainId, aggregator: agg.address },
    signers: agg.signers.map((s) => new LocalKeySigner(s.privateKey!)),
    threshold: agg.threshold,
    relayer: new LocalTransactionSigner(m.accounts.find((a) => a.persona === 'fresh-wallet')!.privateKey),
    feeds: [
      ...new Map(
        agg.assets.map((a) => [a.feed, { label: a.symbol, address: a.feed, heartbeatSec: a.heartbeatSec }]),
      ).values(),
    ],
    sequencer: { address: agg.sequencerFeed, gracePeriodSec: agg.sequencerGracePeriodSec },
    rules: {
      materiality: { minAbsUsd6: 1_000_000n, minRelBps: 50n, maxAgeSec: 3_000n },
      maxIndexerLagBlocks: 5n,
      deadlineSec: 600n,
      maxBatchRecords: 100,
      maxCalldataBytes: 120_000,
      feeCapPerAccountWei: 10n ** 18n,
      maxHoldMs: 0,
      gasFixed: 60_000n,
      gasPerRecord: 12_000n,
      stuckBlocks: 3n,
      stuckMs: 60_000,
      followPollMs: 50,
    },
  });
  await poster.start();
  try {
    const out = await poster.tick();
    if (out.refusals.length > 0 || !out.broadcast)
      throw new Error(`the poster posted nothing: ${JSON.stringify(out.refusals)}`);
  } finally {
    await poster.stop();
  }
}
