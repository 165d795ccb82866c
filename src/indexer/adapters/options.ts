/**
 * Options adapter (Derive-style): balances of the subaccounts an owner holds as ERC-721 tokens.
 *
 * One read per subaccount, `getAccountBalances`, lists every non-zero (asset, subId, balance).
 * Balances whose asset is an option asset become `OptionPosition`s (the subId decoded once by
 * `decodeOptionSubId`: expiry, strike, call/put); the cash asset (subId 0, 18-decimal USD) becomes
 * `deriveUSD` cash. Balances of any other asset are skipped, as Derive advises readers, and counted
 * in the `unknownBalances` attribute. Negative cash (a borrow, which the stand-in allows and the
 * `Position` type cannot hold) fails the read loudly rather than be dropped.
 */
import { getAddress, type Address, type Client, type Log } from 'viem';
import { deriveSubAccountsAbi } from '../../contracts/generated';
import type { DeploymentManifest } from '../../config/manifest';
import { NetmarginError } from '../../common/errors';
import type { Position } from '../../risk/types';
import { eventDecoder } from './decode';
import { readAll, readHolderAtBlock, type CollectedPositions } from './read';
import type { AffectedHolder, AdapterReadResult, PositionHolder, ProtocolAdapter } from './types';
import { decodeOptionSubId, fixed, SUBID_STRIKE_DECIMALS, wad } from './units';

/** Cash asset name of the options venue in the market snapshot (18-decimal USD). */
export const OPTIONS_CASH_ASSET = 'deriveUSD';

export interface OptionsAdapterConfig {
  subAccounts: Address;
  cashAsset: Address;
  /** Option asset address → underlying symbol (`ETH`, `BTC`). */
  optionAssets: Record<Address, string>;
}

const decodeSubAccountEvent = eventDecoder(deriveSubAccountsAbi, [
  'BalanceAdjusted',
  'AccountCreated',
  'Transfer',
]);

/** Subaccount ids touched by `BalanceAdjusted`, `AccountCreated` and ERC-721 `Transfer` logs. Pure. */
export function optionsAccountsFromLogs(subAccounts: Address, logs: readonly Log[]): bigint[] {
  const ids = new Set<bigint>();
  const sa = subAccounts.toLowerCase();
  for (const log of logs) {
    if (log.address.toLowerCase() !== sa) continue;
    const d = decodeSubAccountEvent(log);
    const id = d?.eventName === 'Transfer' ? d.args.tokenId : d?.args.accountId;
    if (typeof id === 'bigint') ids.add(id);
  }
  return [...ids];
}

export class OptionsAdapter implements ProtocolAdapter {
  readonly protocol = 'options' as const;
  readonly watched;
  readonly ownership;
  private readonly optionAssets: Map<string, string>;

  constructor(private readonly cfg: OptionsAdapterConfig) {
    this.watched = [
      {
        address: cfg.subAccounts,
        abi: deriveSubAccountsAbi,
        eventNames: ['BalanceAdjusted', 'AccountCreated', 'Transfer'],
      },
    ];
    this.ownership = { token: cfg.subAccounts };
    this.optionAssets = new Map(Object.entries(cfg.optionAssets).map(([a, u]) => [a.toLowerCase(), u]));
  }

  accountsFromLogs(logs: readonly Log[]): AffectedHolder[] {
    return optionsAccountsFromLogs(this.cfg.subAccounts, logs).map((accountId) => ({
      protocol: this.protocol,
      kind: 'account' as const,
      accountId,
    }));
  }

  private async collect(
    client: Client,
    holder: PositionHolder,
    blockNumber: bigint,
  ): Promise<CollectedPositions> {
    const ids = [...holder.accountIds];
    const reads = (await readAll(
      client,
      ids.map((id) => ({
        address: this.cfg.subAccounts,
        abi: deriveSubAccountsAbi,
        functionName: 'getAccountBalances',
        args: [id],
      })),
      blockNumber,
    )) as (readonly { asset: Address; subId: bigint; balance: bigint }[])[];
    const positions: Position[] = [];
    const attributes: Record<string, string> = {};
    const cashLc = this.cfg.cashAsset.toLowerCase();
    ids.forEach((id, i) => {
      let unknown = 0;
      for (const b of reads[i]!) {
        const assetLc = b.asset.toLowerCase();
        const underlying = this.optionAssets.get(assetLc);
        if (underlying) {
          const o = decodeOptionSubId(b.subId);
          positions.push({
            kind: 'option',
            protocol: 'options',
            underlying,
            optionType: o.isCall ? 'call' : 'put',
            strikeUsd: fixed(o.strikeUsd8, SUBID_STRIKE_DECIMALS),
            expirySec: o.expirySec,
            amount: wad(b.balance),
          });
        } else if (assetLc === cashLc && b.subId === 0n) {
          if (b.balance < 0n) {
            throw new NetmarginError(
              `Options subaccount ${id} has negative cash ${b.balance} at block ${blockNumber}`,
              {
                code: 'UNSUPPORTED_POSITION',
                details: {
                  accountId: id.toString(),
                  asset: getAddress(b.asset),
                  balance: b.balance.toString(),
                },
                hint: 'Borrowed venue cash has no normalized position type yet; extend src/risk/types.ts first.',
              },
            );
          }
          positions.push({
            kind: 'spot',
            protocol: 'options',
            asset: OPTIONS_CASH_ASSET,
            amount: wad(b.balance),
          });
        } else {
          unknown++;
        }
      }
      if (unknown > 0) attributes[`${id}.unknownBalances`] = String(unknown);
    });
    return { positions, attributes };
  }

  readPositions(client: Client, holder: PositionHolder, blockNumber: bigint): Promise<AdapterReadResult> {
    return readHolderAtBlock(this.protocol, client, holder, blockNumber, () =>
      this.collect(client, holder, blockNumber),
    );
  }
}

export function optionsAdapterFromManifest(m: DeploymentManifest): OptionsAdapter | null {
  const v = m.venues.options;
  if (!v?.contracts.subAccounts || !v.contracts.cashAsset) return null;
  const optionAssets: Record<Address, string> = {};
  for (const market of v.markets) {
    const asset = v.contracts[`${market.underlying.toLowerCase()}OptionAsset`];
    if (asset) optionAssets[asset] = market.underlying;
  }
  return new OptionsAdapter({
    subAccounts: v.contracts.subAccounts,
    cashAsset: v.contracts.cashAsset,
    optionAssets,
  });
}
