/**
 * The dashboard in real Chromium (playwright-core, /usr/bin/chromium): the API process on loopback
 * over the Redis stores, seeded the way production fills them (devnet personas read by the real
 * adapters, records computed by the real engine). Checked: the page shows a seeded account's numbers
 * exactly as the API's JSON has them (amounts formatted from the decimal strings), a newly stored
 * record reaches the open page over the account's event stream, the layout holds at 1280×800 and at
 * a phone's width (screenshots under test-artifacts/), and the stream itself resumes from an event id.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Redis } from 'ioredis';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { Address } from 'viem';
import { getFreePort } from '../src/devnet/anvil';
import { startDevnet, type Devnet } from '../src/devnet/devnet';
import { runMarketPath } from '../src/devnet/market';
import { connectTestRedis, deleteKeys, testNetwork } from '../src/indexer/redis/test-redis';
import { startApiProcess, stopApiProcess, type ApiProcess } from './helpers/api-process';
import { seedBlock, seedFromDevnet, type Seeded } from './helpers/api-seed';
import { persona } from './helpers/indexer';
import { USD6_FIELDS } from '../src/pipeline/classify';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = resolve(__dirname, '..', 'test-artifacts');
interface WireHealth {
  owner: string;
  blockNumber: string;
  blockHash: string;
  health: string;
  marginRatio: number | null;
  byProtocol: { protocol: string }[];
  byUnderlying: { underlying: string }[];
  greeks: { byUnderlying: { underlying: string }[] };
  stressReplays: { name: string }[];
  [k: string]: unknown;
}

let devnet: Devnet;
let redis: Redis;
let seeded: Seeded;
let api: ApiProcess;
let dir: string;
let context: BrowserContext;
let page: Page;
let owner: Address;

/** Dollars and cents of a USD6 decimal string, rounded half up, computed here independently of the page. */
function dollars(usd6: string): string {
  const v = BigInt(usd6);
  const abs = v < 0n ? -v : v;
  const cents = (abs + 5_000n) / 10_000n;
  const whole = (cents / 100n).toLocaleString('en-US');
  const sign = v < 0n && cents > 0n ? '−' : '';
  return `${sign}$${whole}.${(cents % 100n).toString().padStart(2, '0')}`;
}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(`${api.url}${path}`);
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

/** What the page shows in `[data-field=name]`: its text and exact USD6 figure. */
async function shown(name: string): Promise<{ text: string; usd6: string | undefined }> {
  const loc = page.locator(`[data-field="${name}"]`);
  return {
    text: (await loc.textContent())!.trim(),
    usd6: (await loc.getAttribute('data-usd6')) ?? undefined,
  };
}

async function firstColumn(tbody: string): Promise<string[]> {
  return page.locator(`${tbody} tr > th`).allTextContents();
}

/** Checks every figure of the page against the API's answer for the same account. */
async function expectPageMatches(h: WireHealth): Promise<void> {
  await page.waitForSelector(`body[data-block="${h.blockNumber}"]`, { timeout: 60_000 });
  for (const f of USD6_FIELDS)
    expect({ f, ...(await shown(f)) }).toEqual({ f, text: dollars(h[f] as string), usd6: h[f] });
  const health = page.locator('[data-field="health"]');
  expect(await health.getAttribute('data-health')).toBe(h.health);
  expect((await shown('blockNumber')).text).toBe(BigInt(h.blockNumber).toLocaleString('en-US'));
  expect((await shown('marginRatio')).text).toBe(
    h.marginRatio === null
      ? 'no requirement'
      : `${h.marginRatio.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}×`,
  );
  expect(await firstColumn('#by-protocol')).toEqual(h.byProtocol.map((p) => p.protocol));
  expect(await firstColumn('#by-underlying')).toEqual(h.byUnderlying.map((u) => u.underlying));
  expect(await firstColumn('#greeks')).toEqual(h.greeks.byUnderlying.map((u) => u.underlying));
  expect(await firstColumn('#stress')).toEqual(h.stressReplays.map((r) => r.name));
  // The heat map: one row per vol shock, the API's worst cell marked (and only it).
  const grid = h.scenarioGrid as { pnlUsd: number[][]; worst: { volIndex: number; spotIndex: number } };
  const heatRows = page.locator('#heatmap tbody tr');
  expect(await heatRows.count()).toBe(grid.pnlUsd.length);
  expect(await page.locator('#heatmap td.worst').count()).toBe(1);
  const worstCell = heatRows.nth(grid.worst.volIndex).locator('td').nth(grid.worst.spotIndex);
  expect(await worstCell.getAttribute('class')).toContain('worst');
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}; the dashboard's browser test needs it. Install it with: sudo apt-get install -y chromium`,
    );
  redis = await connectTestRedis();
  devnet = await startDevnet({ port: await getFreePort(), blockTimeSec: 0, manifestPath: null });
  seeded = await seedFromDevnet(devnet, redis, testNetwork());
  dir = mkdtempSync(join(tmpdir(), 'netmargin-dashboard-'));
  const manifestPath = join(dir, 'manifest.json');
  writeFileSync(manifestPath, JSON.stringify(devnet.manifest));
  api = await startApiProcess(seeded.network, { NETMARGIN_MANIFEST: manifestPath });
  owner = persona(devnet.manifest, 'all-venues-balanced').address as Address;
  context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 800 },
  });
  page = await context.newPage();
  mkdirSync(ARTIFACTS, { recursive: true });
}, 300_000);

