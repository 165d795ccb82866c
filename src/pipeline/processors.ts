/**
 * The risk workers' queue processors: each only delegates. The `risk` queue's processor is the
 * indexer's `RiskProcessor` over `RiskService` (it implements `RiskJobService`).
 */
import { jobBlock } from '../indexer/queues';
import type { ParamEstimator } from './param-estimator';
import type { PipelineHandlers, PipelineJobData } from './queues';
import type { RiskService } from './risk.service';

/** `risk-market`: recompute the accounts a recorded market block moved. */
export class RiskMarketProcessor {
  constructor(private readonly service: RiskService) {}

  handle(data: PipelineJobData['risk-market']): Promise<unknown> {
    return this.service.recomputeMarket(jobBlock(data));
  }
}

/** `params`: re-estimate the parameter set from the price history. */
export class ParamsProcessor {
  constructor(private readonly estimator: ParamEstimator) {}

  async handle(): Promise<unknown> {
    const { set, created } = await this.estimator.reestimate();
    return { version: set.version, hash: set.hash, created };
  }
}

export function pipelineHandlers(p: {
  market: RiskMarketProcessor;
  params: ParamsProcessor;
}): PipelineHandlers {
  return {
    'risk-market': (d) => p.market.handle(d),
    params: () => p.params.handle(),
  };
}
