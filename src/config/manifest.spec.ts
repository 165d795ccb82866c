import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getAddress } from 'viem';
import { InvalidInputError, NetmarginError } from '../common/errors';
import { ASSET_SYMBOLS, loadManifest, validateManifest } from './manifest';

/** Distinct checksummed addresses: 0x…01, 0x…02, … */
let n = 0;
const addr = (): string => getAddress(`0x${(++n).toString(16).padStart(40, '0')}`);

function validManifest(): Record<string, unknown> {
  const bySym = <T>(f: (s: string) => T) => Object.fromEntries(ASSET_SYMBOLS.map((s) => [s, f(s)]));
  return {
    version: 1,
    network: {
      name: 'netmargin-local',
      chainId: 901,
      rpcUrl: 'http://127.0.0.1:8545',
      startBlock: 0,
      blockTimeSec: 2,
      createdAt: '2026-01-01T00:00:00.000Z',
    },
    opStack: { gasPriceOracle: addr(), l1Block: addr(), depositor: addr() },
    roles: { deployer: addr(), keeper: addr() },
    tokens: bySym((s) => ({ address: addr(), symbol: s, name: s, decimals: s === 'USDC' ? 6 : 18 })),
    feeds: {
      prices: bySym((s) => ({ address: addr(), description: `${s} / USD`, decimals: 8 })),
      sequencerUptime: { address: addr(), description: 'L2 Sequencer Uptime Status Feed', decimals: 0 },
    },
    aave: {
      poolAddressesProvider: addr(),
      pool: addr(),
      poolImpl: addr(),
      poolConfigurator: addr(),
      aclManager: addr(),
      oracle: addr(),
      protocolDataProvider: addr(),
      priceOracleSentinel: addr(),
      l2Encoder: addr(),
      uiPoolDataProvider: addr(),
      treasury: addr(),
      baseCurrencyUnit: '100000000',
      libraries: { SupplyLogic: addr() },
      reserves: bySym(() => ({
        aToken: addr(),
        variableDebtToken: addr(),
        stableDebtToken: addr(),
        interestRateStrategy: addr(),
        ltvBps: 8000,
        liquidationThresholdBps: 8250,
        liquidationBonusBps: 10500,
        reserveFactorBps: 1500,
        supplyCap: '35900',
        borrowCap: '19745',
      })),
    },
    venues: {
      perps: {
        contracts: { perpsMarket: addr() },
        markets: [{ id: 'ETH-PERP', underlying: 'ETH', key: '100' }],
      },
      options: null,
    },
    accounts: [
      {
        persona: 'p1',
        description: 'd',
        address: addr(),
        mnemonicIndex: 2,
        privateKey: `0x${'11'.repeat(32)}`,
        venues: ['aave', 'perps'],
        venueAccounts: { perps: '1002' },
      },
    ],
    aggregator: validAggregator(),
  };
}

function validAggregator(): Record<string, unknown> {
  const usdc = addr();
  const weth = addr();
  const signers = [addr(), addr(), addr()];
  return {
    address: addr(),
    deployBlock: 120,
    owner: addr(),
    settlementAsset: usdc,
    signers: signers.map((address, i) => ({
      address,
      mnemonicIndex: 27 + i,
      privateKey: `0x${'22'.repeat(32)}`,
    })),
    threshold: 2,
    maxAttestationAgeSec: 3600,
    sequencerFeed: addr(),
    sequencerGracePeriodSec: 3600,
    insuranceFundUnits: '100000000000',
    assets: [
      {
        symbol: 'USDC',
        address: usdc,
        decimals: 6,
        feed: addr(),
        heartbeatSec: 172800,
        haircutBps: 0,
        isAToken: false,
        supplyCap: '1',
      },
      {
        symbol: 'aWETH',
        address: addr(),
        decimals: 18,
        feed: addr(),
        heartbeatSec: 172800,
        haircutBps: 1500,
        isAToken: true,
        underlying: weth,
        supplyCap: '1',
      },
    ],
  };
}

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof InvalidInputError) return e.field;
    throw e;
  }
  throw new Error('did not throw');
}

