/**
 * The adapter registry. Adding a protocol = one adapter file implementing `ProtocolAdapter` plus one
 * line in `ADAPTER_FACTORIES`; nothing else in the indexer names a protocol.
 */
import type { DeploymentManifest } from '../../config/manifest';
import { aaveAdapterFromManifest } from './aave';
import { optionsAdapterFromManifest } from './options';
import { perpsAdapterFromManifest } from './perps';
import type { ProtocolAdapter } from './types';

/** Builds a protocol's adapter from the manifest, or null when that protocol is not deployed there. */
export type AdapterFactory = (m: DeploymentManifest) => ProtocolAdapter | null;

export const ADAPTER_FACTORIES: readonly AdapterFactory[] = [
  aaveAdapterFromManifest,
  perpsAdapterFromManifest,
  optionsAdapterFromManifest,
];

/** Every adapter deployed on the manifest's chain, in registry order. */
export function createAdapters(m: DeploymentManifest): ProtocolAdapter[] {
  return ADAPTER_FACTORIES.map((f) => f(m)).filter((a): a is ProtocolAdapter => a !== null);
}

export type * from './types';
export { decodeOptionSubId, encodeOptionSubId } from './units';
