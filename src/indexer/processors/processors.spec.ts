import { getAddress } from 'viem';
import { QUEUE_NAMES } from '../queues';
import { IndexRangeProcessor, processorHandlers, RefreshProcessor, RiskProcessor } from './index';

const owner = getAddress('0x000000000000000000000000000000000000a11c');

describe('processors', () => {
  it('each pass their job data, block numbers as bigint, to one service method and return its result', async () => {
    const calls: unknown[][] = [];
    const indexRange = new IndexRangeProcessor({
      backfill: async (from, to) => (calls.push(['backfill', from, to]), { logs: 2, owners: [owner] }),
    });
    const refresh = new RefreshProcessor({
      handleRefresh: async (o, b) => (calls.push(['refresh', o, b]), 'changed' as const),
    });
    const risk = new RiskProcessor({ recompute: async (o, b) => (calls.push(['risk', o, b]), 'ok') });
    const handlers = processorHandlers({ indexRange, refresh, risk });
    expect(Object.keys(handlers).sort()).toEqual([...QUEUE_NAMES].sort());
    const job = {} as never;
    expect(
      await handlers['index-range']!({ fromBlock: '9007199254740993', toBlock: '9007199254740999' }, job),
    ).toEqual({
      logs: 2,
      owners: [owner],
    });
    expect(await handlers.refresh!({ owner, blockNumber: '12' }, job)).toBe('changed');
    expect(await handlers.risk!({ owner, blockNumber: '13' }, job)).toBe('ok');
    expect(calls).toEqual([
      ['backfill', 9007199254740993n, 9007199254740999n],
      ['refresh', owner, 12n],
      ['risk', owner, 13n],
    ]);
  });

  it('leaves a queue without a processor out of the handlers', () => {
    const refresh = new RefreshProcessor({ handleRefresh: async () => 'unchanged' as const });
    expect(Object.keys(processorHandlers({ refresh }))).toEqual(['refresh']);
  });
});
