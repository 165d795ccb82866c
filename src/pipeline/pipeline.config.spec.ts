import { loadPipelineConfig } from './pipeline.config';

describe('loadPipelineConfig', () => {
  it('gives the documented defaults', () => {
    expect(loadPipelineConfig({})).toEqual({
      warningBufferBps: 1_000,
      maxIndexerLagBlocks: 5,
      defaultHeartbeatSec: 3_600,
      defaultGracePeriodSec: 3_600,
      riskConcurrency: 2,
      paramsEveryMs: 3_600_000,
      window: { intervalSec: 3_600, count: 25 },
    });
  });

  it('reads every variable', () => {
    const c = loadPipelineConfig({
      NETMARGIN_RISK_WARNING_BPS: '500',
      NETMARGIN_RISK_MAX_LAG_BLOCKS: '0',
      NETMARGIN_PARAMS_EVERY_MS: '0',
      NETMARGIN_PARAMS_INTERVAL_SEC: '60',
      NETMARGIN_PARAMS_WINDOW: '2',
    });
    expect(c).toMatchObject({
      warningBufferBps: 500,
      maxIndexerLagBlocks: 0,
      paramsEveryMs: 0,
      window: { intervalSec: 60, count: 2 },
    });
  });

  it('refuses a bad value naming the variable', () => {
    expect(() => loadPipelineConfig({ NETMARGIN_PARAMS_WINDOW: '1' })).toThrow(
      'NETMARGIN_PARAMS_WINDOW: "1" is not a whole number ≥ 2',
    );
    expect(() => loadPipelineConfig({ NETMARGIN_RISK_WARNING_BPS: '10%' })).toThrow(
      /NETMARGIN_RISK_WARNING_BPS/,
    );
    expect(() => loadPipelineConfig({ NETMARGIN_PARAMS_EVERY_MS: '500' })).toThrow(/below one second/);
  });
});
