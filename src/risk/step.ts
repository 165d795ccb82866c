/**
 * The account step of the fast engine: everything that depends on one account's positions, given
 * a prepared market context. It only adds `amount x row` over the account's positions, in the
 * reference's order, so its results are the reference's (`reference.ts`) bit for bit; no Black-76
 * runs here except in the last bisection steps of the liquidation distance.
 *
 * `evaluate` (the book path) fills compact figures without allocating. It skips the VaR / ES
 * floors of an account when an exact upper bound shows they cannot exceed its scenario margin:
 * expected shortfall is subadditive and positively homogeneous, so ES(account) <= Σ |amount| x
 * ES(one unit of each row), computed per row in the context; VaR at the VaR confidence and ES at
 * the ES confidence are both <= ES at the stricter of the two. When that bound (plus rounding
 * slack) is at most the scenario margin, max(scenario margin, VaR, ES) is the scenario margin,
 * exactly as the reference would find. `materialize` builds the full `AccountRiskResult`.
 */
import { concentrationAddonUsd, liquidationImpactUsd, oracleAddonUsd } from './addons';
import {
  KIND_LINEAR,
  KIND_OPTION,
  KIND_PERP,
  PROTOCOLS,
  type BookRiskResult,
  type PreparedBook,
} from './book';
import { hashAccountInputs } from './hash';
import { optionRows, optionScan, revaluedOption, type MarketContext } from './market';
import { assertFinite, toMatrix } from './reference';
import { aggregateLosses, type UnderlyingLoss } from './stats/aggregate';
import type {
  AccountRiskResult,
  CollateralLine,
  Greeks,
  ProtocolBreakdown,
  UnderlyingBreakdown,
} from './types';

interface Pmrm {
  has: boolean;
  standaloneLossUsd: number;
  directionalPnlUsd: number;
  contingencyUsd: number;
  worstIndex: number;
  worstPnlUsd: number;
}

/**
 * The per-account step with its scratch buffers, allocated once per context and reused for every
 * account. `evaluate` fills the compact figures; `materialize` builds the full result object.
 */
export class AccountStep {
  private readonly ctx: MarketContext;
  private readonly localOf: Int32Array;
  private uList: number[] = [];
  private qty: Float64Array;
  private collQty: Float64Array;
  private qS: Float64Array;
  private readonly lossMc: Float64Array;
  private readonly lossHist: Float64Array;
  private readonly select: Float64Array;
  private groupExpiry: Float64Array;
  private groupInst: Int32Array;
  private groupSums: Float64Array;
  private groupPos: Float64Array;
  private groupHasShort: Uint8Array;
  private groupNeg: Float64Array;
  private readonly pm: Pmrm = {
    has: false,
    standaloneLossUsd: 0,
    directionalPnlUsd: 0,
    contingencyUsd: 0,
    worstIndex: -1,
    worstPnlUsd: 0,
  };
  // Per-underlying scratch of the compact path (account order).
  private readonly uW: Float64Array;
  private readonly uD: Float64Array;
  private readonly uC: Float64Array;
  private readonly uWorstIndex: Int32Array;
  private readonly uWorstPnl: Float64Array;
  private readonly uDir: Float64Array;
  private readonly uDelta: Float64Array;
  private readonly uGross: Float64Array;
  private readonly uNotional: Float64Array;
  private readonly scanHaircut: Float64Array;
  private readonly scanValue: Float64Array;
  private strikes: Float64Array;
  private nets: Float64Array;
  /** P&L of every scenario of the last `pmrm` call (before the MM loss factor), in grid order. */
  private readonly scenarioPnl: Float64Array;
  // Per-account figures shared by evaluate and materialize.
  private cash = 0;
  private mtm = 0;

  constructor(ctx: MarketContext, maxPositions = 64) {
    this.ctx = ctx;
    const n = ctx.underlyings.length;
    this.localOf = new Int32Array(n).fill(-1);
    this.qty = new Float64Array(n);
    this.collQty = new Float64Array(n);
    this.qS = new Float64Array(n);
    this.lossMc = new Float64Array(ctx.mcPaths);
    this.lossHist = new Float64Array(ctx.histScenarios);
    this.select = new Float64Array(Math.max(ctx.mcPaths, ctx.histScenarios));
    const width = 3 + Math.max(0, ...ctx.underlyings.map((u) => u.scenarioSpotShock.length));
    this.groupExpiry = new Float64Array(maxPositions);
    this.groupInst = new Int32Array(maxPositions);
    this.groupSums = new Float64Array(maxPositions * width);
    this.groupPos = new Float64Array(maxPositions);
    this.groupHasShort = new Uint8Array(maxPositions);
    this.groupNeg = new Float64Array(maxPositions);
    this.strikes = new Float64Array(maxPositions);
    this.nets = new Float64Array(maxPositions);
    this.uW = new Float64Array(n);
    this.uD = new Float64Array(n);
    this.uC = new Float64Array(n);
    this.uWorstIndex = new Int32Array(n);
    this.uWorstPnl = new Float64Array(n);
    this.uDir = new Float64Array(n);
    this.uDelta = new Float64Array(n);
    this.uGross = new Float64Array(n);
    this.uNotional = new Float64Array(n);
    this.scanHaircut = new Float64Array(ctx.params.liquidationSearch.scanSteps);
    this.scanValue = new Float64Array(ctx.params.liquidationSearch.scanSteps);
    this.scenarioPnl = new Float64Array(width - 3);
  }

