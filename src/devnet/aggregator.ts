/**
 * Deploys `MarginAggregator` on the local world and seeds it, following docs/aggregator.md "Deploying":
 * owner = deployer, settlement asset = USDC, a 2-of-3 set of dedicated attestation signers, the four
 * plain tokens and three Aave aTokens (valued through the real Aave pool) as collateral, the sequencer
 * uptime feed with a grace period, an insurance fund, and a few personas' deposits so the world shows
 * cross-protocol collateral (aWETH from the basis trader, USDC from the delta-hedged book, …). Those
 * deposits are funded fresh, so the personas' Aave accounts keep the numbers `test/devnet.test.ts` checks.
 *
 * The listing parameters and the persona deposits are data (`AGGREGATOR_COLLATERAL`,
 * `PERSONAS[].aggregator`), so tests recompute every expected value from them.
 */
import { encodeDeployData, zeroAddress, type Address, type Hex } from 'viem';
import { aavePoolAbi, marginAggregatorAbi, marginAggregatorBytecode } from '../contracts/generated';
import type {
  AaveMarketInfo,
  AggregatorAssetInfo,
  AggregatorInfo,
  AssetSymbol,
  TokenInfo,
} from '../config/manifest';
import { parseDecimalUnits } from '../common/amount';
import { deployRaw, write, type DevnetClients } from './chain';
import { erc20MintAbi, type DeployedFeeds } from './feeds';
import { ASSETS, SEQUENCER_GRACE_PERIOD_SEC } from './params';
import type { Persona } from './personas';

/** anvil mnemonic indexes of the attestation signers (personas use 2–26). They need no ETH. */
export const AGGREGATOR_SIGNER_INDICES = [27, 28, 29] as const;
export const AGGREGATOR_THRESHOLD = 2;
export const AGGREGATOR_MAX_ATTESTATION_AGE_SEC = 3_600;
/** Feed heartbeat accepted by the aggregator: the devnet re-posts feeds hourly; two days is lenient. */
export const AGGREGATOR_HEARTBEAT_SEC = 172_800;
/** Insurance fund seeded by the deployer, whole USDC. */
export const AGGREGATOR_INSURANCE_USDC = '100000';

/** A collateral the aggregator lists: a plain token, or the Aave aToken of `asset`. */
export interface AggregatorCollateral {
  symbol: string;
  asset: AssetSymbol;
  aToken: boolean;
  /** Must exceed the liquidation maxDiscountBps (500) except for the settlement asset (0). */
  haircutBps: number;
  /** Whole tokens. */
  supplyCap: string;
}

export const AGGREGATOR_COLLATERAL: AggregatorCollateral[] = [
  { symbol: 'USDC', asset: 'USDC', aToken: false, haircutBps: 0, supplyCap: '100000000' },
  { symbol: 'WETH', asset: 'WETH', aToken: false, haircutBps: 1_500, supplyCap: '50000' },
  { symbol: 'WBTC', asset: 'WBTC', aToken: false, haircutBps: 1_500, supplyCap: '2000' },
  { symbol: 'OP', asset: 'OP', aToken: false, haircutBps: 3_000, supplyCap: '10000000' },
  { symbol: 'aWETH', asset: 'WETH', aToken: true, haircutBps: 1_500, supplyCap: '50000' },
  { symbol: 'aUSDC', asset: 'USDC', aToken: true, haircutBps: 600, supplyCap: '100000000' },
  { symbol: 'aWBTC', asset: 'WBTC', aToken: true, haircutBps: 1_500, supplyCap: '2000' },
];

export interface SignerKey {
  address: Address;
  mnemonicIndex: number;
  privateKey: Hex;
}

export interface AggregatorDeployContext {
  deployer: Address;
  tokens: Record<AssetSymbol, TokenInfo>;
  feeds: DeployedFeeds;
  aave: AaveMarketInfo;
  signers: SignerKey[];
  personas: { persona: Persona; address: Address }[];
  log: (line: string) => void;
}

function collateralAddress(ctx: AggregatorDeployContext, c: AggregatorCollateral): Address {
  return c.aToken ? ctx.aave.reserves[c.asset].aToken : ctx.tokens[c.asset].address;
}

