/** `index-range` queue: backfill one block range. Delegates to `IndexerService.backfill`. */
import type { BackfillResult, IndexerService } from '../indexer.service';
import type { JobDataByQueue } from '../queues';

export class IndexRangeProcessor {
  constructor(private readonly service: Pick<IndexerService, 'backfill'>) {}

  handle(data: JobDataByQueue['index-range']): Promise<BackfillResult> {
    return this.service.backfill(BigInt(data.fromBlock), BigInt(data.toBlock), {
      number: BigInt(data.refreshAtBlock),
      hash: data.refreshAtHash,
    });
  }
}