  private ensure(positions: number): void {
    if (positions <= this.groupExpiry.length) return;
    const width = this.groupSums.length / this.groupExpiry.length;
    this.groupExpiry = new Float64Array(positions);
    this.groupInst = new Int32Array(positions);
    this.groupSums = new Float64Array(positions * width);
    this.groupPos = new Float64Array(positions);
    this.groupHasShort = new Uint8Array(positions);
    this.groupNeg = new Float64Array(positions);
    this.strikes = new Float64Array(positions);
    this.nets = new Float64Array(positions);
  }

  /** Underlyings held (ascending universe index = sorted by name), linear sums, cash and MTM. */
  private gather(b: PreparedBook, s0: number, s1: number): number {
    this.ensure(s1 - s0);
    const ctx = this.ctx;
    const list = this.uList;
    for (const u of list) this.localOf[u] = -1;
    list.length = 0;
    for (let j = s0; j < s1; j++) {
      const u = b.und[j]!;
      if (this.localOf[u] === -1) {
        this.localOf[u] = 0;
        // Insertion keeps the list ascending (= sorted by name).
        let k = list.length;
        list.push(u);
        while (k > 0 && list[k - 1]! > u) {
          list[k] = list[k - 1]!;
          k--;
        }
        list[k] = u;
      }
    }
    for (let i = 0; i < list.length; i++) this.localOf[list[i]!] = i;
    const n = list.length;
    for (let i = 0; i < n; i++) {
      this.qty[i] = 0;
      this.collQty[i] = 0;
    }
    let cash = 0;
    for (let j = s0; j < s1; j++) {
      const i = this.localOf[b.und[j]!]!;
      const k = b.kind[j]!;
      if (k === KIND_LINEAR) {
        this.qty[i] = this.qty[i]! + b.amount[j]!;
        if (b.isCollateral[j] === 1) this.collQty[i] = this.collQty[i]! + b.amount[j]!;
      } else if (k === KIND_PERP) cash += b.cashUsd[j]!;
    }
    for (let i = 0; i < n; i++) this.qS[i] = this.qty[i]! * ctx.underlyings[list[i]!]!.spotUsd;
    // bookValue at unit multipliers: cash, linear, perps, options, in that order.
    let v = cash;
    for (let i = 0; i < n; i++) v += this.qS[i]! * 1;
    for (let j = s0; j < s1; j++) {
      if (b.kind[j] === KIND_PERP) v += b.amount[j]! * (b.lastPriceUsd[j]! * 1 - b.entryPriceUsd[j]!);
    }
    for (let j = s0; j < s1; j++) {
      if (b.kind[j] === KIND_OPTION) v += b.amount[j]! * ctx.options[b.inst[j]!]!.v0;
    }
    this.cash = cash;
    this.mtm = v;
    return n;
  }

  /**
   * PMRM_2 scenario loss of the positions on universe underlying u (of one protocol if >= 0), into
   * the reused `this.pm` (copy it to keep it).
   */
  private pmrm(b: PreparedBook, s0: number, s1: number, u: number, protocol: number): Pmrm {
    const ctx = this.ctx;
    const und = ctx.underlyings[u]!;
    const S = und.spotUsd;
    const nS = und.scenarioSpotShock.length;
    const W = 3 + nS;
    const sums = this.groupSums;
    let spotLike = 0;
    let perpContracts = 0;
    let has = false;
    let G = 0;
    for (let j = s0; j < s1; j++) {
      if (b.und[j] !== u || (protocol >= 0 && b.protocol[j] !== protocol)) continue;
      has = true;
      const k = b.kind[j]!;
      if (k === KIND_LINEAR) spotLike += b.amount[j]!;
      else if (k === KIND_PERP) perpContracts += (b.amount[j]! * b.lastPriceUsd[j]!) / S;
      else {
        const o = ctx.options[b.inst[j]!]!;
        let g = 0;
        while (g < G && this.groupExpiry[g] !== o.expirySec) g++;
        if (g === G) {
          this.groupExpiry[g] = o.expirySec;
          this.groupInst[g] = b.inst[j]!;
          this.groupHasShort[g] = 0;
          sums.fill(0, g * W, g * W + W);
          G++;
        }
        const a = b.amount[j]!;
        if (a < 0) this.groupHasShort[g] = 1;
        const row = o.pmrm;
        const base = g * W;
        for (let c = 0; c < W; c++) sums[base + c] = sums[base + c]! + row[c]! * a;
      }
    }
    const pm = this.pm;
    if (!has) {
      pm.has = false;
      pm.standaloneLossUsd = 0;
      pm.directionalPnlUsd = 0;
      pm.contingencyUsd = 0;
      pm.worstIndex = -1;
      pm.worstPnlUsd = 0;
      return pm;
    }
    const other = und.pmrmParams.other;
    const perpAmount = perpContracts + Math.min(0, spotLike);
    const mmPerp = Math.abs(perpAmount) * S * other.mmPerpPercent;
    let basis = 0;
    let mmOption = 0;
    for (let g = 0; g < G; g++) {
      const o = ctx.options[this.groupInst[g]!]!;
      const mtm = sums[g * W]!;
      this.groupPos[g] = o.staticDiscountPos;
      this.groupNeg[g] = o.staticDiscountNeg;
      const basisLoss = Math.min(sums[g * W + 1]! - mtm, sums[g * W + 2]! - mtm, 0);
      basis += basisLoss * o.basisFactor;
      // Naked shorts: net contracts per strike (first-appearance order), shorts only; none
      // without a short position in the expiry.
      let nStrikes = 0;
      for (let j = this.groupHasShort[g] === 1 ? s0 : s1; j < s1; j++) {
        if (b.kind[j] !== KIND_OPTION || b.und[j] !== u || (protocol >= 0 && b.protocol[j] !== protocol))
          continue;
        const oj = ctx.options[b.inst[j]!]!;
        if (oj.expirySec !== this.groupExpiry[g]) continue;
        let x = 0;
        while (x < nStrikes && this.strikes[x] !== oj.strikeUsd) x++;
        if (x === nStrikes) {
          this.strikes[x] = oj.strikeUsd;
          this.nets[x] = 0 + b.amount[j]!;
          nStrikes++;
        } else this.nets[x] = this.nets[x]! + b.amount[j]!;
      }
      let naked = 0;
      for (let x = 0; x < nStrikes; x++) if (this.nets[x]! < 0) naked -= this.nets[x]!;
      const nakedNotional = naked * S;
      mmOption += nakedNotional * other.mmOptionPercent;
    }
    const collateralValue = spotLike > 0 ? spotLike * S : 0;
    const mmCollateral = spotLike > 0 ? 0 + collateralValue * 0 : 0;
    const mmContingency = mmPerp + mmOption + mmCollateral;
    let worstLoss = basis;
    let worstIndex = nS;
    let up = 0;
    let down = 0;
    for (let s = 0; s < nS; s++) {
      const skew = und.scenarioIsSkew[s] === 1;
      const shock = und.scenarioSpotShock[s]!;
      const damp = und.scenarioDampening[s]!;
      let pnl = 0;
      if (!skew) {
        if (perpAmount !== 0) pnl += perpAmount * ((shock - 1) * S) * damp;
        if (spotLike > 0) pnl += collateralValue * (shock - 1) * damp;
      }
      for (let g = 0; g < G; g++) {
        const shocked = sums[g * W + 3 + s]!;
        const discounted = shocked * (shocked >= 0 ? this.groupPos[g]! : this.groupNeg[g]!);
        let e = (discounted - sums[g * W]!) * damp;
        if (skew) e = e > 0 ? -e : e;
        pnl += e;
      }
      this.scenarioPnl[s] = pnl;
      if (s === und.upIndex) up = pnl;
      if (s === und.downIndex) down = pnl;
      if (pnl < worstLoss) {
        worstLoss = pnl;
        worstIndex = s;
      }
    }
    const factor = und.pmrmParams.margin.mmFactor;
    const perpContingency = Math.abs(perpContracts) * S * ctx.params.scenario.perpContingencyPctNotional;
    pm.has = true;
    pm.standaloneLossUsd = Math.max(0, -worstLoss * factor);
    pm.directionalPnlUsd = ((up - down) / 2) * factor;
    pm.contingencyUsd = mmContingency + perpContingency;
    pm.worstIndex = worstIndex;
    pm.worstPnlUsd = worstLoss * factor;
    return pm;
  }

