/**
 * The `netmargin` CLI as a child process against the devnet and real Redis stores.
 *
 * The stores are filled the way production fills them: the indexer's `IndexerService` reads and
 * stores every persona's positions at the head, the market at the head is recorded, a parameter set
 * is published, and `RiskService` margins every persona with positions into the results store.
 * Checked: argument refusals (exit 2, the field named), `health` / `what-if` / `params` in text and
 * JSON against those records and the engine, and `replay` of attestations posted on the devnet by
 * the devnet's signers — the records as the poster builds them match; a tampered IM is named with
 * both values.
 */
import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Redis } from 'ioredis';
import { getAddress, type Address, type Client, type Hex, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  buildMarginBatch,
  collectSignatures,
  postAttestationsArgs,
  type MarginRecord,
} from '../src/attestation';
import type { DeploymentManifest } from '../src/config/manifest';
import { marginAggregatorAbi } from '../src/contracts/generated';
import { getFreePort } from '../src/devnet/anvil';
import { startDevnet, type Devnet } from '../src/devnet/devnet';
import { runMarketPath } from '../src/devnet/market';
import { createAdapters } from '../src/indexer/adapters';
import { rpcGetLogs } from '../src/indexer/chain/logs';
import { IndexerService, type OwnerPositions } from '../src/indexer/indexer.service';
import { readMarketData } from '../src/indexer/market-data';
import type { MarketRecord } from '../src/indexer/market-recorder';
import { redisKeys, type RedisKeys } from '../src/indexer/redis/keys';
import type { RedisReorgStore } from '../src/indexer/redis/redis-store';
import { connectTestRedis, deleteKeys, redisUrl, testNetwork } from '../src/indexer/redis/test-redis';
import { IndexerRunner } from '../src/indexer/runner';
import { stalenessRulesFromManifest, usd6Figures } from '../src/pipeline/classify';
import { RedisMarketHistory } from '../src/pipeline/market-history';
import { ParamStore } from '../src/pipeline/param-store';
import { RedisRiskResultStore } from '../src/pipeline/result-store';
import { positionsOf, RiskService } from '../src/pipeline/risk.service';
import type { ParamSet, RiskRecord } from '../src/pipeline/types';
import { computeAccountRisk, DEFAULT_RISK_PARAMS, type RiskParams } from '../src/risk';
import type { Position } from '../src/risk/types';
import { persona } from './helpers/indexer';
import { publishOperatorSet } from './helpers/operator-params';

const ROOT = resolve(__dirname, '..');
const PARAMS: RiskParams = {
  ...DEFAULT_RISK_PARAMS,
  valueAtRisk: { ...DEFAULT_RISK_PARAMS.valueAtRisk, monteCarloPaths: 1_000 },
};

let devnet: Devnet;
let m: DeploymentManifest;
let client: PublicClient;
let redis: Redis;
let network: string;
let keys: RedisKeys;
let positions: RedisReorgStore<OwnerPositions>;
let markets: RedisMarketHistory;
let results: RedisRiskResultStore;
let set: ParamSet;
let market: MarketRecord;
let risk: RiskService;
let dir: string;
let manifestPath: string;
/** Every persona with positions, with its stored record. */
const records = new Map<Address, RiskRecord>();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with the test network's Redis namespace (and the devnet for replay). */
function cli(args: string[], opts: { withNetwork?: boolean } = {}): Promise<Run> {
  const extra = opts.withNetwork === false ? [] : ['--network', network, '--redis', redisUrl()];
  return new Promise((ok) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/netmargin.ts', ...args, ...extra],
      { cwd: ROOT, env: { ...process.env, NETMARGIN_NETWORK: '', REDIS_URL: '' }, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err && typeof err.code === 'number' ? err.code : err ? null : 0;
        ok({ code, stdout, stderr });
      },
    );
  });
}

/** A `$1,234.56` cell of a text line as USD6 (cents exact). */
function usdCell(text: string, label: string): bigint {
  const line = text.split('\n').find((l) => l.startsWith(label));
  const m = line && /(-?)\$([\d,]+)\.(\d{2})/.exec(line.slice(label.length));
  if (!m) throw new Error(`no USD figure after "${label}" in:\n${text}`);
  const cents = BigInt(m[2]!.replace(/,/g, '') + m[3]!);
  return (m[1] ? -cents : cents) * 10_000n;
}

