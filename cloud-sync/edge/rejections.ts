import type { Logger } from 'pino';
import type { Clock } from '../../shared/platform/clock.js';
import type { NewEvent } from '../../shared/protocol/events.js';
import { EVENT_SCHEMA_VERSION, SiteEvent } from '../../shared/protocol/events.js';
import { uuidv7 } from '../../shared/platform/ids.js';
import type { SyncStore } from './site-store.js';

/**
 * Parks an event the broker keeps refusing (a publish refused again and again would stall an outbox
 * forever): it stays in the store with its reason, the stream skips it, the status reports it,
 * and a `device.fault` of kind `sync.rejected` is recorded if the event catalog knows that kind.
 * Returns whether the fault event was recorded.
 */
export function parkRejected(
  store: SyncStore,
  clock: Clock,
  log: Logger,
  site: string,
  seq: number,
  reason: string,
): boolean {
  const now = clock.now();
  store.parked.park(seq, seq, reason, now);
  log.error(
    { code: 'sync.rejected', seq, reason },
    `event ${seq} parked: the broker keeps refusing it; the stream goes on past it`,
  );
  const fault = syncRejectedFault(site, seq, reason, now);
  if (!fault) {
    log.warn(
      { code: 'sync.rejected', seq },
      "the event catalog has no device.fault kind 'sync.rejected' yet: no fault event recorded",
    );
    return false;
  }
  store.transaction(() => store.events.append(fault, now));
  return true;
}

/** The fault event, if shared/protocol/events.ts accepts it (checked on a whole envelope, as the hub will). */
export function syncRejectedFault(site: string, seq: number, reason: string, nowMs: number): NewEvent | undefined {
  const candidate = {
    v: EVENT_SCHEMA_VERSION,
    site,
    seq: 1,
    id: uuidv7(nowMs),
    at: new Date(nowMs).toISOString(),
    type: 'device.fault',
    data: { device: 'sync', kind: 'sync.rejected', detail: `seq ${seq}: ${reason}`.slice(0, 500) },
  };
  const parsed = SiteEvent.safeParse(candidate);
  if (!parsed.success) return undefined;
  // The envelope fields are the store's to give; only type and data are the event.
  const { v: _v, site: _site, seq: _seq, id: _id, at: _at, ...event } = parsed.data;
  return event as NewEvent;
}
