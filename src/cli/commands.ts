/**
 * `health`, `what-if` and `params`: each gathers what it needs from the network's stores, computes
 * if it must (what-if runs the engine), and returns one `CommandOutput` — the JSON document for
 * `--json` and the text for people — so `netmargin.ts` only prints and picks the exit status.
 */
import type { Address, Hex } from 'viem';
import { NetmarginError } from '../common/errors';
import { computeAccountRiskIn, prepareMarket, type AccountRiskResult } from '../risk';
import type { Position } from '../risk/types';
import { classify, usd6Figures, type Usd6Figures } from '../pipeline/classify';
import { enginePositions, engineSnapshot } from './engine-input';
import type { HealthClass, ParamSet, RiskRecord } from '../pipeline/types';
import type { CliContext } from './context';
import {
  formatPct,
  formatTimeSec,
  formatUsd,
  formatUsd6,
  formatUsd6Delta,
  pairs,
  table,
  toJson,
} from './format';
import { applyTrades, type Trade } from './trades';

export interface CommandOutput {
  json: unknown;
  text: string;
  /** 0 unless the command found something a script must notice (a replay mismatch: 1). */
  exitCode: number;
}

/** The buffer above IM the risk workers use by default for `warning` (basis points). */
const WARNING_BUFFER_BPS = 1_000;

async function noResult(ctx: CliContext, owner: Address): Promise<never> {
  const owners = await (await ctx.results()).owners();
  throw new NetmarginError(`No margin is stored for ${owner} on network ${ctx.options.network}`, {
    code: 'NO_RESULT',
    hint:
      owners.length === 0
        ? `Nothing is stored under network "${ctx.options.network}": check --network and --redis, and that the risk workers run.`
        : 'The risk workers margin accounts that hold positions; check the address, or use what-if for an empty account.',
    details: { owner },
  });
}

// ---------------------------------------------------------------------------------------------
// health

export async function healthCommand(ctx: CliContext, owner: Address): Promise<CommandOutput> {
  const record = await (await ctx.results()).latest(owner);
  if (!record) return noResult(ctx, owner);
  return { json: record, text: healthText(record), exitCode: 0 };
}

function staleText(r: RiskRecord): string {
  const flags = (['oracle', 'sequencer', 'indexer'] as const).filter((k) => r.stale[k]);
  return flags.length === 0 ? 'none' : `${flags.join(', ')}: ${r.stale.reasons.join('; ')}`;
}

function distanceText(d: AccountRiskResult['liquidationDistance']): string {
  const down = d.downMovePct === null ? 'none in range' : formatPct(-d.downMovePct);
  const up = d.upMovePct === null ? 'none in range' : `+${formatPct(d.upMovePct)}`;
  return `market down ${down} / up ${up}`;
}

export function healthText(r: RiskRecord): string {
  const res = r.result;
  const head = pairs([
    ['Account', r.owner],
    ['Block', `${r.blockNumber} (${formatTimeSec(r.asOfSec)}), positions read at ${r.positionsBlockNumber}`],
    ['Parameters', `v${r.paramsVersion} ${r.paramsHash}`],
    ['Inputs hash', r.inputHash],
    ['Health', r.health],
    ['Stale inputs', staleText(r)],
  ]);
  const figures = table([
    ['Figure', 'USD'],
    ['Mark-to-market', formatUsd6(r.mtmUsd6)],
    ['Adjusted equity', formatUsd6(r.adjustedEquityUsd6)],
    ['Initial margin (IM)', formatUsd6(r.imUsd6)],
    ['Maintenance margin (MM)', formatUsd6(r.mmUsd6)],
    ['Free collateral', formatUsd6(r.freeCollateralUsd6)],
    ['Shortfall', formatUsd6(r.shortfallUsd6)],
    ['Margin ratio (equity / MM)', r.marginRatio === null ? '—' : r.marginRatio.toFixed(4)],
  ]);
  const notes: [string, string][] = [['Liquidation distance', distanceText(res.liquidationDistance)]];
  if (res.worstScenario)
    notes.push([
      'Worst scenario',
      `${res.worstScenario.underlying} ${res.worstScenario.name}: ${formatUsd(res.worstScenario.pnlUsd)}`,
    ]);
  const parts = [head, '', figures, '', pairs(notes)];
  if (res.byProtocol.length > 0)
    parts.push(
      '',
      table([
        ['Protocol', 'MTM', 'Haircut', 'Standalone loss'],
        ...res.byProtocol.map((p) => [
          p.protocol,
          formatUsd(p.mtmUsd),
          formatUsd(p.haircutUsd),
          formatUsd(p.standaloneLossUsd),
        ]),
      ]),
    );
  if (res.byUnderlying.length > 0)
    parts.push(
      '',
      table([
        ['Underlying', 'Spot', 'Vol', 'MTM', 'Delta', 'Vega / pt', 'Theta / day', 'Loss'],
        ...res.byUnderlying.map((u) => [
          u.underlying,
          formatUsd(u.spotUsd),
          formatPct(u.volAnnual, 1),
          formatUsd(u.mtmUsd),
          u.greeks.delta.toFixed(4),
          formatUsd(u.greeks.vegaUsdPerVolPoint),
          formatUsd(u.greeks.thetaUsdPerDay),
          formatUsd(u.standaloneLossUsd),
        ]),
      ]),
    );
  return parts.join('\n');
}

