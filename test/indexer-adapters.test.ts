/**
 * Indexer adapters end to end on the devnet: for every seeded persona, the positions the adapters
 * produce equal what the protocols report through their own getters — Aave's `getUserAccountData`
 * totals (recomputed from the adapter's balances × Aave oracle prices), the perps venue's
 * `getOpenPosition`, the options venue's `getBalance` per (asset, subId) — before and after a crash
 * with an Aave liquidation and a perps liquidation. Identity follows an account NFT to its new owner,
 * and the adapters' output plus the market snapshot feed `computeAccountRisk` as they are.
 */
import { erc20Abi, maxUint256, type Address, type Client, type Log } from 'viem';
import {
  aaveOracleAbi,
  aavePoolAbi,
  deriveOptionAssetAbi,
  deriveSubAccountsAbi,
  snxAccountNftAbi,
  snxPerpsMarketAbi,
} from '../src/contracts/generated';
import {
  ASSET_SYMBOLS,
  type AssetSymbol,
  type DeploymentManifest,
  type SeededAccount,
} from '../src/config/manifest';
import { getFreePort } from '../src/devnet/anvil';
import { write } from '../src/devnet/chain';
import { startDevnet, type Devnet } from '../src/devnet/devnet';
import { runMarketPath } from '../src/devnet/market';
import { createAdapters } from '../src/indexer/adapters';
import { AaveV3Adapter } from '../src/indexer/adapters/aave';
import { OptionsAdapter } from '../src/indexer/adapters/options';
import { PerpsAdapter } from '../src/indexer/adapters/perps';
import type { ProtocolAdapter } from '../src/indexer/adapters/types';
import { perpPnlWad, WAD } from '../src/indexer/adapters/units';
import { IdentityIndex, syncIdentity } from '../src/indexer/identity';
import { readMarketData } from '../src/indexer/market-data';
import { computeAccountRisk } from '../src/risk';
import type { OptionPosition, PerpPosition, Position } from '../src/risk/types';
import { historyAround, spotsOf } from './helpers/operator-params';

let devnet: Devnet;
let m: DeploymentManifest;
let client: Client;
let adapters: ProtocolAdapter[];
let aave: AaveV3Adapter;
let perps: PerpsAdapter;
let options: OptionsAdapter;
let identity: IdentityIndex;
let syncedTo: bigint;

beforeAll(async () => {
  devnet = await startDevnet({ port: await getFreePort(), blockTimeSec: 0, manifestPath: null });
  m = devnet.manifest;
  client = devnet.clients.publicClient as unknown as Client;
  adapters = createAdapters(m);
  aave = adapters.find((a): a is AaveV3Adapter => a instanceof AaveV3Adapter)!;
  perps = adapters.find((a): a is PerpsAdapter => a instanceof PerpsAdapter)!;
  options = adapters.find((a): a is OptionsAdapter => a instanceof OptionsAdapter)!;
  identity = IdentityIndex.forAdapters(adapters);
  syncedTo = await head();
  await syncIdentity(client, identity, BigInt(m.network.startBlock), syncedTo);
}, 120_000);

afterAll(async () => {
  await devnet?.stop();
});

const persona = (name: string): SeededAccount => {
  const a = m.accounts.find((x) => x.persona === name);
  if (!a) throw new Error(`persona ${name} not in manifest`);
  return a;
};

// cacheTime 0: viem otherwise serves a block number up to one polling interval old.
const head = (): Promise<bigint> => devnet.clients.publicClient.getBlockNumber({ cacheTime: 0 });

async function catchUpIdentity(): Promise<void> {
  const to = await head();
  await syncIdentity(client, identity, syncedTo + 1n, to);
  syncedTo = to;
}

function abs(x: bigint): bigint {
  return x < 0n ? -x : x;
}

