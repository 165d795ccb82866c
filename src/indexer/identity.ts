/**
 * One identity per user across protocols.
 *
 * An EOA owns its Aave positions directly; perps accounts and options subaccounts are ERC-721
 * tokens, so whoever holds the token owns the account. `IdentityIndex` replays the tokens'
 * `Transfer` logs in chain order (mint, transfer, burn) and answers both ways: which owner holds a
 * venue account, and which accounts an owner holds per protocol — so an account moved to another
 * wallet follows its new owner on the next read. The index is plain data (no I/O); `syncIdentity`
 * feeds it from `eth_getLogs`. Removing logs on a reorg is the chain layer's job: rebuild the index
 * from the canonical logs.
 */
import {
  decodeEventLog,
  erc721Abi,
  getAddress,
  toEventSelector,
  zeroAddress,
  type Address,
  type Client,
  type Log,
  type PublicClient,
} from 'viem';
import type { AdapterProtocol, PositionHolder, ProtocolAdapter } from './adapters/types';
import { getLogsChunked, rpcGetLogs } from './chain/logs';

const TRANSFER_TOPIC = toEventSelector('Transfer(address,address,uint256)');

export interface Identity {
  /** The EOA; it is also the Aave account. */
  owner: Address;
  /** Venue account ids held through ERC-721, per protocol, ascending. */
  accounts: Partial<Record<AdapterProtocol, bigint[]>>;
}

/** A venue account that changed hands (`to` is the zero address for a burn). */
export interface AccountMove {
  protocol: AdapterProtocol;
  accountId: bigint;
  from: Address;
  to: Address;
}

interface Ownable {
  protocol: AdapterProtocol;
  token: Address;
}

const key = (protocol: AdapterProtocol, id: bigint): string => `${protocol}:${id}`;

export class IdentityIndex {
  private readonly byToken = new Map<string, AdapterProtocol>();
  private readonly ownerOfAccount = new Map<string, Address>();
  private readonly accountsOfOwner = new Map<Address, Map<AdapterProtocol, Set<bigint>>>();
  /** Per owner, the newest block with a `Transfer` from or to it (of the logs applied). */
  private readonly lastMove = new Map<Address, bigint>();

  constructor(ownables: readonly Ownable[]) {
    for (const o of ownables) this.byToken.set(o.token.toLowerCase(), o.protocol);
  }

  static forAdapters(adapters: readonly ProtocolAdapter[]): IdentityIndex {
    return new IdentityIndex(
      adapters.flatMap((a) => (a.ownership ? [{ protocol: a.protocol, token: a.ownership.token }] : [])),
    );
  }

  /** Token contracts whose `Transfer` logs this index needs. */
  get tokens(): Address[] {
    return [...this.byToken.keys()].map((t) => getAddress(t));
  }

  /**
   * Applies `Transfer` logs of the known tokens, which must come in chain order (block, log index);
   * other logs are ignored. Returns the accounts whose owner changed.
   */
  applyLogs(logs: readonly Log[]): AccountMove[] {
    const moved: AccountMove[] = [];
    for (const log of logs) {
      const move = this.decodeMove(log);
      if (!move) continue;
      const { protocol, accountId: id, from, to } = move;
      this.setOwner(protocol, id, to === zeroAddress ? null : to);
      moved.push(move);
      if (log.blockNumber !== null && log.blockNumber !== undefined)
        for (const who of [from, to]) {
          const prev = this.lastMove.get(who);
          if (prev === undefined || log.blockNumber > prev) this.lastMove.set(who, log.blockNumber);
        }
    }
    return moved;
  }

  /**
   * The account moves these logs carry, without applying them: who lost and who gained an account in
   * a range, whether or not the index has already applied it (a refresh may have synced past it).
   */
  movesIn(logs: readonly Log[]): AccountMove[] {
    return logs.map((l) => this.decodeMove(l)).filter((m): m is AccountMove => m !== undefined);
  }

  private decodeMove(log: Log): AccountMove | undefined {
    const protocol = this.byToken.get(log.address.toLowerCase());
    if (!protocol) return undefined;
    try {
      const d = decodeEventLog({ abi: erc721Abi, eventName: 'Transfer', data: log.data, topics: log.topics });
      return {
        protocol,
        accountId: d.args.tokenId,
        from: getAddress(d.args.from),
        to: getAddress(d.args.to),
      };
    } catch {
      return undefined;
    }
  }

  private setOwner(protocol: AdapterProtocol, id: bigint, owner: Address | null): void {
    const k = key(protocol, id);
    const prev = this.ownerOfAccount.get(k);
    if (prev) this.accountsOfOwner.get(prev)?.get(protocol)?.delete(id);
    if (owner === null) {
      this.ownerOfAccount.delete(k);
      return;
    }
    this.ownerOfAccount.set(k, owner);
    let perProtocol = this.accountsOfOwner.get(owner);
    if (!perProtocol) this.accountsOfOwner.set(owner, (perProtocol = new Map()));
    let ids = perProtocol.get(protocol);
    if (!ids) perProtocol.set(protocol, (ids = new Set()));
    ids.add(id);
  }

  /** The newest block in which an account moved to or from `owner` (undefined: never). */
  lastMoveOf(owner: Address): bigint | undefined {
    return this.lastMove.get(getAddress(owner));
  }

  ownerOf(protocol: AdapterProtocol, accountId: bigint): Address | undefined {
    return this.ownerOfAccount.get(key(protocol, accountId));
  }

  identityOf(owner: Address): Identity {
    const o = getAddress(owner);
    const accounts: Identity['accounts'] = {};
    for (const [protocol, ids] of this.accountsOfOwner.get(o) ?? []) {
      if (ids.size > 0) accounts[protocol] = [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    }
    return { owner: o, accounts };
  }

  /** What an adapter reads for this owner: the EOA and its accounts on the adapter's protocol. */
  holderFor(owner: Address, protocol: AdapterProtocol): PositionHolder {
    const id = this.identityOf(owner);
    return { owner: id.owner, accountIds: id.accounts[protocol] ?? [] };
  }

  /** Every owner holding at least one venue account. */
  owners(): Address[] {
    return [...this.accountsOfOwner.entries()]
      .filter(([, m]) => [...m.values()].some((s) => s.size > 0))
      .map(([o]) => o);
  }
}

/**
 * Reads the tokens' `Transfer` logs over [fromBlock, toBlock] (in chunks, split further when the node
 * or the transport refuses a range as too large) and applies them in chain order.
 */
export async function syncIdentity(
  client: Client,
  index: IdentityIndex,
  fromBlock: bigint,
  toBlock: bigint,
  chunkSize?: bigint,
): Promise<AccountMove[]> {
  if (toBlock < fromBlock || index.tokens.length === 0) return [];
  const logs = await getLogsChunked(rpcGetLogs(client as PublicClient), {
    fromBlock,
    toBlock,
    address: index.tokens,
    topics: [TRANSFER_TOPIC],
    chunkSize,
  });
  logs.sort((a, b) =>
    a.blockNumber === b.blockNumber
      ? (a.logIndex ?? 0) - (b.logIndex ?? 0)
      : a.blockNumber! < b.blockNumber!
        ? -1
        : 1,
  );
  return index.applyLogs(logs);
}
