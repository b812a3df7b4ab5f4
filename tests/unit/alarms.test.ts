import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openHubDatabase } from '../../cloud-sync/hub/db.js';
import { AlarmBook } from '../../cloud-sync/hub/occupancy/alarms.js';
import { HubStore } from '../../cloud-sync/hub/store.js';
import type { NewEvent, SiteEvent } from '../../shared/protocol/events.js';
import { statusOf } from '../harness/hub-fixtures.js';
import { testHubDb } from '../harness/hub-db.js';

const NOW = Date.parse('2026-11-23T21:00:00Z');

function world() {
  const store = new HubStore(openHubDatabase(testHubDb()));
  const alarms = new AlarmBook(store.db, () => NOW);
  let seq = 0;
  /** Events of site murat with the next seqs, Paris local times. */
  const events = (...es: Array<[string, NewEvent]>): SiteEvent[] =>
    es.map(
      ([hhmm, e]) =>
        ({ v: 1, site: 'murat', seq: ++seq, id: randomUUID(), at: `2026-11-23T${hhmm}:00+01:00`, ...e }) as SiteEvent,
    );
  /** Stores the events (as ingest does), then tells the alarm book. */
  const deliver = (batch: SiteEvent[]) => {
    store.ingest({ v: 1, site: 'murat', events: batch }, NOW);
    return alarms.apply(batch);
  };
  return { store, alarms, events, deliver };
}

const forced = (door = 'front'): NewEvent => ({ type: 'door.forced', data: { door } });
const secured = (after: 'forced' | 'held', door = 'front'): NewEvent => ({
  type: 'door.secured',
  data: { door, after },
});

describe('alarms', () => {
  it('a forced door is one active alarm; forced again while active counts, not a second alarm; door.secured clears it', () => {
    const { alarms, events, deliver } = world();
    deliver(events(['22:00', forced()], ['22:01', forced()]));
    expect(alarms.list({ open: true })).toMatchObject([
      {
        kind: 'door.forced',
        subject: 'front',
        count: 2,
        raisedAt: '2026-11-23T22:00:00+01:00',
        clearedAt: null,
        open: true,
      },
    ]);
    const [cleared] = deliver(events(['22:05', secured('forced')]));
    expect(cleared).toMatchObject({ clearedAt: '2026-11-23T22:05:00+01:00', clearedBy: 'door.secured', open: true });
    deliver(events(['23:00', forced()]));
    expect(alarms.list().map((a) => [a.count, a.clearedAt === null])).toEqual([
      [1, true],
      [2, false],
    ]);
  });

  it('a held-open alarm is not cleared by the end of a forced one, only by its own door.secured', () => {
    const { alarms, events, deliver } = world();
    deliver(
      events(['09:00', { type: 'door.held', data: { door: 'front', seconds: 120 } }], ['09:01', secured('forced')]),
    );
    expect(alarms.list({ open: true })).toMatchObject([{ kind: 'door.held', detail: '120 s', clearedAt: null }]);
    deliver(events(['09:03', secured('held')]));
    expect(alarms.list()[0]).toMatchObject({ clearedBy: 'door.secured' });
  });

  it('applying the same events again changes nothing: no new alarm, no extra count', () => {
    const { alarms, events, deliver } = world();
    const batch = events(
      ['22:00', forced()],
      ['22:01', forced()],
      ['22:02', { type: 'device.fault', data: { device: 'reader-1', kind: 'reader.lost' } }],
    );
    deliver(batch);
    const before = alarms.list();
    expect(alarms.apply(batch)).toEqual([]);
    expect(alarms.list()).toEqual(before);
  });

  it('a door.secured that arrived before its door.forced (across a gap) leaves the alarm stored already cleared', () => {
    const { alarms, events, deliver } = world();
    const [first, second] = events(['22:00', forced()], ['22:02', secured('forced')]);
    deliver([second as SiteEvent]);
    deliver([first as SiteEvent]);
    expect(alarms.list()).toMatchObject([
      { kind: 'door.forced', clearedAt: '2026-11-23T22:02:00+01:00', clearedBy: 'door.secured' },
    ]);
  });

  it('a lost reader is cleared when found; a sync rejection is over at once and stays open until acknowledged', () => {
    const { alarms, events, deliver } = world();
    deliver(
      events(
        ['10:00', { type: 'device.fault', data: { device: 'ACR122U 00', kind: 'reader.lost', detail: 'unplugged' } }],
        [
          '10:01',
          { type: 'device.fault', data: { device: 'sync', kind: 'sync.rejected', detail: 'payload too large' } },
        ],
        ['10:02', { type: 'device.fault', data: { device: 'ACR122U 00', kind: 'reader.found' } }],
      ),
    );
    const list = alarms.list();
    expect(list.map((a) => [a.kind, a.clearedBy, a.open])).toEqual([
      ['sync.rejected', 'one-off', true],
      ['reader.lost', 'reader.found', true],
    ]);
    const acked = alarms.acknowledge(list[0]?.id ?? 0, 'manon');
    expect(acked).toMatchObject({ acknowledgedBy: 'manon', acknowledgedAt: new Date(NOW).toISOString(), open: false });
    expect(alarms.acknowledge(acked.id, 'someone-else').acknowledgedBy).toBe('manon');
    expect(alarms.list({ open: true }).map((a) => a.kind)).toEqual(['reader.lost']);
    expect(() => alarms.acknowledge(999, 'x')).toThrow(expect.objectContaining({ code: 'not_found' }));
  });

  it('a refused directory update, a relay that failed to move and a reader that keeps reading no UID each raise an alarm, open until acknowledged', () => {
    const { alarms, events, deliver } = world();
    deliver(
      events(
        [
          '10:00',
          {
            type: 'device.fault',
            data: { device: 'hub', kind: 'directory.rejected', detail: 'forged: the signature is not the hub key’s' },
          },
        ],
        ['10:01', { type: 'device.fault', data: { device: 'front', kind: 'gpio.error', detail: 'EIO' } }],
        [
          '10:02',
          {
            type: 'device.fault',
            data: {
              device: 'front-in',
              kind: 'uid.unreadable',
              detail: '3 cards in a row whose UID could not be read',
            },
          },
        ],
      ),
    );
    expect(alarms.list({ open: true }).map((a) => [a.kind, a.subject, a.clearedBy])).toEqual([
      ['reader.unreadable', 'front-in', 'one-off'],
      ['relay.failed', 'front', 'one-off'],
      ['directory.rejected', 'hub', 'one-off'],
    ]);
  });

  it('a site offline (last will) raises one site.offline alarm however many offline statuses come; online clears it', () => {
    const { alarms } = world();
    expect(alarms.onStatus(statusOf('murat', { online: false }))).toHaveLength(1);
    expect(alarms.onStatus(statusOf('murat', { online: false }))).toEqual([]);
    expect(alarms.openCounts().get('murat')).toBe(1);
    const [cleared] = alarms.onStatus(statusOf('murat', { online: true }));
    expect(cleared).toMatchObject({
      kind: 'site.offline',
      subject: 'murat',
      clearedBy: 'site.online',
      clearedAt: new Date(NOW).toISOString(),
    });
    expect(alarms.onStatus(statusOf('murat', { online: true }))).toEqual([]);
  });
});