  /**
   * P&L of account a's positions on each underlying it holds (ascending universe index), under every
   * scenario of that underlying's PMRM_2 grid (`UnderlyingContext.scenarioNames` order, basis
   * excluded) and scaled by the MM loss factor: the values whose minimum is the underlying's
   * `worstPnlUsd`. Computed by the same pass as the margin.
   */
  underlyingScenarioPnls(b: PreparedBook, a: number): { u: number; pnlUsd: Float64Array }[] {
    const s0 = b.start[a]!;
    const s1 = b.start[a + 1]!;
    this.gather(b, s0, s1);
    return this.uList.map((u) => {
      const und = this.ctx.underlyings[u]!;
      this.pmrm(b, s0, s1, u, -1);
      const factor = und.pmrmParams.margin.mmFactor;
      const n = und.scenarioSpotShock.length;
      return { u, pnlUsd: Float64Array.from(this.scenarioPnl.subarray(0, n), (x) => x * factor) };
    });
  }

  /** Losses of the account under every scenario of one set (Monte Carlo or historical). */
  private scenarioLosses(b: PreparedBook, s0: number, s1: number, n: number, mc: boolean): Float64Array {
    const ctx = this.ctx;
    const out = mc ? this.lossMc : this.lossHist;
    const len = out.length;
    out.fill(this.cash);
    for (let i = 0; i < n; i++) {
      const q = this.qS[i]!;
      const und = ctx.underlyings[this.uList[i]!]!;
      const m = mc ? und.mcMult : und.histMult;
      for (let p = 0; p < len; p++) out[p] = out[p]! + q * m[p]!;
    }
    for (let j = s0; j < s1; j++) {
      if (b.kind[j] !== KIND_PERP) continue;
      const und = ctx.underlyings[b.und[j]!]!;
      const m = mc ? und.mcMult : und.histMult;
      const size = b.amount[j]!;
      const last = b.lastPriceUsd[j]!;
      const entry = b.entryPriceUsd[j]!;
      for (let p = 0; p < len; p++) out[p] = out[p]! + size * (last * m[p]! - entry);
    }
    for (let j = s0; j < s1; j++) {
      if (b.kind[j] !== KIND_OPTION) continue;
      const rows = optionRows(ctx, ctx.options[b.inst[j]!]!);
      const row = mc ? rows.mc : rows.hist;
      const a = b.amount[j]!;
      for (let p = 0; p < len; p++) out[p] = out[p]! + a * row[p]!;
    }
    const mtm = this.mtm;
    for (let p = 0; p < len; p++) out[p] = -(out[p]! - mtm);
    return out;
  }

