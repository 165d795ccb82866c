import type { Redis } from 'ioredis';
import { getAddress, pad, toHex, type Address, type Hex, type PublicClient } from 'viem';
import type { PerpPosition, Position } from '../risk/types';
import type { AdapterProtocol, AdapterReadResult, ProtocolAdapter } from './adapters/types';
import { ReorgBuffer, type BlockRef } from './chain/store';
import { IndexerService, type JobSink, type OwnerPositions } from './indexer.service';
import {
  ACCRUAL_TOLERANCE,
  checkAccrual,
  compareOwnerPositions,
  Reconciler,
  RECONCILE_METRICS,
  type ReconcileSummary,
} from './reconcile';
import { redisKeys } from './redis/keys';
import { deserialize, serialize } from './redis/serialize';
import { connectTestRedis, deleteKeys, testNetwork } from './redis/test-redis';

const RAY = 10n ** 27n;
const who = (n: number): Address => getAddress(pad(toHex(0xa000 + n), { size: 20 }));
const [alice, bob, carol, dave, erin, frank, gina] = [who(1), who(2), who(3), who(4), who(5), who(6), who(7)];
const hashOf = (n: bigint): Hex => pad(toHex(n), { size: 32 });
const ref = (n: bigint): BlockRef => ({ number: n, hash: hashOf(n) });
const clone = <T>(x: T): T => deserialize<T>(serialize(x));

const fakeClient = {
  getBlock: async ({ blockNumber }: { blockNumber: bigint }) => ({
    number: blockNumber,
    hash: hashOf(blockNumber),
    parentHash: hashOf(blockNumber - 1n),
  }),
  request: async () => [],
} as unknown as PublicClient;

const lending = (side: 'collateral' | 'debt', asset: string, raw: bigint): Position => ({
  kind: 'lending',
  protocol: 'aave-v3',
  side,
  asset,
  amount: { raw, decimals: 6 },
});
const perp = (size: bigint, entry: bigint, funding: bigint, margin = 100n * 10n ** 18n): PerpPosition => ({
  kind: 'perp',
  protocol: 'perps',
  underlying: 'ETH',
  size: { raw: size, decimals: 18 },
  entryPriceUsd: { raw: entry, decimals: 18 },
  lastPriceUsd: { raw: 2_000n * 10n ** 18n, decimals: 18 },
  accruedFundingUsd: { raw: funding, decimals: 18 },
  venueMarginUsd: { raw: margin, decimals: 18 },
});

/** A fake protocol: positions per owner (mutable), and optionally ray indexes per block. */
function fakeAdapter(
  protocol: AdapterProtocol,
  positions: Map<Address, Position[]>,
  indexes?: (block: bigint) => Record<string, bigint>,
): ProtocolAdapter & { indexReads: bigint[] } {
  const indexReads: bigint[] = [];
  return {
    protocol,
    watched: [],
    indexReads,
    accountsFromLogs: () => [],
    readPositions: async (_c, holder, blockNumber): Promise<AdapterReadResult> => ({
      protocol,
      owner: holder.owner,
      positions: clone(positions.get(holder.owner) ?? []),
      blockNumber,
      blockHash: hashOf(blockNumber),
      attributes: {},
    }),
    ...(indexes
      ? {
          accrualIndexes: async (_c: unknown, blockNumber: bigint) => {
            indexReads.push(blockNumber);
            return indexes(blockNumber);
          },
        }
      : {}),
  };
}

const value = (owner: Address, aave: Position[], perps: Position[] = []): OwnerPositions => ({
  owner,
  protocols: [
    { protocol: 'aave-v3', positions: aave, attributes: {} },
    { protocol: 'perps', positions: perps, attributes: {} },
  ],
});

