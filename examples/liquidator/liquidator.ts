/**
 * A reference liquidator for netmargin: listens to the shortfall feed (Server-Sent Events), re-checks
 * every account it hears about on chain, bids in the MarginAggregator's Dutch auction when a bid pays,
 * and liquidates on Aave V3 directly when the account's own Aave health factor is below 1.
 *
 *   npx tsx examples/liquidator/liquidator.ts            # follow the feed until stopped
 *   npx tsx examples/liquidator/liquidator.ts --once     # catch up with the feed, act, exit
 *   npx tsx examples/liquidator/liquidator.ts --dry-run  # decide and log, send nothing
 *
 * Configuration comes from the environment (README.md). The feed is only a hint: nothing is done
 * because the feed says so, only because the chain says so at the moment of acting.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  http,
  isAddress,
  maxUint256,
  type Address,
  type Chain,
  type Hash,
  type Hex,
} from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { publicActionsL2 } from 'viem/op-stack';
import {
  aaveOracleAbi,
  aavePoolAbi,
  addressesProviderAbi,
  aggregatorAbi,
  chainlinkAbi,
  erc20Abi,
} from './abis';
import { readSse, type SseMessage } from './sse';

// ------------------------------------------------------------------------------------ configuration

export interface LiquidatorConfig {
  rpcUrl: string;
  /** The feed endpoint, e.g. `http://127.0.0.1:8788/v1/feed/shortfalls`. */
  feedUrl: string;
  aggregator: Address;
  /** Aave V3 pool; null disables the Aave path. */
  aavePool: Address | null;
  privateKey: Hex;
  /** Where the id of the last handled event is kept (resumes from it). */
  stateFile: string;
  /** Smallest expected profit (USD6, after gas) worth a transaction. */
  minProfitUsd6: bigint;
  /** Chainlink ETH / USD feed for gas costs; found among the aggregator's assets (WETH) when null. */
  ethUsdFeed: Address | null;
  dryRun: boolean;
  /** `runOnce`: give up catching up after this long (ms). */
  catchUpTimeoutMs: number;
  /** Where to start when there is no state file: undefined = new events only, `0` = all the feed holds. */
  startFrom: string | undefined;
}

export class ConfigError extends Error {}

function envAddress(env: NodeJS.ProcessEnv, name: string, required: boolean): Address | null {
  const v = env[name];
  if (v === undefined || v === '') {
    if (required) throw new ConfigError(`${name} is not set: give the contract address (0x…)`);
    return null;
  }
  if (!isAddress(v)) throw new ConfigError(`${name}="${v}" is not an address`);
  return getAddress(v);
}

/** USD with up to 6 decimals ("12.5") → USD6. */
function parseUsd6(name: string, v: string): bigint {
  const m = /^([0-9]+)(?:\.([0-9]{1,6}))?$/.exec(v);
  if (!m) throw new ConfigError(`${name}="${v}" is not a USD amount (e.g. 5 or 2.50)`);
  return BigInt(m[1]!) * 1_000_000n + BigInt((m[2] ?? '').padEnd(6, '0'));
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): LiquidatorConfig {
  const rpcUrl = env.LIQUIDATOR_RPC_URL;
  if (!rpcUrl) throw new ConfigError('LIQUIDATOR_RPC_URL is not set: give the L2 JSON-RPC URL');
  const key = env.LIQUIDATOR_PRIVATE_KEY;
  if (!key || !/^0x[0-9a-fA-F]{64}$/.test(key))
    throw new ConfigError('LIQUIDATOR_PRIVATE_KEY is not a 0x-prefixed 32-byte hex key');
  const timeout = env.LIQUIDATOR_CATCH_UP_TIMEOUT_MS ?? '30000';
  if (!/^[0-9]+$/.test(timeout)) throw new ConfigError('LIQUIDATOR_CATCH_UP_TIMEOUT_MS is not a number');
  return {
    rpcUrl,
    feedUrl: env.LIQUIDATOR_FEED_URL ?? 'http://127.0.0.1:8788/v1/feed/shortfalls',
    aggregator: envAddress(env, 'LIQUIDATOR_AGGREGATOR', true)!,
    aavePool: envAddress(env, 'LIQUIDATOR_AAVE_POOL', false),
    privateKey: key as Hex,
    stateFile: env.LIQUIDATOR_STATE_FILE ?? 'liquidator-state.json',
    minProfitUsd6: parseUsd6('LIQUIDATOR_MIN_PROFIT_USD', env.LIQUIDATOR_MIN_PROFIT_USD ?? '1'),
    ethUsdFeed: envAddress(env, 'LIQUIDATOR_ETH_USD_FEED', false),
    dryRun: ['1', 'true', 'yes'].includes((env.LIQUIDATOR_DRY_RUN ?? '').toLowerCase()),
    catchUpTimeoutMs: Number(timeout),
    startFrom: env.LIQUIDATOR_START_FROM || undefined,
  };
}

