import { getAddress, type Address } from 'viem';
import { fixtureResult, riskRecord } from '../../../test/helpers/feed-records';
import { toUsd6 } from '../classify';
import { buildFeedEvent, collateralByAsset, parseWireEvent, toWireJson } from './event';

const OWNER: Address = getAddress('0x00000000000000000000000000000000000000a1');
const TOKEN: Address = getAddress('0x00000000000000000000000000000000000000b2');

const chain = {
  seizable: [{ token: TOKEN, symbol: 'aWETH', amount: 12_345_678_901_234_567_890_123n, decimals: 18 }],
  prices: {
    ETH: {
      answer: 300_000_000_000n,
      decimals: 8,
      updatedAtSec: 1_767_225_000,
      roundId: 18_446_744_073_709_551_617n,
    },
  },
};

describe('shortfall events', () => {
  it('sums the engine’s collateral lines per asset: value after haircut and the haircut', () => {
    const result = fixtureResult();
    const lines = collateralByAsset(result);
    const assets = [...new Set(result.collateral.map((c) => c.asset))].sort();
    expect(lines.map((l) => l.asset)).toEqual(assets);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) {
      const mine = result.collateral.filter((c) => c.asset === l.asset);
      const value = mine.reduce((s, c) => s + c.valueUsd, 0);
      const haircut = mine.reduce((s, c) => s + c.haircutUsd, 0);
      expect(l.haircutUsd6).toBe(toUsd6(haircut));
      expect(l.valueUsd6).toBe(toUsd6(value - haircut));
    }
    // The volatile collateral carries a haircut.
    expect(lines.find((l) => l.asset === 'aWETH')!.haircutUsd6).toBeGreaterThan(0n);
  });

  it('carries the record’s figures, block, hashes and staleness, the previous class and the chain reads', () => {
    const prev = riskRecord(OWNER, 'warning', { blockNumber: 99n });
    const next = riskRecord(OWNER, 'liquidatable', { blockNumber: 100n, shortfallUsd6: 2_500_000_000n });
    next.stale = { oracle: true, sequencer: false, indexer: false, reasons: ['ETH/USD updated 4210 s ago'] };
    const e = buildFeedEvent(next, prev, 'entered', chain, 42);
    expect(e).toMatchObject({
      owner: OWNER,
      health: 'liquidatable',
      previousHealth: 'warning',
      blockNumber: 100n,
      blockHash: next.blockHash,
      imUsd6: next.imUsd6,
      mmUsd6: next.mmUsd6,
      adjustedEquityUsd6: next.mmUsd6 - 2_500_000_000n,
      shortfallUsd6: 2_500_000_000n,
      paramsHash: next.paramsHash,
      inputHash: next.inputHash,
      reason: 'entered',
      publishedAtMs: 42,
    });
    expect(e.stale).toEqual(next.stale);
    expect(e.seizable).toEqual(chain.seizable);
    expect(e.prices).toEqual(chain.prices);
    expect(e.collateral).toEqual(collateralByAsset(next.result));
    expect(buildFeedEvent(next, undefined, 'entered', chain, 1).previousHealth).toBeNull();
  });

  it('round-trips through the wire JSON with every bigint exact (beyond 2^53) as a decimal string', () => {
    const next = riskRecord(OWNER, 'below-mm', { shortfallUsd6: 9_007_199_254_740_993n, mmUsd6: 2n ** 62n });
    const event = { ...buildFeedEvent(next, undefined, 'entered', chain, 7), id: '1767225600000-3' };
    const json = toWireJson(event);
    expect(json).toContain('"shortfallUsd6":"9007199254740993"');
    expect(json).toContain('"amount":"12345678901234567890123"');
    expect(parseWireEvent(json)).toEqual(event);
    expect(() => parseWireEvent(json.replace('"9007199254740993"', '9007199254740993'))).toThrow(
      /shortfallUsd6/,
    );
  });
});
