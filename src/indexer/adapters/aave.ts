/**
 * Aave V3 adapter: an EOA's supplies and variable debts, read through Aave's own periphery.
 *
 * Reserves come from `AaveProtocolDataProvider.getAllReservesTokens` (symbol + underlying address)
 * and per-user balances from `getUserReserveData`, which returns the aToken balance, the debts and
 * `usageAsCollateralEnabled` — the same numbers `Pool.getUserAccountData` sums. A supply counts as
 * lending collateral only when the user has it enabled as collateral; otherwise it is a plain
 * holding of the aToken (`spot`). Debt is the variable plus stable debt of the reserve. Assets are
 * named by token symbol: `a<SYMBOL>` for supplies, `<SYMBOL>` for debt (the market snapshot lists
 * both). The user's e-mode category is reported as the `eModeCategory` attribute. `accrualIndexes`
 * gives the reserves' liquidity and variable-borrow indexes, by which those amounts grow between events.
 */
import { getAddress, type Address, type Client, type Log } from 'viem';
import { aavePoolAbi, aaveProtocolDataProviderAbi } from '../../contracts/generated';
import type { DeploymentManifest } from '../../config/manifest';
import type { Position } from '../../risk/types';
import { eventDecoder } from './decode';
import { readAll, readHolderAtBlock, type CollectedPositions } from './read';
import type { AffectedHolder, AdapterReadResult, PositionHolder, ProtocolAdapter } from './types';
import { fixed } from './units';

/** Pool events that change a user's supplies, debts or collateral flags, and the field naming that user. */
export const AAVE_USER_FIELD = {
  Supply: 'onBehalfOf',
  Withdraw: 'user',
  Borrow: 'onBehalfOf',
  Repay: 'user',
  LiquidationCall: 'user',
  ReserveUsedAsCollateralEnabled: 'user',
  ReserveUsedAsCollateralDisabled: 'user',
  UserEModeSet: 'user',
} as const;
type AaveEvent = keyof typeof AAVE_USER_FIELD;

interface ReserveMeta {
  symbol: string;
  asset: Address;
  decimals: number;
}

export interface AaveAdapterConfig {
  pool: Address;
  protocolDataProvider: Address;
}

/** Users touched by Pool logs (ignores other contracts and events). Pure: no reads. */
const decodePoolEvent = eventDecoder(aavePoolAbi, Object.keys(AAVE_USER_FIELD));

export function aaveUsersFromLogs(pool: Address, logs: readonly Log[]): Address[] {
  const users = new Set<Address>();
  const poolLc = pool.toLowerCase();
  for (const log of logs) {
    if (log.address.toLowerCase() !== poolLc) continue;
    // Events of the pool's ABI we do not need, and foreign topics, decode to undefined.
    const decoded = decodePoolEvent(log);
    if (!decoded) continue;
    const field = AAVE_USER_FIELD[decoded.eventName as AaveEvent] as string | undefined;
    if (!field) continue;
    const user = decoded.args[field];
    if (typeof user === 'string') users.add(getAddress(user));
  }
  return [...users];
}

export class AaveV3Adapter implements ProtocolAdapter {
  readonly protocol = 'aave-v3' as const;
  readonly watched;
  private reserves: ReserveMeta[] | null = null;

  constructor(private readonly cfg: AaveAdapterConfig) {
    this.watched = [{ address: cfg.pool, abi: aavePoolAbi, eventNames: Object.keys(AAVE_USER_FIELD) }];
  }

  accountsFromLogs(logs: readonly Log[]): AffectedHolder[] {
    return aaveUsersFromLogs(this.cfg.pool, logs).map((owner) => ({
      protocol: this.protocol,
      kind: 'owner' as const,
      owner,
    }));
  }

  /** Reserve symbols, addresses and decimals: immutable once listed, read once and cached. */
  private async reserveList(client: Client, blockNumber: bigint): Promise<ReserveMeta[]> {
    if (this.reserves) return this.reserves;
    const dp = { address: this.cfg.protocolDataProvider, abi: aaveProtocolDataProviderAbi } as const;
    const [tokens] = (await readAll(
      client,
      [{ ...dp, functionName: 'getAllReservesTokens' }],
      blockNumber,
    )) as [readonly { symbol: string; tokenAddress: Address }[]];
    const configs = (await readAll(
      client,
      tokens.map((t) => ({ ...dp, functionName: 'getReserveConfigurationData', args: [t.tokenAddress] })),
      blockNumber,
    )) as (readonly [bigint, ...unknown[]])[];
    this.reserves = tokens.map((t, i) => ({
      symbol: t.symbol,
      asset: getAddress(t.tokenAddress),
      decimals: Number(configs[i]![0]),
    }));
    return this.reserves;
  }