/** Aave: Σ adapter balances × oracle price equals getUserAccountData's totals, at one block. */
async function checkAave(
  who: SeededAccount,
  block: bigint,
): Promise<{ collateralBase: bigint; debtBase: bigint }> {
  const res = await aave.readPositions(client, identity.holderFor(who.address, 'aave-v3'), block);
  expect(res.blockNumber).toBe(block);
  expect(res.blockHash).toBe((await devnet.clients.publicClient.getBlock({ blockNumber: block })).hash);
  expect(res.attributes.eModeCategory).toBe('0');
  const pc = devnet.clients.publicClient;
  const priceOf = new Map<string, bigint>();
  for (const sym of ASSET_SYMBOLS) {
    const price = await pc.readContract({
      address: m.aave.oracle,
      abi: aaveOracleAbi,
      functionName: 'getAssetPrice',
      args: [m.tokens[sym].address],
      blockNumber: block,
    });
    priceOf.set(sym, price);
  }
  let collateralBase = 0n;
  let debtBase = 0n;
  for (const p of res.positions) {
    if (p.kind !== 'lending') continue;
    const sym = (p.side === 'collateral' ? p.asset.slice(1) : p.asset) as AssetSymbol;
    expect(p.amount.decimals).toBe(m.tokens[sym].decimals);
    const value = (p.amount.raw * priceOf.get(sym)!) / 10n ** BigInt(p.amount.decimals);
    if (p.side === 'collateral') collateralBase += value;
    else debtBase += value;
  }
  const [totalCollateralBase, totalDebtBase] = await pc.readContract({
    address: m.aave.pool,
    abi: aavePoolAbi,
    functionName: 'getUserAccountData',
    args: [who.address],
    blockNumber: block,
  });
  // Aave values each reserve as balance × price / 10^decimals, rounded down, as the sum above: exact.
  expect(collateralBase).toBe(totalCollateralBase);
  expect(debtBase).toBe(totalDebtBase);
  return { collateralBase, debtBase };
}

/** Perps: size and funding equal getOpenPosition exactly; PnL to |size|/1e18 wei; margin = collateral − debt. */
async function checkPerps(who: SeededAccount, block: bigint): Promise<PerpPosition[]> {
  const holder = identity.holderFor(who.address, 'perps');
  const res = await perps.readPositions(client, holder, block);
  const pc = devnet.clients.publicClient;
  const market = m.venues.perps!.contracts.perpsMarket!;
  const perpPositions = res.positions.filter((p): p is PerpPosition => p.kind === 'perp');
  let open = 0;
  let expectedMargin = 0n;
  for (const accountId of holder.accountIds) {
    const ids = await pc.readContract({
      address: market,
      abi: snxPerpsMarketAbi,
      functionName: 'getAccountOpenPositions',
      args: [accountId],
      blockNumber: block,
    });
    open += ids.length;
    const collateral = await pc.readContract({
      address: market,
      abi: snxPerpsMarketAbi,
      functionName: 'totalCollateralValue',
      args: [accountId],
      blockNumber: block,
    });
    const debt = await pc.readContract({
      address: market,
      abi: snxPerpsMarketAbi,
      functionName: 'debt',
      args: [accountId],
      blockNumber: block,
    });
    expectedMargin += collateral > debt ? collateral - debt : 0n;
  }
  expect(perpPositions.length).toBe(open);
  const margin = res.positions.reduce(
    (s, p) => s + (p.kind === 'perp' ? p.venueMarginUsd.raw : p.kind === 'spot' ? p.amount.raw : 0n),
    0n,
  );
  expect(margin).toBe(expectedMargin);
  // One perps account per persona: every position belongs to it.
  expect(holder.accountIds.length).toBeLessThanOrEqual(1);
  for (const p of perpPositions) {
    const key = m.venues.perps!.markets.find((x) => x.underlying === p.underlying)!.key;
    const [totalPnl, accruedFunding, positionSize] = await pc.readContract({
      address: market,
      abi: snxPerpsMarketAbi,
      functionName: 'getOpenPosition',
      args: [holder.accountIds[0]!, BigInt(key)],
      blockNumber: block,
    });
    expect(p.size.raw).toBe(positionSize);
    expect(p.accruedFundingUsd.raw).toBe(accruedFunding);
    const pnl = perpPnlWad(p.size.raw, p.entryPriceUsd.raw, p.lastPriceUsd.raw, p.accruedFundingUsd.raw);
    expect(abs(pnl - totalPnl)).toBeLessThanOrEqual(abs(positionSize) / WAD + 1n);
  }
  return perpPositions;
}

