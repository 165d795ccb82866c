/** `refresh` queue: re-read one owner at one block. Delegates to `IndexerService.handleRefresh`. */
import type { IndexerService, RefreshOutcome } from '../indexer.service';
import type { JobDataByQueue } from '../queues';

export class RefreshProcessor {
  constructor(private readonly service: Pick<IndexerService, 'handleRefresh'>) {}

  handle(data: JobDataByQueue['refresh']): Promise<RefreshOutcome> {
    return this.service.handleRefresh(data.owner, BigInt(data.blockNumber));
  }
}