export async function deployAggregator(
  c: DevnetClients,
  ctx: AggregatorDeployContext,
): Promise<AggregatorInfo> {
  const { deployer, tokens, feeds } = ctx;
  const signers = [...ctx.signers].sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
  const data = encodeDeployData({
    abi: marginAggregatorAbi,
    bytecode: marginAggregatorBytecode,
    args: [
      deployer,
      tokens.USDC.address,
      signers.map((s) => s.address),
      BigInt(AGGREGATOR_THRESHOLD),
      AGGREGATOR_MAX_ATTESTATION_AGE_SEC,
    ],
  });
  const deployBlock = Number(await c.publicClient.getBlockNumber()) + 1;
  const address = await deployRaw(c, deployer, data, 'MarginAggregator');

  const assets: AggregatorAssetInfo[] = [];
  for (const col of AGGREGATOR_COLLATERAL) {
    const p = ASSETS[col.asset];
    const asset = collateralAddress(ctx, col);
    const decimals = tokens[col.asset].decimals;
    const supplyCap = parseDecimalUnits(`aggregator.${col.symbol}.supplyCap`, col.supplyCap, decimals);
    const feed = feeds.prices[col.asset].address;
    await write(
      c,
      deployer,
      address,
      marginAggregatorAbi,
      'configureAsset',
      [
        asset,
        {
          feed,
          heartbeatSec: AGGREGATOR_HEARTBEAT_SEC,
          tokenDecimals: 0,
          feedDecimals: 0,
          haircutBps: col.haircutBps,
          isAToken: col.aToken,
          listed: false,
          // Sanity bounds: 1/100 to 100× the starting price.
          minAnswer: p.initialPriceUsd8 / 100n,
          maxAnswer: p.initialPriceUsd8 * 100n,
          supplyCap,
          aavePool: col.aToken ? ctx.aave.pool : zeroAddress,
          underlying: col.aToken ? tokens[col.asset].address : zeroAddress,
        },
      ],
      { label: `aggregator configureAsset ${col.symbol}` },
    );
    assets.push({
      symbol: col.symbol,
      address: asset,
      decimals,
      feed,
      heartbeatSec: AGGREGATOR_HEARTBEAT_SEC,
      haircutBps: col.haircutBps,
      isAToken: col.aToken,
      ...(col.aToken ? { underlying: tokens[col.asset].address } : {}),
      supplyCap: supplyCap.toString(),
    });
  }
  await write(c, deployer, address, marginAggregatorAbi, 'setRiskParams', [
    AGGREGATOR_MAX_ATTESTATION_AGE_SEC,
    feeds.sequencerUptime.address,
    Number(SEQUENCER_GRACE_PERIOD_SEC),
  ]);

  const insurance = parseDecimalUnits(
    'aggregator.insurance',
    AGGREGATOR_INSURANCE_USDC,
    tokens.USDC.decimals,
  );
  await write(c, deployer, tokens.USDC.address, erc20MintAbi, 'mint', [deployer, insurance]);
  await write(c, deployer, tokens.USDC.address, erc20MintAbi, 'approve', [address, insurance]);
  await write(c, deployer, address, marginAggregatorAbi, 'fundInsurance', [insurance]);

  let deposits = 0;
  for (const { persona, address: user } of ctx.personas) {
    for (const [symbol, human] of persona.aggregator?.deposit ?? []) {
      const col = AGGREGATOR_COLLATERAL.find((x) => x.symbol === symbol);
      if (!col) throw new Error(`persona ${persona.persona}: ${symbol} is not aggregator collateral`);
      const token = collateralAddress(ctx, col);
      const amount = parseDecimalUnits(
        `personas.${persona.persona}.aggregator.deposit.${symbol}`,
        human,
        tokens[col.asset].decimals,
      );
      // Deposits are funded fresh (wrapped / minted, and for aTokens supplied to Aave first), so the
      // persona's Aave, perps and options positions stay exactly as the persona table says.
      const underlying = tokens[col.asset].address;
      if (col.asset === 'WETH') {
        await write(c, user, underlying, erc20MintAbi, 'deposit', [], { value: amount });
      } else {
        await write(c, deployer, underlying, erc20MintAbi, 'mint', [user, amount]);
      }
      if (col.aToken) {
        await write(c, user, underlying, erc20MintAbi, 'approve', [ctx.aave.pool, amount]);
        await write(c, user, ctx.aave.pool, aavePoolAbi, 'supply', [underlying, amount, user, 0], {
          label: `${persona.persona} supplies ${human} ${col.asset} for aggregator collateral`,
        });
      }
      await write(c, user, token, erc20MintAbi, 'approve', [address, amount]);
      await write(c, user, address, marginAggregatorAbi, 'deposit', [user, token, amount], {
        label: `aggregator deposit ${human} ${symbol} for ${persona.persona}`,
      });
      deposits++;
    }
  }
  ctx.log(`MarginAggregator at ${address}: ${assets.length} collateral assets, ${deposits} persona deposits`);

  return {
    address,
    deployBlock,
    owner: deployer,
    settlementAsset: tokens.USDC.address,
    signers: signers.map((s) => ({
      address: s.address,
      mnemonicIndex: s.mnemonicIndex,
      privateKey: s.privateKey,
    })),
    threshold: AGGREGATOR_THRESHOLD,
    maxAttestationAgeSec: AGGREGATOR_MAX_ATTESTATION_AGE_SEC,
    sequencerFeed: feeds.sequencerUptime.address,
    sequencerGracePeriodSec: Number(SEQUENCER_GRACE_PERIOD_SEC),
    insuranceFundUnits: insurance.toString(),
    assets,
  };
}