describe('compareOwnerPositions and checkAccrual (pure)', () => {
  const idx = (from: bigint, to: bigint) => () => ({ from: { aUSDC: from }, to: { aUSDC: to } });

  it('accepts an amount that grew exactly by the index ratio, within the tolerance either way', () => {
    const { differences, amountChanges } = compareOwnerPositions(
      value(alice, [lending('collateral', 'aUSDC', 1_000_000n)]),
      value(alice, [lending('collateral', 'aUSDC', 1_100_000n)]),
    );
    expect(differences).toEqual([]);
    expect(amountChanges).toEqual([
      { protocol: 'aave-v3', asset: 'aUSDC', from: 1_000_000n, to: 1_100_000n },
    ]);
    expect(checkAccrual(amountChanges, idx(RAY, (RAY * 11n) / 10n))).toEqual([]);
    const at = (to: bigint) => [{ protocol: 'aave-v3' as const, asset: 'aUSDC', from: 1_000_000n, to }];
    expect(checkAccrual(at(1_100_000n + ACCRUAL_TOLERANCE), idx(RAY, (RAY * 11n) / 10n))).toEqual([]);
    expect(checkAccrual(at(1_100_000n - ACCRUAL_TOLERANCE), idx(RAY, (RAY * 11n) / 10n))).toEqual([]);
    expect(checkAccrual(at(1_100_003n), idx(RAY, (RAY * 11n) / 10n))).toEqual([
      'aave-v3 aUSDC: 1000000 → 1100003 (interest projects 1100000)',
    ]);
  });

  it('names an added or removed position, an attribute and an unknown index as unexplained', () => {
    const before = value(alice, [lending('collateral', 'aUSDC', 5n)]);
    const after = value(alice, [lending('collateral', 'aUSDC', 5n), lending('debt', 'USDC', 1n)]);
    expect(compareOwnerPositions(before, after).differences).toEqual(['aave-v3 positions added: debt:USDC']);
    expect(compareOwnerPositions(after, before).differences).toEqual(['aave-v3 positions gone: debt:USDC']);
    const eMode = clone(before);
    eMode.protocols[0]!.attributes.eModeCategory = '1';
    expect(compareOwnerPositions(before, eMode).differences).toEqual([
      'aave-v3 attribute eModeCategory: undefined → 1',
    ]);
    expect(checkAccrual([{ protocol: 'aave-v3', asset: 'aWETH', from: 1n, to: 2n }], idx(RAY, RAY))).toEqual([
      'aave-v3 aWETH: 1 → 2 (no interest index for aWETH)',
    ]);
  });

  it('lets a perp move its mark and funding, and its PnL-derived entry by rounding only', () => {
    const size = 3n * 10n ** 18n;
    const base = perp(size, 1_900n * 10n ** 18n, 0n);
    // Entry recovered from truncated PnL: off by at most 1 + 1e18/|size| wei per read.
    const moved = perp(size, 1_900n * 10n ** 18n - 2n, -5n * 10n ** 15n);
    moved.lastPriceUsd = { raw: 2_100n * 10n ** 18n, decimals: 18 };
    const cmp = (b: PerpPosition) => compareOwnerPositions(value(bob, [], [base]), value(bob, [], [b]));
    expect(cmp(moved)).toEqual({ differences: [], amountChanges: [] });
    expect(cmp(perp(size, 1_900n * 10n ** 18n + 5n, 0n)).differences).toHaveLength(1);
    expect(cmp(perp(size, 1_899n * 10n ** 18n, 0n)).differences).toEqual([
      'perps perp:ETH entry 1900000000000000000000e-18 → 1899000000000000000000e-18',
    ]);
    expect(cmp(perp(size + 1n, 1_900n * 10n ** 18n, 0n)).differences).toHaveLength(1);
    expect(cmp(perp(size, 1_900n * 10n ** 18n, 0n, 99n)).differences[0]).toContain('venue margin');
  });
});

