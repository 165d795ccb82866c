/**
 * From configuration and manifest to `PosterOptions`: the signers (configured keys, else the manifest's
 * devnet keys, each checked against the aggregator's signer set), the feeds to watch, the sequencer
 * feed and the rules. Plain functions, so they are tested without NestJS.
 */
import { defineChain, getAddress, type Chain } from 'viem';
import { optimism } from 'viem/chains';
import type { AttestationSigner } from '../../attestation';
import { InvalidInputError, NetmarginError } from '../../common/errors';
import type { AggregatorInfo, DeploymentManifest } from '../../config/manifest';
import type { WatchedFeed } from './checks';
import type { PosterConfig } from './poster.config';
import type { PosterOptions } from './poster';
import { LocalKeySigner, LocalTransactionSigner } from './signer';

/** The manifest's aggregator, or a refusal saying how to get one. */
export function aggregatorOf(m: DeploymentManifest): AggregatorInfo {
  if (!m.aggregator)
    throw new NetmarginError('The manifest has no aggregator: there is nothing to post to', {
      code: 'NO_AGGREGATOR',
      hint: 'Point NETMARGIN_MANIFEST at a deployment with an aggregator section (npm run devnet writes one).',
    });
  return m.aggregator;
}

/**
 * The attestation signers: the configured keys, else the manifest's devnet keys. Every signer must be
 * in the aggregator's set and there must be at least `threshold` of them.
 */
export function signersFor(config: PosterConfig, agg: AggregatorInfo): AttestationSigner[] {
  const field = 'NETMARGIN_POSTER_SIGNER_KEYS';
  const keys = config.signerKeys ?? agg.signers.flatMap((s) => (s.privateKey ? [s.privateKey] : []));
  const signers = keys.map((k) => new LocalKeySigner(k, field));
  const allowed = new Set(agg.signers.map((s) => getAddress(s.address)));
  for (const s of signers)
    if (!allowed.has(s.address))
      throw new InvalidInputError(
        field,
        `a key signs as ${s.address}, which is not in the aggregator's signer set`,
        {
          hint: `Use keys of the signers ${[...allowed].join(', ')}; the contract rejects any other signature.`,
        },
      );
  if (signers.length < agg.threshold)
    throw new InvalidInputError(field, `${signers.length} signer keys for a threshold of ${agg.threshold}`, {
      hint: `Set ${field} to at least ${agg.threshold} comma-separated signer keys.`,
    });
  return signers;
}

/** Every price feed the aggregator values collateral with, once, with its (or the configured) heartbeat. */
export function watchedFeeds(agg: AggregatorInfo, heartbeatSec: number | undefined): WatchedFeed[] {
  const byFeed = new Map<string, WatchedFeed>();
  for (const a of agg.assets) {
    const hb = heartbeatSec ?? a.heartbeatSec;
    const prev = byFeed.get(a.feed);
    if (!prev || hb < prev.heartbeatSec)
      byFeed.set(a.feed, { label: a.symbol, address: a.feed, heartbeatSec: hb });
  }
  return [...byFeed.values()];
}

export function posterChain(m: DeploymentManifest, rpcUrl: string): Chain {
  return defineChain({
    ...optimism,
    id: m.network.chainId,
    name: m.network.name,
    rpcUrls: { default: { http: [rpcUrl] } },
  });
}

/** `PosterOptions` from the configuration and the manifest (everything but Redis, the client and the reader). */
export function posterOptions(
  config: PosterConfig,
  m: DeploymentManifest,
): Omit<PosterOptions, 'redis' | 'client' | 'reader' | 'chain' | 'log'> {
  const agg = aggregatorOf(m);
  return {
    network: config.network,
    target: { chainId: m.network.chainId, aggregator: agg.address },
    signers: signersFor(config, agg),
    threshold: agg.threshold,
    relayer: new LocalTransactionSigner(config.relayerKey, 'NETMARGIN_POSTER_RELAYER_KEY'),
    feeds: watchedFeeds(agg, config.heartbeatSec),
    sequencer: { address: agg.sequencerFeed, gracePeriodSec: agg.sequencerGracePeriodSec },
    rules: {
      materiality: {
        minAbsUsd6: config.minChangeUsd6,
        minRelBps: config.minChangeBps,
        maxAgeSec: config.maxAgeSec ?? BigInt(Math.max(1, Math.floor(agg.maxAttestationAgeSec / 2))),
      },
      maxIndexerLagBlocks: config.maxIndexerLagBlocks,
      deadlineSec: config.deadlineSec,
      maxBatchRecords: config.maxBatchRecords,
      maxCalldataBytes: config.maxCalldataBytes,
      feeCapPerAccountWei: config.feeCapPerAccountWei,
      maxHoldMs: config.maxHoldMs,
      // Sizing model from the gas report (docs/aggregator.md): ~53k gas for one record, ~10k per record more.
      gasFixed: 45_000n,
      gasPerRecord: 10_500n,
      stuckBlocks: config.stuckBlocks,
      stuckMs: config.stuckMs,
      followPollMs: Math.min(500, config.pollMs),
    },
  };
}