describe('deployment manifest validation', () => {
  it('accepts a well-formed manifest', () => {
    const m = validateManifest(validManifest());
    expect(m.network.chainId).toBe(901);
    expect(m.accounts[0]!.venueAccounts.perps).toBe('1002');
  });

  it('rejects a non-checksummed address, naming the field', () => {
    const raw = validManifest() as { aave: { reserves: { WETH: { aToken: string } } } };
    raw.aave.reserves.WETH.aToken = '0x6f1216d1bfe15c98520ca1434fc1d9d57ac95321'; // checksum: 0x6F1216D1BFe1…
    expect(fieldOf(() => validateManifest(raw))).toBe('aave.reserves.WETH.aToken');
  });

  it('rejects a missing asset and insane numbers, naming each field', () => {
    const missing = validManifest() as { tokens: Record<string, unknown> };
    delete missing.tokens.OP;
    expect(fieldOf(() => validateManifest(missing))).toBe('tokens.OP');

    const chain = validManifest() as { network: { chainId: number } };
    chain.network.chainId = -5;
    expect(fieldOf(() => validateManifest(chain))).toBe('network.chainId');

    const dec = validManifest() as { tokens: { USDC: { decimals: number } } };
    dec.tokens.USDC.decimals = 99;
    expect(fieldOf(() => validateManifest(dec))).toBe('tokens.USDC.decimals');

    const lt = validManifest() as { aave: { reserves: { WBTC: { liquidationThresholdBps: number } } } };
    lt.aave.reserves.WBTC.liquidationThresholdBps = 100;
    expect(fieldOf(() => validateManifest(lt))).toBe('aave.reserves.WBTC.liquidationThresholdBps');

    const venue = validManifest() as { accounts: { venues: string[] }[] };
    venue.accounts[0]!.venues = ['aave', 'dydx'];
    expect(fieldOf(() => validateManifest(venue))).toBe('accounts[0].venues[1]');
  });

  it('reads the aggregator section, or null where none is deployed', () => {
    const m = validateManifest(validManifest());
    expect(m.aggregator?.threshold).toBe(2);
    expect(m.aggregator?.signers.map((s) => s.mnemonicIndex)).toEqual([27, 28, 29]);
    expect(m.aggregator?.assets[1]).toMatchObject({ symbol: 'aWETH', isAToken: true, haircutBps: 1500 });
    const none = { ...validManifest(), aggregator: null };
    expect(validateManifest(none).aggregator).toBeNull();
  });

  it('rejects a bad aggregator section, naming the field', () => {
    type Agg = {
      aggregator: {
        threshold: number;
        signers: { address: string }[];
        settlementAsset: string;
        assets: { haircutBps: number; underlying?: string; isAToken: boolean }[];
      };
    };
    const t = validManifest() as Agg;
    t.aggregator.threshold = 4;
    expect(fieldOf(() => validateManifest(t))).toBe('aggregator.threshold');

    const order = validManifest() as Agg;
    order.aggregator.signers.reverse();
    expect(fieldOf(() => validateManifest(order))).toBe('aggregator.signers[1].address');

    const settle = validManifest() as Agg;
    settle.aggregator.settlementAsset = addr();
    expect(fieldOf(() => validateManifest(settle))).toBe('aggregator.settlementAsset');

    const haircut = validManifest() as Agg;
    haircut.aggregator.assets[0]!.haircutBps = 100;
    expect(fieldOf(() => validateManifest(haircut))).toBe('aggregator.settlementAsset');

    const underlying = validManifest() as Agg;
    delete underlying.aggregator.assets[1]!.underlying;
    expect(fieldOf(() => validateManifest(underlying))).toBe('aggregator.assets[1].underlying');

    const missing = validManifest() as Record<string, unknown>;
    delete missing.aggregator;
    expect(fieldOf(() => validateManifest(missing))).toBe('aggregator');
  });

  describe('loadManifest', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'manifest-spec-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reads a file and names the file and field on error', () => {
      const good = join(dir, 'good.json');
      writeFileSync(good, JSON.stringify(validManifest()));
      expect(loadManifest(good).network.name).toBe('netmargin-local');

      const bad = validManifest() as { network: { rpcUrl: string } };
      bad.network.rpcUrl = 'localhost:8545';
      const badPath = join(dir, 'bad.json');
      writeFileSync(badPath, JSON.stringify(bad));
      expect(() => loadManifest(badPath)).toThrow(/network\.rpcUrl.*bad\.json/);
    });

    it('says how to create the manifest when the file is missing', () => {
      let err: unknown;
      try {
        loadManifest(join(dir, 'nope.json'));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(NetmarginError);
      expect((err as NetmarginError).code).toBe('MANIFEST_NOT_FOUND');
      expect((err as NetmarginError).hint).toContain('npm run devnet');
    });
  });
});
