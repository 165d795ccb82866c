/**
 * The deployment manifest: the one file that says where everything lives on a chain.
 *
 * `npm run devnet` writes `deployments/local.json`; every other part of netmargin (indexer adapters,
 * the aggregator poster, tests, the market driver) reads addresses, decimals and feeds from it and
 * nothing else hard-codes an address. `loadManifest(path)` validates the file once, at start, into one
 * typed object and stops with an error naming the bad field (e.g. `aave.reserves.WETH.aToken`).
 *
 * Amounts in the manifest (caps) are decimal strings in whole tokens, as Aave configures them; token
 * decimals travel with every token so callers can convert once.
 */
import { readFileSync } from 'node:fs';
import { getAddress, isAddress, type Address, type Hex } from 'viem';
import { InvalidInputError, NetmarginError } from '../common/errors';

export const MANIFEST_VERSION = 1 as const;
/** Where `npm run devnet` writes the manifest and where readers look by default. */
export const DEFAULT_MANIFEST_PATH = 'deployments/local.json';

/** Assets the local world lists on Aave and prices with feeds. */
export const ASSET_SYMBOLS = ['WETH', 'WBTC', 'USDC', 'OP'] as const;
export type AssetSymbol = (typeof ASSET_SYMBOLS)[number];

export const VENUE_NAMES = ['aave', 'perps', 'options'] as const;
export type VenueName = (typeof VENUE_NAMES)[number];

export interface TokenInfo {
  address: Address;
  symbol: AssetSymbol;
  name: string;
  decimals: number;
}

export interface PriceFeedInfo {
  /** Chainlink AggregatorV3Interface (MockV3Aggregator on the devnet). */
  address: Address;
  /** e.g. `ETH / USD`. */
  description: string;
  decimals: number;
}

export interface AaveReserveInfo {
  aToken: Address;
  variableDebtToken: Address;
  stableDebtToken: Address;
  interestRateStrategy: Address;
  ltvBps: number;
  liquidationThresholdBps: number;
  /** 10_500 = 5 % bonus, Aave's own encoding. */
  liquidationBonusBps: number;
  reserveFactorBps: number;
  /** Whole tokens, decimal string; "0" = no cap. */
  supplyCap: string;
  borrowCap: string;
}

export interface AaveMarketInfo {
  poolAddressesProvider: Address;
  /** The L2Pool proxy: the address users call. */
  pool: Address;
  poolImpl: Address;
  poolConfigurator: Address;
  aclManager: Address;
  oracle: Address;
  protocolDataProvider: Address;
  priceOracleSentinel: Address;
  l2Encoder: Address;
  uiPoolDataProvider: Address;
  treasury: Address;
  /** Oracle base currency unit (1e8 = USD with 8 decimals). */
  baseCurrencyUnit: string;
  libraries: Record<string, Address>;
  reserves: Record<AssetSymbol, AaveReserveInfo>;
}

/** A venue stand-in: its contracts by role and the markets it lists. */
export interface VenueInfo {
  contracts: Record<string, Address>;
  markets: VenueMarketInfo[];
}

export interface VenueMarketInfo {
  /** Human id, e.g. `ETH-PERP` or `ETH-OPTIONS`. */
  id: string;
  underlying: string;
  /** Venue-specific key used by its contracts (a market id, bytes32 key …) as hex or decimal string. */
  key: string;
  /** Option expiries, unix seconds (options markets only). */
  expiriesSec?: number[];
}

export interface SeededAccount {
  persona: string;
  description: string;
  address: Address;
  /** Index in anvil's default test mnemonic (public, test-only keys). */
  mnemonicIndex: number;
  privateKey: Hex;
  venues: VenueName[];
  /** Venue account ids as decimal strings (uint128 / uint256 on chain). */
  venueAccounts: {
    /** Synthetix-style perps account id. */
    perps?: string;
    /** Derive-style subaccount id. */
    options?: string;
  };
}

