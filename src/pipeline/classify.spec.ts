import type { Address, Hex } from 'viem';
import type { MarketRecord } from '../indexer/market-recorder';
import {
  classify,
  sequencerStaleness,
  stalenessFlags,
  toUsd6,
  underlyingsOf,
  usd6Figures,
  type StalenessRules,
} from './classify';
import type { AccountRiskResult, Position } from '../risk/types';

const ETH_FEED = '0x00000000000000000000000000000000000000e1' as Address;
const BTC_FEED = '0x00000000000000000000000000000000000000b1' as Address;
const HASH = `0x${'ab'.repeat(32)}` as Hex;

function market(over: {
  asOfSec?: number;
  ethUpdated?: number;
  btcUpdated?: number;
  seqUp?: boolean;
  seqSince?: number;
  block?: bigint;
}): MarketRecord {
  const asOfSec = over.asOfSec ?? 100_000;
  const round = (feed: Address, updatedAtSec: number) => ({
    feed,
    roundId: 1n,
    answer: 2_000n * 10n ** 8n,
    decimals: 8,
    startedAtSec: updatedAtSec,
    updatedAtSec,
  });
  return {
    blockNumber: over.block ?? 100n,
    blockHash: HASH,
    snapshot: {
      asOfSec,
      market: {
        prices: {},
        assets: {
          aWETH: { underlying: 'ETH', decimals: 18, isAToken: true },
          USDC: { underlying: 'USDC', decimals: 6, isAToken: false },
        },
        volSurfaces: {},
      },
    },
    rounds: {
      ETH: round(ETH_FEED, over.ethUpdated ?? asOfSec - 10),
      BTC: round(BTC_FEED, over.btcUpdated ?? asOfSec - 10),
    },
    sequencer: {
      feed: ETH_FEED,
      up: over.seqUp ?? true,
      sinceSec: over.seqSince ?? asOfSec - 10_000,
      roundId: 1n,
    },
  };
}

const rules: StalenessRules = {
  heartbeatByFeed: new Map([[ETH_FEED.toLowerCase(), 3_600]]),
  defaultHeartbeatSec: 600,
  sequencerGracePeriodSec: 3_600,
  maxIndexerLagBlocks: 5,
};

const fresh = { oracle: false, sequencer: false, indexer: false };

describe('toUsd6', () => {
  it('rounds an exact half away from zero', () => {
    // 2^-7 = 0.0078125 exactly: 7 812.5 USD6.
    expect(toUsd6(0.0078125)).toBe(7_813n);
    expect(toUsd6(-0.0078125)).toBe(-7_813n);
    expect(toUsd6(-0)).toBe(0n);
  });

  it('equals the exact decimal expansion of the float (toFixed) for many values', () => {
    let x = 0.123456789;
    for (let i = 0; i < 2_000; i++) {
      x = (x * 7.31 + 0.377) % 1e9;
      const reference = BigInt(x.toFixed(6).replace('.', ''));
      expect(toUsd6(x)).toBe(reference);
      expect(toUsd6(-x)).toBe(-reference);
    }
  });

  it('keeps large amounts exact where x × 1e6 in floats would not', () => {
    const x = 123_456_789_012.345_67; // x × 1e6 exceeds 2^53
    expect(toUsd6(x)).toBe(BigInt(x.toFixed(6).replace('.', '')));
  });

  it('refuses non-finite numbers', () => {
    expect(() => toUsd6(Number.NaN, 'imUsd')).toThrow(/imUsd: NaN is not a finite number/);
    expect(() => toUsd6(Infinity)).toThrow(/not a finite/);
  });

  it('derives free collateral and shortfall from the converted figures', () => {
    const f = usd6Figures({
      imUsd: 130.0000004,
      mmUsd: 100.0000006,
      mtmUsd: 120,
      adjustedEquityUsd: 100.0000004,
    } as AccountRiskResult);
    expect(f.imUsd6).toBe(130_000_000n);
    expect(f.mmUsd6).toBe(100_000_001n);
    expect(f.adjustedEquityUsd6).toBe(100_000_000n);
    expect(f.freeCollateralUsd6).toBe(0n);
    expect(f.shortfallUsd6).toBe(1n);
    expect(f.marginRatio).toBeCloseTo(1, 8);
    expect(
      usd6Figures({ imUsd: 0, mmUsd: 0, mtmUsd: 5, adjustedEquityUsd: 5 } as AccountRiskResult).marginRatio,
    ).toBe(null);
  });
});