/** USD6 rounded half away from zero to cents, in USD6. */
function cents(usd6: bigint): bigint {
  const abs = usd6 < 0n ? -usd6 : usd6;
  const c = ((abs + 5_000n) / 10_000n) * 10_000n;
  return usd6 < 0n ? -c : c;
}

/** Records the market at the head as the head runner does (history and liquidity are not stored). */
async function recordMarketAtHead(): Promise<{ number: bigint; hash: Hex }> {
  const head = await client.getBlock({ blockTag: 'latest' });
  const read = await readMarketData(client as unknown as Client, m, head.number, {
    history: { intervalSec: 86_400, closesUsdByUnderlying: {} },
    liquidity: {},
  });
  const { history: _h, liquidity: _l, ...snapMarket } = read.snapshot.market;
  await markets.record({ ...read, snapshot: { ...read.snapshot, market: snapMarket } });
  return { number: head.number, hash: head.hash };
}

beforeAll(async () => {
  redis = await connectTestRedis();
  network = testNetwork();
  keys = redisKeys(network);
  devnet = await startDevnet({ port: await getFreePort(), blockTimeSec: 0, manifestPath: null });
  m = devnet.manifest;
  client = devnet.clients.publicClient as unknown as PublicClient;
  dir = mkdtempSync(join(tmpdir(), 'netmargin-cli-'));
  manifestPath = join(dir, 'local.json');
  writeFileSync(manifestPath, JSON.stringify(m, null, 2));

  positions = await IndexerRunner.openPositionsStore(redis, network, client);
  markets = new RedisMarketHistory(redis, keys.pipeline.marketByBlock);
  results = new RedisRiskResultStore(redis, keys.pipeline.results);
  const params = new ParamStore(redis, keys.pipeline.params);

  const ref = await recordMarketAtHead();
  market = (await markets.at(ref.number))!;

  set = await publishOperatorSet(params, PARAMS, market.snapshot.market.prices, 1.3);

  // The indexer's refresh worker stores every persona's positions at the head.
  const service = new IndexerService({
    client,
    adapters: createAdapters(m),
    store: positions,
    jobs: { refresh: async () => undefined, advance: async () => undefined, risk: async () => undefined },
    getLogs: rpcGetLogs(client),
    startBlock: BigInt(m.network.startBlock),
  });
  for (const p of m.accounts) await service.handleRefresh(p.address, ref);

  // The risk workers margin them.
  risk = new RiskService({
    positions,
    markets,
    params,
    results,
    rules: stalenessRulesFromManifest(m, {
      defaultHeartbeatSec: 86_400,
      defaultGracePeriodSec: 3_600,
      maxIndexerLagBlocks: 50,
    }),
    chainHead: () => client.getBlockNumber({ cacheTime: 0 }),
  });
  for (const p of m.accounts) {
    const stored = await positions.get(p.address);
    if (!stored || positionsOf(stored.value).length === 0) continue;
    const out = await risk.recompute(p.address, ref);
    expect([p.persona, out.status]).toEqual([p.persona, 'stored']);
    records.set(p.address, (await results.latest(p.address))!);
  }
}, 240_000);

