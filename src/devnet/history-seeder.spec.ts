import { getAddress } from 'viem';
import { decodeOptionSubId } from '../indexer/adapters/units';
import { benchOwner, planHistory, strikeUsd8, type OptionSeries } from './history-seeder';
import { PERP_MARKETS } from './venue-perps';

const ethOptions = getAddress('0x00000000000000000000000000000000000e7400');
const btcOptions = getAddress('0x00000000000000000000000000000000000b7c00');
const series: OptionSeries[] = [
  { optionAsset: ethOptions, underlying: 'ETH', expiriesSec: [1_900_000_800], spotUsd8: 3_012_34000000n },
  {
    optionAsset: btcOptions,
    underlying: 'BTC',
    expiriesSec: [1_900_000_800, 1_902_419_200],
    spotUsd8: 64_480_00000000n,
  },
];

describe('history seeder plan', () => {
  it('derives distinct, stable, checksummed owners from their index', () => {
    const owners = Array.from({ length: 2_000 }, (_, i) => benchOwner(i));
    expect(new Set(owners).size).toBe(2_000);
    expect(benchOwner(7)).toBe(owners[7]);
    for (const o of owners.slice(0, 20)) expect(getAddress(o)).toBe(o);
  });

  it('puts strikes on the underlying grid near the asked share of spot', () => {
    expect(strikeUsd8('ETH', 3_012_34000000n, 100n)).toBe(3_000_00000000n);
    expect(strikeUsd8('ETH', 3_012_34000000n, 110n)).toBe(3_300_00000000n);
    expect(strikeUsd8('BTC', 64_480_00000000n, 90n)).toBe(58_000_00000000n);
    expect(strikeUsd8('ETH', 1n, 90n)).toBe(50_00000000n); // never a zero strike
  });

  it('spreads owners over every perps market and option series, longs and shorts balanced', () => {
    const plans = planHistory(600, series);
    expect(plans.map((p) => p.owner)).toEqual(plans.map((_, i) => benchOwner(i)));
    const marketIds = new Set(plans.map((p) => p.perps.marketId));
    expect([...marketIds].sort()).toEqual(
      Object.values(PERP_MARKETS)
        .map((m) => m.id)
        .sort(),
    );
    for (const id of marketIds) {
      const sizes = plans.filter((p) => p.perps.marketId === id).map((p) => p.perps.sizeD18);
      expect(sizes.reduce((a, b) => a + b, 0n)).toBe(0n);
    }
    // 3 expiries x 3 strikes x call/put = 18 series; 600 owners cover each.
    const subIds = new Set(plans.map((p) => `${p.options.optionAsset}:${p.options.subId}`));
    expect(subIds.size).toBe(18);
    for (const p of plans) {
      const d = decodeOptionSubId(p.options.subId);
      const s = series.find((x) => x.optionAsset === p.options.optionAsset)!;
      expect(s.expiriesSec).toContain(d.expirySec);
      expect(p.options.amountD18 === 5n * 10n ** 17n || p.options.amountD18 === -(5n * 10n ** 17n)).toBe(
        true,
      );
    }
    expect(plans.filter((p) => p.options.amountD18 > 0n).length).toBeGreaterThan(200);
    expect(plans.filter((p) => p.options.amountD18 < 0n).length).toBeGreaterThan(200);
  });

  it('refuses a count that is not a positive integer, and a world without option series', () => {
    expect(() => planHistory(0, series)).toThrow(/count/);
    expect(() => planHistory(1.5, series)).toThrow(/count/);
    expect(() => planHistory(10, [])).toThrow(/no option series/);
  });
});
