/**
 * `health`, `what-if` and `params`: each gathers what it needs from the network's stores, computes
 * if it must (what-if runs the engine), and returns one `CommandOutput` — the JSON document for
 * `--json` and the text for people — so `netmargin.ts` only prints and picks the exit status.
 */
import { existsSync } from 'node:fs';
import type { Address } from 'viem';
import { AccountsService, type WhatIfAnswer } from '../api/accounts/accounts.service';
import type { HealthView } from '../api/accounts/views';
import { InvalidInputError, NetmarginError } from '../common/errors';
import { stalenessRulesFromManifest, type StalenessRules } from '../pipeline/classify';
import type { ParamSet } from '../pipeline/types';
import { apiHealth, apiWhatIf, reviveHealth, reviveWhatIf } from './api-client';
import { UsageError } from './args';
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
import { resolveTrades, TRADE_SYNTAX, type ParsedTrade } from './trades';

export interface CommandOutput {
  json: unknown;
  text: string;
  /** 0 unless the command found something a script must notice (a replay mismatch: 1). */
  exitCode: number;
}

/** The risk workers' and the API's defaults: warning buffer above IM, feed heartbeat, sequencer grace. */
const WARNING_BUFFER_BPS = 1_000;
const DEFAULT_HEARTBEAT_SEC = 3_600;
const DEFAULT_GRACE_SEC = 3_600;

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
  if (ctx.options.apiUrl) {
    const body = await apiHealth(ctx.options.apiUrl, owner);
    return { json: body, text: healthText(reviveHealth(body)), exitCode: 0 };
  }
  if (!(await (await ctx.results()).latest(owner))) return noResult(ctx, owner);
  const view = await (await accountsService(ctx)).health(owner);
  return { json: view, text: healthText(view), exitCode: 0 };
}

function staleText(v: HealthView): string {
  const flags = (['oracle', 'sequencer', 'indexer'] as const).filter((k) => v.stale[k]);
  return flags.length === 0 ? 'none' : `${flags.join(', ')}: ${v.stale.reasons.join('; ')}`;
}

function distanceText(d: HealthView['liquidationDistance']): string {
  const down = d.downMovePct === null ? 'none in range' : formatPct(-d.downMovePct);
  const up = d.upMovePct === null ? 'none in range' : `+${formatPct(d.upMovePct)}`;
  return `market down ${down} / up ${up}`;
}

