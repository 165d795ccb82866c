import type { Address, Hex } from 'viem';
import {
  account,
  DEFAULT_SPOTS,
  flatSlice,
  AS_OF_SEC,
  option,
  perp,
  spot,
} from '../../../test/vectors/fixtures';
import type { BlockStamped } from '../../indexer/chain/store';
import type { OwnerPositions } from '../../indexer/indexer.service';
import type { MarketRecord } from '../../indexer/market-recorder';
import type { ParamSet, RiskRecord } from '../../pipeline/types';
import { computeAccountRiskIn, computeScenarioGrid, DEFAULT_RISK_PARAMS, prepareMarket } from '../../risk';
import type { RiskParams } from '../../risk/params';
import { AccountsService, snapshotOf } from './accounts.service';

const OWNER = '0x00000000000000000000000000000000000000A1' as Address;
const EXP = AS_OF_SEC + 7 * 86_400;
const PARAMS: RiskParams = {
  ...DEFAULT_RISK_PARAMS,
  valueAtRisk: { ...DEFAULT_RISK_PARAMS.valueAtRisk, monteCarloPaths: 100 },
};
const input = account({
  positions: [
    spot('WETH', 4),
    perp('BTC', -0.2, DEFAULT_SPOTS.BTC!, { marginUsd: 2_000 }),
    option('ETH', 'put', 2_800, EXP, 3),
  ],
  volSurfaces: { ETH: [flatSlice(EXP, DEFAULT_SPOTS.ETH!, 0.65)] },
});
const HASH_A = `0x${'aa'.repeat(32)}` as Hex;
const HASH_B = `0x${'bb'.repeat(32)}` as Hex;

const set: ParamSet = {
  version: 3,
  hash: HASH_A,
  params: PARAMS,
  history: input.market.history,
  liquidity: input.market.liquidity,
  window: { endSec: AS_OF_SEC, intervalSec: input.market.history.intervalSec, count: 0 },
  createdAtMs: 0,
  reason: 'initial',
};
const { history: _h, liquidity: _l, ...onChain } = input.market;
const market = {
  blockNumber: 100n,
  blockHash: HASH_A,
  snapshot: { asOfSec: input.asOfSec, market: onChain },
  rounds: {},
  sequencer: {},
} as unknown as MarketRecord;
const stamped: BlockStamped<OwnerPositions> = {
  blockNumber: 90n,
  value: { owner: OWNER, protocols: [{ protocol: 'wallet', positions: input.positions }] },
} as unknown as BlockStamped<OwnerPositions>;

function record(): RiskRecord {
  const ctx = prepareMarket(snapshotOf(market, set), PARAMS);
  const result = computeAccountRiskIn(ctx, { account: OWNER, positions: input.positions });
  return {
    owner: OWNER,
    blockNumber: 100n,
    blockHash: HASH_A,
    asOfSec: input.asOfSec,
    positionsBlockNumber: 90n,
    paramsVersion: 3,
    paramsHash: HASH_A,
    inputHash: result.inputHash,
    health: 'healthy',
    imUsd6: 0n,
    mmUsd6: 0n,
    mtmUsd6: 0n,
    adjustedEquityUsd6: 0n,
    freeCollateralUsd6: 0n,
    shortfallUsd6: 0n,
    marginRatio: null,
    stale: { oracle: false, sequencer: false, indexer: false, reasons: [] },
    computedAtMs: 0,
    result,
  };
}

function service(over: { market?: MarketRecord; set?: ParamSet; stamped?: BlockStamped<OwnerPositions> }) {
  const r = record();
  const s = new AccountsService({
    positions: { get: async () => ('stamped' in over ? over.stamped : stamped) },
    results: {
      latest: async () => r,
      history: async () => [r],
      owners: async () => [OWNER],
      changes: async () => [],
    },
    markets: {
      at: async (n: bigint) => (n === 100n ? ('market' in over ? over.market : market) : undefined),
      newest: async () => market,
    },
    params: {
      active: async () => set,
      byVersion: async (v: number) => (v === 3 ? ('set' in over ? over.set : set) : undefined),
      byHash: async () => set,
    },
    rules: {
      heartbeatByFeed: new Map(),
      defaultHeartbeatSec: 3_600,
      sequencerGracePeriodSec: 3_600,
      maxIndexerLagBlocks: 10,
    },
    warningBufferBps: 0,
  });
  return { s, r };
}

describe('AccountsService: the health answer’s scenario grid', () => {
  it('is the engine’s grid of the result’s positions on its market and parameter set', async () => {
    const { s, r } = service({});
    const expected = computeScenarioGrid(prepareMarket(snapshotOf(market, set), PARAMS), input);
    const view = await s.healthOf(r);
    expect(view.scenarioGrid).toEqual(expected);
    expect(expected.pnlUsd.flat().some((x) => x !== 0)).toBe(true);
    expect((await s.health(OWNER)).scenarioGrid).toEqual(expected);
  });

  it.each([
    ['the market of the result’s block is no longer held', { market: undefined }],
    ['the held market is another block’s (reorg)', { market: { ...market, blockHash: HASH_B } }],
    ['the parameter set is no longer held', { set: undefined }],
    ['the parameter set differs from the result’s', { set: { ...set, hash: HASH_B } }],
    ['the stored positions are newer than the result', { stamped: { ...stamped, blockNumber: 95n } }],
    ['no positions are stored', { stamped: undefined }],
  ] as const)('is null when %s', async (_why, over) => {
    const { s, r } = service(over as Parameters<typeof service>[0]);
    const view = await s.healthOf(r);
    expect(view.scenarioGrid).toBeNull();
    expect(view.inputHash).toBe(r.inputHash);
  });
});
