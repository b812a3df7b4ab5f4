import { randomUUID } from 'node:crypto';
import type { SiteEvent } from '../../shared/protocol/events.js';
import type { EventBatch, SiteStatus } from '../../shared/protocol/sync.js';

/** Valid protocol messages for hub tests. */
export function siteEvent(site: string, seq: number, id: string = randomUUID()): SiteEvent {
  const at = new Date(Date.UTC(2026, 10, 23, 8, 0, seq % 60)).toISOString().replace('Z', '+00:00');
  return { v: 1, site, seq, id, at, type: 'door.forced', data: { door: 'front' } };
}

/** A batch of seqs `from..to`; the ids are stable per (site, seq) when `ids` is given. */
export function batchOf(site: string, from: number, to: number, ids?: Map<number, string>): EventBatch {
  const events: SiteEvent[] = [];
  for (let seq = from; seq <= to; seq++) {
    let id = ids?.get(seq);
    if (ids && id === undefined) {
      id = randomUUID();
      ids.set(seq, id);
    }
    events.push(siteEvent(site, seq, id));
  }
  return { v: 1, site, events };
}

export function statusOf(site: string, overrides: Partial<SiteStatus> = {}): SiteStatus {
  return {
    v: 1,
    site,
    online: true,
    at: '2026-11-23T09:00:00+01:00',
    version: '0.1.0',
    lastSeq: 0,
    ackedSeq: 0,
    parked: [],
    directory: { revision: 1, ageSeconds: 0, stale: false },
    clock: { synced: true },
    ...overrides,
  };
}

/** A protocol message as the bytes of an MQTT payload. */
export const json = (v: unknown) => Buffer.from(JSON.stringify(v));

/** The badge UID of the i-th generated member. */
const memberUid = (i: number) => `04${i.toString(16).toUpperCase().padStart(12, '0')}`;

/** A members import of `n` generated members, each with one badge, all on the `always` plan. */
export const membersCsv = (n: number) =>
  [
    'member_id,name,plan,badges',
    ...Array.from({ length: n }, (_, i) => `m${i},Member ${i},always,${memberUid(i)}`),
  ].join('\n');
