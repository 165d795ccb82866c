/** One processor class per queue; `processorHandlers` turns them into `startWorkers` handlers. */
import type { JobHandlers } from '../queues';
import type { IndexRangeProcessor } from './index-range.processor';
import type { ReconcileProcessor } from './reconcile.processor';
import type { RefreshProcessor } from './refresh.processor';
import type { RiskProcessor } from './risk.processor';

export { IndexRangeProcessor } from './index-range.processor';
export { ReconcileProcessor } from './reconcile.processor';
export { RefreshProcessor } from './refresh.processor';
export { RiskProcessor, type RiskJobService } from './risk.processor';

export function processorHandlers(p: {
  indexRange?: IndexRangeProcessor;
  refresh?: RefreshProcessor;
  risk?: RiskProcessor;
  reconcile?: ReconcileProcessor;
}): JobHandlers {
  return {
    ...(p.indexRange ? { 'index-range': (d) => p.indexRange!.handle(d) } : {}),
    ...(p.refresh ? { refresh: (d) => p.refresh!.handle(d) } : {}),
    ...(p.risk ? { risk: (d) => p.risk!.handle(d) } : {}),
    ...(p.reconcile ? { reconcile: (d) => p.reconcile!.handle(d) } : {}),
  };
}
