/**
 * `refresh` queue: re-read one owner at one block (`IndexerService.handleRefresh`), or move the store's
 * head to a block (`IndexerService.handleAdvance`, the `advance-head` jobs a range queues after its
 * owners' refreshes).
 */
import type { IndexerService, RefreshOutcome } from '../indexer.service';
import { jobBlock, type JobDataByQueue } from '../queues';

export class RefreshProcessor {
  constructor(private readonly service: Pick<IndexerService, 'handleRefresh' | 'handleAdvance'>) {}

  handle(data: JobDataByQueue['refresh']): Promise<RefreshOutcome> {
    return 'advance' in data
      ? this.service.handleAdvance(jobBlock(data))
      : this.service.handleRefresh(data.owner, jobBlock(data));
  }
}
