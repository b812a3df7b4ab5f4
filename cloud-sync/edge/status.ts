import type { SiteStatus } from '../../shared/protocol/sync.js';
import { SYNC_SCHEMA_VERSION } from '../../shared/protocol/sync.js';
import { isoInZone } from '../../shared/protocol/schedule.js';
import type { StatusSource } from './site-store.js';

export interface StatusInput {
  site: string;
  /** The site's door ids (its config file), so that the hub knows which doors a command may name. */
  doors?: readonly string[];
  /** The site's reader ids (its config file), so that the hub knows which reader an enrol may name. */
  readers?: readonly string[];
  online: boolean;
  version: string;
  nowMs: number;
  clockSynced: boolean;
  /** A directory older than this is stale: the smallest of directory.maxAgeHours of a hub-fed site. */
  staleAfterSeconds?: number;
  /** broker.heartbeatSeconds and the silence after which the hub counts the site offline. */
  heartbeat?: { seconds: number; offlineAfterSeconds: number };
  /** site.capacity from the config file: the capacity the door enforces. */
  capacity?: number;
  /** The newest directory revision refused for a missed update, until an update applies again. */
  directoryMissed?: number;
}

/** The site's retained status (shared/protocol/sync.ts SiteStatus), read from the store as it is now. */
export function buildStatus(store: StatusSource, input: StatusInput): SiteStatus {
  const dir = store.directory.meta();
  const ageSeconds = dir ? Math.max(0, Math.floor((input.nowMs - dir.loadedAt) / 1000)) : null;
  return {
    v: SYNC_SCHEMA_VERSION,
    site: input.site,
    ...(input.doors ? { doors: [...input.doors] } : {}),
    ...(input.readers ? { readers: [...input.readers] } : {}),
    online: input.online,
    at: isoInZone(input.nowMs, store.timeZone),
    version: input.version.slice(0, 50),
    lastSeq: store.events.lastSeq(),
    ackedSeq: store.events.ackedSeq(),
    parked: parkedRanges(store),
    directory: {
      revision: dir?.revision ?? 0,
      ageSeconds,
      stale: input.staleAfterSeconds !== undefined && (ageSeconds === null || ageSeconds > input.staleAfterSeconds),
      ...(input.staleAfterSeconds !== undefined ? { maxAgeSeconds: input.staleAfterSeconds } : {}),
      ...(input.directoryMissed !== undefined ? { missed: input.directoryMissed } : {}),
    },
    clock: { synced: input.clockSynced },
    ...logBehindHub(store),
    ...(input.heartbeat ? { heartbeat: input.heartbeat } : {}),
    ...(input.capacity !== undefined ? { capacity: input.capacity } : {}),
  };
}

/** Parked ranges as the protocol carries them, adjacent ones merged, at most 1000 (the schema's bound), oldest first. */
export function parkedRanges(store: Pick<StatusSource, 'parked'>): Array<[number, number]> {
  const merged: Array<[number, number]> = [];
  for (const p of store.parked.list()) {
    const last = merged[merged.length - 1];
    if (last && p.from <= last[1] + 1) last[1] = Math.max(last[1], p.to);
    else merged.push([p.from, p.to]);
  }
  return merged.slice(0, 1000);
}

/** Only while the site's log is behind the hub's ack: older hubs need not know the field. */
function logBehindHub(store: StatusSource): { logBehindHub?: number } {
  const hubSeq = store.events.behindHub();
  return hubSeq === undefined ? {} : { logBehindHub: hubSeq };
}
