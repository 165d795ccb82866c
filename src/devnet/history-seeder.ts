/**
 * A large protocol history on the devnet, fast, for the indexer benchmark (`bench/indexer.bench.ts`).
 *
 * `HistorySeeder` (contracts/src/devnet/HistorySeeder.sol, a devnet-only tool) drives the real protocol
 * contracts for many owners per transaction: Aave V3 supplies on the owners' behalf, perps accounts
 * opened, funded, traded and handed over by ERC-721 transfer, options subaccounts funded and traded
 * against the seeder's market-maker subaccount and handed over the same way. Owners are deterministic
 * addresses nobody holds a key for (they never sign: everything is done for them).
 *
 * The pure part, `planHistory`, decides what each owner gets; `seedHistory` sends it in batches sized
 * to stay well under the block gas limit, with explicit nonces so a batch does not wait on the previous
 * one's receipt (automine: one transaction per block).
 */
import { encodeDeployData, encodePacked, getAddress, keccak256, type Address, type Hash } from 'viem';
import { historySeederAbi, historySeederBytecode, mockV3AggregatorAbi } from '../contracts/generated';
import type { DeploymentManifest } from '../config/manifest';
import { InvalidInputError, NetmarginError } from '../common/errors';
import { encodeOptionSubId } from '../indexer/adapters/units';
import { confirm, deployRaw, type DevnetClients } from './chain';
import { PERP_MARKETS } from './venue-perps';

/** What one owner receives: an Aave supply of every listed asset, a perps order and an options leg. */
export interface OwnerPlan {
  owner: Address;
  perps: { marketId: bigint; sizeD18: bigint };
  options: { optionAsset: Address; subId: bigint; amountD18: bigint };
}

export interface OptionSeries {
  optionAsset: Address;
  underlying: string;
  expiriesSec: readonly number[];
  /** Chainlink spot, USD with 8 decimals. */
  spotUsd8: bigint;
}

/** Owner `i` of the benchmark: a fixed address derived from its index (no private key exists). */
export function benchOwner(i: number): Address {
  const h = keccak256(encodePacked(['string', 'uint256'], ['netmargin-bench-owner', BigInt(i)]));
  return getAddress(`0x${h.slice(-40)}`);
}

const D18 = 10n ** 18n;
/** Perps order sizes per market (18 decimals): small enough that 1 000 USD of margin is ample. */
const PERP_SIZES_D18: Record<string, bigint> = {
  ETH: D18 / 10n,
  BTC: D18 / 200n,
  OP: 100n * D18,
};
/** Strikes as a share of spot (percent), rounded to `STRIKE_STEP_USD`. */
const STRIKE_PERCENT = [90n, 100n, 110n] as const;
const STRIKE_STEP_USD: Record<string, bigint> = { ETH: 50n, BTC: 1_000n };

/** Strike near `spotUsd8 × percent / 100`, on the underlying's strike grid, USD with 8 decimals. */
export function strikeUsd8(underlying: string, spotUsd8: bigint, percent: bigint): bigint {
  const step = (STRIKE_STEP_USD[underlying] ?? 1n) * 10n ** 8n;
  const raw = (spotUsd8 * percent) / 100n;
  const rounded = ((raw + step / 2n) / step) * step;
  return rounded > 0n ? rounded : step;
}

/**
 * Every owner's plan, deterministic in `count` and the series: perps markets and option series taken
 * in turn, longs and shorts alternating so the venues' skew stays near zero.
 */
