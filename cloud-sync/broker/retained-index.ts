import { Readable } from 'node:stream';

/** A retained message as the persistence keeps it (Aedes copies out what it hands a subscriber). */
interface RetainedPacket {
  topic: string;
  payload: Buffer | string;
}

/** What of Aedes's persistence this module takes over: its retained messages. */
interface RetainedStore {
  storeRetained(packet: RetainedPacket, ...rest: unknown[]): unknown;
  createRetainedStreamCombi(patterns: string[]): Readable;
  createRetainedStream(pattern: string): Readable;
}

const hasWildcard = (filter: string) => filter.includes('+') || filter.includes('#');

/**
 * Indexes the retained messages of Aedes's memory persistence by topic, for the subscriptions
 * that name exact topics. The memory persistence answers each SUBSCRIBE by testing every
 * retained topic against each of its filters: with a thousand sites connecting at once, each
 * subscribing to its own three topics while a thousand statuses and the hub's message for each
 * site are retained, that scan was most of the broker's time (quadratic in the sites). A
 * SUBSCRIBE without wildcards (every site's) is now answered by lookups: the same messages, in
 * the same order (filter by filter); one with a wildcard still goes to the memory persistence.
 *
 * Call it on the broker's persistence before any client connects: the index is kept beside the
 * persistence's own map, updated in the same call, so the two always hold the same messages.
 */
export function indexRetained(persistence: unknown): void {
  const store = persistence as RetainedStore;
  for (const method of ['storeRetained', 'createRetainedStreamCombi', 'createRetainedStream'] as const)
    if (typeof store[method] !== 'function') throw new Error(`the broker's persistence has no ${method}()`);
  const byTopic = new Map<string, RetainedPacket>();
  const storeRetained = store.storeRetained.bind(store);
  const combi = store.createRetainedStreamCombi.bind(store);
  // As the memory persistence does: an empty payload clears the topic, anything else replaces it.
  store.storeRetained = (packet, ...rest) => {
    if (packet.payload.length === 0) byTopic.delete(packet.topic);
    else byTopic.set(packet.topic, { ...packet });
    return storeRetained(packet, ...rest);
  };
  store.createRetainedStreamCombi = (patterns) =>
    patterns.some(hasWildcard) ? combi(patterns) : Readable.from(patterns.flatMap((topic) => byTopic.get(topic) ?? []));
  store.createRetainedStream = (pattern) => store.createRetainedStreamCombi([pattern]);
}