/** An attestation signer of the aggregator. */
export interface AggregatorSignerInfo {
  address: Address;
  /** Devnet only: index in anvil's public test mnemonic. */
  mnemonicIndex?: number;
  /** Devnet only: the public test key, so tests and tools can sign. Never present for a real deployment. */
  privateKey?: Hex;
}

/** One collateral listed on the aggregator (`configureAsset`). */
export interface AggregatorAssetInfo {
  /** `WETH`, `USDC`, … for plain tokens; `aWETH`, `aUSDC`, … for Aave aTokens. */
  symbol: string;
  address: Address;
  /** Token decimals (for an aToken: the underlying's, which the aToken shares). */
  decimals: number;
  /** Chainlink USD feed (for an aToken: the underlying's). */
  feed: Address;
  heartbeatSec: number;
  /** Weighted value = value × (10,000 − haircutBps) / 10,000. */
  haircutBps: number;
  isAToken: boolean;
  /** aTokens only: the Aave reserve's underlying token. */
  underlying?: Address;
  /** Cap on the aggregator's total internal balance: token units, scaled units for aTokens (decimal string). */
  supplyCap: string;
}

/** The MarginAggregator deployment (docs/aggregator.md "Deploying"). */
export interface AggregatorInfo {
  address: Address;
  /** Block of the deployment transaction: where event indexers start. */
  deployBlock: number;
  owner: Address;
  /** USD stablecoin liquidators pay in and the insurance fund holds; also listed in `assets`. */
  settlementAsset: Address;
  /** m-of-n signer set, ordered by address. */
  signers: AggregatorSignerInfo[];
  /** Signatures required per batch (m). */
  threshold: number;
  maxAttestationAgeSec: number;
  /** L2 sequencer uptime feed the aggregator checks; its grace period in seconds. */
  sequencerFeed: Address;
  sequencerGracePeriodSec: number;
  /** Insurance fund seeded at deployment, settlement token units (decimal string). */
  insuranceFundUnits: string;
  assets: AggregatorAssetInfo[];
}

export interface DeploymentManifest {
  version: typeof MANIFEST_VERSION;
  network: {
    name: string;
    chainId: number;
    rpcUrl: string;
    startBlock: number;
    /** 0 = automine. */
    blockTimeSec: number;
    createdAt: string;
  };
  opStack: {
    gasPriceOracle: Address;
    l1Block: Address;
    depositor: Address;
  };
  roles: {
    deployer: Address;
    /** Publishes prices, forwards, rates and smiles (the market driver signs as this account). */
    keeper: Address;
  };
  tokens: Record<AssetSymbol, TokenInfo>;
  feeds: {
    prices: Record<AssetSymbol, PriceFeedInfo>;
    /** Chainlink L2 sequencer uptime feed interface: answer 0 = up, 1 = down. */
    sequencerUptime: PriceFeedInfo;
  };
  aave: AaveMarketInfo;
  venues: {
    perps: VenueInfo | null;
    options: VenueInfo | null;
  };
  accounts: SeededAccount[];
  /** The margin aggregator; null on a chain where it is not deployed. */
  aggregator: AggregatorInfo | null;
}

// ---------------------------------------------------------------------------------------------------
// Validation: a tiny hand-written walker so each error names its exact path.

type Obj = Record<string, unknown>;

function fail(field: string, problem: string, hint?: string): never {
  throw new InvalidInputError(field, problem, {
    code: 'INVALID_MANIFEST',
    hint: hint ?? 'Regenerate the manifest with `npm run devnet`, or fix the field by hand.',
  });
}

function obj(v: unknown, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    fail(field, `expected an object, got ${kind(v)}`);
  return v as Obj;
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}

function str(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.length === 0) fail(field, `expected a non-empty string, got ${kind(v)}`);
  return v;
}

function int(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v))
    fail(field, `expected an integer, got ${JSON.stringify(v)}`);
  if (v < min || v > max) fail(field, `${v} is outside the sane range [${min}, ${max}]`);
  return v;
}

