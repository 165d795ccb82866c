import { getAddress } from 'viem';
import { judgeInputs, recordRefusal, type InputFacts } from './checks';

const FEED = {
  label: 'ETH / USD',
  address: getAddress('0x00000000000000000000000000000000000000e7'),
  heartbeatSec: 3_600,
};
const FRESH: InputFacts = {
  nowSec: 100_000n,
  headBlock: 500n,
  feeds: [{ feed: FEED, updatedAtSec: 99_000n }],
  sequencer: { answer: 0n, startedAtSec: 10_000n, gracePeriodSec: 3_600 },
  indexerBlock: 498n,
};
const RULES = { maxIndexerLagBlocks: 2n };

describe('input checks at signing time', () => {
  it('passes fresh inputs', () => {
    expect(judgeInputs(FRESH, RULES)).toEqual([]);
  });

  it('refuses a price older than its heartbeat, and a never-updated one', () => {
    const old = judgeInputs({ ...FRESH, feeds: [{ feed: FEED, updatedAtSec: 100_000n - 3_601n }] }, RULES);
    expect(old).toEqual([
      { reason: 'oracle-stale', detail: 'ETH / USD updated 3601 s ago, heartbeat 3600 s' },
    ]);
    expect(
      judgeInputs({ ...FRESH, feeds: [{ feed: FEED, updatedAtSec: 100_000n - 3_600n }] }, RULES),
    ).toEqual([]);
    expect(judgeInputs({ ...FRESH, feeds: [{ feed: FEED, updatedAtSec: 0n }] }, RULES)[0]?.reason).toBe(
      'oracle-stale',
    );
  });

  it('refuses while the sequencer is down or inside its grace period', () => {
    const down = { ...FRESH, sequencer: { answer: 1n, startedAtSec: 99_990n, gracePeriodSec: 3_600 } };
    expect(judgeInputs(down, RULES).map((r) => r.reason)).toEqual(['sequencer-down']);
    const unset = { ...FRESH, sequencer: { answer: 0n, startedAtSec: 0n, gracePeriodSec: 3_600 } };
    expect(judgeInputs(unset, RULES).map((r) => r.reason)).toEqual(['sequencer-down']);
    const grace = {
      ...FRESH,
      sequencer: { answer: 0n, startedAtSec: 100_000n - 3_599n, gracePeriodSec: 3_600 },
    };
    expect(judgeInputs(grace, RULES)).toEqual([
      { reason: 'sequencer-grace', detail: 'sequencer up for 3599 s, grace period 3600 s' },
    ]);
    const after = {
      ...FRESH,
      sequencer: { answer: 0n, startedAtSec: 100_000n - 3_600n, gracePeriodSec: 3_600 },
    };
    expect(judgeInputs(after, RULES)).toEqual([]);
  });

  it('refuses when the indexer is more than N blocks behind or has no cursor', () => {
    expect(judgeInputs({ ...FRESH, indexerBlock: 497n }, RULES)).toEqual([
      {
        reason: 'indexer-behind',
        detail: 'indexer at block 497, head 500: 3 blocks behind, at most 2 allowed',
      },
    ]);
    expect(judgeInputs({ ...FRESH, indexerBlock: null }, RULES)[0]?.reason).toBe('indexer-behind');
  });

  it('reports every failing input at once', () => {
    const all = judgeInputs(
      {
        ...FRESH,
        feeds: [{ feed: FEED, updatedAtSec: 1n }],
        sequencer: { answer: 1n, startedAtSec: 5n, gracePeriodSec: 1 },
        indexerBlock: 1n,
      },
      RULES,
    );
    expect(all.map((r) => r.reason)).toEqual(['oracle-stale', 'sequencer-down', 'indexer-behind']);
  });

  it('refuses a record computed on stale inputs, naming which ones', () => {
    expect(recordRefusal({ oracle: false, sequencer: false, indexer: false, reasons: [] })).toBeUndefined();
    expect(
      recordRefusal({
        oracle: true,
        sequencer: false,
        indexer: true,
        reasons: ['ETH/USD updated 4210 s ago'],
      }),
    ).toEqual({
      reason: 'record-stale',
      detail: 'oracle, indexer stale when computed: ETH/USD updated 4210 s ago',
    });
  });
});