  /** `tailMeasures` of the reference, by selecting the k worst losses instead of sorting them all. */
  private tail(losses: Float64Array, varConfidence: number, esConfidence: number): [number, number] {
    const n = losses.length;
    if (n === 0) return [0, 0];
    const kOf = (c: number) => Math.max(1, Math.ceil(n * (1 - c) - 1e-9));
    const k = Math.min(n, Math.max(kOf(varConfidence), kOf(esConfidence)));
    const head = largestK(losses, k, this.select).sort().reverse();
    const varK = kOf(varConfidence);
    const varUsd = head[varK - 1]!;
    const m = n * (1 - esConfidence);
    const kEs = kOf(esConfidence);
    let esUsd: number;
    if (m < 1) esUsd = head[0]!;
    else {
      let sum = 0;
      for (let i = 0; i < kEs - 1; i++) sum += head[i]!;
      esUsd = (sum + (m - (kEs - 1)) * head[kEs - 1]!) / m;
    }
    return [varUsd, esUsd];
  }

  /**
   * Exact upper bound on max(VaR, ES) of both scenario sets (see the module header), with slack for
   * the rounding of the reference's sums (1e-12 per term of the gross value, 1e-9 relative).
   */
  private floorBound(b: PreparedBook, s0: number, s1: number, n: number): number {
    const ctx = this.ctx;
    let mcBound = 0;
    let histBound = 0;
    let gross = Math.abs(this.cash) + Math.abs(this.mtm);
    const notional = this.uNotional;
    for (let i = 0; i < n; i++) notional[i] = this.qS[i]!;
    for (let j = s0; j < s1; j++) {
      const i = this.localOf[b.und[j]!]!;
      if (b.kind[j] === KIND_PERP) {
        notional[i] = notional[i]! + b.amount[j]! * b.lastPriceUsd[j]!;
        const und = ctx.underlyings[b.und[j]!]!;
        gross += Math.abs(b.amount[j]!) * (b.lastPriceUsd[j]! * und.maxMult + b.entryPriceUsd[j]!);
      } else if (b.kind[j] === KIND_OPTION) {
        const o = ctx.options[b.inst[j]!]!;
        const a = b.amount[j]!;
        mcBound += a >= 0 ? a * o.esMcLong : -a * o.esMcShort;
        histBound += a >= 0 ? a * o.esHistLong : -a * o.esHistShort;
        gross += Math.abs(a) * o.maxAbsValue;
      }
    }
    for (let i = 0; i < n; i++) {
      const und = ctx.underlyings[this.uList[i]!]!;
      const x = notional[i]!;
      mcBound += x >= 0 ? x * und.esMcLong : -x * und.esMcShort;
      histBound += x >= 0 ? x * und.esHistLong : -x * und.esHistShort;
      gross += Math.abs(this.qS[i]!) * und.maxMult;
    }
    const terms = s1 - s0 + n + 2;
    return Math.max(mcBound, histBound) * (1 + 1e-9) + 1e-12 * terms * gross + 1e-9;
  }

  private greeks(b: PreparedBook, s0: number, s1: number, n: number): Greeks[] {
    const ctx = this.ctx;
    const out: Greeks[] = [];
    for (let i = 0; i < n; i++) {
      out.push({ delta: this.qty[i]!, deltaUsd: 0, gamma: 0, vegaUsdPerVolPoint: 0, thetaUsdPerDay: 0 });
    }
    for (let j = s0; j < s1; j++) {
      if (b.kind[j] !== KIND_PERP) continue;
      const g = out[this.localOf[b.und[j]!]!]!;
      g.delta += (b.amount[j]! * b.lastPriceUsd[j]!) / ctx.underlyings[b.und[j]!]!.spotUsd;
    }
    for (let j = s0; j < s1; j++) {
      if (b.kind[j] !== KIND_OPTION) continue;
      const g = out[this.localOf[b.und[j]!]!]!;
      const o = ctx.options[b.inst[j]!]!;
      const a = b.amount[j]!;
      g.delta += a * o.delta * o.fOverS;
      g.gamma += a * o.gamma * o.fOverS * o.fOverS;
      g.vegaUsdPerVolPoint += a * o.vega * 0.01;
      g.thetaUsdPerDay += (a * o.theta) / 365;
    }
    for (let i = 0; i < n; i++) out[i]!.deltaUsd = out[i]!.delta * ctx.underlyings[this.uList[i]!]!.spotUsd;
    return out;
  }

  private addons(b: PreparedBook, s0: number, s1: number, n: number, greeks: Greeks[]) {
    const ctx = this.ctx;
    const params = ctx.params;
    const gross = this.uGross.fill(0, 0, n);
    for (let j = s0; j < s1; j++) {
      const i = this.localOf[b.und[j]!]!;
      const s = ctx.underlyings[b.und[j]!]!.spotUsd;
      const k = b.kind[j]!;
      const exposure =
        k === KIND_LINEAR
          ? b.amount[j]! * s
          : k === KIND_PERP
            ? b.amount[j]! * b.lastPriceUsd[j]!
            : b.amount[j]! * s;
      gross[i] = gross[i]! + Math.abs(exposure);
    }
    const rows = this.uList.map((u, i) => {
      const und = ctx.underlyings[u]!;
      return {
        underlying: und.name,
        concentrationUsd: concentrationAddonUsd(
          greeks[i]!.deltaUsd,
          und.check.liquidity.openInterestUsd,
          params.concentration,
        ),
        impactUsd: liquidationImpactUsd(
          greeks[i]!.deltaUsd,
          und.check.liquidity.depthUsd,
          params.liquidationImpact,
        ),
        oracleUsd: oracleAddonUsd(gross[i]!, und.check.priceAgeSec, und.check.confidencePct, params.oracle),
      };
    });
    const sum = (f: (r: (typeof rows)[number]) => number) => rows.reduce((a, r) => a + f(r), 0);
    return {
      concentrationUsd: sum((r) => r.concentrationUsd),
      liquidationImpactUsd: sum((r) => r.impactUsd),
      oracleUsd: sum((r) => r.oracleUsd),
      byUnderlying: rows,
    };
  }