// ---------------------------------------------------------------------------------------------
// what-if

export interface WhatIfFigures extends Usd6Figures {
  health: HealthClass;
  inputHash: Hex;
}

export interface WhatIfAnswer {
  owner: Address;
  /** The market block margined against (the newest recorded). */
  blockNumber: bigint;
  blockHash: Hex;
  asOfSec: number;
  /** The block the stored positions were read at (null: no positions stored, an empty account). */
  positionsBlockNumber: bigint | null;
  paramsVersion: number;
  paramsHash: Hex;
  trades: string[];
  before: WhatIfFigures;
  after: WhatIfFigures;
  /** after − before, per USD6 figure. */
  change: Pick<
    Usd6Figures,
    'imUsd6' | 'mmUsd6' | 'mtmUsd6' | 'adjustedEquityUsd6' | 'freeCollateralUsd6' | 'shortfallUsd6'
  >;
  /** The engine's full output after the trades (breakdowns, Greeks, scenarios). */
  afterResult: AccountRiskResult;
}

function figuresOf(result: AccountRiskResult): WhatIfFigures {
  const f = usd6Figures(result);
  // Inputs are assumed fresh: staleness is a property of the stored result, not of a prospect.
  const health = classify(
    f,
    { oracle: false, sequencer: false, indexer: false },
    { warningBufferBps: WARNING_BUFFER_BPS },
  );
  return { ...f, health, inputHash: result.inputHash };
}

export async function whatIfCommand(
  ctx: CliContext,
  owner: Address,
  trades: readonly Trade[],
): Promise<CommandOutput> {
  const market = await ctx.newestMarket();
  if (!market)
    throw new NetmarginError(`No market is recorded on network ${ctx.options.network}`, {
      code: 'NO_MARKET',
      hint: 'The worker’s head role records the market every block; start it (npm run start:worker) or check --network.',
    });
  const set = await (await ctx.params()).active();
  const stamped = await (await ctx.positions()).get(owner);
  const before: Position[] = stamped ? enginePositions(stamped.value) : [];
  const snapshot = engineSnapshot(market, set);
  const after = applyTrades(before, trades, snapshot.market);
  const mctx = prepareMarket(snapshot, set.params);
  const beforeResult = computeAccountRiskIn(mctx, { account: owner, positions: before });
  const afterResult = computeAccountRiskIn(mctx, { account: owner, positions: after });
  const b = figuresOf(beforeResult);
  const a = figuresOf(afterResult);
  const answer: WhatIfAnswer = {
    owner,
    blockNumber: market.blockNumber,
    blockHash: market.blockHash,
    asOfSec: market.snapshot.asOfSec,
    positionsBlockNumber: stamped?.blockNumber ?? null,
    paramsVersion: set.version,
    paramsHash: set.hash,
    trades: trades.map((t) => t.text),
    before: b,
    after: a,
    change: {
      imUsd6: a.imUsd6 - b.imUsd6,
      mmUsd6: a.mmUsd6 - b.mmUsd6,
      mtmUsd6: a.mtmUsd6 - b.mtmUsd6,
      adjustedEquityUsd6: a.adjustedEquityUsd6 - b.adjustedEquityUsd6,
      freeCollateralUsd6: a.freeCollateralUsd6 - b.freeCollateralUsd6,
      shortfallUsd6: a.shortfallUsd6 - b.shortfallUsd6,
    },
    afterResult,
  };
  return { json: answer, text: whatIfText(answer), exitCode: 0 };
}

