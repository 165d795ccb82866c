/**
 * Tokens and Chainlink-interface feeds of the local world.
 *
 * Tokens are Aave's own test tokens from `@aave/core-v3` (WETH9Mocked for WETH, MintableERC20 for the
 * rest) with their real decimals. Every price feed is Chainlink's MockV3Aggregator (8-decimal USD), the
 * reference implementation of AggregatorV3Interface, so anything that reads Chainlink reads these
 * unchanged. The L2 sequencer uptime feed follows Chainlink's convention: decimals 0, answer 0 = up,
 * 1 = down, `startedAt` = when the current status began (Aave's PriceOracleSentinel reads it).
 */
import { encodeDeployData, parseAbi, type Address } from 'viem';
import { mockV3AggregatorAbi, mockV3AggregatorBytecode } from '../contracts/generated';
import { ASSET_SYMBOLS, type AssetSymbol, type PriceFeedInfo, type TokenInfo } from '../config/manifest';
import { aaveArtifact } from './artifacts';
import { deployRaw, write, type DevnetClients } from './chain';
import { ASSETS, USD_FEED_DECIMALS } from './params';

export const erc20MintAbi = parseAbi([
  'function mint(address account, uint256 value) returns (bool)',
  'function approve(address spender, uint256 value) returns (bool)',
  'function transfer(address to, uint256 value) returns (bool)',
  'function balanceOf(address) view returns (uint256)',
  'function deposit() payable',
]);

export async function deployTokens(
  c: DevnetClients,
  deployer: Address,
): Promise<Record<AssetSymbol, TokenInfo>> {
  const out = {} as Record<AssetSymbol, TokenInfo>;
  for (const sym of ASSET_SYMBOLS) {
    const p = ASSETS[sym];
    const art =
      sym === 'WETH'
        ? aaveArtifact('@aave/core-v3', 'mocks/tokens', 'WETH9Mocked')
        : aaveArtifact('@aave/core-v3', 'mocks/tokens', 'MintableERC20');
    const data =
      sym === 'WETH'
        ? art.bytecode
        : encodeDeployData({ abi: art.abi, bytecode: art.bytecode, args: [p.name, p.symbol, p.decimals] });
    const address = await deployRaw(c, deployer, data, `${sym} token`);
    out[sym] = { address, symbol: sym, name: p.name, decimals: p.decimals };
  }
  return out;
}

export interface DeployedFeeds {
  prices: Record<AssetSymbol, PriceFeedInfo>;
  sequencerUptime: PriceFeedInfo;
}

export async function deployFeeds(
  c: DevnetClients,
  deployer: Address,
  upSinceSec: bigint,
): Promise<DeployedFeeds> {
  const prices = {} as Record<AssetSymbol, PriceFeedInfo>;
  for (const sym of ASSET_SYMBOLS) {
    const p = ASSETS[sym];
    const data = encodeDeployData({
      abi: mockV3AggregatorAbi,
      bytecode: mockV3AggregatorBytecode,
      args: [USD_FEED_DECIMALS, p.initialPriceUsd8],
    });
    const address = await deployRaw(c, deployer, data, `${p.feedDescription} feed`);
    prices[sym] = { address, description: p.feedDescription, decimals: USD_FEED_DECIMALS };
  }
  const seqData = encodeDeployData({
    abi: mockV3AggregatorAbi,
    bytecode: mockV3AggregatorBytecode,
    args: [0, 0n],
  });
  const seqAddress = await deployRaw(c, deployer, seqData, 'L2 sequencer uptime feed');
  await setSequencerStatus(c, deployer, seqAddress, 'up', upSinceSec);
  return {
    prices,
    sequencerUptime: { address: seqAddress, description: 'L2 Sequencer Uptime Status Feed', decimals: 0 },
  };
}

/** Publishes a new round on a MockV3Aggregator (answer in the feed's decimals). */
export async function publishPrice(
  c: DevnetClients,
  from: Address,
  feed: Address,
  answer: bigint,
): Promise<void> {
  await write(c, from, feed, mockV3AggregatorAbi, 'updateAnswer', [answer], {
    label: `updateAnswer on ${feed}`,
  });
}

/** Sets the sequencer status, with `sinceSec` as the round's `startedAt` (Aave's grace period counts from it). */
export async function setSequencerStatus(
  c: DevnetClients,
  from: Address,
  feed: Address,
  status: 'up' | 'down',
  sinceSec: bigint,
): Promise<void> {
  const latest = await c.publicClient.readContract({
    address: feed,
    abi: mockV3AggregatorAbi,
    functionName: 'latestRound',
  });
  // Chainlink documents `startedAt` as the time of the status change; Aave's PriceOracleSentinel
  // (v3.0.2) reads `updatedAt` instead. The status round is written once, so both carry `sinceSec`.
  await write(c, from, feed, mockV3AggregatorAbi, 'updateRoundData', [
    BigInt(latest) + 1n,
    status === 'up' ? 0n : 1n,
    sinceSec,
    sinceSec,
  ]);
}