// ------------------------------------------------------------------------------------ feed events

/** The fields of a feed event this bot uses (the feed sends more: collateral, prices, staleness). */
export interface ShortfallHint {
  id: string;
  owner: Address;
  health: string;
  reason: string;
  blockNumber: bigint;
  shortfallUsd6: bigint;
  seizable: { token: Address; symbol: string; amount: bigint; decimals: number }[];
}

export function parseHint(msg: SseMessage): ShortfallHint {
  const o = JSON.parse(msg.data) as Record<string, unknown>;
  const seizable = (o.seizable as Record<string, unknown>[] | undefined) ?? [];
  return {
    id: msg.id ?? String(o.id),
    owner: getAddress(String(o.owner)),
    health: String(o.health),
    reason: String(o.reason),
    blockNumber: BigInt(String(o.blockNumber)),
    shortfallUsd6: BigInt(String(o.shortfallUsd6)),
    seizable: seizable.map((s) => ({
      token: getAddress(String(s.token)),
      symbol: String(s.symbol),
      amount: BigInt(String(s.amount)),
      decimals: Number(s.decimals),
    })),
  };
}

// ------------------------------------------------------------------------------------ decisions

export type Action =
  'skip' | 'flag' | 'bid' | 'liquidate' | 'would-flag' | 'would-bid' | 'would-liquidate' | 'error';

export interface Decision {
  eventId: string;
  owner: Address;
  venue: 'aggregator' | 'aave';
  action: Action;
  /** Why, in one sentence. */
  why: string;
  tx?: Hash;
  /** Figures behind the decision (amounts as decimal strings). */
  figures?: Record<string, string>;
}

export type LogFn = (line: Record<string, unknown>) => void;

const jsonLog: LogFn = (line) =>
  process.stdout.write(
    `${JSON.stringify({ t: new Date().toISOString(), ...line }, (_k, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : v,
    )}\n`,
  );

// ------------------------------------------------------------------------------------ arithmetic

const RAY = 10n ** 27n;
const WAD = 10n ** 18n;
const USD6 = 10n ** 6n;
/** Aave: below this health factor the whole debt may be repaid at once (otherwise half). */
const AAVE_CLOSE_FACTOR_HF_THRESHOLD = 95n * 10n ** 16n;

/** Token units × Chainlink answer → USD6 (rounded down). */
export function tokensToUsd6(
  amount: bigint,
  tokenDecimals: number,
  answer: bigint,
  feedDecimals: number,
): bigint {
  return (amount * answer * USD6) / 10n ** BigInt(tokenDecimals + feedDecimals);
}

const fmtUsd6 = (v: bigint): string => {
  const neg = v < 0n;
  const a = neg ? -v : v;
  return `${neg ? '-' : ''}${a / USD6}.${(a % USD6).toString().padStart(6, '0')}`;
};

function revertName(err: unknown): string {
  if (err instanceof BaseError) {
    const r = err.walk((e) => e instanceof ContractFunctionRevertedError);
    if (r instanceof ContractFunctionRevertedError) return r.data?.errorName ?? r.shortMessage;
    return err.shortMessage;
  }
  return err instanceof Error ? err.message : String(err);
}

