/**
 * Fast event decoding for `accountsFromLogs`: a log is matched to its event by its first topic in a
 * map built once from the ABI, and decoded against that one event. (`decodeEventLog` with a whole
 * ABI hashes every event signature of the ABI for each log it tries — most of the indexer's CPU on a
 * long history.) Logs of other events, or whose data does not fit the event, return `undefined`.
 */
import { decodeEventLog, toEventSelector, type Abi, type AbiEvent, type Hex, type Log } from 'viem';

export interface DecodedEvent {
  eventName: string;
  args: Record<string, unknown>;
}

/** A decoder for the events of `abi` named in `eventNames` (all events when omitted). */
export function eventDecoder(
  abi: Abi,
  eventNames?: readonly string[],
): (log: Pick<Log, 'data' | 'topics'>) => DecodedEvent | undefined {
  const wanted = eventNames ? new Set(eventNames) : undefined;
  const bySelector = new Map<Hex, AbiEvent>();
  for (const item of abi) {
    if (item.type !== 'event' || (wanted && !wanted.has(item.name))) continue;
    bySelector.set(toEventSelector(item).toLowerCase() as Hex, item);
  }
  return (log) => {
    const topic0 = log.topics[0]?.toLowerCase() as Hex | undefined;
    const event = topic0 === undefined ? undefined : bySelector.get(topic0);
    if (!event) return undefined;
    try {
      const d = decodeEventLog({ abi: [event], data: log.data, topics: log.topics as [Hex, ...Hex[]] });
      return { eventName: d.eventName as string, args: d.args as unknown as Record<string, unknown> };
    } catch {
      return undefined; // same selector, other indexing (e.g. an ERC-20 Transfer vs an ERC-721 one)
    }
  };
}
