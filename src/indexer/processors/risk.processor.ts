/**
 * `risk` queue: one owner whose positions changed at a block. Delegates to the risk side's one method;
 * the indexer only produces these jobs, so the service is whatever implements `RiskJobService`.
 */
import type { Address } from 'viem';
import type { BlockRef } from '../chain/store';
import { jobBlock, type JobDataByQueue } from '../queues';

export interface RiskJobService {
  recompute(owner: Address, block: BlockRef): Promise<unknown>;
}

export class RiskProcessor {
  constructor(private readonly service: RiskJobService) {}

  handle(data: JobDataByQueue['risk']): Promise<unknown> {
    return this.service.recompute(data.owner, jobBlock(data));
  }
}
