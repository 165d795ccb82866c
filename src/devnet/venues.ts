/**
 * Deploys and seeds the two venue stand-ins described in docs/venues.md: perps (venue-perps.ts) and
 * options (venue-options.ts). Re-exports what the market driver and tests need.
 */
import type { VenueInfo } from '../config/manifest';
import type { DevnetClients } from './chain';
import type { VenueAccounts, VenueContext } from './venue-common';
import { deployOptions } from './venue-options';
import { deployPerps } from './venue-perps';

export type { VenueAccounts, VenueContext } from './venue-common';
export { VENUE_HEARTBEAT_SEC } from './venue-common';
export { OPTION_UNDERLYINGS, optionsMarketDataCalls, refreshFeedsCalls } from './venue-options';
export { PERP_MARKETS } from './venue-perps';

export async function deployAndSeedVenues(
  c: DevnetClients,
  ctx: VenueContext,
): Promise<{ perps: VenueInfo | null; options: VenueInfo | null; accounts: VenueAccounts }> {
  const accounts: VenueAccounts = { perps: new Map(), options: new Map() };
  const perps = await deployPerps(c, ctx, accounts);
  ctx.log(`perps venue at ${perps.contracts.perpsMarket}: ${accounts.perps.size} accounts`);
  const options = await deployOptions(c, ctx, accounts);
  ctx.log(`options venue at ${options.contracts.subAccounts}: ${accounts.options.size} subaccounts`);
  return { perps, options, accounts };
}