/** Options: each option and cash balance equals getBalance for its (asset, subId); no balance is missed. */
async function checkOptions(who: SeededAccount, block: bigint): Promise<number> {
  const holder = identity.holderFor(who.address, 'options');
  const res = await options.readPositions(client, holder, block);
  const pc = devnet.clients.publicClient;
  const c = m.venues.options!.contracts;
  expect(holder.accountIds.length).toBeLessThanOrEqual(1);
  const accountId = holder.accountIds[0];
  if (accountId === undefined) {
    expect(res.positions).toEqual([]);
    return 0;
  }
  const all = await pc.readContract({
    address: c.subAccounts!,
    abi: deriveSubAccountsAbi,
    functionName: 'getAccountBalances',
    args: [accountId],
    blockNumber: block,
  });
  expect(res.positions.length).toBe(all.length);
  for (const p of res.positions) {
    let asset: Address;
    let subId: bigint;
    if (p.kind === 'option') {
      const o = p as OptionPosition;
      asset = c[`${o.underlying.toLowerCase()}OptionAsset`]!;
      // The venue's own encoder, independent of the adapter's decoder.
      subId = BigInt(
        await pc.readContract({
          address: asset,
          abi: deriveOptionAssetAbi,
          functionName: 'getSubId',
          args: [BigInt(o.expirySec), o.strikeUsd.raw * 10n ** 10n, o.optionType === 'call'],
          blockNumber: block,
        }),
      );
    } else {
      expect(p.kind).toBe('spot');
      asset = c.cashAsset!;
      subId = 0n;
    }
    const amount = p.kind === 'option' ? p.amount.raw : p.kind === 'spot' ? p.amount.raw : -1n;
    const onChain = await pc.readContract({
      address: c.subAccounts!,
      abi: deriveSubAccountsAbi,
      functionName: 'getBalance',
      args: [accountId, asset, subId],
      blockNumber: block,
    });
    expect(amount).toBe(onChain);
  }
  return res.positions.length;
}

async function checkEveryPersona(block: bigint): Promise<{ aave: number; perps: number; options: number }> {
  const seen = { aave: 0, perps: 0, options: 0 };
  for (const who of m.accounts) {
    const a = await checkAave(who, block);
    if (a.collateralBase > 0n) seen.aave++;
    if ((await checkPerps(who, block)).length > 0) seen.perps++;
    if ((await checkOptions(who, block)) > 0) seen.options++;
  }
  return seen;
}

async function positionsOf(who: SeededAccount, block: bigint): Promise<Position[]> {
  const out: Position[] = [];
  for (const a of adapters)
    out.push(
      ...(await a.readPositions(client, identity.holderFor(who.address, a.protocol), block)).positions,
    );
  return out;
}

async function snapshotAt(block: bigint) {
  const bare = await readMarketData(client, m, block, {
    history: { intervalSec: 86_400, closesUsdByUnderlying: {} },
    liquidity: {},
  });
  const spots = spotsOf(bare.snapshot.market.prices);
  const liquidity = Object.fromEntries(
    Object.keys(spots).map((u) => [u, { openInterestUsd: 50_000_000, depthUsd: 500_000_000 }]),
  );
  return readMarketData(client, m, block, { history: historyAround(spots), liquidity });
}

