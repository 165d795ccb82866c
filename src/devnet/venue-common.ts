/**
 * Shared pieces of the venue deployers (venue-perps.ts, venue-options.ts): the context they receive,
 * the venue account ids they hand back, and small deploy / unit helpers.
 */
import { encodeDeployData, type Abi, type Address, type Hex } from 'viem';
import type { AssetSymbol, TokenInfo } from '../config/manifest';
import { parseDecimalUnits } from '../common/amount';
import { deployRaw, type DevnetClients } from './chain';
import type { DeployedFeeds } from './feeds';
import type { Persona } from './personas';

export const MAX_UINT = (1n << 256n) - 1n;
export const D18 = 10n ** 18n;
export const ZERO_BYTES32: Hex = `0x${'00'.repeat(32)}`;
export const ZERO_ADDRESS: Address = '0x0000000000000000000000000000000000000000';
/** Feed heartbeat on the devnet: a day, so a world left idle stays readable (the driver re-posts). */
export const VENUE_HEARTBEAT_SEC = 86_400;

export interface VenueContext {
  deployer: Address;
  keeper: Address;
  tokens: Record<AssetSymbol, TokenInfo>;
  feeds: DeployedFeeds;
  personas: { persona: Persona; address: Address }[];
  log: (line: string) => void;
}

export interface VenueAccounts {
  /** Persona name → perps account id. */
  perps: Map<string, bigint>;
  /** Persona name → options subaccount id. */
  options: Map<string, bigint>;
}

export async function deployContract(
  c: DevnetClients,
  from: Address,
  abi: Abi,
  bytecode: Hex,
  args: readonly unknown[],
  label: string,
) {
  const data = encodeDeployData({ abi, bytecode, args } as Parameters<typeof encodeDeployData>[0]);
  return deployRaw(c, from, data, label);
}

/** A signed human decimal ("-2.5") as an 18-decimal integer. */
export const sizeD18 = (human: string, field: string): bigint => {
  const neg = human.startsWith('-');
  const v = parseDecimalUnits(field, neg ? human.slice(1) : human, 18);
  return neg ? -v : v;
};
