/**
 * `reconcile` queue: one reconciliation run (`Reconciler.run`), at the job's block when it names one,
 * else at the positions store's head (the scheduled runs).
 */
import type { ReconcileSummary, Reconciler } from '../reconcile';
import { jobBlock, type JobDataByQueue } from '../queues';

export class ReconcileProcessor {
  constructor(private readonly reconciler: Pick<Reconciler, 'run'>) {}

  handle(data: JobDataByQueue['reconcile']): Promise<ReconcileSummary> {
    const { blockNumber, blockHash } = data;
    return this.reconciler.run(
      blockNumber !== undefined && blockHash !== undefined ? jobBlock({ blockNumber, blockHash }) : undefined,
    );
  }
}