describe('Reconciler', () => {
  let redis: Redis;
  let network: string;
  const aave = new Map<Address, Position[]>();
  const perps = new Map<Address, Position[]>();
  /** Liquidity index: 1.0 up to block 10, 1.1 after. */
  const income = (b: bigint): bigint => (b <= 10n ? RAY : (RAY * 11n) / 10n);
  const aaveAdapter = fakeAdapter('aave-v3', aave, (b) => ({ aUSDC: income(b), USDC: RAY }));
  const perpsAdapter = fakeAdapter('perps', perps); // no accrual hook
  const asked: string[] = [];
  const logged: string[] = [];
  let store: ReorgBuffer<OwnerPositions>;
  let service: IndexerService;
  let reconciler: Reconciler;

  beforeAll(async () => {
    redis = await connectTestRedis();
    network = testNetwork();
    store = new ReorgBuffer<OwnerPositions>(ref(9n));
    const jobs: JobSink = {
      refresh: async (o, b) => void asked.push(`refresh-${o}-${b.number}`),
      advance: async () => undefined,
      risk: async (o, b) => void asked.push(`risk-${o}-${b.number}`),
    };
    service = new IndexerService({
      client: fakeClient,
      adapters: [aaveAdapter, perpsAdapter],
      store,
      jobs,
      getLogs: async () => [],
      startBlock: 1n,
    });
    reconciler = new Reconciler({
      client: fakeClient,
      service,
      store,
      adapters: [aaveAdapter, perpsAdapter],
      redis,
      network,
      logger: { warn: (line) => void logged.push(line) },
    });
    // Block 10: everyone indexed.
    aave.set(alice, [lending('collateral', 'aUSDC', 1_000_000n)]);
    aave.set(bob, [lending('collateral', 'aUSDC', 1_000_000n)]);
    aave.set(carol, [lending('collateral', 'aUSDC', 1_000_000n)]);
    perps.set(dave, [
      { kind: 'spot', protocol: 'perps', asset: 'snxUSD', amount: { raw: 5n, decimals: 18 } },
    ]);
    aave.set(erin, [lending('collateral', 'aUSDC', 2_000_000n), lending('debt', 'USDC', 7n)]);
    perps.set(frank, [perp(10n ** 18n, 1_900n * 10n ** 18n, 0n)]);
    aave.set(gina, [lending('debt', 'USDC', 300n)]);
    for (const o of [alice, bob, carol, dave, erin, frank, gina])
      expect(await service.handleRefresh(o, ref(10n))).toBe('changed');
  });

  afterAll(async () => {
    await deleteKeys(redis, redisKeys(network).prefix);
    redis.disconnect();
  });

  it('classifies each changed owner, repairs it through the service and counts it', async () => {
    asked.length = 0;
    // Block 20: the liquidity index grew 10 %.
    aave.set(alice, [lending('collateral', 'aUSDC', 1_100_000n)]); // exactly projected: accrual
    aave.set(bob, [lending('collateral', 'aUSDC', 1_100_000n + ACCRUAL_TOLERANCE + 1n)]); // off: drift
    aave.set(carol, [lending('collateral', 'aUSDC', 1_100_000n), lending('debt', 'USDC', 9n)]); // appeared
    perps.set(dave, [
      { kind: 'spot', protocol: 'perps', asset: 'snxUSD', amount: { raw: 6n, decimals: 18 } },
    ]);
    aave.set(erin, [lending('collateral', 'aUSDC', 2_200_000n - 1n), lending('debt', 'USDC', 7n)]);
    perps.set(frank, [perp(10n ** 18n, 1_900n * 10n ** 18n, -3n * 10n ** 15n)]); // funding only
    aave.set(gina, []); // disappeared
    const summary = await reconciler.run(ref(20n));

    expect(summary).toMatchObject({
      blockNumber: '20',
      blockHash: hashOf(20n),
      checked: 7,
      unchanged: 0,
      accrualRefreshed: 3,
      driftRepaired: 4,
      superseded: [],
    });
    expect(summary.drifted.map((d) => d.owner)).toEqual([bob, carol, dave, gina].sort());
    const why = new Map(summary.drifted.map((d) => [d.owner, d.differences.join('; ')]));
    expect(why.get(bob)).toContain('interest projects 1100000');
    expect(why.get(carol)).toBe('aave-v3 positions added: debt:USDC');
    expect(why.get(dave)).toContain('the perps adapter reports no interest index');
    expect(why.get(gina)).toBe('aave-v3 positions gone: debt:USDC');
    expect(logged).toHaveLength(4);
    expect(logged.find((l) => l.includes(carol))).toContain('stored at block 10, re-read at 20');
    // Indexes are read once per block in a run, not once per owner.
    expect([...aaveAdapter.indexReads].sort()).toEqual([10n, 20n]);

    // Every changed owner is now stored at 20 exactly as read, with its risk job.
    for (const o of [alice, bob, carol, dave, erin, frank, gina]) {
      const stored = await store.get(o);
      expect(stored?.blockNumber).toBe(20n);
      expect(serialize(stored?.value)).toBe(serialize(await service.readOwner(o, 20n)));
      expect(asked).toContain(`risk-${o}-20`);
    }

    const metrics = await redis.hgetall(redisKeys(network).indexer.metrics);
    expect(metrics).toEqual({
      [RECONCILE_METRICS.runs]: '1',
      [RECONCILE_METRICS.ownersChecked]: '7',
      [RECONCILE_METRICS.accrualRefreshed]: '3',
      [RECONCILE_METRICS.driftRepaired]: '4',
    });
    const last = JSON.parse(
      (await redis.get(redisKeys(network).indexer.reconcileLast)) ?? 'null',
    ) as ReconcileSummary | null;
    expect(last).toEqual(summary);
  });

  it('repairs nothing when nothing changed, and reconciles at the store head by default', async () => {
    asked.length = 0;
    logged.length = 0;
    const summary = await reconciler.run();
    expect(summary).toMatchObject({
      blockNumber: '20',
      checked: 7,
      unchanged: 7,
      accrualRefreshed: 0,
      driftRepaired: 0,
      drifted: [],
    });
    expect(asked).toEqual([]);
    expect(logged).toEqual([]);
    const metrics = await redis.hgetall(redisKeys(network).indexer.metrics);
    expect(metrics[RECONCILE_METRICS.runs]).toBe('2');
    expect(metrics[RECONCILE_METRICS.ownersChecked]).toBe('14');
    expect(metrics[RECONCILE_METRICS.driftRepaired]).toBe('4');
  });

  it('counts a difference the service does not confirm as superseded, not repaired', async () => {
    // A read that disagrees with the service's own (e.g. venue accounts resolved with a lagging
    // identity index): the service re-reads, finds the store right and writes nothing.
    const lagging = new Reconciler({
      client: fakeClient,
      service: {
        readOwner: async (o, b) => (o === carol ? value(carol, []) : service.readOwner(o, b)),
        handleRefresh: (o, at) => service.handleRefresh(o, at),
      },
      store,
      adapters: [aaveAdapter, perpsAdapter],
      redis,
      network,
      logger: { warn: (line) => void logged.push(line) },
    });
    asked.length = 0;
    logged.length = 0;
    const summary = await lagging.run();
    expect(summary).toMatchObject({ unchanged: 6, superseded: [carol], driftRepaired: 0, drifted: [] });
    expect(asked).toEqual([]);
    expect(logged).toEqual([]);
    expect((await redis.hgetall(redisKeys(network).indexer.metrics))[RECONCILE_METRICS.driftRepaired]).toBe(
      '4',
    );
  });

  it('counts an owner the store moved past as superseded, not repaired', async () => {
    // The store's head is 20; a run at 15 finds differences but the service re-asks them at the head.
    aave.set(alice, [lending('collateral', 'aUSDC', 1_000n)]);
    asked.length = 0;
    const summary = await reconciler.run(ref(15n));
    expect(summary.superseded).toEqual([alice]);
    expect(summary.driftRepaired).toBe(0);
    expect(asked).toEqual([`refresh-${alice}-20`]);
    aave.set(alice, [lending('collateral', 'aUSDC', 1_100_000n)]);
  });
});