function num(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    fail(field, `expected a number, got ${JSON.stringify(v)}`);
  if (v < min || v > max) fail(field, `${v} is outside the sane range [${min}, ${max}]`);
  return v;
}

function uintString(v: unknown, field: string): string {
  if (typeof v !== 'string' || !/^(0|[1-9][0-9]*)$/.test(v)) {
    fail(field, `expected a decimal string of digits, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Requires the EIP-55 checksummed form, so a typo in one hex digit is caught. */
export function checksummedAddress(v: unknown, field: string): Address {
  if (typeof v !== 'string' || !isAddress(v, { strict: false })) {
    fail(field, `expected a 20-byte hex address, got ${JSON.stringify(v)}`);
  }
  const good = getAddress(v);
  if (good !== v) fail(field, `address ${v} is not EIP-55 checksummed (expected ${good})`);
  return good;
}

function addressRecord(v: unknown, field: string): Record<string, Address> {
  const o = obj(v, field);
  const out: Record<string, Address> = {};
  for (const [k, a] of Object.entries(o)) out[k] = checksummedAddress(a, `${field}.${k}`);
  return out;
}

function bySymbol<T>(v: unknown, field: string, each: (x: unknown, f: string) => T): Record<AssetSymbol, T> {
  const o = obj(v, field);
  const out = {} as Record<AssetSymbol, T>;
  for (const sym of ASSET_SYMBOLS) {
    if (!(sym in o))
      fail(`${field}.${sym}`, 'missing', `The manifest must list every asset: ${ASSET_SYMBOLS.join(', ')}.`);
    out[sym] = each(o[sym], `${field}.${sym}`);
  }
  return out;
}

function feed(v: unknown, field: string): PriceFeedInfo {
  const o = obj(v, field);
  return {
    address: checksummedAddress(o.address, `${field}.address`),
    description: str(o.description, `${field}.description`),
    decimals: int(o.decimals, `${field}.decimals`, 0, 36),
  };
}

function venue(v: unknown, field: string): VenueInfo | null {
  if (v === null) return null;
  const o = obj(v, field);
  if (!Array.isArray(o.markets)) fail(`${field}.markets`, `expected an array, got ${kind(o.markets)}`);
  return {
    contracts: addressRecord(o.contracts, `${field}.contracts`),
    markets: o.markets.map((m, i) => {
      const f = `${field}.markets[${i}]`;
      const mo = obj(m, f);
      const market: VenueMarketInfo = {
        id: str(mo.id, `${f}.id`),
        underlying: str(mo.underlying, `${f}.underlying`),
        key: str(mo.key, `${f}.key`),
      };
      if (mo.expiriesSec !== undefined) {
        if (!Array.isArray(mo.expiriesSec))
          fail(`${f}.expiriesSec`, `expected an array, got ${kind(mo.expiriesSec)}`);
        market.expiriesSec = mo.expiriesSec.map((e, j) => int(e, `${f}.expiriesSec[${j}]`, 1, 2 ** 40));
      }
      return market;
    }),
  };
}

function bool(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') fail(field, `expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

function aggregator(v: unknown, field: string): AggregatorInfo | null {
  if (v === null) return null;
  const o = obj(v, field);
  if (!Array.isArray(o.signers)) fail(`${field}.signers`, `expected an array, got ${kind(o.signers)}`);
  if (!Array.isArray(o.assets)) fail(`${field}.assets`, `expected an array, got ${kind(o.assets)}`);
  const signers = o.signers.map((s, i): AggregatorSignerInfo => {
    const f = `${field}.signers[${i}]`;
    const so = obj(s, f);
    const out: AggregatorSignerInfo = { address: checksummedAddress(so.address, `${f}.address`) };
    if (so.mnemonicIndex !== undefined)
      out.mnemonicIndex = int(so.mnemonicIndex, `${f}.mnemonicIndex`, 0, 10_000);
    if (so.privateKey !== undefined) {
      const k = str(so.privateKey, `${f}.privateKey`);
      if (!/^0x[0-9a-fA-F]{64}$/.test(k)) fail(`${f}.privateKey`, 'expected 32 bytes of hex with 0x');
      out.privateKey = k as Hex;
    }
    return out;
  });
  signers.forEach((s, i) => {
    const prev = signers[i - 1];
    if (prev && BigInt(s.address) <= BigInt(prev.address)) {
      fail(
        `${field}.signers[${i}].address`,
        `${s.address} is not greater than the previous signer ${prev.address}`,
        'List signers once each, ordered by increasing address (the order the contract wants signatures in).',
      );
    }
  });
  if (signers.length === 0) fail(`${field}.signers`, 'expected at least one signer');
  const threshold = int(o.threshold, `${field}.threshold`, 1, signers.length);
  const assets = o.assets.map((a, i): AggregatorAssetInfo => {
    const f = `${field}.assets[${i}]`;
    const ao = obj(a, f);
    const isAToken = bool(ao.isAToken, `${f}.isAToken`);
    const out: AggregatorAssetInfo = {
      symbol: str(ao.symbol, `${f}.symbol`),
      address: checksummedAddress(ao.address, `${f}.address`),
      decimals: int(ao.decimals, `${f}.decimals`, 0, 36),
      feed: checksummedAddress(ao.feed, `${f}.feed`),
      heartbeatSec: int(ao.heartbeatSec, `${f}.heartbeatSec`, 1, 2 ** 32 - 1),
      haircutBps: int(ao.haircutBps, `${f}.haircutBps`, 0, 9_999),
      isAToken,
      supplyCap: uintString(ao.supplyCap, `${f}.supplyCap`),
    };
    if (isAToken) out.underlying = checksummedAddress(ao.underlying, `${f}.underlying`);
    else if (ao.underlying !== undefined) fail(`${f}.underlying`, 'only aTokens have an underlying');
    return out;
  });
  const settlementAsset = checksummedAddress(o.settlementAsset, `${field}.settlementAsset`);
  const settlement = assets.find((a) => a.address === settlementAsset);
  if (!settlement) fail(`${field}.settlementAsset`, `${settlementAsset} is not among ${field}.assets`);
  if (settlement.haircutBps !== 0)
    fail(`${field}.settlementAsset`, 'the settlement asset must have haircutBps 0');
  return {
    address: checksummedAddress(o.address, `${field}.address`),
    deployBlock: int(o.deployBlock, `${field}.deployBlock`, 0, Number.MAX_SAFE_INTEGER),
    owner: checksummedAddress(o.owner, `${field}.owner`),
    settlementAsset,
    signers,
    threshold,
    maxAttestationAgeSec: int(o.maxAttestationAgeSec, `${field}.maxAttestationAgeSec`, 1, 2 ** 32 - 1),
    sequencerFeed: checksummedAddress(o.sequencerFeed, `${field}.sequencerFeed`),
    sequencerGracePeriodSec: int(
      o.sequencerGracePeriodSec,
      `${field}.sequencerGracePeriodSec`,
      0,
      2 ** 32 - 1,
    ),
    insuranceFundUnits: uintString(o.insuranceFundUnits, `${field}.insuranceFundUnits`),
    assets,
  };
}

/** Validates an already-parsed manifest object. Throws `InvalidInputError` naming the bad field. */
export function validateManifest(raw: unknown): DeploymentManifest {
  const m = obj(raw, 'manifest');
  if (m.version !== MANIFEST_VERSION) {
    fail('version', `expected ${MANIFEST_VERSION}, got ${JSON.stringify(m.version)}`);
  }
  const network = obj(m.network, 'network');
  const rpcUrl = str(network.rpcUrl, 'network.rpcUrl');
  if (!/^(https?|wss?):\/\/[^\s]+$/.test(rpcUrl))
    fail('network.rpcUrl', `"${rpcUrl}" is not an http(s)/ws(s) URL`);
  const op = obj(m.opStack, 'opStack');
  const roles = obj(m.roles, 'roles');
  const feeds = obj(m.feeds, 'feeds');
  const aave = obj(m.aave, 'aave');
  const venues = obj(m.venues, 'venues');
  if (!Array.isArray(m.accounts)) fail('accounts', `expected an array, got ${kind(m.accounts)}`);

  const tokens = bySymbol(m.tokens, 'tokens', (t, f) => {
    const o = obj(t, f);
    const symbol = str(o.symbol, `${f}.symbol`);
    if (!f.endsWith(`.${symbol}`)) fail(`${f}.symbol`, `"${symbol}" does not match its key`);
    return {
      address: checksummedAddress(o.address, `${f}.address`),
      symbol: symbol as AssetSymbol,
      name: str(o.name, `${f}.name`),
      decimals: int(o.decimals, `${f}.decimals`, 0, 36),
    };
  });

  const reserves = bySymbol(aave.reserves, 'aave.reserves', (r, f) => {
    const o = obj(r, f);
    const ltvBps = int(o.ltvBps, `${f}.ltvBps`, 0, 10_000);
    const liquidationThresholdBps = int(o.liquidationThresholdBps, `${f}.liquidationThresholdBps`, 0, 10_000);
    if (liquidationThresholdBps < ltvBps) {
      fail(`${f}.liquidationThresholdBps`, `${liquidationThresholdBps} is below ltvBps ${ltvBps}`);
    }
    return {
      aToken: checksummedAddress(o.aToken, `${f}.aToken`),
      variableDebtToken: checksummedAddress(o.variableDebtToken, `${f}.variableDebtToken`),
      stableDebtToken: checksummedAddress(o.stableDebtToken, `${f}.stableDebtToken`),
      interestRateStrategy: checksummedAddress(o.interestRateStrategy, `${f}.interestRateStrategy`),
      ltvBps,
      liquidationThresholdBps,
      liquidationBonusBps: int(o.liquidationBonusBps, `${f}.liquidationBonusBps`, 10_000, 15_000),
      reserveFactorBps: int(o.reserveFactorBps, `${f}.reserveFactorBps`, 0, 10_000),
      supplyCap: uintString(o.supplyCap, `${f}.supplyCap`),
      borrowCap: uintString(o.borrowCap, `${f}.borrowCap`),
    };
  });

  const accounts = m.accounts.map((a, i): SeededAccount => {
    const f = `accounts[${i}]`;
    const o = obj(a, f);
    if (!Array.isArray(o.venues)) fail(`${f}.venues`, `expected an array, got ${kind(o.venues)}`);
    const privateKey = str(o.privateKey, `${f}.privateKey`);
    if (!/^0x[0-9a-fA-F]{64}$/.test(privateKey)) fail(`${f}.privateKey`, 'expected 32 bytes of hex with 0x');
    return {
      persona: str(o.persona, `${f}.persona`),
      description: str(o.description, `${f}.description`),
      address: checksummedAddress(o.address, `${f}.address`),
      mnemonicIndex: int(o.mnemonicIndex, `${f}.mnemonicIndex`, 0, 10_000),
      privateKey: privateKey as Hex,
      venueAccounts: (() => {
        const va = obj(o.venueAccounts, `${f}.venueAccounts`);
        const out: SeededAccount['venueAccounts'] = {};
        if (va.perps !== undefined) out.perps = uintString(va.perps, `${f}.venueAccounts.perps`);
        if (va.options !== undefined) out.options = uintString(va.options, `${f}.venueAccounts.options`);
        return out;
      })(),
      venues: o.venues.map((v, j) => {
        if (!(VENUE_NAMES as readonly unknown[]).includes(v)) {
          fail(`${f}.venues[${j}]`, `${JSON.stringify(v)} is not one of ${VENUE_NAMES.join(', ')}`);
        }
        return v as VenueName;
      }),
    };
  });
  const seen = new Set<string>();
  accounts.forEach((a, i) => {
    if (seen.has(a.persona)) fail(`accounts[${i}].persona`, `"${a.persona}" appears twice`);
    seen.add(a.persona);
  });

  return {
    version: MANIFEST_VERSION,
    network: {
      name: str(network.name, 'network.name'),
      chainId: int(network.chainId, 'network.chainId', 1, 2 ** 32),
      rpcUrl,
      startBlock: int(network.startBlock, 'network.startBlock', 0, Number.MAX_SAFE_INTEGER),
      blockTimeSec: num(network.blockTimeSec, 'network.blockTimeSec', 0, 3600),
      createdAt: str(network.createdAt, 'network.createdAt'),
    },
    opStack: {
      gasPriceOracle: checksummedAddress(op.gasPriceOracle, 'opStack.gasPriceOracle'),
      l1Block: checksummedAddress(op.l1Block, 'opStack.l1Block'),
      depositor: checksummedAddress(op.depositor, 'opStack.depositor'),
    },
    roles: {
      deployer: checksummedAddress(roles.deployer, 'roles.deployer'),
      keeper: checksummedAddress(roles.keeper, 'roles.keeper'),
    },
    tokens,
    feeds: {
      prices: bySymbol(feeds.prices, 'feeds.prices', feed),
      sequencerUptime: feed(feeds.sequencerUptime, 'feeds.sequencerUptime'),
    },
    aave: {
      poolAddressesProvider: checksummedAddress(aave.poolAddressesProvider, 'aave.poolAddressesProvider'),
      pool: checksummedAddress(aave.pool, 'aave.pool'),
      poolImpl: checksummedAddress(aave.poolImpl, 'aave.poolImpl'),
      poolConfigurator: checksummedAddress(aave.poolConfigurator, 'aave.poolConfigurator'),
      aclManager: checksummedAddress(aave.aclManager, 'aave.aclManager'),
      oracle: checksummedAddress(aave.oracle, 'aave.oracle'),
      protocolDataProvider: checksummedAddress(aave.protocolDataProvider, 'aave.protocolDataProvider'),
      priceOracleSentinel: checksummedAddress(aave.priceOracleSentinel, 'aave.priceOracleSentinel'),
      l2Encoder: checksummedAddress(aave.l2Encoder, 'aave.l2Encoder'),
      uiPoolDataProvider: checksummedAddress(aave.uiPoolDataProvider, 'aave.uiPoolDataProvider'),
      treasury: checksummedAddress(aave.treasury, 'aave.treasury'),
      baseCurrencyUnit: uintString(aave.baseCurrencyUnit, 'aave.baseCurrencyUnit'),
      libraries: addressRecord(aave.libraries, 'aave.libraries'),
      reserves,
    },
    venues: {
      perps: venue(venues.perps, 'venues.perps'),
      options: venue(venues.options, 'venues.options'),
    },
    accounts,
    aggregator: aggregator(m.aggregator, 'aggregator'),
  };
}

/** Reads and validates a manifest file (e.g. `deployments/local.json`). */
export function loadManifest(path: string): DeploymentManifest {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new NetmarginError(`Cannot read deployment manifest ${path}`, {
      code: 'MANIFEST_NOT_FOUND',
      hint: 'Start the local world with `npm run devnet` (it writes deployments/local.json) or pass --manifest FILE.',
      details: { path },
      cause,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new NetmarginError(`Deployment manifest ${path} is not valid JSON`, {
      code: 'INVALID_MANIFEST',
      hint: 'Regenerate it with `npm run devnet`.',
      details: { path },
      cause,
    });
  }
  try {
    return validateManifest(parsed);
  } catch (e) {
    if (e instanceof InvalidInputError) {
      throw new InvalidInputError(e.field, `${e.shortMessage.slice(e.field.length + 2)} (in ${path})`, {
        code: e.code,
        hint: e.hint,
        details: { path, ...e.details },
        cause: e,
      });
    }
    throw e;
  }
}