  /** Haircut total (the reference's `valueCollateral` sum, in position order). */
  private haircutTotal(b: PreparedBook, s0: number, s1: number): number {
    let haircut = 0;
    for (let j = s0; j < s1; j++) {
      if (b.kind[j] !== KIND_LINEAR || b.isCollateral[j] !== 1) continue;
      const und = this.ctx.underlyings[b.und[j]!]!;
      haircut += b.amount[j]! * und.spotUsd * und.haircutPct;
    }
    return haircut;
  }

  /** Everything `materialize` needs (VaR / ES floors always computed). */
  private core(b: PreparedBook, a: number) {
    const ctx = this.ctx;
    const s0 = b.start[a]!;
    const s1 = b.start[a + 1]!;
    const n = this.gather(b, s0, s1);
    const losses: Pmrm[] = this.uList.map((u) => ({ ...this.pmrm(b, s0, s1, u, -1) }));
    const hedge = new Float64Array(n * n);
    const N = ctx.underlyings.length;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) hedge[i * n + j] = ctx.hedge[this.uList[i]! * N + this.uList[j]!]!;
    }
    const agg = aggregateLosses(losses as UnderlyingLoss[], hedge);
    const v = ctx.params.valueAtRisk;
    const hist = this.tail(this.scenarioLosses(b, s0, s1, n, false), v.varConfidence, v.esConfidence);
    const histVar = Math.max(0, hist[0]);
    const histEs = Math.max(0, hist[1]);
    const mc = this.tail(this.scenarioLosses(b, s0, s1, n, true), v.varConfidence, v.esConfidence);
    const mcVar = Math.max(0, mc[0]);
    const mcEs = Math.max(0, mc[1]);
    const floors = [histVar, histEs, mcVar, mcEs] as const;
    const core = Math.max(agg.scenarioMarginUsd, histVar, histEs, mcVar, mcEs);
    const greeks = this.greeks(b, s0, s1, n);
    const addons = this.addons(b, s0, s1, n, greeks);
    const addonsUsd = addons.concentrationUsd + addons.liquidationImpactUsd + addons.oracleUsd;
    const mmUsd = core + addonsUsd;
    const imUsd = mmUsd * ctx.params.imToMmMultiplier;
    const haircutUsd = this.haircutTotal(b, s0, s1);
    const adjustedEquityUsd = this.mtm - haircutUsd;
    let worst = -1;
    for (let i = 0; i < n; i++) {
      const l = losses[i]!;
      if (l.standaloneLossUsd > 0 && (worst < 0 || l.standaloneLossUsd > -losses[worst]!.worstPnlUsd))
        worst = i;
    }
    return {
      s0,
      s1,
      n,
      losses,
      hedge,
      agg,
      floors,
      core,
      greeks,
      addons,
      addonsUsd,
      mmUsd,
      imUsd,
      haircutUsd,
      adjustedEquityUsd,
      worst,
    };
  }

  /**
   * Compact figures of account a into `out`, without allocating: the same arithmetic as `core`
   * (aggregation as `aggregateLosses`, add-ons as the reference's per-underlying rows and sums).
   */
  evaluate(b: PreparedBook, a: number, out: BookRiskResult): void {
    const ctx = this.ctx;
    const params = ctx.params;
    const s0 = b.start[a]!;
    const s1 = b.start[a + 1]!;
    const n = this.gather(b, s0, s1);
    const list = this.uList;
    const N = ctx.underlyings.length;
    // Per-underlying scenario losses and their aggregation (stats/aggregate.ts, inlined).
    let undiversified = 0;
    let contingency = 0;
    let nonDirectional = 0;
    for (let i = 0; i < n; i++) {
      const pm = this.pmrm(b, s0, s1, list[i]!, -1);
      this.uW[i] = pm.standaloneLossUsd;
      this.uC[i] = pm.contingencyUsd;
      this.uWorstIndex[i] = pm.worstIndex;
      this.uWorstPnl[i] = pm.worstPnlUsd;
      const w = pm.standaloneLossUsd;
      const d = Math.max(-w, Math.min(w, pm.directionalPnlUsd));
      this.uDir[i] = d;
      const nd = w - Math.abs(d);
      undiversified += w;
      contingency += pm.contingencyUsd;
      nonDirectional += nd;
    }
    let q = 0;
    for (let i = 0; i < n; i++) {
      const di = this.uDir[i]!;
      if (di === 0) continue;
      for (let j = 0; j < n; j++) {
        const dj = this.uDir[j]!;
        if (dj === 0) continue;
        const rho = i === j || di * dj > 0 ? 1 : ctx.hedge[list[i]! * N + list[j]!]!;
        q += rho * di * dj;
      }
    }
    const aggregated = Math.min(undiversified, Math.sqrt(Math.max(0, q)) + nonDirectional);
    const scenarioMarginUsd = aggregated + contingency;
    let core: number;
    let floors = 0;
    if (this.floorBound(b, s0, s1, n) <= scenarioMarginUsd) core = scenarioMarginUsd;
    else {
      const v = params.valueAtRisk;
      const hist = this.tail(this.scenarioLosses(b, s0, s1, n, false), v.varConfidence, v.esConfidence);
      const histVar = Math.max(0, hist[0]);
      const histEs = Math.max(0, hist[1]);
      const mc = this.tail(this.scenarioLosses(b, s0, s1, n, true), v.varConfidence, v.esConfidence);
      core = Math.max(scenarioMarginUsd, histVar, histEs, Math.max(0, mc[0]), Math.max(0, mc[1]));
      floors = 1;
    }
    // Net delta (bookGreeks order) and gross exposure per underlying, then the add-ons.
    for (let i = 0; i < n; i++) {
      this.uDelta[i] = this.qty[i]!;
      this.uGross[i] = 0;
    }
    for (let j = s0; j < s1; j++) {
      if (b.kind[j] !== KIND_PERP) continue;
      const i = this.localOf[b.und[j]!]!;
      this.uDelta[i] =
        this.uDelta[i]! + (b.amount[j]! * b.lastPriceUsd[j]!) / ctx.underlyings[b.und[j]!]!.spotUsd;
    }
    for (let j = s0; j < s1; j++) {
      if (b.kind[j] !== KIND_OPTION) continue;
      const i = this.localOf[b.und[j]!]!;
      const o = ctx.options[b.inst[j]!]!;
      this.uDelta[i] = this.uDelta[i]! + b.amount[j]! * o.delta * o.fOverS;
    }
    for (let j = s0; j < s1; j++) {
      const i = this.localOf[b.und[j]!]!;
      const k = b.kind[j]!;
      const exposure =
        k === KIND_PERP
          ? b.amount[j]! * b.lastPriceUsd[j]!
          : b.amount[j]! * ctx.underlyings[b.und[j]!]!.spotUsd;
      this.uGross[i] = this.uGross[i]! + Math.abs(exposure);
    }
    let concentration = 0;
    let impact = 0;
    let oracle = 0;
    for (let i = 0; i < n; i++) {
      const und = ctx.underlyings[list[i]!]!;
      const deltaUsd = this.uDelta[i]! * und.spotUsd;
      concentration += concentrationAddonUsd(
        deltaUsd,
        und.check.liquidity.openInterestUsd,
        params.concentration,
      );
      impact += liquidationImpactUsd(deltaUsd, und.check.liquidity.depthUsd, params.liquidationImpact);
      oracle += oracleAddonUsd(
        this.uGross[i]!,
        und.check.priceAgeSec,
        und.check.confidencePct,
        params.oracle,
      );
    }
    const mmUsd = core + (concentration + impact + oracle);
    const imUsd = mmUsd * params.imToMmMultiplier;
    const haircutUsd = this.haircutTotal(b, s0, s1);
    const adjustedEquityUsd = this.mtm - haircutUsd;
    let worst = -1;
    for (let i = 0; i < n; i++) {
      const w = this.uW[i]!;
      if (w > 0 && (worst < 0 || w > -this.uWorstPnl[worst]!)) worst = i;
    }
    out.mtmUsd[a] = this.mtm;
    out.haircutUsd[a] = haircutUsd;
    out.adjustedEquityUsd[a] = adjustedEquityUsd;
    out.mmUsd[a] = mmUsd;
    out.imUsd[a] = imUsd;
    out.freeCollateralUsd[a] = adjustedEquityUsd - imUsd;
    out.shortfallUsd[a] = Math.max(0, mmUsd - adjustedEquityUsd);
    out.scenarioMarginUsd[a] = scenarioMarginUsd;
    out.coreMarginUsd[a] = core;
    out.floorsComputed[a] = floors;
    out.worstUnderlying[a] = worst < 0 ? -1 : list[worst]!;
    out.worstScenario[a] = worst < 0 ? -1 : this.uWorstIndex[worst]!;
    out.worstPnlUsd[a] = worst < 0 ? 0 : this.uWorstPnl[worst]!;
  }

  /** The full `AccountRiskResult` of account a, identical to the reference's. */
  materialize(b: PreparedBook, a: number): AccountRiskResult {
    const ctx = this.ctx;
    const params = ctx.params;
    const r = this.core(b, a);
    const { s0, s1, n } = r;
    const [historicalVarUsd, historicalEsUsd, monteCarloVarUsd, monteCarloEsUsd] = r.floors;
    const unds = this.uList.map((u) => ctx.underlyings[u]!);
    const names = unds.map((u) => u.name);
    const source = b.sources[a]!;

    // Collateral lines, in position order.
    const lines: CollateralLine[] = [];
    for (let j = s0; j < s1; j++) {
      if (b.kind[j] !== KIND_LINEAR || b.isCollateral[j] !== 1) continue;
      const und = ctx.underlyings[b.und[j]!]!;
      const valueUsd = b.amount[j]! * und.spotUsd;
      lines.push({
        positionIndex: b.positionIndex[j]!,
        asset: b.asset[j]!,
        underlying: und.name,
        valueUsd,
        tier: und.tier,
        effectiveTier: und.effectiveTier,
        haircutPct: und.haircutPct,
        haircutUsd: valueUsd * und.haircutPct,
      });
    }

    // MTM of a slice: bookValue of the positions kept by `keep`, every underlying of the account.
    const sliceValue = (keep: (j: number) => boolean): number => {
      let cash = 0;
      const lin = this.uNotional.fill(0, 0, n);
      for (let j = s0; j < s1; j++) {
        if (!keep(j)) continue;
        const i = this.localOf[b.und[j]!]!;
        if (b.kind[j] === KIND_LINEAR) lin[i] = lin[i]! + b.amount[j]!;
        else if (b.kind[j] === KIND_PERP) cash += b.cashUsd[j]!;
      }
      let v = cash;
      for (let i = 0; i < n; i++) v += lin[i]! * unds[i]!.spotUsd * 1;
      for (let j = s0; j < s1; j++) {
        if (keep(j) && b.kind[j] === KIND_PERP)
          v += b.amount[j]! * (b.lastPriceUsd[j]! * 1 - b.entryPriceUsd[j]!);
      }
      for (let j = s0; j < s1; j++) {
        if (keep(j) && b.kind[j] === KIND_OPTION) v += b.amount[j]! * ctx.options[b.inst[j]!]!.v0;
      }
      return v;
    };

    const byUnderlying: UnderlyingBreakdown[] = unds.map((u, i) => ({
      underlying: u.name,
      spotUsd: u.spotUsd,
      volAnnual: u.volAnnual,
      mtmUsd: sliceValue((j) => b.und[j] === u.u),
      spotShockPct: u.spotShockPct,
      standaloneLossUsd: r.losses[i]!.standaloneLossUsd,
      directionalLossUsd: r.agg.directionalLossUsd[i]!,
      nonDirectionalLossUsd: r.agg.nonDirectionalLossUsd[i]!,
      contingencyUsd: r.losses[i]!.contingencyUsd,
      greeks: r.greeks[i]!,
    }));

    const protocolIds: number[] = [];
    for (let j = s0; j < s1; j++) if (!protocolIds.includes(b.protocol[j]!)) protocolIds.push(b.protocol[j]!);
    protocolIds.sort((x, y) => x - y);
    const byProtocol: ProtocolBreakdown[] = protocolIds.map((p) => {
      const indices = new Set<number>();
      for (let j = s0; j < s1; j++) if (b.protocol[j] === p) indices.add(b.positionIndex[j]!);
      return {
        protocol: PROTOCOLS[p]!,
        mtmUsd: sliceValue((j) => b.protocol[j] === p),
        haircutUsd: lines.filter((l) => indices.has(l.positionIndex)).reduce((x, l) => x + l.haircutUsd, 0),
        standaloneLossUsd: this.uList
          .map((u) => this.pmrm(b, s0, s1, u, p).standaloneLossUsd)
          .reduce((x, l) => x + l, 0),
      };
    });

    let worstScenario: AccountRiskResult['worstScenario'] = null;
    if (r.worst >= 0) {
      const und = unds[r.worst]!;
      const l = r.losses[r.worst]!;
      worstScenario = {
        underlying: und.name,
        name: und.scenarioNames[l.worstIndex]!,
        spotMovePct:
          l.worstIndex < und.scenarioSpotShock.length ? und.scenarioSpotShock[l.worstIndex]! - 1 : 0,
        pnlUsd: l.worstPnlUsd,
      };
    }

    const stressReplays = params.stressReplays.map((s, k) => {
      let v = this.cash;
      for (let i = 0; i < n; i++) v += this.qS[i]! * unds[i]!.stressMult[k]!;
      for (let j = s0; j < s1; j++) {
        if (b.kind[j] !== KIND_PERP) continue;
        const m = ctx.underlyings[b.und[j]!]!.stressMult[k]!;
        v += b.amount[j]! * (b.lastPriceUsd[j]! * m - b.entryPriceUsd[j]!);
      }
      for (let j = s0; j < s1; j++) {
        if (b.kind[j] === KIND_OPTION) v += b.amount[j]! * ctx.options[b.inst[j]!]!.stress[k]!;
      }
      return { name: s.name, pnlUsd: v - this.mtm };
    });

    const liquidationDistance = this.liquidationDistance(b, s0, s1, n, r.mmUsd);

    const result: AccountRiskResult = {
      account: source.account,
      asOfSec: ctx.asOfSec,
      paramsVersion: params.version,
      paramsHash: ctx.paramsHash,
      inputHash: hashAccountInputs(source, ctx.asOfSec, ctx.marketHash),
      mtmUsd: this.mtm,
      haircutUsd: r.haircutUsd,
      adjustedEquityUsd: r.adjustedEquityUsd,
      mmUsd: r.mmUsd,
      imUsd: r.imUsd,
      freeCollateralUsd: r.adjustedEquityUsd - r.imUsd,
      shortfallUsd: Math.max(0, r.mmUsd - r.adjustedEquityUsd),
      components: {
        undiversifiedLossUsd: r.agg.undiversifiedLossUsd,
        aggregatedLossUsd: r.agg.aggregatedLossUsd,
        offsetUsd: r.agg.undiversifiedLossUsd - r.agg.aggregatedLossUsd,
        contingencyUsd: r.agg.contingencyUsd,
        scenarioMarginUsd: r.agg.scenarioMarginUsd,
        historicalVarUsd,
        historicalEsUsd,
        monteCarloVarUsd,
        monteCarloEsUsd,
        coreMarginUsd: r.core,
        addonsUsd: r.addonsUsd,
      },
      hedgeCorrelation: { underlyings: names, matrix: toMatrix(r.hedge, n) },
      byUnderlying,
      byProtocol,
      collateral: lines,
      addons: r.addons,
      worstScenario,
      stressReplays,
      liquidationDistance,
    };
    assertFinite(result);
    return result;
  }

  /**
   * The reference's scan + bisection for the market-wide move at which adjusted equity reaches MM:
   * scan points read the context's tables, bisection points reprice the account's options.
   */
  private liquidationDistance(b: PreparedBook, s0: number, s1: number, n: number, mmUsd: number) {
    const ctx = this.ctx;
    const ls = ctx.params.liquidationSearch;
    const unds = this.uList.map((u) => ctx.underlyings[u]!);
    const mult = this.uD;
    // step: -1 evaluate by repricing at x; else the scan table index of x (sign given by `up`).
    const surplus = (x: number, step: number, up: boolean): number => {
      for (let i = 0; i < n; i++) mult[i] = unds[i]!.isStable ? 1 : 1 + x;
      let haircut = 0;
      for (let i = 0; i < n; i++)
        haircut += unds[i]!.haircutPct * this.collQty[i]! * unds[i]!.spotUsd * mult[i]!;
      let v = this.cash;
      for (let i = 0; i < n; i++) v += this.qS[i]! * mult[i]!;
      for (let j = s0; j < s1; j++) {
        if (b.kind[j] !== KIND_PERP) continue;
        v += b.amount[j]! * (b.lastPriceUsd[j]! * mult[this.localOf[b.und[j]!]!]! - b.entryPriceUsd[j]!);
      }
      for (let j = s0; j < s1; j++) {
        if (b.kind[j] !== KIND_OPTION) continue;
        const o = ctx.options[b.inst[j]!]!;
        const table = up ? o.scanUp : o.scanDown;
        const m = mult[this.localOf[o.u]!]!;
        const price = m === 1 ? o.v0 : step >= 0 && table !== null ? table[step]! : revaluedOption(o, m, 1);
        v += b.amount[j]! * price;
      }
      return v - haircut - mmUsd;
    };
    // Surplus at every scan point of one direction at once, row by row (same terms, same order).
    const scanRow = (up: boolean): Float64Array => {
      const steps = ls.scanSteps;
      const multRow = up ? ctx.scanMultUp : ctx.scanMultDown;
      const haircut = this.scanHaircut.fill(0);
      for (let i = 0; i < n; i++) {
        const c = unds[i]!.haircutPct * this.collQty[i]! * unds[i]!.spotUsd;
        if (unds[i]!.isStable) for (let s = 0; s < steps; s++) haircut[s] = haircut[s]! + c * 1;
        else for (let s = 0; s < steps; s++) haircut[s] = haircut[s]! + c * multRow[s]!;
      }
      const v = this.scanValue.fill(this.cash);
      for (let i = 0; i < n; i++) {
        const q = this.qS[i]!;
        if (unds[i]!.isStable) for (let s = 0; s < steps; s++) v[s] = v[s]! + q * 1;
        else for (let s = 0; s < steps; s++) v[s] = v[s]! + q * multRow[s]!;
      }
      for (let j = s0; j < s1; j++) {
        if (b.kind[j] !== KIND_PERP) continue;
        const stable = ctx.underlyings[b.und[j]!]!.isStable;
        const size = b.amount[j]!;
        const last = b.lastPriceUsd[j]!;
        const entry = b.entryPriceUsd[j]!;
        for (let s = 0; s < steps; s++) v[s] = v[s]! + size * (last * (stable ? 1 : multRow[s]!) - entry);
      }
      for (let j = s0; j < s1; j++) {
        if (b.kind[j] !== KIND_OPTION) continue;
        const o = ctx.options[b.inst[j]!]!;
        const a = b.amount[j]!;
        const table = up ? o.scanUp : o.scanDown;
        if (table === null) for (let s = 0; s < steps; s++) v[s] = v[s]! + a * o.v0;
        else for (let s = 0; s < steps; s++) v[s] = v[s]! + a * table[s]!;
      }
      for (let s = 0; s < steps; s++) v[s] = v[s]! - haircut[s]! - mmUsd;
      return v;
    };
    const firstBreach = (maxAbs: number, sign: 1 | -1): number | null => {
      const up = sign === 1;
      if (surplus(0, -1, up) < 0) return 0;
      const row = scanRow(up);
      let s = 1;
      while (s <= ls.scanSteps && !(row[s - 1]! < 0)) s++;
      if (s > ls.scanSteps) return null;
      let a = s === 1 ? 0 : (maxAbs * (s - 1)) / ls.scanSteps;
      let bb = (maxAbs * s) / ls.scanSteps;
      for (let k = 0; k < ls.bisectionIterations; k++) {
        const mid = (a + bb) / 2;
        // Once the midpoint rounds to an end, every further step leaves both ends as they are
        // (f(a) >= 0 and f(bb) < 0 are already known): stopping here changes nothing.
        if (mid === a || mid === bb) break;
        if (surplus(sign * mid, -1, up) < 0) bb = mid;
        else a = mid;
      }
      return sign * bb;
    };
    for (let j = s0; j < s1; j++) if (b.kind[j] === KIND_OPTION) optionScan(ctx, ctx.options[b.inst[j]!]!);
    const anyVolatile = unds.some((u) => !u.isStable);
    return {
      downMovePct: anyVolatile ? firstBreach(ls.maxDownMovePct, -1) : null,
      upMovePct: anyVolatile ? firstBreach(ls.maxUpMovePct, 1) : null,
    };
  }
}

/**
 * The k largest values of `a` (as a multiset, in no order), in the first k slots of `heap`: a
 * min-heap of the best k so far, so most values cost one comparison with its root.
 */
export function largestK(a: Float64Array, k: number, heap: Float64Array): Float64Array {
  const n = a.length;
  for (let i = 0; i < k; i++) {
    // Sift up.
    let c = i;
    const x = a[i]!;
    while (c > 0) {
      const p = (c - 1) >> 1;
      if (!(heap[p]! > x)) break;
      heap[c] = heap[p]!;
      c = p;
    }
    heap[c] = x;
  }
  for (let i = k; i < n; i++) {
    const x = a[i]!;
    if (!(x > heap[0]!)) continue;
    // Replace the root and sift down.
    let c = 0;
    for (;;) {
      const l = 2 * c + 1;
      if (l >= k) break;
      const r = l + 1;
      const m = r < k && heap[r]! < heap[l]! ? r : l;
      if (!(heap[m]! < x)) break;
      heap[c] = heap[m]!;
      c = m;
    }
    heap[c] = x;
  }
  return heap.subarray(0, k);
}
