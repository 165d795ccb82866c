/* global document, fetch, EventSource, URL, location, history */
// The dashboard: looks an account up through the API, draws its health, and follows its event
// stream so every newly stored result redraws the page. No framework; every number is formatted
// from the API's decimal strings (format.js).
import {
  exactUsd6,
  formatBlock,
  formatNumber,
  formatPct,
  formatRatio,
  formatUsd6,
  formatUsdFloat,
  parseIntString,
  share,
} from './format.js';

const SVG = 'http://www.w3.org/2000/svg';
const HISTORY_LIMIT = 200;
const GAUGE_MAX_RATIO = 3; // the gauge's full scale: 3 × MM
const HEALTH_TEXT = {
  healthy: 'Healthy',
  warning: 'Warning: close to IM',
  'below-im': 'Below IM: no new risk',
  'below-mm': 'Below MM',
  liquidatable: 'Liquidatable',
};

const $ = (sel, root = document) => root.querySelector(sel);
// `request` counts look-ups so that a slow answer for an earlier address is dropped.
const state = { request: 0, source: null, history: [], lastBlock: null };

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function svg(tag, attrs = {}) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

function setStatus(text, kind = 'info') {
  const s = $('#status');
  s.textContent = text;
  s.dataset.kind = kind;
}

/** Sets a `data-field` element's text (and the exact figure for USD6 amounts). */
function field(name, text, exact) {
  const e = $(`[data-field="${name}"]`);
  e.textContent = text;
  if (exact !== undefined) {
    e.dataset.usd6 = exact;
    e.title = `${exactUsd6(exact)} USD`;
  }
}

function usdField(h, name) {
  field(name, formatUsd6(h[name]), h[name]);
}

function rows(tbody, list, cells) {
  const body = $(tbody);
  body.replaceChildren(
    ...list.map((item) => {
      const tr = el('tr');
      cells(item).forEach((c, i) => tr.append(el(i === 0 ? 'th' : 'td', i === 0 ? { scope: 'row' } : {}, c)));
      return tr;
    }),
  );
  if (list.length === 0) {
    const tr = el('tr');
    tr.append(el('td', { colspan: '9', class: 'empty' }, 'None'));
    body.append(tr);
  }
}

function renderGauge(h) {
  const ratio = h.marginRatio;
  const frac = ratio === null ? 1 : Math.max(0, Math.min(1, ratio / GAUGE_MAX_RATIO));
  const angle = Math.PI * (1 - frac);
  const x = 100 + 80 * Math.cos(angle);
  const y = 100 - 80 * Math.sin(angle);
  const fill = $('#gauge-fill');
  fill.setAttribute('d', frac <= 0 ? 'M 20 100' : `M 20 100 A 80 80 0 0 1 ${x.toFixed(2)} ${y.toFixed(2)}`);
  fill.dataset.health = h.health;
  // The MM line sits at ratio 1.
  const a = Math.PI * (1 - 1 / GAUGE_MAX_RATIO);
  const mm = $('#gauge-mm');
  mm.setAttribute('x1', (100 + 68 * Math.cos(a)).toFixed(2));
  mm.setAttribute('y1', (100 - 68 * Math.sin(a)).toFixed(2));
  mm.setAttribute('x2', (100 + 92 * Math.cos(a)).toFixed(2));
  mm.setAttribute('y2', (100 - 92 * Math.sin(a)).toFixed(2));
  $('#gauge-title').textContent = `Margin ratio ${formatRatio(ratio)}; MM is at 1×`;
}

function renderBars(h) {
  const names = ['adjustedEquityUsd6', 'imUsd6', 'mmUsd6', 'mtmUsd6'];
  let max = 0n;
  for (const n of names) {
    const v = parseIntString(h[n]);
    if (v > max) max = v;
  }
  for (const n of names) {
    usdField(h, n);
    $(`[data-bar="${n}"]`).style.width = `${(share(h[n], max.toString()) * 100).toFixed(2)}%`;
  }
}

