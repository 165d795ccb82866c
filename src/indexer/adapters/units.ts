/**
 * Pure conversions shared by the adapters: Derive option subIds and the few fixed-point rescalings
 * the venues need. No I/O; everything stays `bigint` with its decimals (the risk engine converts to
 * float once, in `src/risk/validate.ts`).
 */
import { InvalidInputError } from '../../common/errors';
import type { FixedPoint } from '../../risk/types';

/** The venues' USD amounts, prices and sizes carry 18 decimals (Synthetix's and Derive's convention). */
export const VENUE_DECIMALS = 18;
export const WAD = 10n ** 18n;

const UINT32_MAX = 0xffff_ffffn;
const UINT63_MAX = (1n << 63n) - 1n;
const UINT96_MAX = (1n << 96n) - 1n;
/** Strikes are stored in 8 decimals inside the subId. */
export const SUBID_STRIKE_DECIMALS = 8;

export interface DecodedOptionSubId {
  expirySec: number;
  /** Strike in 8-decimal USD, as packed in the subId. */
  strikeUsd8: bigint;
  isCall: boolean;
}

/**
 * Derive's option subId layout (uint96): bits 0–31 expiry (unix seconds), bits 32–94 strike in
 * 8 decimals, bit 95 isCall. The one decoder every reader of option balances uses.
 */
export function decodeOptionSubId(subId: bigint): DecodedOptionSubId {
  if (subId < 0n || subId > UINT96_MAX) {
    throw new InvalidInputError('subId', `${subId} does not fit in a uint96 option subId`);
  }
  const expirySec = Number(subId & UINT32_MAX);
  const strikeUsd8 = (subId >> 32n) & UINT63_MAX;
  const isCall = subId >> 95n !== 0n;
  if (expirySec === 0) throw new InvalidInputError('subId', `${subId} encodes expiry 0: not an option subId`);
  if (strikeUsd8 === 0n)
    throw new InvalidInputError('subId', `${subId} encodes strike 0: not an option subId`);
  return { expirySec, strikeUsd8, isCall };
}

/** The inverse of `decodeOptionSubId` (strike given in 8 decimals), for tests and tools. */
export function encodeOptionSubId(o: DecodedOptionSubId): bigint {
  if (!Number.isSafeInteger(o.expirySec) || o.expirySec <= 0 || BigInt(o.expirySec) > UINT32_MAX) {
    throw new InvalidInputError('expirySec', `${o.expirySec} is not a uint32 unix time > 0`);
  }
  if (o.strikeUsd8 <= 0n || o.strikeUsd8 > UINT63_MAX) {
    throw new InvalidInputError('strikeUsd8', `${o.strikeUsd8} is not in (0, 2^63)`);
  }
  return BigInt(o.expirySec) | (o.strikeUsd8 << 32n) | ((o.isCall ? 1n : 0n) << 95n);
}

export function fixed(raw: bigint, decimals: number): FixedPoint {
  return { raw, decimals };
}

export const wad = (raw: bigint): FixedPoint => fixed(raw, VENUE_DECIMALS);

/**
 * Entry price of a Synthetix-style position, which the venue does not expose: from
 * `totalPnl = size·(index − entry)/1e18 + accruedFunding` (all 18 decimals), entry =
 * index − (totalPnl − accruedFunding)·1e18 / size. Exact up to |size|/1e18 wei of PnL.
 */
export function perpEntryPriceWad(
  indexPriceWad: bigint,
  totalPnlWad: bigint,
  accruedFundingWad: bigint,
  sizeWad: bigint,
): bigint {
  if (sizeWad === 0n) throw new InvalidInputError('size', 'a closed position (size 0) has no entry price');
  return indexPriceWad - ((totalPnlWad - accruedFundingWad) * WAD) / sizeWad;
}

/** PnL the engine will see for a perp: size·(last − entry)/1e18 + funding (18 decimals). */
export function perpPnlWad(sizeWad: bigint, entryWad: bigint, lastWad: bigint, fundingWad: bigint): bigint {
  return (sizeWad * (lastWad - entryWad)) / WAD + fundingWad;
}

/**
 * A token amount converted into a reference currency: amount × price / 10^decimals, rounded down
 * like Aave's `GenericLogic` (base currency units, e.g. 8-decimal USD).
 */
export function valueInBase(amount: bigint, decimals: number, priceBase: bigint): bigint {
  return (amount * priceBase) / 10n ** BigInt(decimals);
}