/** The health of an account as people read it (the API's health answer, `HealthView`). */
export function healthText(v: HealthView): string {
  const head = pairs([
    ['Account', v.owner],
    ['Block', `${v.blockNumber} (${formatTimeSec(v.asOfSec)}), positions read at ${v.positionsBlockNumber}`],
    ['Parameters', `v${v.params.version} ${v.params.hash}`],
    ['Inputs hash', v.inputHash],
    ['Health', v.health],
    ['Stale inputs', staleText(v)],
  ]);
  const figures = table([
    ['Figure', 'USD'],
    ['Mark-to-market', formatUsd6(v.mtmUsd6)],
    ['Adjusted equity', formatUsd6(v.adjustedEquityUsd6)],
    ['Initial margin (IM)', formatUsd6(v.imUsd6)],
    ['Maintenance margin (MM)', formatUsd6(v.mmUsd6)],
    ['Free collateral', formatUsd6(v.freeCollateralUsd6)],
    ['Shortfall', formatUsd6(v.shortfallUsd6)],
    ['Margin ratio (equity / MM)', ratio(v.marginRatio)],
  ]);
  const notes: [string, string][] = [['Liquidation distance', distanceText(v.liquidationDistance)]];
  if (v.worstScenario)
    notes.push([
      'Worst scenario',
      `${v.worstScenario.underlying} ${v.worstScenario.name}: ${formatUsd(v.worstScenario.pnlUsd)}`,
    ]);
  notes.push([
    'Greeks (total)',
    `delta ${formatUsd(v.greeks.deltaUsd)}, vega ${formatUsd(v.greeks.vegaUsdPerVolPoint)} / vol pt, theta ${formatUsd(v.greeks.thetaUsdPerDay)} / day`,
  ]);
  const parts = [head, '', figures, '', pairs(notes)];
  if (v.byProtocol.length > 0)
    parts.push(
      '',
      table([
        ['Protocol', 'MTM', 'Haircut', 'Standalone loss'],
        ...v.byProtocol.map((p) => [
          p.protocol,
          formatUsd(p.mtmUsd),
          formatUsd(p.haircutUsd),
          formatUsd(p.standaloneLossUsd),
        ]),
      ]),
    );
  if (v.byUnderlying.length > 0)
    parts.push(
      '',
      table([
        ['Underlying', 'Spot', 'Vol', 'MTM', 'Delta', 'Vega / pt', 'Theta / day', 'Loss'],
        ...v.byUnderlying.map((u) => [
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

function ratio(x: number | null): string {
  return x === null ? '—' : x.toFixed(4);
}

// ---------------------------------------------------------------------------------------------
// what-if

/** Staleness rules as the API builds them: the manifest's heartbeats when it is there, else defaults. */
function whatIfRules(ctx: CliContext): StalenessRules {
  const opts = {
    defaultHeartbeatSec: DEFAULT_HEARTBEAT_SEC,
    defaultGracePeriodSec: DEFAULT_GRACE_SEC,
    maxIndexerLagBlocks: Number.MAX_SAFE_INTEGER,
  };
  if (existsSync(ctx.options.manifestPath)) return stalenessRulesFromManifest(ctx.manifest(), opts);
  return {
    heartbeatByFeed: new Map(),
    defaultHeartbeatSec: opts.defaultHeartbeatSec,
    sequencerGracePeriodSec: opts.defaultGracePeriodSec,
    maxIndexerLagBlocks: opts.maxIndexerLagBlocks,
  };
}

/** The API's account service on the CLI's stores (what `health` and `what-if` answer with). */
async function accountsService(ctx: CliContext): Promise<AccountsService> {
  return new AccountsService({
    positions: await ctx.positions(),
    results: await ctx.results(),
    markets: await ctx.markets(),
    params: await ctx.params(),
    rules: whatIfRules(ctx),
    warningBufferBps: WARNING_BUFFER_BPS,
  });
}

/**
 * The API's what-if (`AccountsService.whatIf`) on the same stores: the account's latest result's
 * market and parameter set as the basis, the trades applied by the API's rules. A trade the API
 * refuses (`InvalidInputError`, naming `trades[i].<field>`) is bad usage.
 */
export async function whatIfCommand(
  ctx: CliContext,
  owner: Address,
  parsed: readonly ParsedTrade[],
): Promise<CommandOutput> {
  if (ctx.options.apiUrl) {
    parsed.forEach((p, i) => {
      if ('expiry' in p && 'date' in p.expiry)
        throw new UsageError(
          `trades[${i}].expirySec`,
          `a date (${p.expiry.date}) needs the market's expiries`,
          {
            hint: 'With --api give the expiry in unix seconds, or leave --api out to read the listed expiries.',
          },
        );
    });
    const body = await apiWhatIf(ctx.options.apiUrl, owner, resolveTrades(parsed, { volSurfaces: {} }));
    return { json: body, text: whatIfText(reviveWhatIf(body), parsed), exitCode: 0 };
  }
  if (!(await (await ctx.results()).latest(owner))) return noResult(ctx, owner);
  const service = await accountsService(ctx);
  const markets = await ctx.markets();
  const newest = await markets.newest();
  const trades = resolveTrades(parsed, newest?.snapshot.market ?? { volSurfaces: {} });
  let answer: WhatIfAnswer;
  try {
    answer = await service.whatIf(owner, trades);
  } catch (e) {
    if (e instanceof InvalidInputError && !(e instanceof UsageError))
      throw new UsageError(e.field, e.shortMessage.replace(`${e.field}: `, ''), {
        hint: e.hint ?? `Trades are written ${TRADE_SYNTAX}.`,
      });
    throw e;
  }
  return { json: answer, text: whatIfText(answer, parsed), exitCode: 0 };
}

export function whatIfText(w: WhatIfAnswer, parsed: readonly ParsedTrade[]): string {
  type Usd6Key =
    'imUsd6' | 'mmUsd6' | 'mtmUsd6' | 'adjustedEquityUsd6' | 'freeCollateralUsd6' | 'shortfallUsd6';
  const row = (label: string, k: Usd6Key): string[] => [
    label,
    formatUsd6(w.now[k]),
    formatUsd6(w.whatIf[k]),
    formatUsd6Delta(w.delta[k]),
  ];
  const head = pairs([
    ['Account', w.owner],
    ['Market block', `${w.basis.blockNumber} (${formatTimeSec(w.now.asOfSec)})`],
    ['Positions', `read at block ${w.basis.positionsBlockNumber}`],
    [
      'Parameters',
      `v${w.basis.paramsVersion} ${w.basis.paramsHash}${w.basis.sameAsLatest ? '' : ' (newest market and active set: the latest result’s are no longer held)'}`,
    ],
    ['Trades', parsed.map((p) => p.text).join('  ')],
  ]);
  const body = table(
    [
      ['Figure', 'Now', 'After trades', 'Change'],
      row('Mark-to-market', 'mtmUsd6'),
      row('Adjusted equity', 'adjustedEquityUsd6'),
      row('Initial margin (IM)', 'imUsd6'),
      row('Maintenance margin (MM)', 'mmUsd6'),
      row('Free collateral', 'freeCollateralUsd6'),
      row('Shortfall', 'shortfallUsd6'),
      ['Margin ratio (equity / MM)', ratio(w.now.marginRatio), ratio(w.whatIf.marginRatio), ''],
      ['Health', w.now.health, w.whatIf.health, ''],
    ],
    ['left', 'right', 'right', 'right'],
  );
  return [
    head,
    '',
    body,
    '',
    pairs([
      ['Liquidation distance after', distanceText(w.whatIf.liquidationDistance)],
      ['Stale inputs after', staleText(w.whatIf)],
    ]),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// params

export async function paramsCommand(ctx: CliContext): Promise<CommandOutput> {
  const set = await (await ctx.params()).activeOrUndefined();
  if (!set)
    throw new NetmarginError(`No risk parameter set is published on network ${ctx.options.network}`, {
      code: 'NO_PARAM_SET',
      hint: 'Check --network and --redis; the risk role publishes the first set when it starts.',
    });
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