// ------------------------------------------------------------------------------------ the bot

type AssetConfig = {
  feed: Address;
  tokenDecimals: number;
  feedDecimals: number;
  haircutBps: number;
  isAToken: boolean;
  aavePool: Address;
  underlying: Address;
};

export class Liquidator {
  readonly account: PrivateKeyAccount;
  private chain: Chain | undefined;
  private readonly configs = new Map<Address, AssetConfig>();
  private ethFeed: Address | null | undefined;
  private readonly base;

  constructor(
    readonly config: LiquidatorConfig,
    private readonly log: LogFn = jsonLog,
  ) {
    this.account = privateKeyToAccount(config.privateKey);
    this.base = createPublicClient({ transport: http(config.rpcUrl) });
  }

  private async clients() {
    this.chain ??= defineChain({
      id: await this.base.getChainId(),
      name: 'target L2',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [this.config.rpcUrl] } },
    });
    const transport = http(this.config.rpcUrl);
    const pub = createPublicClient({ chain: this.chain, transport, pollingInterval: 100 }).extend(
      publicActionsL2(),
    );
    const wallet = createWalletClient({ account: this.account, chain: this.chain, transport });
    return { pub, wallet };
  }

  /** Acts on one feed event: the aggregator's auction, then Aave. Never throws; errors become decisions. */
  async handle(hint: ShortfallHint): Promise<Decision[]> {
    const out: Decision[] = [];
    for (const venue of ['aggregator', 'aave'] as const) {
      if (venue === 'aave' && !this.config.aavePool) continue;
      try {
        out.push(...(venue === 'aggregator' ? await this.onAggregator(hint) : await this.onAave(hint)));
      } catch (err) {
        out.push({ eventId: hint.id, owner: hint.owner, venue, action: 'error', why: revertName(err) });
      }
    }
    for (const d of out) this.log({ event: 'decision', ...d });
    return out;
  }

  // ---------------------------------------------------------------- aggregator

  private async assetConfig(asset: Address): Promise<AssetConfig> {
    const known = this.configs.get(asset);
    if (known) return known;
    const { pub } = await this.clients();
    const c = await pub.readContract({
      address: this.config.aggregator,
      abi: aggregatorAbi,
      functionName: 'assetConfig',
      args: [asset],
    });
    const cfg: AssetConfig = {
      feed: c.feed,
      tokenDecimals: c.tokenDecimals,
      feedDecimals: c.feedDecimals,
      haircutBps: c.haircutBps,
      isAToken: c.isAToken,
      aavePool: c.aavePool,
      underlying: c.underlying,
    };
    this.configs.set(asset, cfg);
    return cfg;
  }

  private async answer(feed: Address): Promise<bigint> {
    const { pub } = await this.clients();
    const [, answer] = await pub.readContract({
      address: feed,
      abi: chainlinkAbi,
      functionName: 'latestRoundData',
    });
    return answer;
  }

  /** USD6 of `wei` of gas at the ETH price (0 when no ETH / USD feed is known). */
  private async weiToUsd6(wei: bigint): Promise<bigint> {
    if (this.ethFeed === undefined) {
      this.ethFeed = this.config.ethUsdFeed;
      if (!this.ethFeed) {
        const { pub } = await this.clients();
        const assets = await pub.readContract({
          address: this.config.aggregator,
          abi: aggregatorAbi,
          functionName: 'assets',
        });
        for (const a of assets) {
          const symbol = await pub
            .readContract({ address: a, abi: erc20Abi, functionName: 'symbol' })
            .catch(() => '');
          if (symbol === 'WETH' || symbol === 'ETH') {
            this.ethFeed = (await this.assetConfig(a)).feed;
            break;
          }
        }
      }
      if (!this.ethFeed) this.log({ event: 'warning', why: 'no ETH / USD feed: gas counted as 0 USD' });
    }
    if (!this.ethFeed) return 0n;
    return tokensToUsd6(wei, 18, await this.answer(this.ethFeed), 8);
  }

  /** L2 execution + L1 data fee of a call (viem/op-stack); plain gas × price off OP chains. */
  private async gasUsd6(request: Parameters<typeof this.estimateWei>[0]): Promise<bigint> {
    return this.weiToUsd6(await this.estimateWei(request));
  }

  private async estimateWei(request: {
    address: Address;
    abi: typeof aggregatorAbi | typeof aavePoolAbi;
    functionName: string;
    args: readonly unknown[];
  }): Promise<bigint> {
    const { pub } = await this.clients();
    const req = { ...request, account: this.account } as never;
    try {
      return await pub.estimateContractTotalFee(req);
    } catch {
      const gas = await pub.estimateContractGas(req);
      return gas * (await pub.getGasPrice());
    }
  }

  private async send(request: {
    address: Address;
    abi: typeof aggregatorAbi | typeof aavePoolAbi | typeof erc20Abi;
    functionName: string;
    args: readonly unknown[];
  }): Promise<Hash> {
    const { pub, wallet } = await this.clients();
    const hash = await wallet.writeContract(request as never);
    const receipt = await pub.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') throw new Error(`${request.functionName} reverted (${hash})`);
    return hash;
  }

  private async ensureAllowance(token: Address, spender: Address, amount: bigint): Promise<void> {
    const { pub } = await this.clients();
    const allowance = await pub.readContract({
      address: token,
      abi: erc20Abi,
      functionName: 'allowance',
      args: [this.account.address, spender],
    });
    if (allowance < amount)
      await this.send({ address: token, abi: erc20Abi, functionName: 'approve', args: [spender, amount] });
  }

  /**
   * The aggregator's auction. Profit rule: buying collateral worth V (oracle price) for V × (1 − d)
   * in the settlement token earns d × V; the bid is sent only when d × V − gas ≥ the minimum profit.
   * The contract sizes the sale (enough to bring the account back to MM plus its buffer); the bot
   * simulates `liquidate` per collateral asset to learn (seized, paid), values both with the
   * aggregator's own feeds, and takes the most profitable asset, repeating while the account stays
   * liquidatable.
   */
  private async onAggregator(hint: ShortfallHint): Promise<Decision[]> {
    const { pub } = await this.clients();
    const agg = this.config.aggregator;
    const owner = hint.owner;
    const base = { eventId: hint.id, owner, venue: 'aggregator' as const };
    const decisions: Decision[] = [];
    const liquidatable = () =>
      pub.readContract({ address: agg, abi: aggregatorAbi, functionName: 'isLiquidatable', args: [owner] });

    if (!(await liquidatable())) {
      const [, mm, collateral, shortfall, attestedBlock, stale] = await pub.readContract({
        address: agg,
        abi: aggregatorAbi,
        functionName: 'marginOf',
        args: [owner],
      });
      const why =
        attestedBlock === 0n
          ? 'not liquidatable on chain: no attestation'
          : stale
            ? 'not liquidatable on chain: the attestation is stale'
            : 'not liquidatable on chain: net margin ≥ MM';
      return [
        {
          ...base,
          action: 'skip',
          why: `${why} (feed said ${hint.health}, ${hint.reason})`,
          figures: {
            mmUsd: fmtUsd6(mm),
            collateralUsd: fmtUsd6(collateral),
            shortfallUsd: fmtUsd6(shortfall),
            attestedBlock: attestedBlock.toString(),
          },
        },
      ];
    }
    const flagged = await pub.readContract({
      address: agg,
      abi: aggregatorAbi,
      functionName: 'flaggedAtSec',
      args: [owner],
    });
    if (flagged === 0n) {
      if (this.config.dryRun)
        return [
          {
            ...base,
            action: 'would-flag',
            why: 'liquidatable on chain and not flagged: the auction would start',
          },
        ];
      const tx = await this.send({
        address: agg,
        abi: aggregatorAbi,
        functionName: 'flagShortfall',
        args: [owner],
      });
      decisions.push({
        ...base,
        action: 'flag',
        why: 'liquidatable on chain and not flagged: auction started',
        tx,
      });
    }

    const settlement = await pub.readContract({
      address: agg,
      abi: aggregatorAbi,
      functionName: 'settlementAsset',
    });
    const sc = await this.assetConfig(settlement);
    // `liquidate` pulls the payment with transferFrom, so a quote (a simulation) needs an allowance:
    // the bot lets the aggregator draw up to what it holds, which bounds any bid anyway. (A dry run
    // approves nothing, so it quotes only where an allowance already exists.)
    const holding = await pub.readContract({
      address: settlement,
      abi: erc20Abi,
      functionName: 'balanceOf',
      args: [this.account.address],
    });
    if (!this.config.dryRun) await this.ensureAllowance(settlement, agg, holding);
    for (let round = 0; round < 8; round++) {
      if (round > 0 && !(await liquidatable())) break;
      const assets = await pub.readContract({ address: agg, abi: aggregatorAbi, functionName: 'assets' });
      const discountBps = await pub.readContract({
        address: agg,
        abi: aggregatorAbi,
        functionName: 'currentDiscountBps',
        args: [owner],
      });
      let best: {
        asset: Address;
        seized: bigint;
        paid: bigint;
        profit: bigint;
        figures: Record<string, string>;
      } | null = null;
      for (const asset of assets) {
        if (asset === settlement) continue;
        const bal = await pub.readContract({
          address: agg,
          abi: aggregatorAbi,
          functionName: 'balanceOf',
          args: [owner, asset],
        });
        if (bal === 0n) continue;
        const c = await this.assetConfig(asset);
        let seized: bigint, paid: bigint;
        try {
          const sim = await pub.simulateContract({
            account: this.account,
            address: agg,
            abi: aggregatorAbi,
            functionName: 'liquidate',
            args: [owner, asset, maxUint256, maxUint256],
          });
          [seized, paid] = sim.result;
        } catch (err) {
          this.log({ event: 'quote-failed', owner, asset, why: revertName(err) });
          continue;
        }
        const tokens = c.isAToken
          ? (seized *
              (await pub.readContract({
                address: c.aavePool,
                abi: aavePoolAbi,
                functionName: 'getReserveNormalizedIncome',
                args: [c.underlying],
              }))) /
            RAY
          : seized;
        const valueUsd6 = tokensToUsd6(tokens, c.tokenDecimals, await this.answer(c.feed), c.feedDecimals);
        const costUsd6 = tokensToUsd6(paid, sc.tokenDecimals, await this.answer(sc.feed), sc.feedDecimals);
        const gas = await this.gasUsd6({
          address: agg,
          abi: aggregatorAbi,
          functionName: 'liquidate',
          args: [owner, asset, seized, paid],
        }).catch(() => 0n);
        const profit = valueUsd6 - costUsd6 - gas;
        const figures = {
          asset,
          seizedUnits: seized.toString(),
          tokensOut: tokens.toString(),
          valueUsd: fmtUsd6(valueUsd6),
          payUsd: fmtUsd6(costUsd6),
          gasUsd: fmtUsd6(gas),
          profitUsd: fmtUsd6(profit),
          discountBps: discountBps.toString(),
        };
        this.log({ event: 'quote', owner, ...figures });
        if (!best || profit > best.profit) best = { asset, seized, paid, profit, figures };
      }
      if (!best) {
        decisions.push({
          ...base,
          action: 'skip',
          why: 'liquidatable, but no collateral can be bought (no quote)',
        });
        break;
      }
      if (best.profit < this.config.minProfitUsd6) {
        decisions.push({
          ...base,
          action: 'skip',
          why: `best bid earns ${best.figures.profitUsd} USD after gas, below the ${fmtUsd6(this.config.minProfitUsd6)} USD minimum`,
          figures: best.figures,
        });
        break;
      }
      const why = `buys collateral worth ${best.figures.valueUsd} USD for ${best.figures.payUsd} USD at a ${discountBps} bps discount: ${best.figures.profitUsd} USD after gas`;
      if (this.config.dryRun) {
        decisions.push({ ...base, action: 'would-bid', why, figures: best.figures });
        break;
      }
      const { pub: p } = await this.clients();
      const held = await p.readContract({
        address: settlement,
        abi: erc20Abi,
        functionName: 'balanceOf',
        args: [this.account.address],
      });
      // Prices can tick between the quote and the block: allow 1 % more than quoted, no further.
      const maxPay = best.paid + best.paid / 100n + 1n;
      if (held < maxPay) {
        decisions.push({
          ...base,
          action: 'skip',
          why: `needs ${maxPay} settlement units, holds ${held}`,
          figures: best.figures,
        });
        break;
      }
      await this.ensureAllowance(settlement, agg, maxPay);
      const tx = await this.send({
        address: agg,
        abi: aggregatorAbi,
        functionName: 'liquidate',
        args: [owner, best.asset, best.seized, maxPay],
      });
      decisions.push({ ...base, action: 'bid', why, tx, figures: best.figures });
    }
    return decisions;
  }

  // ---------------------------------------------------------------- Aave

  /**
   * Aave V3 directly. When `getUserAccountData` reports a health factor below 1, the bot repays the
   * largest debt against the largest collateral (`liquidationCall`, receiving the underlying), up to
   * Aave's close factor (half the debt, all of it below HF 0.95). Profit rule: the repaid debt's value
   * × the collateral's liquidation bonus (e.g. 5 %) − gas ≥ the minimum profit. (A protocol fee on
   * the bonus, where a market sets one, lowers it; a real bot also prices the sale of the collateral.)
   */
  private async onAave(hint: ShortfallHint): Promise<Decision[]> {
    const { pub } = await this.clients();
    const pool = this.config.aavePool!;
    const owner = hint.owner;
    const base = { eventId: hint.id, owner, venue: 'aave' as const };
    const data = await pub.readContract({
      address: pool,
      abi: aavePoolAbi,
      functionName: 'getUserAccountData',
      args: [owner],
    });
    const hf = data[5];
    const hfText = hf === maxUint256 ? 'infinite (no debt)' : `${hf / 10n ** 14n}e-4`;
    if (hf >= WAD) return [{ ...base, action: 'skip', why: `Aave health factor ${hfText} ≥ 1` }];

    const provider = await pub.readContract({
      address: pool,
      abi: aavePoolAbi,
      functionName: 'ADDRESSES_PROVIDER',
    });
    const oracle = await pub.readContract({
      address: provider,
      abi: addressesProviderAbi,
      functionName: 'getPriceOracle',
    });
    const baseUnit = await pub.readContract({
      address: oracle,
      abi: aaveOracleAbi,
      functionName: 'BASE_CURRENCY_UNIT',
    });
    const reserves = await pub.readContract({
      address: pool,
      abi: aavePoolAbi,
      functionName: 'getReservesList',
    });
    const { data: userConfig } = await pub.readContract({
      address: pool,
      abi: aavePoolAbi,
      functionName: 'getUserConfiguration',
      args: [owner],
    });
    type Line = {
      asset: Address;
      amount: bigint;
      valueBase: bigint;
      price: bigint;
      decimals: number;
      bonusBps: bigint;
    };
    let debt: Line | null = null;
    let collateral: Line | null = null;
    for (const asset of reserves) {
      const r = await pub.readContract({
        address: pool,
        abi: aavePoolAbi,
        functionName: 'getReserveData',
        args: [asset],
      });
      const id = BigInt(r.id);
      const borrowing = ((userConfig >> (2n * id)) & 1n) === 1n;
      const usedAsCollateral = ((userConfig >> (2n * id + 1n)) & 1n) === 1n;
      if (!borrowing && !usedAsCollateral) continue;
      const conf = r.configuration.data;
      const decimals = Number((conf >> 48n) & 0xffn);
      const bonusBps = (conf >> 32n) & 0xffffn;
      const price = await pub.readContract({
        address: oracle,
        abi: aaveOracleAbi,
        functionName: 'getAssetPrice',
        args: [asset],
      });
      const bal = (token: Address) =>
        pub.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [owner] });
      if (borrowing) {
        const amount = (await bal(r.variableDebtTokenAddress)) + (await bal(r.stableDebtTokenAddress));
        const line = {
          asset,
          amount,
          valueBase: (amount * price) / 10n ** BigInt(decimals),
          price,
          decimals,
          bonusBps,
        };
        if (!debt || line.valueBase > debt.valueBase) debt = line;
      }
      if (usedAsCollateral) {
        const amount = await bal(r.aTokenAddress);
        const line = {
          asset,
          amount,
          valueBase: (amount * price) / 10n ** BigInt(decimals),
          price,
          decimals,
          bonusBps,
        };
        if (!collateral || line.valueBase > collateral.valueBase) collateral = line;
      }
    }
    if (!debt || !collateral)
      return [
        {
          ...base,
          action: 'skip',
          why: `Aave health factor ${hfText} < 1 but no debt / collateral pair found`,
        },
      ];

    // What Aave will let us repay: the close factor, then what the chosen collateral can pay for.
    let coverBase = hf > AAVE_CLOSE_FACTOR_HF_THRESHOLD ? debt.valueBase / 2n : debt.valueBase;
    const collateralCoverBase = (collateral.valueBase * 10_000n) / collateral.bonusBps;
    if (coverBase > collateralCoverBase) coverBase = collateralCoverBase;
    const debtToCover = (coverBase * 10n ** BigInt(debt.decimals)) / debt.price;
    const bonusBase = (coverBase * (collateral.bonusBps - 10_000n)) / 10_000n;
    const bonusUsd6 = (bonusBase * USD6) / baseUnit;
    const figures: Record<string, string> = {
      healthFactor: hfText,
      debtAsset: debt.asset,
      collateralAsset: collateral.asset,
      debtToCover: debtToCover.toString(),
      repayUsd: fmtUsd6((coverBase * USD6) / baseUnit),
      bonusUsd: fmtUsd6(bonusUsd6),
      bonusBps: (collateral.bonusBps - 10_000n).toString(),
    };
    // Interest accrues every block: approve 1 % above the computed amount; Aave pulls what it uses.
    const approve = debtToCover + debtToCover / 100n + 1n;
    const held = await pub.readContract({
      address: debt.asset,
      abi: erc20Abi,
      functionName: 'balanceOf',
      args: [this.account.address],
    });
    if (held < approve)
      return [
        {
          ...base,
          action: 'skip',
          why: `Aave health factor ${hfText} < 1, but the bot holds ${held} of the debt token, needs ${approve}`,
          figures,
        },
      ];
    const request = {
      address: pool,
      abi: aavePoolAbi,
      functionName: 'liquidationCall',
      args: [collateral.asset, debt.asset, owner, debtToCover, false],
    } as const;
    if (!this.config.dryRun) await this.ensureAllowance(debt.asset, pool, approve);
    // Estimating needs the allowance; a dry run without one assumes 600k gas.
    const gasUsd6 = await this.gasUsd6(request).catch(async () =>
      this.weiToUsd6(600_000n * (await pub.getGasPrice())),
    );
    const profit = bonusUsd6 - gasUsd6;
    figures.gasUsd = fmtUsd6(gasUsd6);
    figures.profitUsd = fmtUsd6(profit);
    if (profit < this.config.minProfitUsd6)
      return [
        {
          ...base,
          action: 'skip',
          why: `Aave liquidation earns ${figures.profitUsd} USD after gas, below the minimum`,
          figures,
        },
      ];
    const why = `Aave health factor ${hfText} < 1: repay ${figures.repayUsd} USD of debt for a ${figures.bonusUsd} USD bonus`;
    if (this.config.dryRun) return [{ ...base, action: 'would-liquidate', why, figures }];
    const tx = await this.send(request);
    return [{ ...base, action: 'liquidate', why, tx, figures }];
  }
}

