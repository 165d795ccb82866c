/**
 * Perps adapter (Synthetix-v3-style): positions of the accounts an owner holds as ERC-721 tokens.
 *
 * Per account: `getAccountOpenPositions` lists market ids, `getOpenPosition` gives size, total PnL
 * and accrued funding, `indexPrice` the mark, `totalCollateralValue` and `debt` the margin. The
 * venue does not expose entry prices, so entry is recovered from `totalPnl = size·(index − entry) +
 * funding` (`perpEntryPriceWad`); the engine then sees exactly the venue's PnL up to |size|/1e18 wei.
 * The account's net collateral (collateral − debt, USD) rides on its first open position as
 * `venueMarginUsd`; an account with collateral and no position holds it as `snxUSD` cash.
 * Venue debt beyond collateral cannot be a `Position`; it is reported in `attributes`.
 */
import { type Address, type Client, type Log } from 'viem';
import { snxAccountNftAbi, snxPerpsMarketAbi } from '../../contracts/generated';
import type { DeploymentManifest } from '../../config/manifest';
import { NetmarginError } from '../../common/errors';
import type { Position } from '../../risk/types';
import { eventDecoder } from './decode';
import { readAll, readHolderAtBlock, type CollectedPositions } from './read';
import type { AffectedHolder, AdapterReadResult, PositionHolder, ProtocolAdapter } from './types';
import { perpEntryPriceWad, wad } from './units';

/** Cash asset name of perps collateral in the market snapshot (18-decimal USD). */
export const PERPS_CASH_ASSET = 'snxUSD';

const MARKET_EVENTS = ['OrderSettled', 'PositionLiquidated', 'CollateralModified', 'AccountCreated'] as const;

export interface PerpsAdapterConfig {
  perpsMarket: Address;
  accountToken: Address;
}

const decodeMarketEvent = eventDecoder(snxPerpsMarketAbi, MARKET_EVENTS);
const decodeTokenTransfer = eventDecoder(snxAccountNftAbi, ['Transfer']);

/** Account ids touched by market and account-token logs. Pure: no reads. */
export function perpsAccountsFromLogs(cfg: PerpsAdapterConfig, logs: readonly Log[]): bigint[] {
  const ids = new Set<bigint>();
  const market = cfg.perpsMarket.toLowerCase();
  const token = cfg.accountToken.toLowerCase();
  for (const log of logs) {
    const addr = log.address.toLowerCase();
    // Other events and topics outside the ABI decode to undefined.
    if (addr === market) {
      const id = decodeMarketEvent(log)?.args.accountId;
      if (typeof id === 'bigint') ids.add(id);
    } else if (addr === token) {
      const id = decodeTokenTransfer(log)?.args.tokenId;
      if (typeof id === 'bigint') ids.add(id);
    }
  }
  return [...ids];
}

export class PerpsAdapter implements ProtocolAdapter {
  readonly protocol = 'perps' as const;
  readonly watched;
  readonly ownership;
  private readonly symbols = new Map<bigint, string>();

  constructor(private readonly cfg: PerpsAdapterConfig) {
    this.watched = [
      { address: cfg.perpsMarket, abi: snxPerpsMarketAbi, eventNames: MARKET_EVENTS },
      { address: cfg.accountToken, abi: snxAccountNftAbi, eventNames: ['Transfer'] },
    ];
    this.ownership = { token: cfg.accountToken };
  }

  accountsFromLogs(logs: readonly Log[]): AffectedHolder[] {
    return perpsAccountsFromLogs(this.cfg, logs).map((accountId) => ({
      protocol: this.protocol,
      kind: 'account' as const,
      accountId,
    }));
  }