afterAll(async () => {
  await results?.close();
  if (redis) {
    await deleteKeys(redis, keys.prefix);
    redis.disconnect();
  }
  await devnet?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('netmargin: usage', () => {
  const nearLiq = (): Address => persona(m, 'aave-near-liquidation').address;

  it('refuses a missing or unknown command, an unknown option and a missing value with status 2', async () => {
    const none = await cli([], { withNetwork: false });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^error: command: missing/);
    const unknown = await cli(['balance', nearLiq()]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "balance"');
    const option = await cli(['params', '--verbose']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain('unknown option --verbose');
    const value = await cli(['params', '--network'], { withNetwork: false });
    expect(value.code).toBe(2);
    expect(value.stderr).toContain('--network: needs a value');
    const extra = await cli(['health', nearLiq(), 'more']);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain('unexpected argument "more"');
  }, 180_000);

  it('refuses a malformed or wrongly checksummed address, accepts it in lowercase', async () => {
    const short = await cli(['health', '0x1234']);
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('address: "0x1234" is not an address');
    const good = nearLiq();
    // Flip the case of one letter of the checksummed address: the checksum no longer holds.
    const i = [...good].findIndex((c, k) => k > 1 && /[a-fA-F]/.test(c));
    const flipped =
      good.slice(0, i) +
      (good[i] === good[i]!.toLowerCase() ? good[i]!.toUpperCase() : good[i]!.toLowerCase()) +
      good.slice(i + 1);
    const bad = await cli(['health', flipped, '--json']);
    expect(bad.code).toBe(2);
    const err = JSON.parse(bad.stderr) as { error: { code: string; field: string; message: string } };
    expect(err.error.code).toBe('BAD_USAGE');
    expect(err.error.field).toBe('address');
    expect(err.error.message).toContain(`expected ${good}`);
    const lower = await cli(['health', good.toLowerCase(), '--json']);
    expect(lower.code).toBe(0);
    expect((JSON.parse(lower.stdout) as { owner: string }).owner).toBe(good);
  }, 180_000);

  it('refuses trades that are not plain decimals or not in the syntax, naming the trade and field', async () => {
    const cases: [string, string][] = [
      ['perp:ETH:1e18', 'trades[0].size: "1e18" is not a plain signed decimal'],
      ['perp:ETH:0x10', 'trades[0].size: "0x10" is not a plain signed decimal'],
      ['repay:USDC:-1', 'trades[0].amount: "-1" is not a plain decimal'],
      ['call:ETH:2026-02-30:4000:-1', 'trades[0].expirySec: "2026-02-30" is not a calendar date'],
    ];
    for (const [trade, message] of cases) {
      const r = await cli(['what-if', nearLiq(), trade]);
      expect([trade, r.code]).toEqual([trade, 2]);
      expect(r.stderr).toContain(message);
    }
    // Checked by the API's rules against the market and the account: more than owed, an unknown underlying.
    const owed = await cli(['what-if', nearLiq(), 'repay:USDC:1000000000', '--json']);
    expect(owed.code).toBe(2);
    expect((JSON.parse(owed.stderr) as { error: { field: string } }).error.field).toBe('trades[0].amount');
    const unknown = await cli(['what-if', nearLiq(), 'perp:ETH:+1', 'perp:DOGE:+1']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('error: trades[1].underlying: no price for "DOGE"');
  }, 180_000);
});

describe('netmargin: health, what-if, params', () => {
  it('health prints the stored record: JSON with exact decimal strings, text with the same figures', async () => {
    const owner = persona(m, 'aave-near-liquidation').address;
    const r = records.get(owner)!;
    const j = await cli(['health', owner, '--json']);
    expect(j.code).toBe(0);
    const doc = JSON.parse(j.stdout) as Record<string, unknown>;
    expect(doc.owner).toBe(owner);
    expect(doc.blockNumber).toBe(r.blockNumber.toString());
    expect(doc.imUsd6).toBe(r.imUsd6.toString());
    expect(doc.mmUsd6).toBe(r.mmUsd6.toString());
    expect(doc.mtmUsd6).toBe(r.mtmUsd6.toString());
    expect(doc.shortfallUsd6).toBe(r.shortfallUsd6.toString());
    expect(doc.inputHash).toBe(r.inputHash);
    expect(doc.params).toEqual({ version: set.version, hash: set.hash });
    expect(doc.health).toBe(r.health);

    const t = await cli(['health', owner]);
    expect(t.code).toBe(0);
    expect(usdCell(t.stdout, 'Initial margin (IM)')).toBe(cents(r.imUsd6));
    expect(usdCell(t.stdout, 'Maintenance margin (MM)')).toBe(cents(r.mmUsd6));
    expect(usdCell(t.stdout, 'Mark-to-market')).toBe(cents(r.mtmUsd6));
    expect(usdCell(t.stdout, 'Free collateral')).toBe(cents(r.freeCollateralUsd6));
    expect(t.stdout).toContain(`Health`);
    expect(t.stdout).toMatch(new RegExp(`Health\\s+${r.health}`));
    expect(t.stdout).toContain('aave-v3');
    // Thousands separators on a figure of at least $1,000.
    expect(t.stdout).toMatch(/\$\d{1,3},\d{3}/);
  }, 180_000);

  it('health of an address with no stored margin, params of an empty network: status 1 and a hint', async () => {
    const fresh = persona(m, 'fresh-wallet').address;
    expect(records.has(fresh)).toBe(false);
    const r = await cli(['health', fresh]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: No margin is stored for ${fresh}`);
    const empty = await cli(['params', '--network', `${network}-empty`, '--redis', redisUrl()], {
      withNetwork: false,
    });
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain(`error: No risk parameter set is published on network ${network}-empty`);
  }, 180_000);

  it('what-if answers before and after a trade: before is the stored record, after is the engine on the traded book', async () => {
    const owner = persona(m, 'aave-near-liquidation').address;
    const r = records.get(owner)!;
    const j = await cli(['what-if', owner, 'perp:ETH:+2.5', 'repay:USDC:1000', '--json']);
    expect(j.code).toBe(0);
    const w = JSON.parse(j.stdout) as {
      now: Record<string, string>;
      whatIf: Record<string, string>;
      delta: Record<string, string>;
      basis: { blockNumber: string; sameAsLatest: boolean };
    };
    expect(w.basis).toMatchObject({ blockNumber: r.blockNumber.toString(), sameAsLatest: true });
    expect(w.now.imUsd6).toBe(r.imUsd6.toString());
    expect(w.now.mmUsd6).toBe(r.mmUsd6.toString());
    expect(w.now.inputHash).toBe(r.inputHash);

    // The traded book built here from the syntax's definition: a perp at the oracle price, less debt.
    const stored = (await positions.get(owner))!;
    const eth = market.snapshot.market.prices.ETH!;
    const spot = { raw: eth.answer * 10n ** BigInt(18 - eth.decimals), decimals: 18 };
    const book: Position[] = positionsOf(stored.value).map((p) =>
      p.kind === 'lending' && p.side === 'debt' && p.asset === 'USDC'
        ? {
            ...p,
            amount: {
              raw: p.amount.raw - 1_000n * 10n ** BigInt(p.amount.decimals),
              decimals: p.amount.decimals,
            },
          }
        : p,
    );
    book.push({
      kind: 'perp',
      protocol: 'perps',
      underlying: 'ETH',
      size: { raw: 25n * 10n ** 17n, decimals: 18 },
      entryPriceUsd: spot,
      lastPriceUsd: spot,
      accruedFundingUsd: { raw: 0n, decimals: 18 },
      venueMarginUsd: { raw: 0n, decimals: 18 },
    });
    const direct = usd6Figures(
      computeAccountRisk(
        { account: owner, positions: book, ...RiskService.snapshotOf(market, set) },
        set.params,
      ),
    );
    expect(w.whatIf.imUsd6).toBe(direct.imUsd6.toString());
    expect(w.whatIf.mmUsd6).toBe(direct.mmUsd6.toString());
    expect(w.whatIf.adjustedEquityUsd6).toBe(direct.adjustedEquityUsd6.toString());
    expect(w.delta.imUsd6).toBe((direct.imUsd6 - r.imUsd6).toString());
    expect(direct.imUsd6).not.toBe(r.imUsd6);

    const t = await cli(['what-if', owner, 'perp:ETH:+2.5', 'repay:USDC:1000']);
    expect(t.code).toBe(0);
    const imLine = t.stdout.split('\n').find((l) => l.startsWith('Initial margin (IM)'))!;
    const cells = [...imLine.matchAll(/[-+]?\$[\d,]+\.\d{2}/g)].map((x) => x[0]);
    expect(cells).toHaveLength(3);
    const asUsd6 = (s: string): bigint => BigInt(s.replace(/[$,.+]/g, '')) * 10_000n;
    expect(asUsd6(cells[0]!)).toBe(cents(r.imUsd6));
    expect(asUsd6(cells[1]!)).toBe(cents(direct.imUsd6));
  }, 180_000);

  it('what-if takes an option expiry as a date or as unix seconds, and lists the expiries when none matches', async () => {
    const owner = persona(m, 'aave-near-liquidation').address;
    const slices = market.snapshot.market.volSurfaces.ETH ?? [];
    expect(slices.length).toBeGreaterThan(0);
    const expirySec = slices[0]!.expirySec;
    const date = new Date(expirySec * 1000).toISOString().slice(0, 10);
    const byDate = await cli(['what-if', owner, `call:ETH:${date}:4000:-1`, '--json']);
    expect(byDate.code).toBe(0);
    const d = JSON.parse(byDate.stdout) as {
      trades: { expirySec: number; side: string }[];
      delta: { imUsd6: string };
      whatIf: { imUsd6: string };
    };
    expect(d.trades).toMatchObject([{ expirySec, side: 'sell' }]);
    expect(BigInt(d.delta.imUsd6)).toBeGreaterThan(0n);
    const bySec = await cli(['what-if', owner, `call:ETH:${expirySec}:4000:-1`, '--json']);
    expect(bySec.code).toBe(0);
    expect((JSON.parse(bySec.stdout) as { whatIf: { imUsd6: string } }).whatIf.imUsd6).toBe(d.whatIf.imUsd6);
    const unlisted = await cli(['what-if', owner, 'call:ETH:2030-01-01:4000:-1']);
    expect(unlisted.code).toBe(2);
    expect(unlisted.stderr).toContain('trades[0].expirySec: no ETH expiry is listed on 2030-01-01');
    expect(unlisted.stderr).toContain(`${date} (${expirySec})`);
  }, 180_000);

  it('params shows the active set: version, hash, window and key figures', async () => {
    const j = await cli(['params', '--json']);
    expect(j.code).toBe(0);
    const doc = JSON.parse(j.stdout) as ParamSet;
    expect(doc.version).toBe(set.version);
    expect(doc.hash).toBe(set.hash);
    expect(doc.params.valueAtRisk.monteCarloPaths).toBe(1_000);
    const t = await cli(['params']);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(new RegExp(`Parameter set\\s+v${set.version}\\n`));
    expect(t.stdout).toContain(set.hash);
    expect(t.stdout).toContain('61 closes every 1 d');
    expect(t.stdout).toContain('1000 Monte Carlo paths');
    for (const u of Object.keys(PARAMS.underlyings)) expect(t.stdout).toMatch(new RegExp(`^${u}\\s`, 'm'));
  }, 180_000);
});

describe('netmargin --api', () => {
  /** The API process on a free port, serving this test's network; stopped by SIGTERM. */
  async function withApi(body: (url: string) => Promise<void>): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/api.ts'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        REDIS_URL: redisUrl(),
        NETMARGIN_NETWORK: network,
        NETMARGIN_MANIFEST: manifestPath,
        API_PORT: '0',
      },
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += String(d)));
    try {
      const url = await new Promise<string>((ok, fail) => {
        createInterface({ input: child.stdout! }).on('line', (line) => {
          const msg = JSON.parse(line) as { event: string; url?: string };
          if (msg.event === 'api-listening') ok(msg.url!);
        });
        child.on('exit', (code) => fail(new Error(`the API exited (${code}): ${stderr}`)));
      });
      await body(url);
    } finally {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    }
  }

  const withoutClock = (doc: { now: object; whatIf: object }) => ({
    ...doc,
    now: { ...doc.now, computedAtMs: 0 },
    whatIf: { ...doc.whatIf, computedAtMs: 0 },
  });

  it('health and what-if asked of the running API answer as the stores do; its refusals keep status 2', async () => {
    const owner = persona(m, 'aave-near-liquidation').address;
    const r = (await results.latest(owner))!;
    await withApi(async (api) => {
      const health = await cli(['health', owner, '--json', '--api', api]);
      expect(health.code).toBe(0);
      expect(JSON.parse(health.stdout)).toEqual(JSON.parse((await cli(['health', owner, '--json'])).stdout));
      const text = await cli(['health', owner, '--api', api]);
      expect(text.code).toBe(0);
      expect(usdCell(text.stdout, 'Initial margin (IM)')).toBe(cents(r.imUsd6));

      const trades = ['perp:ETH:-1', 'repay:USDC:250'];
      const viaApi = await cli(['what-if', owner, ...trades, '--json', '--api', api]);
      expect(viaApi.code).toBe(0);
      const direct = await cli(['what-if', owner, ...trades, '--json', '--manifest', manifestPath]);
      expect(direct.code).toBe(0);
      const a = JSON.parse(viaApi.stdout) as { now: { imUsd6: string }; whatIf: object };
      expect(a.now.imUsd6).toBe(r.imUsd6.toString());
      expect(withoutClock(a)).toEqual(withoutClock(JSON.parse(direct.stdout) as typeof a));
      const t = await cli(['what-if', owner, ...trades, '--api', api]);
      expect(t.code).toBe(0);
      expect(usdCell(t.stdout, 'Initial margin (IM)')).toBe(cents(r.imUsd6));

      const owed = await cli(['what-if', owner, 'repay:USDC:1000000000', '--api', api, '--json']);
      expect(owed.code).toBe(2);
      expect((JSON.parse(owed.stderr) as { error: { field: string } }).error.field).toBe('trades[0].amount');
      const dated = await cli(['what-if', owner, 'call:ETH:2026-12-25:4000:-1', '--api', api]);
      expect(dated.code).toBe(2);
      expect(dated.stderr).toContain('trades[0].expirySec: a date (2026-12-25) needs the market');
      const fresh = await cli(['health', persona(m, 'fresh-wallet').address, '--api', api]);
      expect(fresh.code).toBe(1);
    });
  }, 240_000);
});

describe('netmargin replay', () => {
  async function post(recs: MarginRecord[]): Promise<Hex> {
    const agg = m.aggregator!;
    const now = (await client.getBlock()).timestamp;
    const batch = buildMarginBatch(
      { paramsHash: set.hash, timestampSec: now, deadlineSec: now + 600n, records: recs },
      { nowSec: now },
    );
    const signers = agg.signers.map((s) => privateKeyToAccount(s.privateKey!));
    const { signatures } = await collectSignatures(
      batch,
      { chainId: m.network.chainId, aggregator: agg.address },
      signers,
      agg.threshold,
    );
    const hash = await devnet.clients.walletClient.writeContract({
      account: persona(m, 'fresh-wallet').address,
      chain: devnet.clients.chain,
      address: agg.address,
      abi: marginAggregatorAbi,
      functionName: 'postAttestations',
      args: postAttestationsArgs(batch, signatures),
    });
    const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 50 });
    expect(receipt.status).toBe('success');
    return hash;
  }

  /** The records as the poster builds them from stored results. */
  const posted = (): MarginRecord[] =>
    [...records.values()].map((r) => ({
      account: r.owner,
      imUsd6: r.imUsd6,
      mmUsd6: r.mmUsd6,
      mtmUsd6: r.mtmUsd6,
      blockNumber: r.blockNumber,
      inputsHash: r.inputHash,
    }));

  it('recomputes every record of a posted attestation from chain data: all match bit for bit', async () => {
    expect(records.size).toBeGreaterThanOrEqual(8);
    const tx = await post(posted());
    const j = await cli(['replay', tx, '--json', '--rpc', m.network.rpcUrl, '--manifest', manifestPath]);
    expect(j.stderr).toBe('');
    expect(j.code).toBe(0);
    const rep = JSON.parse(j.stdout) as {
      matches: boolean;
      paramsHash: string;
      records: {
        account: string;
        matches: boolean;
        positionsBlockSource: string;
        fields: { match: boolean }[];
      }[];
    };
    expect(rep.paramsHash).toBe(set.hash);
    expect(rep.records.map((x) => getAddress(x.account)).sort()).toEqual([...records.keys()].sort());
    for (const x of rep.records) {
      expect([x.account, x.matches, x.fields.length]).toEqual([x.account, true, 4]);
      expect(x.positionsBlockSource).toBe('stored-result');
    }
    expect(rep.matches).toBe(true);
    const t = await cli(['replay', tx, '--rpc', m.network.rpcUrl, '--manifest', manifestPath]);
    expect(t.code).toBe(0);
    expect(t.stdout).toContain(`all ${records.size} records match bit for bit`);
  }, 180_000);

  it('names a tampered field with the posted and the recomputed value (status 1)', async () => {
    const recs = posted();
    const victim = recs[0]!;
    recs[0] = { ...victim, imUsd6: victim.imUsd6 + 1n };
    await devnet.clients.testClient.mine({ blocks: 1 });
    const tx = await post(recs);
    const j = await cli(['replay', tx, '--json', '--rpc', m.network.rpcUrl, '--manifest', manifestPath]);
    expect(j.code).toBe(1);
    const rep = JSON.parse(j.stdout) as {
      matches: boolean;
      records: {
        account: string;
        matches: boolean;
        fields: { field: string; posted: string; recomputed: string; match: boolean }[];
      }[];
    };
    expect(rep.matches).toBe(false);
    const bad = rep.records.filter((x) => !x.matches);
    expect(bad.map((x) => x.account)).toEqual([victim.account]);
    expect(bad[0]!.fields.filter((f) => !f.match)).toEqual([
      {
        field: 'imUsd6',
        posted: (victim.imUsd6 + 1n).toString(),
        recomputed: victim.imUsd6.toString(),
        match: false,
      },
    ]);
    const t = await cli(['replay', tx, '--rpc', m.network.rpcUrl, '--manifest', manifestPath]);
    expect(t.code).toBe(1);
    expect(t.stdout).toContain(`1 of ${records.size} records do not match`);
    expect(t.stdout).toContain(`${victim.account} imUsd6:`);
    expect(t.stdout).toMatch(new RegExp(`posted\\s+${victim.imUsd6 + 1n} `));
    expect(t.stdout).toMatch(new RegExp(`recomputed\\s+${victim.imUsd6} `));
  }, 180_000);

  it('reads positions where the stored result read them, below the market block after a market move', async () => {
    await runMarketPath(devnet.clients, m, 'crash', { clock: 'instant', steps: 3 });
    const ref = await recordMarketAtHead();
    const moved = await risk.recomputeMarket(ref);
    expect(moved.stored).toBeGreaterThan(0);
    const recs: MarginRecord[] = [];
    for (const owner of records.keys()) {
      const r = (await results.latest(owner))!;
      if (r.blockNumber !== ref.number) continue;
      expect(r.positionsBlockNumber).toBeLessThan(ref.number);
      recs.push({
        account: r.owner,
        imUsd6: r.imUsd6,
        mmUsd6: r.mmUsd6,
        mtmUsd6: r.mtmUsd6,
        blockNumber: r.blockNumber,
        inputsHash: r.inputHash,
      });
    }
    expect(recs.length).toBe(moved.stored);
    const tx = await post(recs);
    const j = await cli(['replay', tx, '--json', '--rpc', m.network.rpcUrl, '--manifest', manifestPath]);
    expect(j.code).toBe(0);
    const rep = JSON.parse(j.stdout) as {
      matches: boolean;
      records: {
        blockNumber: string;
        positionsBlockNumber: string;
        positionsBlockSource: string;
        matches: boolean;
      }[];
    };
    expect(rep.records).toHaveLength(recs.length);
    for (const x of rep.records) {
      expect(x).toMatchObject({
        blockNumber: ref.number.toString(),
        positionsBlockSource: 'stored-result',
        matches: true,
      });
      expect(BigInt(x.positionsBlockNumber)).toBeLessThan(ref.number);
    }
    expect(rep.matches).toBe(true);
  }, 180_000);

  it('refuses a transaction that is not an attestation', async () => {
    const hash = await devnet.clients.walletClient.sendTransaction({
      account: persona(m, 'fresh-wallet').address,
      chain: devnet.clients.chain,
      to: persona(m, 'liquidator-bot').address,
      value: 1n,
    });
    await client.waitForTransactionReceipt({ hash, pollingInterval: 50 });
    const r = await cli(['replay', hash, '--rpc', m.network.rpcUrl, '--manifest', manifestPath]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`is not a call to the aggregator ${m.aggregator!.address}`);
  }, 180_000);
});
