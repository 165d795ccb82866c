import {
  encodeAbiParameters,
  getAddress,
  encodeEventTopics,
  keccak256,
  pad,
  toEventSelector,
  toHex,
  type Abi,
  type Address,
  type Hex,
  type Log,
} from 'viem';
import {
  aavePoolAbi,
  deriveSubAccountsAbi,
  snxAccountNftAbi,
  snxPerpsMarketAbi,
} from '../../contracts/generated';
import { AaveV3Adapter } from './aave';
import { OptionsAdapter } from './options';
import { PerpsAdapter } from './perps';

const POOL: Address = '0x1000000000000000000000000000000000000001';
const DP: Address = '0x1000000000000000000000000000000000000002';
const MARKET: Address = '0x2000000000000000000000000000000000000001';
const NFT: Address = '0x2000000000000000000000000000000000000002';
const SUBS: Address = '0x3000000000000000000000000000000000000001';
const CASH: Address = '0x3000000000000000000000000000000000000002';
const ALICE: Address = getAddress('0x' + 'aa'.repeat(20));
const BOB: Address = getAddress('0x' + 'bb'.repeat(20));
const TOKEN: Address = getAddress('0x' + 'c0'.repeat(20));

/** A log as a node returns it, built from the ABI (indexed args → topics, the rest → data). */
function logOf(abi: Abi, address: Address, eventName: string, args: Record<string, unknown>): Log {
  const event = abi.find((x) => x.type === 'event' && x.name === eventName);
  if (!event || event.type !== 'event') throw new Error(`no event ${eventName}`);
  const topics = encodeEventTopics({ abi: [event], eventName, args } as never) as [Hex, ...Hex[]];
  const plain = event.inputs.filter((i) => !i.indexed);
  const data = encodeAbiParameters(
    plain,
    plain.map((i) => args[i.name!]),
  );
  return { address, topics, data } as unknown as Log;
}

describe('Aave events → affected users', () => {
  const adapter = new AaveV3Adapter({ pool: POOL, protocolDataProvider: DP });

  it('names onBehalfOf for Supply and the liquidated user for LiquidationCall, once each', () => {
    const logs = [
      logOf(aavePoolAbi, POOL, 'Supply', {
        reserve: TOKEN,
        user: BOB,
        onBehalfOf: ALICE,
        amount: 10n,
        referralCode: 0,
      }),
      logOf(aavePoolAbi, POOL, 'LiquidationCall', {
        collateralAsset: TOKEN,
        debtAsset: TOKEN,
        user: BOB,
        debtToCover: 1n,
        liquidatedCollateralAmount: 2n,
        liquidator: ALICE,
        receiveAToken: false,
      }),
      logOf(aavePoolAbi, POOL, 'ReserveUsedAsCollateralDisabled', { reserve: TOKEN, user: ALICE }),
    ];
    expect(adapter.accountsFromLogs(logs)).toEqual([
      { protocol: 'aave-v3', kind: 'owner', owner: ALICE },
      { protocol: 'aave-v3', kind: 'owner', owner: BOB },
    ]);
  });

  it('ignores the same event from another contract and pool events that move no position', () => {
    const logs = [
      logOf(aavePoolAbi, TOKEN, 'Supply', {
        reserve: TOKEN,
        user: BOB,
        onBehalfOf: ALICE,
        amount: 10n,
        referralCode: 0,
      }),
      logOf(aavePoolAbi, POOL, 'ReserveDataUpdated', {
        reserve: TOKEN,
        liquidityRate: 1n,
        stableBorrowRate: 1n,
        variableBorrowRate: 1n,
        liquidityIndex: 1n,
        variableBorrowIndex: 1n,
      }),
    ];
    expect(adapter.accountsFromLogs(logs)).toEqual([]);
  });
});

describe('perps events → affected accounts', () => {
  const adapter = new PerpsAdapter({ perpsMarket: MARKET, accountToken: NFT });

  it('names the account of OrderSettled, CollateralModified and of an account-token Transfer', () => {
    const big = (1n << 127n) + 5n;
    const logs = [
      logOf(snxPerpsMarketAbi, MARKET, 'OrderSettled', {
        marketId: 100n,
        accountId: 7n,
        fillPrice: 1n,
        pnl: 0n,
        accruedFunding: 0n,
        sizeDelta: 1n,
        newSize: 1n,
        totalFees: 0n,
        referralFees: 0n,
        collectedFees: 0n,
        settlementReward: 0n,
        trackingCode: pad('0x00'),
        settler: ALICE,
      }),
      logOf(snxPerpsMarketAbi, MARKET, 'CollateralModified', {
        accountId: 7n,
        synthMarketId: 0n,
        amountDelta: -5n,
        sender: ALICE,
      }),
      logOf(snxAccountNftAbi, NFT, 'Transfer', { from: ALICE, to: BOB, tokenId: big }),
      // A Transfer of some other ERC-721 is not an account move.
      logOf(snxAccountNftAbi, TOKEN, 'Transfer', { from: ALICE, to: BOB, tokenId: 9n }),
    ];
    expect(adapter.accountsFromLogs(logs)).toEqual([
      { protocol: 'perps', kind: 'account', accountId: 7n },
      { protocol: 'perps', kind: 'account', accountId: big },
    ]);
  });
});

describe('options events → affected subaccounts', () => {
  const adapter = new OptionsAdapter({ subAccounts: SUBS, cashAsset: CASH, optionAssets: {} });

  it('names the subaccount of BalanceAdjusted (indexed struct topic) and of a Transfer', () => {
    const event = deriveSubAccountsAbi.find((x) => x.type === 'event' && x.name === 'BalanceAdjusted')!;
    const balanceAdjusted = {
      address: SUBS,
      topics: [
        toEventSelector(event as never),
        pad(toHex(42n)),
        pad(ALICE),
        keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'uint96' }], [CASH, 0n])),
      ],
      data: encodeAbiParameters([{ type: 'int256' }, { type: 'int256' }, { type: 'int256' }], [5n, 0n, 5n]),
    } as unknown as Log;
    const logs = [
      balanceAdjusted,
      logOf(deriveSubAccountsAbi, SUBS, 'Transfer', { from: ALICE, to: BOB, tokenId: 43n }),
    ];
    expect(adapter.accountsFromLogs(logs)).toEqual([
      { protocol: 'options', kind: 'account', accountId: 42n },
      { protocol: 'options', kind: 'account', accountId: 43n },
    ]);
  });
});