  /** Market symbols (`ETH`, …) never change once a market is created: read once each. */
  private async marketSymbols(client: Client, ids: readonly bigint[], blockNumber: bigint): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.symbols.has(id));
    const meta = (await readAll(
      client,
      missing.map((id) => ({
        address: this.cfg.perpsMarket,
        abi: snxPerpsMarketAbi,
        functionName: 'metadata',
        args: [id],
      })),
      blockNumber,
    )) as (readonly [string, string])[];
    missing.forEach((id, i) => this.symbols.set(id, meta[i]![1]));
  }

  private async collect(
    client: Client,
    holder: PositionHolder,
    blockNumber: bigint,
  ): Promise<CollectedPositions> {
    const m = { address: this.cfg.perpsMarket, abi: snxPerpsMarketAbi } as const;
    const ids = [...holder.accountIds];
    const accountReads = await readAll(
      client,
      ids.flatMap((id) => [
        { ...m, functionName: 'getAccountOpenPositions', args: [id] },
        { ...m, functionName: 'totalCollateralValue', args: [id] },
        { ...m, functionName: 'debt', args: [id] },
      ]),
      blockNumber,
    );
    const perAccount = ids.map((id, i) => ({
      id,
      marketIds: accountReads[3 * i] as readonly bigint[],
      collateral: accountReads[3 * i + 1] as bigint,
      debt: accountReads[3 * i + 2] as bigint,
    }));
    const pairs = perAccount.flatMap((a) => a.marketIds.map((marketId) => ({ accountId: a.id, marketId })));
    await this.marketSymbols(
      client,
      pairs.map((p) => p.marketId),
      blockNumber,
    );
    const posReads = await readAll(
      client,
      pairs.flatMap((p) => [
        { ...m, functionName: 'getOpenPosition', args: [p.accountId, p.marketId] },
        { ...m, functionName: 'indexPrice', args: [p.marketId] },
      ]),
      blockNumber,
    );

    const positions: Position[] = [];
    const attributes: Record<string, string> = {};
    let k = 0;
    for (const a of perAccount) {
      const net = a.collateral - a.debt;
      const marginUsd = net > 0n ? net : 0n;
      if (a.debt > 0n) attributes[`${a.id}.debtUsd18`] = a.debt.toString();
      if (net < 0n) attributes[`${a.id}.uncoveredDebtUsd18`] = (-net).toString();
      if (a.marketIds.length === 0 && marginUsd > 0n) {
        positions.push({ kind: 'spot', protocol: 'perps', asset: PERPS_CASH_ASSET, amount: wad(marginUsd) });
      }
      a.marketIds.forEach((marketId, j) => {
        const [totalPnl, accruedFunding, size] = posReads[k++] as readonly [bigint, bigint, bigint, bigint];
        const index = posReads[k++] as bigint;
        const entry = perpEntryPriceWad(index, totalPnl, accruedFunding, size);
        if (entry <= 0n) {
          throw new NetmarginError(
            `Perps account ${a.id} market ${marketId}: derived entry price ${entry} is not positive`,
            {
              code: 'ADAPTER_INCONSISTENT_READ',
              details: {
                accountId: a.id.toString(),
                marketId: marketId.toString(),
                blockNumber: blockNumber.toString(),
              },
              hint: 'The venue reported a PnL that no positive entry price explains; check the perps contract version.',
            },
          );
        }
        positions.push({
          kind: 'perp',
          protocol: 'perps',
          underlying: this.symbols.get(marketId)!,
          size: wad(size),
          entryPriceUsd: wad(entry),
          lastPriceUsd: wad(index),
          accruedFundingUsd: wad(accruedFunding),
          venueMarginUsd: wad(j === 0 ? marginUsd : 0n),
        });
      });
    }
    return { positions, attributes };
  }

  readPositions(client: Client, holder: PositionHolder, blockNumber: bigint): Promise<AdapterReadResult> {
    return readHolderAtBlock(this.protocol, client, holder, blockNumber, () =>
      this.collect(client, holder, blockNumber),
    );
  }
}

export function perpsAdapterFromManifest(m: DeploymentManifest): PerpsAdapter | null {
  const c = m.venues.perps?.contracts;
  if (!c?.perpsMarket || !c.accountToken) return null;
  return new PerpsAdapter({ perpsMarket: c.perpsMarket, accountToken: c.accountToken });
}