function renderHeatmap(h) {
  const box = $('#heatmap');
  const grid = h.scenarioGrid;
  // The health answer's grid (null when the API no longer holds the result's market): { spotShockFractions:
  // number[], volShocks: string[], pnlUsd: number[][], worst } with pnlUsd[v][s] the portfolio P&L when every
  // underlying moves by spotShockFractions[s] of its own spot shock under vol shock volShocks[v].
  if (!grid || !Array.isArray(grid.pnlUsd) || !Array.isArray(grid.spotShockFractions)) {
    box.replaceChildren(
      el(
        'p',
        { class: 'note' },
        'The stored result carries no spot × vol scenario grid; the worst scenario and the stress replays are below.',
      ),
    );
    return;
  }
  let worst = { v: -1, s: -1, pnl: Infinity };
  let maxAbs = 0;
  grid.pnlUsd.forEach((row, v) =>
    row.forEach((pnl, s) => {
      if (pnl < worst.pnl) worst = { v, s, pnl };
      maxAbs = Math.max(maxAbs, Math.abs(pnl));
    }),
  );
  const table = el('table', { class: 'heat' });
  table.append(
    el(
      'caption',
      {},
      'Portfolio P&L by spot move (columns, in shocks of each underlying) and vol shock (rows)',
    ),
  );
  const head = el('tr');
  head.append(el('th', { scope: 'col' }, 'vol \\ spot'));
  for (const f of grid.spotShockFractions)
    head.append(el('th', { scope: 'col' }, `${f > 0 ? '+' : ''}${formatNumber(f, 2)}`));
  const thead = el('thead');
  thead.append(head);
  table.append(thead);
  const body = el('tbody');
  grid.pnlUsd.forEach((row, v) => {
    const tr = el('tr');
    tr.append(el('th', { scope: 'row' }, String(grid.volShocks[v])));
    row.forEach((pnl, s) => {
      const td = el('td', {}, formatUsdFloat(pnl));
      const t = maxAbs === 0 ? 0 : pnl / maxAbs;
      td.style.setProperty('--heat', t.toFixed(3));
      td.className = pnl < 0 ? 'loss' : 'gain';
      if (v === worst.v && s === worst.s) {
        td.classList.add('worst');
        td.setAttribute('aria-label', `${formatUsdFloat(pnl)}, the worst scenario`);
      }
      tr.append(td);
    });
    body.append(tr);
  });
  table.append(body);
  box.replaceChildren(table);
}

function renderScenarios(h) {
  renderHeatmap(h);
  const w = h.worstScenario;
  field(
    'worstScenario',
    w
      ? `${w.underlying} ${w.name}: ${formatUsdFloat(w.pnlUsd)} (spot ${formatNumber(w.spotMovePct * 100, 2)} %)`
      : 'none',
  );
  rows('#stress', h.stressReplays, (r) => [r.name, formatUsdFloat(r.pnlUsd)]);
}

function renderGreeks(h) {
  const g = h.greeks;
  field('deltaUsd', formatUsdFloat(g.deltaUsd));
  field('vega', formatUsdFloat(g.vegaUsdPerVolPoint));
  field('theta', formatUsdFloat(g.thetaUsdPerDay));
  rows('#greeks', g.byUnderlying, (u) => [
    u.underlying,
    `${formatNumber(u.delta, 4)} (${formatUsdFloat(u.deltaUsd)})`,
    formatNumber(u.gamma, 6),
    formatUsdFloat(u.vegaUsdPerVolPoint),
    formatUsdFloat(u.thetaUsdPerDay),
  ]);
}

function renderHealth(h) {
  field('marginRatio', formatRatio(h.marginRatio));
  const badge = $('[data-field="health"]');
  badge.textContent = HEALTH_TEXT[h.health] ?? h.health;
  badge.dataset.health = h.health;
  const d = h.liquidationDistance;
  field(
    'liqDown',
    d.downMovePct === null ? 'not within the range tested' : `a ${formatPct(d.downMovePct)} fall`,
  );
  field('liqUp', d.upMovePct === null ? 'not within the range tested' : `a ${formatPct(d.upMovePct)} rise`);
  usdField(h, 'freeCollateralUsd6');
  usdField(h, 'shortfallUsd6');
  field('blockNumber', formatBlock(h.blockNumber));
  $('[data-field="blockNumber"]').dataset.block = h.blockNumber;
  field('stale', h.stale.any ? `stale: ${h.stale.reasons.join('; ')}` : 'fresh');
  renderGauge(h);
  renderBars(h);
  rows('#by-protocol', h.byProtocol, (p) => [
    p.protocol,
    formatUsdFloat(p.mtmUsd),
    formatUsdFloat(p.haircutUsd),
    formatUsdFloat(p.standaloneLossUsd),
  ]);
  rows('#by-underlying', h.byUnderlying, (u) => [
    u.underlying,
    formatUsdFloat(u.spotUsd),
    formatPct(u.volAnnual, 1),
    formatUsdFloat(u.mtmUsd),
    formatUsdFloat(u.standaloneLossUsd),
  ]);
  renderScenarios(h);
  renderGreeks(h);
  document.body.dataset.block = h.blockNumber;
}