afterAll(async () => {
  await context?.close();
  await stopApiProcess(api);
  if (redis) {
    if (seeded) await deleteKeys(redis, seeded.keys.prefix);
    redis.disconnect();
  }
  await devnet?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('dashboard in Chromium', () => {
  it('shows a seeded account’s numbers exactly as the API answers them', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    // All-lowercase, as a user might paste it: the API checksums it.
    await page.goto(`${api.url}/`);
    expect(new URL(page.url()).pathname).toBe('/dashboard');
    await page.getByLabel('Account address').fill(owner.toLowerCase());
    await page.getByRole('button', { name: 'Show' }).click();
    const h = await getJson<WireHealth>(`/v1/accounts/${owner}/health`);
    expect(h.owner).toBe(owner);
    await expectPageMatches(h);
    const hist = await getJson<{ records: unknown[] }>(`/v1/accounts/${owner}/history?limit=200`);
    expect(await page.locator('#history').getAttribute('data-points')).toBe(String(hist.records.length));
    expect(new URL(page.url()).searchParams.get('address')).toBe(owner.toLowerCase());
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-1280x800.png'), fullPage: true });
    expect(errors).toEqual([]);
  }, 120_000);

  it('updates the open page when a new record is stored (event stream)', async () => {
    await page.waitForSelector('#status[data-kind="live"]', { timeout: 60_000 });
    const before = await page.locator('#history').getAttribute('data-points');
    await runMarketPath(devnet.clients, devnet.manifest, 'calm', { clock: 'instant', steps: 2 });
    const block = await seedBlock(seeded, devnet, redis);
    const h = await getJson<WireHealth>(`/v1/accounts/${owner}/health`);
    expect(h.blockNumber).toBe(block.toString());
    await expectPageMatches(h);
    expect((await page.locator('#status').textContent())!).toContain(block.toLocaleString('en-US'));
    expect(Number(await page.locator('#history').getAttribute('data-points'))).toBe(Number(before) + 1);
    expect(await page.locator('#history svg path').count()).toBe(3);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-1280x800-live.png'), fullPage: true });
  }, 180_000);

  it('fits a phone’s width without sideways scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-390x844.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
  }, 60_000);

  it('formats amounts in the page without losing a digit (BigInt, half-up cents)', async () => {
    const samples = [
      '0',
      '4999',
      '5000',
      '-5000',
      '-4999',
      '1234567891',
      '-1234567891',
      '999999999995000',
      (2n ** 256n - 1n).toString(),
      (-(2n ** 255n)).toString(),
    ];
    // A string, not a function: the test's transpiler would turn a function's import() into require().
    const inPage = await page.evaluate(
      `import('/dashboard/format.js').then((f) => ${JSON.stringify(samples)}.map((x) => [f.formatUsd6(x), f.exactUsd6(x)]))`,
    );
    const exact = (s: string) => {
      const v = BigInt(s);
      const a = v < 0n ? -v : v;
      return `${v < 0n ? '-' : ''}${a / 1_000_000n}.${(a % 1_000_000n).toString().padStart(6, '0')}`;
    };
    expect(inPage).toEqual(samples.map((x) => [dollars(x), exact(x)]));
  }, 60_000);

  it('shows the API’s message for a wrongly checksummed address', async () => {
    const bad = owner.replace(/[a-f]/, (c) => c.toUpperCase());
    expect(bad).not.toBe(owner);
    await page.getByLabel('Account address').fill(bad);
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForSelector('#status[data-kind="error"]', { timeout: 30_000 });
    const res = await fetch(`${api.url}/v1/accounts/${bad}/health`);
    const body = (await res.json()) as { error: { message: string; field: string } };
    expect({ status: res.status, field: body.error.field }).toEqual({ status: 400, field: 'address' });
    expect(await page.locator('#status').textContent()).toContain(body.error.message);
    expect(await page.locator('#view').isHidden()).toBe(true);
  }, 60_000);
});