// ------------------------------------------------------------------------------------ the feed loop

export function loadLastEventId(stateFile: string): string | undefined {
  try {
    const s = JSON.parse(readFileSync(stateFile, 'utf8')) as { lastEventId?: unknown };
    return typeof s.lastEventId === 'string' ? s.lastEventId : undefined;
  } catch {
    return undefined; // no state yet: start with new events
  }
}

export function saveLastEventId(stateFile: string, id: string): void {
  // Write then rename: a crash leaves the old id or the new one, never half a file.
  writeFileSync(`${stateFile}.tmp`, JSON.stringify({ lastEventId: id }));
  renameSync(`${stateFile}.tmp`, stateFile);
}

export interface RunOnceResult {
  events: ShortfallHint[];
  decisions: Decision[];
  lastEventId: string | undefined;
}

/**
 * Catches up with the feed from the stored id (reads until the feed's first heartbeat, which it sends
 * once the backlog is delivered), then acts on each account once, for its newest event, in feed order,
 * saving the id after each. Returns what it saw and decided.
 */
export async function runOnce(config: LiquidatorConfig, opts: { log?: LogFn } = {}): Promise<RunOnceResult> {
  const log = opts.log ?? jsonLog;
  const bot = new Liquidator(config, log);
  const start = loadLastEventId(config.stateFile) ?? config.startFrom;
  const events: ShortfallHint[] = [];
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), config.catchUpTimeoutMs);
  try {
    for await (const item of readSse(config.feedUrl, { lastEventId: start, signal: ac.signal })) {
      if (item.kind === 'comment') {
        if (item.text.startsWith('heartbeat')) break; // caught up
        continue;
      }
      if (item.event === 'shortfall') events.push(parseHint(item));
    }
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  log({ event: 'caught-up', from: start ?? null, events: events.length, dryRun: config.dryRun });
  const decisions: Decision[] = [];
  let lastEventId = start;
  for (const [i, e] of events.entries()) {
    const newer = events.slice(i + 1).some((x) => x.owner === e.owner);
    if (!newer) decisions.push(...(await bot.handle(e)));
    lastEventId = e.id;
    saveLastEventId(config.stateFile, e.id);
  }
  return { events, decisions, lastEventId };
}

