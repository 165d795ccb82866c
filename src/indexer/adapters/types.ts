/**
 * The adapter contract: how one protocol's own ABI becomes the risk engine's `Position`.
 *
 * Every protocol the indexer follows is one `ProtocolAdapter`. It says which contracts and events
 * to watch (discovery), which users or venue accounts a batch of logs touches, and how to read one
 * holder's positions at a block. Output is the engine's one normalized type (`Position` from
 * `src/risk/types.ts`), stamped with the block it was read at, so nothing downstream knows a
 * protocol's ABI. Adapters hold no state besides caches of immutable metadata (reserve lists,
 * market symbols) and never write to the chain.
 */
import type { Abi, Address, Client, Hash, Log } from 'viem';
import type { Position, Protocol } from '../../risk/types';

/** Protocols an adapter can serve: every engine protocol except plain wallet balances. */
export type AdapterProtocol = Exclude<Protocol, 'wallet'>;

/** A contract whose events the indexer subscribes to for this protocol. */
export interface WatchedContract {
  address: Address;
  abi: Abi;
  /** Event names (in `abi`) that can change a position or its ownership. */
  eventNames: readonly string[];
}

/** What a log says changed: a user's own positions (Aave) or a venue account (perps, options). */
export type AffectedHolder =
  | { protocol: AdapterProtocol; kind: 'owner'; owner: Address }
  | { protocol: AdapterProtocol; kind: 'account'; accountId: bigint };

/**
 * Who positions are read for: the EOA, plus the venue accounts it owns through ERC-721 (resolved by
 * `identity.ts`). Aave reads `owner`; the venues read `accountIds` and ignore `owner`.
 */
export interface PositionHolder {
  owner: Address;
  accountIds: readonly bigint[];
}

/** One holder's positions on one protocol, exactly as of `blockNumber` / `blockHash`. */
export interface AdapterReadResult {
  protocol: AdapterProtocol;
  owner: Address;
  positions: Position[];
  blockNumber: bigint;
  blockHash: Hash;
  /**
   * Protocol facts that are not positions but explain them (Aave's e-mode category, a venue's
   * per-account debt), keyed `<field>` or `<accountId>.<field>`; values are decimal strings.
   */
  attributes: Record<string, string>;
}

/** ERC-721 ownership of venue accounts: the token whose `Transfer` events move an account. */
export interface AccountOwnership {
  token: Address;
}

export interface ProtocolAdapter {
  readonly protocol: AdapterProtocol;
  readonly watched: readonly WatchedContract[];
  /** Present for venues whose accounts are ERC-721 tokens (perps, options); absent for Aave. */
  readonly ownership?: AccountOwnership;
  /** Holders touched by these logs; logs of other contracts or events are ignored. Deduplicated. */
  accountsFromLogs(logs: readonly Log[]): AffectedHolder[];
  /** Reads every position of `holder`, all calls pinned to `blockNumber` and batched. */
  readPositions(client: Client, holder: PositionHolder, blockNumber: bigint): Promise<AdapterReadResult>;
  /**
   * Optional: the protocol's interest indexes at `blockNumber`, for amounts that grow with no event.
   * Key = a position's `asset` name; value = a ray (1e27) index such that the position's amount at a
   * later block is its amount at an earlier block × I_later / I_earlier (up to rounding). Lets
   * reconciliation tell accrued interest from drift; an adapter without it never counts as accrual.
   */
  accrualIndexes?(client: Client, blockNumber: bigint): Promise<Record<string, bigint>>;
}