describe('classify', () => {
  const at = (eq: bigint) => ({ imUsd6: 1_300n, mmUsd6: 1_000n, adjustedEquityUsd6: eq });
  const opts = { warningBufferBps: 1_000 };

  it('orders the classes by adjusted equity against MM, IM and IM + buffer', () => {
    expect(classify(at(999n), fresh, opts)).toBe('liquidatable');
    expect(classify(at(1_000n), fresh, opts)).toBe('below-im');
    expect(classify(at(1_299n), fresh, opts)).toBe('below-im');
    expect(classify(at(1_300n), fresh, opts)).toBe('warning');
    expect(classify(at(1_429n), fresh, opts)).toBe('warning');
    expect(classify(at(1_430n), fresh, opts)).toBe('healthy');
  });

  it('keeps an account below MM with any stale input out of liquidatable', () => {
    for (const flag of ['oracle', 'sequencer', 'indexer'] as const)
      expect(classify(at(999n), { ...fresh, [flag]: true }, opts)).toBe('below-mm');
    expect(classify(at(1_000n), { ...fresh, oracle: true }, opts)).toBe('below-im');
  });

  it('calls an empty account healthy and negative equity with no MM below MM', () => {
    expect(classify({ imUsd6: 0n, mmUsd6: 0n, adjustedEquityUsd6: 0n }, fresh, opts)).toBe('healthy');
    expect(classify({ imUsd6: 0n, mmUsd6: 0n, adjustedEquityUsd6: -1n }, fresh, opts)).toBe('liquidatable');
  });

  it('uses the configured buffer (0 bps: no warning band)', () => {
    expect(classify(at(1_300n), fresh, { warningBufferBps: 0 })).toBe('healthy');
  });
});

describe('staleness', () => {
  it('flags a feed older than its heartbeat, not one exactly at it', () => {
    expect(stalenessFlags(market({ ethUpdated: 100_000 - 3_600 }), ['ETH'], 100n, rules).oracle).toBe(false);
    const s = stalenessFlags(market({ ethUpdated: 100_000 - 3_601 }), ['ETH'], 100n, rules);
    expect(s.oracle).toBe(true);
    expect(s.reasons).toEqual(['ETH/USD updated 3601 s ago, heartbeat 3600 s']);
  });

  it('uses the default heartbeat for a feed the manifest does not list', () => {
    const s = stalenessFlags(market({ btcUpdated: 100_000 - 601 }), ['BTC'], 100n, rules);
    expect(s.reasons).toEqual(['BTC/USD updated 601 s ago, heartbeat 600 s']);
  });

  it('only looks at the account’s own underlyings', () => {
    expect(stalenessFlags(market({ btcUpdated: 0 }), ['ETH'], 100n, rules).oracle).toBe(false);
  });

  it('flags a sequencer that is down or inside its grace period', () => {
    expect(sequencerStaleness(market({ seqUp: false, seqSince: 5 }), rules)).toBe('sequencer down since 5');
    expect(sequencerStaleness(market({ seqSince: 100_000 - 3_599 }), rules)).toBe(
      'sequencer up for 3599 s, grace period 3600 s',
    );
    expect(sequencerStaleness(market({ seqSince: 100_000 - 3_600 }), rules)).toBe(null);
    expect(stalenessFlags(market({ seqUp: false }), [], 100n, rules).sequencer).toBe(true);
  });

  it('flags a result more than N blocks behind the head', () => {
    expect(stalenessFlags(market({ block: 100n }), [], 105n, rules).indexer).toBe(false);
    const s = stalenessFlags(market({ block: 100n }), [], 106n, rules);
    expect(s.indexer).toBe(true);
    expect(s.reasons).toEqual(['block 100 is 6 blocks behind the head 106']);
  });
});

describe('underlyingsOf', () => {
  it('maps tokens and aTokens through the market’s assets and takes derivatives’ underlyings', () => {
    const fp = (raw: bigint) => ({ raw, decimals: 0 });
    const positions: Position[] = [
      { kind: 'lending', protocol: 'aave-v3', side: 'collateral', asset: 'aWETH', amount: fp(1n) },
      { kind: 'spot', protocol: 'wallet', asset: 'USDC', amount: fp(1n) },
      {
        kind: 'option',
        protocol: 'options',
        underlying: 'BTC',
        optionType: 'call',
        strikeUsd: fp(1n),
        expirySec: 1,
        amount: fp(1n),
      },
    ];
    expect([...underlyingsOf(positions, market({}).snapshot.market.assets)].sort()).toEqual([
      'BTC',
      'ETH',
      'USDC',
    ]);
  });
});