/** Reads SSE events from `path` until `count` `health` events arrived or `quietMs` passed after the last heartbeat. */
async function readEvents(
  path: string,
  opts: { headers?: Record<string, string>; count: number; untilHeartbeats?: number },
): Promise<{ status: number; events: { id: string; data: WireHealth }[]; heartbeats: number }> {
  const ctrl = new AbortController();
  const res = await fetch(`${api.url}${path}`, { headers: opts.headers ?? {}, signal: ctrl.signal });
  const events: { id: string; data: WireHealth }[] = [];
  let heartbeats = 0;
  if (res.status !== 200 || !res.body) return { status: res.status, events, heartbeats };
  const decoder = new TextDecoder();
  let buf = '';
  const reader = res.body.getReader();
  try {
    while (
      events.length < opts.count &&
      (opts.untilHeartbeats === undefined || heartbeats < opts.untilHeartbeats)
    ) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let cut: number;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        if (block.startsWith(': heartbeat')) heartbeats++;
        const id = /^id: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (/^event: health$/m.test(block) && id && data)
          events.push({ id, data: JSON.parse(data) as WireHealth });
      }
    }
  } finally {
    ctrl.abort();
  }
  return { status: res.status, events, heartbeats };
}

describe('GET /v1/accounts/{address}/stream', () => {
  it('opens with the current result, and resumes from an event id with only what changed since', async () => {
    const first = await readEvents(`/v1/accounts/${owner}/stream`, { count: 1 });
    expect(first.status).toBe(200);
    const current = await getJson<WireHealth>(`/v1/accounts/${owner}/health`);
    expect(first.events[0]!.data).toEqual(current);
    // Nothing changed since that id: no event, only the heartbeat sent once caught up.
    const resumed = await readEvents(`/v1/accounts/${owner}/stream`, {
      headers: { 'last-event-id': first.events[0]!.id },
      count: 1,
      untilHeartbeats: 1,
    });
    expect({ status: resumed.status, events: resumed.events.length }).toEqual({ status: 200, events: 0 });
    // From the start of the change stream: one event, the latest result.
    const fromStart = await readEvents(`/v1/accounts/${owner}/stream?after=0`, { count: 1 });
    expect(fromStart.events.map((e) => e.data)).toEqual([current]);
    const changes = (await redis.xrange(seeded.keys.pipeline.results.changes, '-', '+')) as [
      string,
      string[],
    ][];
    const mine = changes.filter(([, f]) => f[f.indexOf('owner') + 1] === owner);
    expect(mine.length).toBeGreaterThan(1);
    expect(fromStart.events[0]!.id).toBe(mine[mine.length - 1]![0]);
    // From just before the account's last change: that change, once.
    const before = await readEvents(`/v1/accounts/${owner}/stream?after=${mine[mine.length - 2]![0]}`, {
      count: 2,
      untilHeartbeats: 1,
    });
    expect(before.events.map((e) => [e.id, e.data])).toEqual([[mine[mine.length - 1]![0], current]]);
  }, 60_000);

  it('refuses a bad address or resume id before the stream starts', async () => {
    const badAddress = await fetch(`${api.url}/v1/accounts/0x1234/stream`);
    expect(badAddress.status).toBe(400);
    expect(((await badAddress.json()) as { error: { field: string } }).error.field).toBe('address');
    const badId = await fetch(`${api.url}/v1/accounts/${owner}/stream?after=yesterday`);
    expect(badId.status).toBe(400);
    expect(((await badId.json()) as { error: { field: string } }).error.field).toBe('after');
  }, 30_000);
});