  private async collect(
    client: Client,
    holder: PositionHolder,
    blockNumber: bigint,
  ): Promise<CollectedPositions> {
    const reserves = await this.reserveList(client, blockNumber);
    const dp = { address: this.cfg.protocolDataProvider, abi: aaveProtocolDataProviderAbi } as const;
    const results = await readAll(
      client,
      [
        { address: this.cfg.pool, abi: aavePoolAbi, functionName: 'getUserEMode', args: [holder.owner] },
        ...reserves.map((r) => ({
          ...dp,
          functionName: 'getUserReserveData',
          args: [r.asset, holder.owner],
        })),
      ],
      blockNumber,
    );
    const eMode = results[0] as bigint;
    const positions: Position[] = [];
    reserves.forEach((r, i) => {
      // (currentATokenBalance, currentStableDebt, currentVariableDebt, principalStableDebt,
      //  scaledVariableDebt, stableBorrowRate, liquidityRate, stableRateLastUpdated, usageAsCollateralEnabled)
      const d = results[i + 1] as readonly [
        bigint,
        bigint,
        bigint,
        bigint,
        bigint,
        bigint,
        bigint,
        number,
        boolean,
      ];
      const [aTokenBalance, stableDebt, variableDebt] = d;
      const usedAsCollateral = d[8];
      if (aTokenBalance > 0n) {
        const amount = fixed(aTokenBalance, r.decimals);
        positions.push(
          usedAsCollateral
            ? { kind: 'lending', protocol: 'aave-v3', side: 'collateral', asset: `a${r.symbol}`, amount }
            : { kind: 'spot', protocol: 'aave-v3', asset: `a${r.symbol}`, amount },
        );
      }
      const debt = stableDebt + variableDebt;
      if (debt > 0n) {
        positions.push({
          kind: 'lending',
          protocol: 'aave-v3',
          side: 'debt',
          asset: r.symbol,
          amount: fixed(debt, r.decimals),
        });
      }
    });
    return { positions, attributes: { eModeCategory: eMode.toString() } };
  }

  readPositions(client: Client, holder: PositionHolder, blockNumber: bigint): Promise<AdapterReadResult> {
    return readHolderAtBlock(this.protocol, client, holder, blockNumber, () =>
      this.collect(client, holder, blockNumber),
    );
  }

  /**
   * Every reserve's indexes at `blockNumber`, in one batched read: `a<SYMBOL>` → the liquidity index
   * (`getReserveNormalizedIncome`: aToken balance = scaled balance × index), `<SYMBOL>` → the
   * variable-borrow index (`getReserveNormalizedVariableDebt`: variable debt = scaled debt × index).
   * Stable debt compounds at each user's own rate and follows neither index.
   */
  async accrualIndexes(client: Client, blockNumber: bigint): Promise<Record<string, bigint>> {
    const reserves = await this.reserveList(client, blockNumber);
    const pool = { address: this.cfg.pool, abi: aavePoolAbi } as const;
    const reads = (await readAll(
      client,
      reserves.flatMap((r) => [
        { ...pool, functionName: 'getReserveNormalizedIncome', args: [r.asset] },
        { ...pool, functionName: 'getReserveNormalizedVariableDebt', args: [r.asset] },
      ]),
      blockNumber,
    )) as bigint[];
    const indexes: Record<string, bigint> = {};
    reserves.forEach((r, i) => {
      indexes[`a${r.symbol}`] = reads[2 * i]!;
      indexes[r.symbol] = reads[2 * i + 1]!;
    });
    return indexes;
  }
}

export function aaveAdapterFromManifest(m: DeploymentManifest): AaveV3Adapter {
  return new AaveV3Adapter({ pool: m.aave.pool, protocolDataProvider: m.aave.protocolDataProvider });
}
