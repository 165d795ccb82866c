import { getAddress } from 'viem';
import { QUEUE_NAMES } from '../queues';
import type { ReconcileSummary } from '../reconcile';
import {
  IndexRangeProcessor,
  processorHandlers,
  ReconcileProcessor,
  RefreshProcessor,
  RiskProcessor,
} from './index';

const owner = getAddress('0x000000000000000000000000000000000000a11c');
const h = `0x${'ab'.repeat(32)}` as const;

describe('processors', () => {
  it('each pass their job data, block numbers as bigint, to one service method and return its result', async () => {
    const calls: unknown[][] = [];
    const indexRange = new IndexRangeProcessor({
      backfill: async (from, to, at) => (
        calls.push(['backfill', from, to, at]),
        { logs: 2, owners: [owner] }
      ),
    });
    const refresh = new RefreshProcessor({
      handleRefresh: async (o, b) => (calls.push(['refresh', o, b]), 'changed' as const),
      handleAdvance: async (b) => (calls.push(['advance', b]), 'unchanged' as const),
    });
    const risk = new RiskProcessor({ recompute: async (o, b) => (calls.push(['risk', o, b]), 'ok') });
    const summary = { checked: 3 } as ReconcileSummary;
    const reconcile = new ReconcileProcessor({
      run: async (at) => (calls.push(['reconcile', at]), summary),
    });
    const handlers = processorHandlers({ indexRange, refresh, risk, reconcile });
    expect(Object.keys(handlers).sort()).toEqual([...QUEUE_NAMES].sort());
    const job = {} as never;
    expect(
      await handlers['index-range']!(
        {
          fromBlock: '9007199254740993',
          toBlock: '9007199254740999',
          refreshAtBlock: '9007199254741000',
          refreshAtHash: h,
        },
        job,
      ),
    ).toEqual({
      logs: 2,
      owners: [owner],
    });
    expect(await handlers.refresh!({ owner, blockNumber: '12', blockHash: h }, job)).toBe('changed');
    expect(await handlers.refresh!({ advance: true, blockNumber: '12', blockHash: h }, job)).toBe(
      'unchanged',
    );
    expect(await handlers.risk!({ owner, blockNumber: '13', blockHash: h }, job)).toBe('ok');
    expect(await handlers.reconcile!({}, job)).toBe(summary);
    expect(await handlers.reconcile!({ blockNumber: '14', blockHash: h }, job)).toBe(summary);
    expect(calls).toEqual([
      ['backfill', 9007199254740993n, 9007199254740999n, { number: 9007199254741000n, hash: h }],
      ['refresh', owner, { number: 12n, hash: h }],
      ['advance', { number: 12n, hash: h }],
      ['risk', owner, { number: 13n, hash: h }],
      // A scheduled run names no block (the store's head); a run by hand names one.
      ['reconcile', undefined],
      ['reconcile', { number: 14n, hash: h }],
    ]);
  });

  it('leaves a queue without a processor out of the handlers', () => {
    const refresh = new RefreshProcessor({
      handleRefresh: async () => 'unchanged' as const,
      handleAdvance: async () => 'unchanged' as const,
    });
    expect(Object.keys(processorHandlers({ refresh }))).toEqual(['refresh']);
  });
});
