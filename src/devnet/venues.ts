/**
 * Venue stand-ins (perps and options): deployed and seeded once their contracts are available.
 */
import type { Address } from 'viem';
import type { AssetSymbol, DeploymentManifest, TokenInfo, VenueInfo } from '../config/manifest';
import type { BatchCall, DevnetClients } from './chain';
import type { DeployedFeeds } from './feeds';
import type { Persona } from './personas';

export interface VenueContext {
  deployer: Address;
  keeper: Address;
  tokens: Record<AssetSymbol, TokenInfo>;
  feeds: DeployedFeeds;
  personas: { persona: Persona; address: Address }[];
  log: (line: string) => void;
}

export async function deployAndSeedVenues(
  _c: DevnetClients,
  _ctx: VenueContext,
): Promise<{ perps: VenueInfo | null; options: VenueInfo | null }> {
  return { perps: null, options: null };
}

/** Calls that publish forwards, rates and SVI smiles for the options venue (none until it is deployed). */
export function optionsMarketDataCalls(
  m: DeploymentManifest,
  _pricesUsd8: Record<AssetSymbol, bigint>,
  _volMultiplier: number,
  _nowSec: bigint,
): BatchCall[] {
  if (!m.venues.options) return [];
  return [];
}