export function planHistory(count: number, series: readonly OptionSeries[]): OwnerPlan[] {
  if (!Number.isSafeInteger(count) || count <= 0)
    throw new InvalidInputError('count', `${count} is not a positive integer`, {
      hint: 'Ask for at least one owner.',
    });
  const markets = Object.entries(PERP_MARKETS).map(([sym, p]) => ({ id: p.id, size: PERP_SIZES_D18[sym] }));
  const options = series.flatMap((s) =>
    s.expiriesSec.flatMap((expirySec) =>
      STRIKE_PERCENT.flatMap((pct) =>
        [true, false].map((isCall) => ({
          optionAsset: s.optionAsset,
          subId: encodeOptionSubId({
            expirySec,
            strikeUsd8: strikeUsd8(s.underlying, s.spotUsd8, pct),
            isCall,
          }),
        })),
      ),
    ),
  );
  if (options.length === 0)
    throw new InvalidInputError('series', 'no option series to trade', {
      hint: 'Seed a devnet with the options venue (its manifest lists expiries per underlying).',
    });
  const plans: OwnerPlan[] = [];
  for (let i = 0; i < count; i += 1) {
    const market = markets[i % markets.length]!;
    const sign = Math.floor(i / markets.length) % 2 === 0 ? 1n : -1n;
    const leg = options[i % options.length]!;
    const legSign = Math.floor(i / options.length) % 2 === 0 ? 1n : -1n;
    plans.push({
      owner: benchOwner(i),
      perps: { marketId: market.id, sizeD18: sign * (market.size ?? D18) },
      options: { optionAsset: leg.optionAsset, subId: leg.subId, amountD18: legSign * (D18 / 2n) },
    });
  }
  return plans;
}

export interface SeedHistoryOptions {
  /** Distinct owners to seed. */
  owners: number;
  /** Owners per transaction (default 25: ≈ 10 M gas for the heaviest kind). */
  ownersPerTx?: number;
  /** Progress lines (stderr in the benchmark). */
  log?: (line: string) => void;
}

export interface SeedHistoryResult {
  seeder: Address;
  owners: Address[];
  fromBlock: bigint;
  toBlock: bigint;
  transactions: number;
  gasUsed: bigint;
}

/** Per owner: Aave supplies (token units), perps margin and options cash (USDC) and option premium. */
const AAVE_SUPPLY = { USDC: 100n * 10n ** 6n, WETH: D18 / 100n } as const;
const PERPS_MARGIN_USDC = 1_000n;
const OPTIONS_CASH_USDC = 500n;
const OPTION_PREMIUM_D18 = 5n * D18;

