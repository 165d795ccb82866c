/**
 * `startDevnet(opts)`: the whole local L2 world in one call, shared by the CLI and the tests.
 *
 * Order matters: anvil (automine) → OP fee predeploys → tokens and Chainlink feeds → Aave V3 market →
 * venues → personas funded and their positions opened → margin aggregator (listed collateral, signers,
 * insurance fund, persona deposits) → switch to interval mining (the OP-like fixed
 * block time) → manifest written. Everything is deterministic (fixed mnemonic, fixed deploy order),
 * so addresses are stable across runs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { toHex, type Address } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import {
  DEFAULT_MANIFEST_PATH,
  MANIFEST_VERSION,
  validateManifest,
  type DeploymentManifest,
  type SeededAccount,
} from '../config/manifest';
import { NetmarginError } from '../common/errors';
import { deployAaveMarket } from './aave';
import { AGGREGATOR_SIGNER_INDICES, deployAggregator } from './aggregator';
import { ANVIL_TEST_MNEMONIC, startAnvil } from './anvil';
import { DEVNET_CHAIN_ID, makeClients, type DevnetClients } from './chain';
import { deployFeeds, deployTokens } from './feeds';
import { DEPOSITOR, GAS_PRICE_ORACLE, installOpPredeploys, L1_BLOCK } from './op-predeploys';
import { ANVIL_ACCOUNTS, DEPLOYER_INDEX, KEEPER_INDEX, PERSONAS, personaVenues } from './personas';
import { seedWalletsAndAave } from './seed-aave';
import { deployAndSeedVenues } from './venues';

export interface DevnetOptions {
  host?: string;
  port?: number;
  /** Seconds between blocks once set up; 0 keeps automine (every transaction mines a block). */
  blockTimeSec?: number;
  /** Where to write the manifest; null = do not write a file. */
  manifestPath?: string | null;
  /** Progress lines (default: silent). */
  log?: (line: string) => void;
  verbose?: boolean;
}

export interface Devnet {
  rpcUrl: string;
  manifest: DeploymentManifest;
  manifestPath: string | null;
  clients: DevnetClients;
  setupMs: number;
  stop(): Promise<void>;
}

function accountKey(index: number): { address: Address; privateKey: `0x${string}` } {
  const acct = mnemonicToAccount(ANVIL_TEST_MNEMONIC, { addressIndex: index });
  const key = acct.getHdKey().privateKey;
  if (!key) throw new NetmarginError(`Cannot derive test key ${index}`, { code: 'KEY_DERIVATION' });
  return { address: acct.address, privateKey: toHex(key) };
}

export async function startDevnet(opts: DevnetOptions = {}): Promise<Devnet> {
  const t0 = Date.now();
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 8545;
  const blockTimeSec = opts.blockTimeSec ?? 2;
  const log = opts.log ?? ((): void => undefined);
  const anvil = await startAnvil({
    host,
    port,
    chainId: DEVNET_CHAIN_ID,
    accounts: ANVIL_ACCOUNTS,
    balanceEth: 1_000_000,
    verbose: opts.verbose,
  });
  try {
    log(`anvil listening on ${anvil.rpcUrl} (chain id ${DEVNET_CHAIN_ID})`);
    const c = makeClients(anvil.rpcUrl);
    const startBlock = Number(await c.publicClient.getBlockNumber());
    await installOpPredeploys(c);
    log('OP predeploys installed: GasPriceOracle (Fjord), L1Block');

    const deployer = accountKey(DEPLOYER_INDEX).address;
    const keeper = accountKey(KEEPER_INDEX).address;
    const now = (await c.publicClient.getBlock()).timestamp;
    const tokens = await deployTokens(c, deployer);
    const feeds = await deployFeeds(c, deployer, now - 86_400n);
    log('tokens WETH/WBTC/USDC/OP and Chainlink feeds deployed');
    const aave = await deployAaveMarket(c, deployer, tokens, feeds);
    log(`Aave V3 L2Pool at ${aave.pool}`);

    const personas = PERSONAS.map((p) => ({ persona: p, ...accountKey(p.mnemonicIndex) }));
    await seedWalletsAndAave(c, deployer, tokens, aave.pool, personas);
    log(`Aave positions opened for ${personas.filter((p) => p.persona.aave).length} accounts`);

    const venues = await deployAndSeedVenues(c, { deployer, keeper, tokens, feeds, personas, log });

    const accounts: SeededAccount[] = personas.map(({ persona, address, privateKey }) => {
      const perpsId = venues.accounts.perps.get(persona.persona);
      const optionsId = venues.accounts.options.get(persona.persona);
      return {
        persona: persona.persona,
        description: persona.description,
        address,
        mnemonicIndex: persona.mnemonicIndex,
        privateKey,
        venues: personaVenues(persona),
        venueAccounts: {
          ...(perpsId !== undefined ? { perps: perpsId.toString() } : {}),
          ...(optionsId !== undefined ? { options: optionsId.toString() } : {}),
        },
      };
    });

    const aggregator = await deployAggregator(c, {
      deployer,
      tokens,
      feeds,
      aave,
      signers: AGGREGATOR_SIGNER_INDICES.map((i) => ({ ...accountKey(i), mnemonicIndex: i })),
      personas,
      log,
    });

    if (blockTimeSec > 0) {
      await c.testClient.setAutomine(false);
      await c.testClient.setIntervalMining({ interval: blockTimeSec });
    }

    const manifest = validateManifest({
      version: MANIFEST_VERSION,
      network: {
        name: 'netmargin-local',
        chainId: DEVNET_CHAIN_ID,
        rpcUrl: anvil.rpcUrl,
        startBlock,
        blockTimeSec,
        createdAt: new Date().toISOString(),
      },
      opStack: { gasPriceOracle: GAS_PRICE_ORACLE, l1Block: L1_BLOCK, depositor: DEPOSITOR },
      roles: { deployer, keeper },
      tokens,
      feeds,
      aave,
      venues: { perps: venues.perps, options: venues.options },
      accounts,
      aggregator,
    } satisfies DeploymentManifest);

    let manifestPath: string | null = null;
    if (opts.manifestPath !== null) {
      manifestPath = resolve(opts.manifestPath ?? DEFAULT_MANIFEST_PATH);
      mkdirSync(dirname(manifestPath), { recursive: true });
      writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
    }
    return {
      rpcUrl: anvil.rpcUrl,
      manifest,
      manifestPath,
      clients: c,
      setupMs: Date.now() - t0,
      stop: () => anvil.stop(),
    };
  } catch (e) {
    await anvil.stop();
    throw e;
  }
}
