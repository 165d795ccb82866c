/**
 * The local world end to end: starts anvil on a free port, deploys everything, and checks it through
 * the protocols' own read interfaces against values computed here from the seeded amounts, the feed
 * prices and the Aave parameters (not from Aave's arithmetic).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  aavePoolAbi,
  aaveUiPoolDataProviderV3Abi,
  deriveForwardFeedAbi,
  deriveOptionAssetAbi,
  deriveSubAccountsAbi,
  deriveVolFeedAbi,
  mockV3AggregatorAbi,
  snxPerpsMarketAbi,
} from '../src/contracts/generated';
import {
  loadManifest,
  ASSET_SYMBOLS,
  type AssetSymbol,
  type DeploymentManifest,
} from '../src/config/manifest';
import { parseDecimalUnits } from '../src/common/amount';
import { InvalidInputError, NetmarginError } from '../src/common/errors';
import { getFreePort } from '../src/devnet/anvil';
import { startDevnet, type Devnet } from '../src/devnet/devnet';
import { refreshFeeds, runMarketPath } from '../src/devnet/market';
import { forwardPrice, yearsTo } from '../src/devnet/option-market';
import { PERSONAS, type Persona } from '../src/devnet/personas';

const WAD = 10n ** 18n;

let devnet: Devnet;
let manifest: DeploymentManifest;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmargin-devnet-'));
  devnet = await startDevnet({
    port: await getFreePort(),
    blockTimeSec: 1,
    manifestPath: join(dir, 'local.json'),
  });
  manifest = devnet.manifest;
}, 120_000);

afterAll(async () => {
  await devnet?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function feedPrice(sym: AssetSymbol): Promise<bigint> {
  const [, answer] = await devnet.clients.publicClient.readContract({
    address: manifest.feeds.prices[sym].address,
    abi: mockV3AggregatorAbi,
    functionName: 'latestRoundData',
  });
  return answer;
}

/** Aave's account data recomputed from the persona table: amount × price / 10^decimals, LT-weighted. */
async function expectedAaveAccount(p: Persona) {
  let collateralBase = 0n;
  let weightedLtBase = 0n;
  let debtBase = 0n;
  for (const [sym, amt] of p.aave?.supply ?? []) {
    const dec = manifest.tokens[sym].decimals;
    const value = (parseDecimalUnits('supply', amt, dec) * (await feedPrice(sym))) / 10n ** BigInt(dec);
    collateralBase += value;
    weightedLtBase += value * BigInt(manifest.aave.reserves[sym].liquidationThresholdBps);
  }
  for (const [sym, amt] of p.aave?.borrow ?? []) {
    const dec = manifest.tokens[sym].decimals;
    debtBase += (parseDecimalUnits('borrow', amt, dec) * (await feedPrice(sym))) / 10n ** BigInt(dec);
  }
  // Aave keeps the account's average liquidation threshold in whole basis points (rounded down).
  const avgLtBps = collateralBase === 0n ? 0n : weightedLtBase / collateralBase;
  const healthFactorWad = debtBase === 0n ? null : (collateralBase * avgLtBps * WAD) / 10_000n / debtBase;
  return { collateralBase, debtBase, healthFactorWad };
}

function expectClose(actual: bigint, expected: bigint, relPpm: bigint, what: string): void {
  const tol = (expected * relPpm) / 1_000_000n + 2n;
  const diff = actual > expected ? actual - expected : expected - actual;
  if (diff > tol)
    throw new Error(`${what}: expected ≈ ${expected}, got ${actual} (diff ${diff} > tol ${tol})`);
}

async function aaveAccount(address: `0x${string}`) {
  const [totalCollateralBase, totalDebtBase, , , , healthFactor] =
    await devnet.clients.publicClient.readContract({
      address: manifest.aave.pool,
      abi: aavePoolAbi,
      functionName: 'getUserAccountData',
      args: [address],
    });
  return { totalCollateralBase, totalDebtBase, healthFactor };
}

const account = (persona: string) => {
  const a = manifest.accounts.find((x) => x.persona === persona);
  if (!a) throw new Error(`persona ${persona} not in manifest`);
  return a;
};

