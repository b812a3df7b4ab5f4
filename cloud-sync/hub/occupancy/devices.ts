import type { SiteEvent } from '../../../shared/protocol/events.js';

import type { DoorState, ReaderState } from '../../../shared/protocol/api/hub-occupancy.js';

// The wire shapes of GET /site-health/:site (shared/protocol/api/hub-occupancy.ts).
export type { DoorState, ReaderState };

/** Doors and readers of a site as its recent events tell them (pure; events in seq order). */
export function devicesFrom(events: readonly SiteEvent[]): { doors: DoorState[]; readers: ReaderState[] } {
  const doors = new Map<string, DoorState>();
  const readers = new Map<string, ReaderState>();
  const door = (id: string, at: string) => {
    const d = doors.get(id) ?? { door: id, mode: null, alarm: null, lastEventAt: at };
    d.lastEventAt = at;
    doors.set(id, d);
    return d;
  };
  const reader = (id: string, at: string) => {
    const r = readers.get(id) ?? { reader: id, connected: true, lastEventAt: at, lastTap: null };
    r.lastEventAt = at;
    readers.set(id, r);
    return r;
  };
  for (const e of events) {
    if (e.type === 'access.granted' || e.type === 'access.denied') {
      const r = reader(e.data.reader, e.at);
      r.connected = true;
      r.lastTap = { at: e.at, granted: e.type === 'access.granted', reason: e.data.reason };
      if (e.data.door !== undefined) door(e.data.door, e.at);
    } else if (e.type === 'door.forced' || e.type === 'door.held')
      door(e.data.door, e.at).alarm = e.type === 'door.forced' ? 'forced' : 'held';
    else if (e.type === 'door.secured') door(e.data.door, e.at).alarm = null;
    else if (e.type === 'door.mode') door(e.data.door, e.at).mode = e.data.mode;
    else if (e.type === 'device.fault' && (e.data.kind === 'reader.lost' || e.data.kind === 'reader.found'))
      reader(e.data.device, e.at).connected = e.data.kind === 'reader.found';
  }
  const byId = <T>(m: Map<string, T>) => [...m.keys()].sort().map((k) => m.get(k) as T);
  return { doors: byId(doors), readers: byId(readers) };
}
