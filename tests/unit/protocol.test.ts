import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskUid, normalizeUid } from '../../shared/protocol/badge.js';
import { EVENT_TYPES, SiteEvent, type EventPayload, type EventType } from '../../shared/protocol/events.js';
import { uuidv7 } from '../../shared/platform/ids.js';
import { topics } from '../../shared/protocol/topics.js';

/** One valid payload per event type: the compiler refuses this map if a type is missing. */
const SAMPLES: { [T in EventType]: EventPayload<T> } = {
  'access.granted': {
    reader: 'front-in',
    role: 'entry',
    door: 'front',
    badge: '…A27F',
    memberId: 'alice',
    reason: 'ok',
  },
  'access.denied': { reader: 'front-in', role: 'entry', door: 'front', badge: '…A27F', reason: 'unknown_badge' },
  'presence.in': { memberId: 'alice', door: 'front' },
  'presence.out': { memberId: 'alice', cause: 'auto', via: 'closing', minutes: 30 },
  'locker.assigned': { bank: 'a', locker: 3, memberId: 'alice', mode: 'free' },
  'locker.opened': { bank: 'a', locker: 3, memberId: 'alice' },
  'locker.released': { bank: 'a', locker: 3, memberId: 'alice', cause: 'checkout' },
  'door.forced': { door: 'front' },
  'door.held': { door: 'front', seconds: 31 },
  'door.secured': { door: 'front', after: 'held' },
  'door.exit_requested': { door: 'front' },
  'door.mode': { door: 'front', mode: 'free_access' },
  'consumable.used': { memberId: 'alice', item: 'print-page', quantity: 12 },
  'device.fault': { device: 'front-in', kind: 'reader.lost', detail: 'unplugged' },
  'clock.unsynced': { detail: 'no NTP since boot' },
  'command.executed': { command: 'kq2Jx9vV0aYc3n1o8bZL4w', kind: 'unlock', door: 'front' },
  'badge.presented': {
    reader: 'front-in',
    command: 'kq2Jx9vV0aYc3n1o8bZL4w',
    uid: '04A1B2C3D4A27F',
    badge: '…A27F',
    card: 'iso14443-3',
    known: false,
  },
  'enrol.expired': { reader: 'front-in', command: 'kq2Jx9vV0aYc3n1o8bZL4w' },
};

const envelope = (type: string, data: unknown) => ({
  v: 1,
  site: 'murat',
  seq: 1,
  id: uuidv7(Date.parse('2026-11-23T08:00:00Z')),
  at: '2026-11-23T09:00:00.000+01:00',
  type,
  data,
});

describe('the protocol catalog', () => {
  it('parses a valid event of every type', () => {
    for (const type of EVENT_TYPES) expect(SiteEvent.safeParse(envelope(type, SAMPLES[type])).success, type).toBe(true);
  });

  it('refuses an unknown type, another schema version, an extra key, a full badge UID, a time without offset', () => {
    expect(SiteEvent.safeParse(envelope('door.exploded', { door: 'front' })).success).toBe(false);
    expect(SiteEvent.safeParse({ ...envelope('door.forced', { door: 'front' }), v: 2 }).success).toBe(false);
    expect(SiteEvent.safeParse(envelope('door.forced', { door: 'front', extra: 1 })).success).toBe(false);
    expect(
      SiteEvent.safeParse(envelope('access.denied', { ...SAMPLES['access.denied'], badge: '04A2B3C4D5E6F7' })).success,
    ).toBe(false);
    expect(
      SiteEvent.safeParse({ ...envelope('door.forced', { door: 'front' }), at: '2026-11-23T09:00:00' }).success,
    ).toBe(false);
  });

  it('never throws on garbage', () => {
    fc.assert(
      fc.property(fc.anything(), (junk) => {
        expect(SiteEvent.safeParse(junk).success).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('builds topic names under the prefix and reads the site back', () => {
    const t = topics();
    expect(t.events('murat')).toBe('tessera/v1/sites/murat/events');
    expect(t.ack('murat')).toBe('tessera/v1/sites/murat/ack');
    expect(t.siteOf('tessera/v1/sites/murat/status')).toBe('murat');
    expect(t.siteOf('other/v1/sites/murat/status')).toBeUndefined();
    expect(topics('acme/v1').directory('x-1')).toBe('acme/v1/sites/x-1/directory');
    expect(() => t.events('+')).toThrow(/invalid site id/);
    expect(() => t.events('a/b')).toThrow(/invalid site id/);
  });

  it('makes UUIDv7 ids that carry their millisecond and sort by it', () => {
    const a = uuidv7(1_795_000_000_000);
    const b = uuidv7(1_795_000_000_001);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(a.replace(/-/g, '').slice(0, 12), 16)).toBe(1_795_000_000_000);
    expect(a < b).toBe(true);
  });

  it('normalises badge UIDs and shows only their last four hex digits', () => {
    expect(normalizeUid('04:a2:b3:c4 d5-e6f7')).toBe('04A2B3C4D5E6F7');
    expect(normalizeUid('04A2B3')).toBeUndefined();
    expect(normalizeUid('04A2B3C4D5E6F')).toBeUndefined();
    expect(normalizeUid('zz112233')).toBeUndefined();
    expect(maskUid('04:a2:b3:c4:d5:e6:f7')).toBe('…E6F7');
  });
});