describe('devnet world', () => {
  it('writes a manifest that loads and validates, with 20+ personas across all three venues', () => {
    const loaded = loadManifest(devnet.manifestPath!);
    expect(loaded.network.chainId).toBe(901);
    expect(loaded.network.rpcUrl).toBe(devnet.rpcUrl);
    expect(loaded.accounts.length).toBeGreaterThanOrEqual(20);
    for (const venue of ['aave', 'perps', 'options'] as const) {
      expect(loaded.accounts.filter((a) => a.venues.includes(venue)).length).toBeGreaterThanOrEqual(3);
    }
    expect(loaded.tokens.USDC.decimals).toBe(6);
    expect(loaded.tokens.WBTC.decimals).toBe(8);
  });

  it('reports Aave account data equal to seeded amounts × feed prices × Aave parameters', async () => {
    const seeded = PERSONAS.filter((p) => p.aave && p.aave.supply.length > 0);
    expect(seeded.length).toBeGreaterThanOrEqual(10);
    for (const p of seeded) {
      const exp = await expectedAaveAccount(p);
      const got = await aaveAccount(account(p.persona).address);
      // 10 ppm: interest accrued over the seconds since seeding, and Aave's ray rounding.
      expectClose(got.totalCollateralBase, exp.collateralBase, 10n, `${p.persona} totalCollateralBase`);
      expectClose(got.totalDebtBase, exp.debtBase, 10n, `${p.persona} totalDebtBase`);
      if (exp.healthFactorWad === null) expect(got.healthFactor).toBe((1n << 256n) - 1n);
      else expectClose(got.healthFactor, exp.healthFactorWad, 10n, `${p.persona} healthFactor`);
    }
  });

  it("serves Aave's periphery reads: UiPoolDataProviderV3 lists the four reserves at feed prices", async () => {
    const [reserves, base] = await devnet.clients.publicClient.readContract({
      address: manifest.aave.uiPoolDataProvider,
      abi: aaveUiPoolDataProviderV3Abi,
      functionName: 'getReservesData',
      args: [manifest.aave.poolAddressesProvider],
    });
    expect(reserves.map((r) => r.symbol)).toEqual([...ASSET_SYMBOLS]);
    for (const r of reserves) {
      const sym = r.symbol as AssetSymbol;
      expect(r.priceInMarketReferenceCurrency).toBe(await feedPrice(sym));
      expect(Number(r.baseLTVasCollateral)).toBe(manifest.aave.reserves[sym].ltvBps);
    }
    expect(base.marketReferenceCurrencyUnit).toBe(10n ** 8n);
  });

  it('puts the near-liquidation account just above health factor 1', async () => {
    const got = await aaveAccount(account('aave-near-liquidation').address);
    expect(got.healthFactor).toBeGreaterThan(WAD);
    expect(got.healthFactor).toBeLessThan((WAD * 106n) / 100n);
  });

  it('shows a perps position through the venue read interface (Synthetix getOpenPosition)', async () => {
    const perps = manifest.venues.perps!;
    const acct = account('leveraged-perp-long');
    const accountId = BigInt(acct.venueAccounts.perps!);
    const eth = perps.markets.find((x) => x.id === 'ETH-PERP')!;
    const [totalPnl, , positionSize] = await devnet.clients.publicClient.readContract({
      address: perps.contracts.perpsMarket!,
      abi: snxPerpsMarketAbi,
      functionName: 'getOpenPosition',
      args: [accountId, BigInt(eth.key)],
    });
    expect(positionSize).toBe(50n * WAD);
    // Filled at the index price plus a skew premium of a few basis points: PnL is a small loss.
    expect(totalPnl).toBeLessThanOrEqual(0n);
    expect(totalPnl).toBeGreaterThan(-200n * WAD);
    const owner = await devnet.clients.publicClient.readContract({
      address: perps.contracts.perpsMarket!,
      abi: snxPerpsMarketAbi,
      functionName: 'getAccountOwner',
      args: [accountId],
    });
    expect(owner).toBe(acct.address);
    // The high-leverage account starts healthy: only a price drop can liquidate it (see the crash test).
    const highLev = await devnet.clients.publicClient.readContract({
      address: perps.contracts.perpsMarket!,
      abi: snxPerpsMarketAbi,
      functionName: 'canLiquidate',
      args: [BigInt(account('perps-high-leverage').venueAccounts.perps!)],
    });
    expect(highLev).toBe(false);
  });

  it('shows option balances, forwards and the smile through the Derive read interfaces', async () => {
    const options = manifest.venues.options!;
    const eth = options.markets.find((x) => x.id === 'ETH-OPTIONS')!;
    expect(eth.expiriesSec!.length).toBeGreaterThanOrEqual(3);
    const expiry = BigInt(eth.expiriesSec![1]!);
    const c = devnet.clients.publicClient;
    const subId = await c.readContract({
      address: options.contracts.ethOptionAsset!,
      abi: deriveOptionAssetAbi,
      functionName: 'getSubId',
      args: [expiry, 2600n * WAD, false],
    });
    const buyer = BigInt(account('options-put-buyer').venueAccounts.options!);
    const balance = await c.readContract({
      address: options.contracts.subAccounts!,
      abi: deriveSubAccountsAbi,
      functionName: 'getBalance',
      args: [buyer, options.contracts.ethOptionAsset!, BigInt(subId)],
    });
    expect(balance).toBe(80n * WAD);
    // The buyer paid a premium out of 30,000 USD of cash.
    const cash = await c.readContract({
      address: options.contracts.subAccounts!,
      abi: deriveSubAccountsAbi,
      functionName: 'getBalance',
      args: [buyer, options.contracts.cashAsset!, 0n],
    });
    expect(cash).toBeLessThan(30_000n * WAD);
    expect(cash).toBeGreaterThan(0n);

    const now = Number((await c.getBlock()).timestamp);
    const spot = Number(await feedPrice('WETH')) / 1e8;
    const [fwd] = await c.readContract({
      address: options.contracts.ethForwardFeed!,
      abi: deriveForwardFeedAbi,
      functionName: 'getForwardPrice',
      args: [expiry],
    });
    const expectedFwd = forwardPrice(spot, yearsTo(Number(expiry), now));
    expect(Math.abs(Number(fwd) / 1e18 - expectedFwd) / expectedFwd).toBeLessThan(1e-4);
    // ATM vol at the published forward is the base ETH vol (60 %).
    const [vol] = await c.readContract({
      address: options.contracts.ethVolFeed!,
      abi: deriveVolFeedAbi,
      functionName: 'getVol',
      args: [fwd, expiry],
    });
    expect(Number(vol) / 1e18).toBeCloseTo(0.6, 3);
  });

  it('prices the L1 data fee through the OP GasPriceOracle predeploy', async () => {
    const from = manifest.roles.deployer;
    const fee = await devnet.clients.publicClient.estimateL1Fee({
      account: from,
      to: manifest.aave.pool,
      data: '0x617ba037' + '00'.repeat(128),
    } as Parameters<typeof devnet.clients.publicClient.estimateL1Fee>[0]);
    expect(fee).toBeGreaterThan(0n);
  });

  it('fails fast with PORT_IN_USE naming the port when the port is taken', async () => {
    const port = await getFreePort();
    const srv: Server = createServer();
    await new Promise<void>((r) => srv.listen(port, '127.0.0.1', () => r()));
    const t0 = Date.now();
    try {
      await expect(startDevnet({ port, manifestPath: null })).rejects.toMatchObject({
        code: 'PORT_IN_USE',
        shortMessage: expect.stringContaining(String(port)),
        hint: expect.stringContaining('--port'),
      });
    } finally {
      srv.close();
    }
    expect(Date.now() - t0).toBeLessThan(3_000);
  });

  it('rejects an unknown market path, listing the valid ones', async () => {
    const err = await runMarketPath(devnet.clients, manifest, 'sideways', { clock: 'instant' }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err).toBeInstanceOf(NetmarginError);
    expect((err as InvalidInputError).field).toBe('path');
    for (const name of ['calm', 'crash', 'depeg']) expect((err as NetmarginError).hint).toContain(name);
  });

  // Runs last: it moves the world.
  it('crash path moves the feeds and makes the near-liquidation account liquidatable (HF < 1)', async () => {
    const before = await feedPrice('WETH');
    const seen: number[] = [];
    const res = await runMarketPath(devnet.clients, manifest, 'crash', {
      clock: 'instant',
      steps: 6,
      onStep: (s) => seen.push(s.index),
    });
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    const after = await feedPrice('WETH');
    expect(after).toBe((before * 70n) / 100n);
    expect(res.finalPricesUsd8.WETH).toBe(after);
    for (const sym of ASSET_SYMBOLS) expect(res.startPricesUsd8[sym]).toBeGreaterThan(0n);
    const hf = (await aaveAccount(account('aave-near-liquidation').address)).healthFactor;
    expect(hf).toBeLessThan(WAD);
    const perps = manifest.venues.perps!;
    const canLiquidate = await devnet.clients.publicClient.readContract({
      address: perps.contracts.perpsMarket!,
      abi: snxPerpsMarketAbi,
      functionName: 'canLiquidate',
      args: [BigInt(account('perps-high-leverage').venueAccounts.perps!)],
    });
    expect(canLiquidate).toBe(true);
    // Implied vols spiked 2.5x: ATM vol of the options venue is now 1.5 (was 0.6).
    const options = manifest.venues.options!;
    const expiry = BigInt(options.markets.find((x) => x.id === 'ETH-OPTIONS')!.expiriesSec![1]!);
    const [fwd] = await devnet.clients.publicClient.readContract({
      address: options.contracts.ethForwardFeed!,
      abi: deriveForwardFeedAbi,
      functionName: 'getForwardPrice',
      args: [expiry],
    });
    const [vol] = await devnet.clients.publicClient.readContract({
      address: options.contracts.ethVolFeed!,
      abi: deriveVolFeedAbi,
      functionName: 'getVol',
      args: [fwd, expiry],
    });
    expect(Number(vol) / 1e18).toBeCloseTo(1.5, 2);
    // The USDC-only saver has no debt and is untouched by the crash.
    expect((await aaveAccount(account('aave-usdc-saver').address)).healthFactor).toBe((1n << 256n) - 1n);
  }, 60_000);
  // After the crash test: jumps the clock two days.
  it('refreshFeeds keeps an idle world readable past the feeds heartbeat', async () => {
    const c = devnet.clients;
    const options = manifest.venues.options!;
    const expiry = BigInt(options.markets.find((x) => x.id === 'ETH-OPTIONS')!.expiriesSec![2]!);
    const readFwd = () =>
      c.publicClient.readContract({
        address: options.contracts.ethForwardFeed!,
        abi: deriveForwardFeedAbi,
        functionName: 'getForwardPrice',
        args: [expiry],
      });
    const [before] = await readFwd();
    await c.testClient.increaseTime({ seconds: 2 * 86_400 });
    await c.testClient.mine({ blocks: 1 });
    await expect(readFwd()).rejects.toThrow();
    expect(await refreshFeeds(c, manifest)).toBeGreaterThan(4);
    await c.testClient.mine({ blocks: 1 });
    const [after] = await readFwd();
    expect(after).toBe(before);
  }, 60_000);
  it('depeg path moves the USDC feed and hurts USDC-collateral borrowers on Aave only', async () => {
    const who = account('aave-usdc-collateral-eth-borrower').address;
    const hfBefore = (await aaveAccount(who)).healthFactor;
    const usdcBefore = await feedPrice('USDC');
    const lows: bigint[] = [];
    await runMarketPath(devnet.clients, manifest, 'depeg', {
      clock: 'instant',
      steps: 4,
      onStep: (_s, prices) => lows.push(prices.USDC),
    });
    expect(lows[1]).toBe((usdcBefore * 87n) / 100n);
    expect(await feedPrice('USDC')).toBe((usdcBefore * 95n) / 100n);
    expect((await aaveAccount(who)).healthFactor).toBeLessThan(hfBefore);
  }, 60_000);
});