/** Follows the feed until `signal` aborts, reconnecting from the last handled id after an error. */
export async function runForever(config: LiquidatorConfig, opts: { log?: LogFn; signal?: AbortSignal } = {}) {
  const log = opts.log ?? jsonLog;
  const bot = new Liquidator(config, log);
  let backoffMs = 500;
  while (!opts.signal?.aborted) {
    const from = loadLastEventId(config.stateFile) ?? config.startFrom;
    log({
      event: 'connecting',
      feed: config.feedUrl,
      from: from ?? null,
      dryRun: config.dryRun,
      bot: bot.account.address,
    });
    try {
      for await (const item of readSse(config.feedUrl, { lastEventId: from, signal: opts.signal })) {
        backoffMs = 500;
        if (item.kind === 'comment' || item.event !== 'shortfall') continue;
        const hint = parseHint(item);
        await bot.handle(hint);
        saveLastEventId(config.stateFile, hint.id);
      }
    } catch (err) {
      log({
        event: 'feed-error',
        why: err instanceof Error ? err.message : String(err),
        retryInMs: backoffMs,
      });
    }
    if (opts.signal?.aborted) break;
    await new Promise((r) => setTimeout(r, backoffMs));
    backoffMs = Math.min(backoffMs * 2, 30_000);
  }
}

async function main(): Promise<void> {
  let config: LiquidatorConfig;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    process.stderr.write(
      `liquidator: ${err instanceof Error ? err.message : String(err)} (see examples/liquidator/README.md)\n`,
    );
    process.exit(2);
  }
  if (process.argv.includes('--dry-run')) config.dryRun = true;
  if (process.argv.includes('--once')) {
    await runOnce(config);
    return;
  }
  const ac = new AbortController();
  process.once('SIGINT', () => ac.abort());
  process.once('SIGTERM', () => ac.abort());
  await runForever(config, { signal: ac.signal });
}

if (require.main === module) void main();