describe('indexer adapters on the devnet', () => {
  it('registers one adapter per deployed protocol, each watching its contracts', () => {
    expect(adapters.map((a) => a.protocol)).toEqual(['aave-v3', 'perps', 'options']);
    expect(aave.watched[0]!.address).toBe(m.aave.pool);
    expect(perps.ownership?.token).toBe(m.venues.perps!.contracts.accountToken);
    expect(options.ownership?.token).toBe(m.venues.options!.contracts.subAccounts);
  });

  it('resolves every seeded venue account to its persona through ERC-721 Transfer logs', () => {
    let venueAccounts = 0;
    for (const who of m.accounts) {
      const id = identity.identityOf(who.address);
      if (who.venueAccounts.perps) {
        expect(id.accounts.perps).toEqual([BigInt(who.venueAccounts.perps)]);
        venueAccounts++;
      }
      if (who.venueAccounts.options) {
        expect(id.accounts.options).toEqual([BigInt(who.venueAccounts.options)]);
        venueAccounts++;
      }
    }
    expect(venueAccounts).toBeGreaterThanOrEqual(6);
  });

  it("equals every protocol's own getters for every seeded persona", async () => {
    const seen = await checkEveryPersona(await head());
    expect(seen.aave).toBeGreaterThanOrEqual(10);
    expect(seen.perps).toBeGreaterThanOrEqual(3);
    expect(seen.options).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it('reads a market snapshot the risk engine accepts with the adapters positions (finite IM ≥ MM ≥ 0)', async () => {
    const block = await head();
    const md = await snapshotAt(block);
    expect(md.blockNumber).toBe(block);
    expect(md.sequencer.up).toBe(true);
    expect(md.rounds.ETH!.roundId).toBeGreaterThan(0n);
    expect(md.snapshot.market.volSurfaces.ETH!.length).toBeGreaterThanOrEqual(3);
    for (const name of [
      'all-venues-balanced',
      'cross-venue-btc-hedger',
      'basis-trader',
      'delta-hedged-options-book',
    ]) {
      const who = persona(name);
      const positions = await positionsOf(who, block);
      expect(positions.length).toBeGreaterThan(1);
      const r = computeAccountRisk({ account: who.address, positions, ...md.snapshot });
      for (const x of [r.imUsd, r.mmUsd, r.mtmUsd]) expect(Number.isFinite(x)).toBe(true);
      expect(r.mmUsd).toBeGreaterThanOrEqual(0);
      expect(r.imUsd).toBeGreaterThanOrEqual(r.mmUsd);
      expect(r.mmUsd).toBeGreaterThan(0);
      const protocols = new Set(positions.map((p) => p.protocol));
      expect(new Set(r.byProtocol.map((p) => p.protocol))).toEqual(protocols);
    }
  }, 60_000);

  it('stays equal after a crash with an Aave liquidation and a perps liquidation', async () => {
    const pc = devnet.clients.publicClient;
    const from = (await head()) + 1n;
    const nearLiq = persona('aave-near-liquidation');
    const highLev = persona('perps-high-leverage');
    const liquidator = persona('liquidator-bot');
    const before = await checkAave(nearLiq, await head());

    await runMarketPath(devnet.clients, m, 'crash', { clock: 'instant', steps: 6 });
    const [, , , , , hf] = await pc.readContract({
      address: m.aave.pool,
      abi: aavePoolAbi,
      functionName: 'getUserAccountData',
      args: [nearLiq.address],
    });
    expect(hf).toBeLessThan(WAD);
    await write(devnet.clients, liquidator.address, m.tokens.USDC.address, erc20Abi, 'approve', [
      m.aave.pool,
      maxUint256,
    ]);
    await write(devnet.clients, liquidator.address, m.aave.pool, aavePoolAbi, 'liquidationCall', [
      m.tokens.WETH.address,
      m.tokens.USDC.address,
      nearLiq.address,
      maxUint256,
      false,
    ]);
    const highLevId = BigInt(highLev.venueAccounts.perps!);
    await write(
      devnet.clients,
      liquidator.address,
      m.venues.perps!.contracts.perpsMarket!,
      snxPerpsMarketAbi,
      'liquidate',
      [highLevId],
    );
    const block = await head();

    // The events of the crash name the liquidated holders.
    const logs: Log[] = await pc.getLogs({ fromBlock: from, toBlock: block });
    const affected = adapters.flatMap((a) => a.accountsFromLogs(logs));
    expect(affected).toContainEqual({ protocol: 'aave-v3', kind: 'owner', owner: nearLiq.address });
    expect(affected).toContainEqual({ protocol: 'perps', kind: 'account', accountId: highLevId });

    await catchUpIdentity();
    const seen = await checkEveryPersona(block);
    expect(seen.aave).toBeGreaterThanOrEqual(10);
    const after = await checkAave(nearLiq, block);
    expect(after.debtBase).toBeLessThan(before.debtBase);
    expect(after.collateralBase).toBeLessThan(before.collateralBase);
    expect(await checkPerps(highLev, block)).toEqual([]);
  }, 60_000);

  it('moves a perps account to its new owner when the account NFT is transferred', async () => {
    const seller = persona('perps-op-long');
    const buyer = persona('fresh-wallet');
    const id = BigInt(seller.venueAccounts.perps!);
    const before = await checkPerps(seller, await head());
    expect(before.length).toBeGreaterThan(0);
    expect(identity.identityOf(buyer.address).accounts.perps).toBeUndefined();

    await write(
      devnet.clients,
      seller.address,
      m.venues.perps!.contracts.accountToken!,
      snxAccountNftAbi,
      'transferFrom',
      [seller.address, buyer.address, id],
    );
    const from = syncedTo + 1n;
    await catchUpIdentity();
    expect(from).toBeLessThanOrEqual(syncedTo);
    expect(identity.ownerOf('perps', id)).toBe(buyer.address);
    expect(identity.identityOf(buyer.address).accounts.perps).toEqual([id]);
    expect(identity.identityOf(seller.address).accounts.perps).toBeUndefined();

    const block = await head();
    expect(await checkPerps(seller, block)).toEqual([]);
    const moved = await checkPerps(buyer, block);
    expect(moved.map((p) => [p.underlying, p.size.raw])).toEqual(
      before.map((p) => [p.underlying, p.size.raw]),
    );
  }, 60_000);
});