/** The history chart: adjusted equity, IM and MM by block, scaled with BigInt. */
function renderHistory() {
  const box = $('#history');
  const recs = [...state.history].sort((a, b) => {
    const d = parseIntString(a.blockNumber) - parseIntString(b.blockNumber);
    return d < 0n ? -1 : d > 0n ? 1 : 0;
  });
  box.dataset.points = String(recs.length);
  if (recs.length < 2) {
    box.replaceChildren(el('p', { class: 'note' }, 'The chart starts once two results are stored.'));
    return;
  }
  const W = 600;
  const H = 160;
  const P = 6;
  const series = ['adjustedEquityUsd6', 'imUsd6', 'mmUsd6'];
  let lo = null;
  let hi = null;
  for (const r of recs)
    for (const s of series) {
      const v = parseIntString(r[s]);
      if (lo === null || v < lo) lo = v;
      if (hi === null || v > hi) hi = v;
    }
  const b0 = parseIntString(recs[0].blockNumber);
  const b1 = parseIntString(recs[recs.length - 1].blockNumber);
  const span = b1 - b0 === 0n ? 1n : b1 - b0;
  const range = hi - lo === 0n ? 1n : hi - lo;
  const xOf = (r) => P + Number(((parseIntString(r.blockNumber) - b0) * BigInt(W - 2 * P)) / span);
  const yOf = (v) => H - P - Number(((v - lo) * BigInt(H - 2 * P)) / range);
  const chart = svg('svg', {
    viewBox: `0 0 ${W} ${H}`,
    role: 'img',
    class: 'chart',
    preserveAspectRatio: 'none',
  });
  const title = svg('title');
  const last = recs[recs.length - 1];
  title.textContent = `Margin history over blocks ${formatBlock(recs[0].blockNumber)} to ${formatBlock(last.blockNumber)}: adjusted equity ${formatUsd6(last.adjustedEquityUsd6)}, IM ${formatUsd6(last.imUsd6)}, MM ${formatUsd6(last.mmUsd6)} at the last block`;
  chart.append(title);
  const cls = { adjustedEquityUsd6: 'equity', imUsd6: 'im', mmUsd6: 'mm' };
  for (const s of series) {
    const d = recs.map((r, i) => `${i === 0 ? 'M' : 'L'} ${xOf(r)} ${yOf(parseIntString(r[s]))}`).join(' ');
    chart.append(svg('path', { d, class: `line ${cls[s]}`, 'vector-effect': 'non-scaling-stroke' }));
  }
  const axis = el(
    'p',
    { class: 'axis' },
    `Blocks ${formatBlock(recs[0].blockNumber)} to ${formatBlock(last.blockNumber)}; scale ${formatUsd6(lo.toString())} to ${formatUsd6(hi.toString())}`,
  );
  box.replaceChildren(chart, axis);
}

/** Adds the streamed result to the history (once per block and hash) and redraws it. */
function addToHistory(h) {
  if (!state.history.some((r) => r.blockNumber === h.blockNumber && r.blockHash === h.blockHash)) {
    state.history.push(h);
    if (state.history.length > HISTORY_LIMIT) state.history.shift();
  }
  renderHistory();
}

async function getJson(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const e = body?.error;
    const err = new Error(e ? `${e.message}${e.hint ? ` — ${e.hint}` : ''}` : `HTTP ${res.status}`);
    err.status = res.status;
    throw err;
  }
  return body;
}

function follow(address) {
  state.source?.close();
  const source = new EventSource(`/v1/accounts/${encodeURIComponent(address)}/stream`);
  state.source = source;
  source.addEventListener('health', (ev) => {
    if (state.source !== source) return;
    const h = JSON.parse(ev.data);
    state.lastBlock = h.blockNumber;
    $('#view').hidden = false;
    renderHealth(h);
    addToHistory(h);
    setStatus(`Live · block ${formatBlock(h.blockNumber)}`, 'live');
  });
  source.addEventListener('open', () => {
    if (state.source === source && state.lastBlock !== null)
      setStatus(`Live · block ${formatBlock(state.lastBlock)}`, 'live');
  });
  source.addEventListener('error', () => {
    if (state.source === source) setStatus('Reconnecting to live updates…', 'warn');
  });
}

async function show(address) {
  const request = ++state.request;
  state.source?.close();
  state.source = null;
  state.history = [];
  state.lastBlock = null;
  setStatus('Loading…');
  const enc = encodeURIComponent(address);
  try {
    const [h, hist] = await Promise.all([
      getJson(`/v1/accounts/${enc}/health`),
      getJson(`/v1/accounts/${enc}/history?limit=${HISTORY_LIMIT}`),
    ]);
    if (state.request !== request) return;
    state.history = hist.records;
    state.lastBlock = h.blockNumber;
    $('#view').hidden = false;
    renderHealth(h);
    renderHistory();
    setStatus(`Block ${formatBlock(h.blockNumber)} · waiting for live updates`);
    follow(h.owner);
  } catch (err) {
    if (state.request !== request) return;
    $('#view').hidden = true;
    setStatus(err.message, 'error');
    // An account with no result yet is shown as soon as its first one is stored.
    if (err.status === 404) follow(address);
  }
}

function start() {
  const form = $('#lookup');
  const input = $('#address');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const address = input.value.trim();
    if (address === '') {
      setStatus('Enter an address.', 'error');
      input.focus();
      return;
    }
    const url = new URL(location.href);
    url.searchParams.set('address', address);
    history.replaceState(null, '', url);
    void show(address);
  });
  const initial = new URL(location.href).searchParams.get('address');
  if (initial) {
    input.value = initial;
    void show(initial);
  }
}

start();