export function whatIfText(w: WhatIfAnswer): string {
  const ratio = (x: number | null): string => (x === null ? '—' : x.toFixed(4));
  const row = (label: string, k: keyof WhatIfAnswer['change']): string[] => [
    label,
    formatUsd6(w.before[k]),
    formatUsd6(w.after[k]),
    formatUsd6Delta(w.change[k]),
  ];
  const head = pairs([
    ['Account', w.owner],
    ['Market block', `${w.blockNumber} (${formatTimeSec(w.asOfSec)})`],
    [
      'Positions',
      w.positionsBlockNumber === null
        ? 'none stored (an empty account)'
        : `read at block ${w.positionsBlockNumber}`,
    ],
    ['Parameters', `v${w.paramsVersion} ${w.paramsHash}`],
    ['Trades', w.trades.join('  ')],
  ]);
  const body = table(
    [
      ['Figure', 'Before', 'After', 'Change'],
      row('Mark-to-market', 'mtmUsd6'),
      row('Adjusted equity', 'adjustedEquityUsd6'),
      row('Initial margin (IM)', 'imUsd6'),
      row('Maintenance margin (MM)', 'mmUsd6'),
      row('Free collateral', 'freeCollateralUsd6'),
      row('Shortfall', 'shortfallUsd6'),
      ['Margin ratio (equity / MM)', ratio(w.before.marginRatio), ratio(w.after.marginRatio), ''],
      ['Health', w.before.health, w.after.health, ''],
    ],
    ['left', 'right', 'right', 'right'],
  );
  return [
    head,
    '',
    body,
    '',
    pairs([['Liquidation distance after', distanceText(w.afterResult.liquidationDistance)]]),
    'Inputs are taken as fresh; new perps enter at the oracle price.',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// params

export async function paramsCommand(ctx: CliContext): Promise<CommandOutput> {
  const set = await (await ctx.params()).active();
  return { json: set, text: paramsText(set), exitCode: 0 };
}

function duration(sec: number): string {
  if (sec % 86_400 === 0) return `${sec / 86_400} d`;
  if (sec % 3_600 === 0) return `${sec / 3_600} h`;
  return `${sec} s`;
}

export function paramsText(s: ParamSet): string {
  const p = s.params;
  const w = s.window;
  const head = pairs([
    ['Parameter set', `v${s.version}`],
    ['Hash', s.hash],
    ['Reason', s.reason],
    ['Published', new Date(s.createdAtMs).toISOString().replace('T', ' ').slice(0, 19) + ' UTC'],
    [
      'Window',
      `${w.count} closes every ${duration(w.intervalSec)}${w.endSec > 0 ? `, ending ${formatTimeSec(w.endSec)}` : ''}`,
    ],
    ['Engine parameters', p.version],
    ['IM / MM', `${p.imToMmMultiplier}`],
    [
      'Scenarios',
      `spot ±${p.scenario.spotShockSigmas} σ over ${duration(p.scenario.horizonSec)}, vol ${p.scenario.volShocks.join('/')}`,
    ],
    [
      'VaR / ES',
      `${formatPct(p.valueAtRisk.varConfidence, 1)} / ${formatPct(p.valueAtRisk.esConfidence, 1)} over ${duration(p.valueAtRisk.horizonSec)}, ${p.valueAtRisk.monteCarloPaths} Monte Carlo paths`,
    ],
    [
      'Volatility',
      `EWMA λ ${p.volatility.ewmaLambda}, floor ${formatPct(p.volatility.floorRatioToLongRun, 0)} of long-run`,
    ],
    ['Oracle', `fresh ≤ ${p.oracle.freshAgeSec} s, refused after ${p.oracle.maxAgeSec} s`],
  ]);
  const names = Object.keys(p.underlyings).sort();
  const rows = names.map((u) => {
    const x = p.underlyings[u]!;
    const liq = s.liquidity[u];
    return [
      u,
      x.tier,
      x.isStable ? 'yes' : 'no',
      `${formatPct(x.minSpotShockPct, 1)} … ${formatPct(x.maxSpotShockPct, 1)}`,
      liq ? formatUsd(liq.depthUsd) : '—',
      liq ? formatUsd(liq.openInterestUsd) : '—',
      String(s.history.closesUsdByUnderlying[u]?.length ?? 0),
    ];
  });
  return [
    head,
    '',
    table(
      [['Underlying', 'Tier', 'Stable', 'Spot shock', 'Depth', 'Open interest', 'Closes'], ...rows],
      ['left', 'left', 'left', 'right', 'right', 'right', 'right'],
    ),
  ].join('\n');
}

/** What `--json` prints: the command's document with bigints as decimal strings. */
export function jsonText(out: CommandOutput): string {
  return toJson(out.json);
}