/** Deploys the seeder and writes the plan for `opts.owners` owners; returns the block range written. */
export async function seedHistory(
  c: DevnetClients,
  m: DeploymentManifest,
  opts: SeedHistoryOptions,
): Promise<SeedHistoryResult> {
  const log = opts.log ?? ((): void => undefined);
  const perpsMarket = m.venues.perps?.contracts.perpsMarket;
  const opt = m.venues.options?.contracts;
  if (!perpsMarket || !opt?.subAccounts || !opt.cashAsset)
    throw new NetmarginError('The devnet has no perps or options venue to seed', {
      code: 'DEVNET_SEED',
      hint: 'Start the devnet with `startDevnet` (it deploys both venues).',
    });
  const from = m.roles.deployer;
  const fromBlock = (await c.publicClient.getBlockNumber({ cacheTime: 0 })) + 1n;
  const seeder = await deployRaw(
    c,
    from,
    encodeDeployData({
      abi: historySeederAbi,
      bytecode: historySeederBytecode,
      args: [m.aave.pool, perpsMarket, opt.subAccounts, opt.cashAsset, m.tokens.USDC.address],
    }),
    'HistorySeeder',
  );
  const series: OptionSeries[] = [];
  for (const market of m.venues.options?.markets ?? []) {
    const feed = market.underlying === 'ETH' ? m.feeds.prices.WETH : m.feeds.prices.WBTC;
    const [, answer] = await c.publicClient.readContract({
      address: feed.address,
      abi: mockV3AggregatorAbi,
      functionName: 'latestRoundData',
    });
    series.push({
      optionAsset: market.key as Address,
      underlying: market.underlying,
      expiriesSec: market.expiriesSec ?? [],
      spotUsd8: answer,
    });
  }
  const plans = planHistory(opts.owners, series);
  const perTx = opts.ownersPerTx ?? 25;
  const usdcUnit = 10n ** BigInt(m.tokens.USDC.decimals);
  const usdcToD18 = 10n ** BigInt(18 - m.tokens.USDC.decimals);
  const { gasLimit } = await c.publicClient.getBlock();

  type Call = { functionName: string; args: readonly unknown[]; label: string };
  const calls: Call[] = [];
  for (let i = 0; i < plans.length; i += perTx) {
    const batch = plans.slice(i, i + perTx);
    const owners = batch.map((p) => p.owner);
    calls.push(
      {
        functionName: 'supplyAave',
        args: [owners, [m.tokens.USDC.address, m.tokens.WETH.address], [AAVE_SUPPLY.USDC, AAVE_SUPPLY.WETH]],
        label: `aave supplies for owners ${i}..${i + batch.length - 1}`,
      },
      {
        functionName: 'openPerps',
        args: [
          owners,
          batch.map((p) => p.perps.marketId),
          batch.map((p) => p.perps.sizeD18),
          PERPS_MARGIN_USDC * usdcUnit * usdcToD18,
          PERPS_MARGIN_USDC * usdcUnit,
        ],
        label: `perps accounts for owners ${i}..${i + batch.length - 1}`,
      },
      {
        functionName: 'openOptions',
        args: [
          owners,
          batch.map((p) => ({
            optionAsset: p.options.optionAsset,
            subId: p.options.subId,
            amount: p.options.amountD18,
          })),
          OPTIONS_CASH_USDC * usdcUnit,
          OPTION_PREMIUM_D18,
        ],
        label: `options subaccounts for owners ${i}..${i + batch.length - 1}`,
      },
    );
  }

  // Gas per kind from the first batch (later batches of the same size cost the same), with a margin.
  const gasFor = new Map<string, bigint>();
  let nonce = await c.publicClient.getTransactionCount({ address: from, blockTag: 'pending' });
  const pending: { hash: Hash; label: string }[] = [];
  let gasUsed = 0n;
  let sent = 0;
  const flush = async (): Promise<void> => {
    for (const p of pending.splice(0)) gasUsed += (await confirm(c, p.hash, p.label)).gasUsed;
  };
  for (const call of calls) {
    let gas = gasFor.get(call.functionName);
    if (gas === undefined) {
      await flush(); // estimate against the state the previous batches left
      const estimate = await c.publicClient.estimateContractGas({
        account: from,
        address: seeder,
        abi: historySeederAbi,
        functionName: call.functionName as 'supplyAave',
        args: call.args as never,
      });
      gas = (estimate * 13n) / 10n;
      if (gas > (gasLimit * 9n) / 10n)
        throw new NetmarginError(`A ${call.functionName} batch needs ${gas} gas, over 90% of a block`, {
          code: 'DEVNET_SEED',
          hint: `Lower ownersPerTx (now ${perTx}).`,
          details: { gas: gas.toString(), gasLimit: gasLimit.toString() },
        });
      gasFor.set(call.functionName, gas);
    }
    const hash = await c.walletClient.writeContract({
      account: from,
      chain: c.chain,
      address: seeder,
      abi: historySeederAbi,
      functionName: call.functionName as 'supplyAave',
      args: call.args as never,
      nonce: nonce++,
      gas,
    });
    pending.push({ hash, label: call.label });
    sent += 1;
    if (pending.length >= 16) await flush();
    if (sent % 30 === 0) log(`seeding: ${sent}/${calls.length} transactions sent`);
  }
  await flush();
  const toBlock = await c.publicClient.getBlockNumber({ cacheTime: 0 });
  log(`seeding: ${sent} transactions, ${gasUsed} gas, blocks ${fromBlock}..${toBlock}`);
  return { seeder, owners: plans.map((p) => p.owner), fromBlock, toBlock, transactions: sent, gasUsed };
}

/**
 * One Aave supply of USDC for each of `owners` through the seeder, sent without waiting for it to be
 * mined (for a live loop under interval mining); returns the transaction hash.
 */
export async function sendLiveSupply(
  c: DevnetClients,
  m: DeploymentManifest,
  seeder: Address,
  owners: readonly Address[],
): Promise<Hash> {
  return c.walletClient.writeContract({
    account: m.roles.deployer,
    chain: c.chain,
    address: seeder,
    abi: historySeederAbi,
    functionName: 'supplyAave',
    args: [[...owners], [m.tokens.USDC.address], [AAVE_SUPPLY.USDC]],
    gas: 400_000n * BigInt(owners.length) + 200_000n,
  });
}
