import ICAL from 'ical.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { BookingStore, type BookingRow } from '../../cloud-sync/hub/bookings/store.js';
import { tokenHash } from '../../cloud-sync/hub/calendar/feeds.js';
import { UPSERT_ENTITY } from '../../cloud-sync/hub/directory.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { Resource } from '../../shared/protocol/bookings.js';
import { loginAs, signedInHub, type AuthHeaders } from '../harness/hub-auth.js';
import { silent } from '../support/logger.js';

const NOW = '2026-11-23T08:00:00Z';
const HOURS = [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '20:00' }];
const LONG_NAME = 'Salle de réunion « Les Vosges du Nord », étage 2; côté jardin — grande table';

const at = (iso: string) => Date.parse(iso);
let ids = 0;
const booking = (member: string, start: string, end: string, over: Partial<BookingRow> = {}): BookingRow => ({
  id: `bk-${++ids}`,
  resource: 'vosges',
  site: 'reichstett',
  member,
  startMs: at(start),
  endMs: at(end),
  status: 'confirmed',
  createdBy: 'acc-x',
  createdAt: at(NOW),
  updatedAt: at(NOW),
  cancelledAt: null,
  lateCancellation: false,
  ...over,
});

/** The VEVENTs of a feed, as a real iCalendar parser reads them. */
function events(text: string) {
  return new ICAL.Component(ICAL.parse(text)).getAllSubcomponents('vevent').map((v) => ({
    uid: v.getFirstPropertyValue('uid'),
    summary: v.getFirstPropertyValue('summary'),
    location: v.getFirstPropertyValue('location'),
    status: v.getFirstPropertyValue('status'),
    start: (v.getFirstPropertyValue('dtstart') as ICAL.Time).toUnixTime() * 1000,
    utc: (v.getFirstPropertyValue('dtstart') as ICAL.Time).zone?.tzid,
  }));
}

describe('calendar feeds', () => {
  let hub: Hub;
  let admin: AuthHeaders;
  // The feed's address is whole (the request's host here, the configured public URL in production): asked by its path.
  const get = (url: string) => hub.api.inject({ method: 'GET', url: url.replace(/^https?:\/\/[^/]+/, '') });
  const create = (headers: AuthHeaders, payload: object) =>
    hub.api.inject({ method: 'POST', url: '/calendar-feeds', headers, payload });

  beforeEach(async () => {
    ids = 0;
    ({ hub, admin } = await signedInHub(silent, new ManualClock(NOW)));
    const db = hub.store.db;
    for (const [id, name] of [
      ['reichstett', 'Reichstett'],
      ['murat', 'Murat'],
    ])
      await hub.sites.upsert(db, { id, name, timeZone: 'Europe/Paris', capacity: 20 });
    await hub.directory.upsert(db, 'plan', {
      id: 'reichstett-2-days',
      name: 'R',
      access: 'staffed',
      sites: ['reichstett'],
    });
    await hub.directory.upsert(db, 'member', { id: 'chloe', name: 'Chloé Martin', plan: 'reichstett-2-days' });
    await hub.directory.upsert(db, 'member', { id: 'dan', name: 'Dan Secret', plan: 'reichstett-2-days' });
    const room = Resource.parse({
      id: 'vosges',
      site: 'reichstett',
      kind: 'room',
      name: LONG_NAME,
      capacity: 8,
      hours: HOURS,
    });
    await db.run(UPSERT_ENTITY, ['resource', 'vosges', JSON.stringify(room), 1]);
    const store = new BookingStore();
    for (const b of [
      booking('chloe', '2026-11-24T09:00:00+01:00', '2026-11-24T10:30:00+01:00'),
      booking('dan', '2026-11-25T14:00:00+01:00', '2026-11-25T15:00:00+01:00'),
      booking('dan', '2026-11-26T14:00:00+01:00', '2026-11-26T15:00:00+01:00', { status: 'cancelled' }),
      booking('chloe', '2026-09-01T09:00:00+02:00', '2026-09-01T10:00:00+02:00'), // over 30 days ago
      booking('chloe', '2027-06-01T09:00:00+02:00', '2027-06-01T10:00:00+02:00'), // over 180 days ahead
    ])
      await store.insert(db, b);
  });
  afterEach(() => hub.stop());

  it("serves a room's confirmed bookings without a session, in UTC, and never its holders' names", async () => {
    const r = await create(admin, { kind: 'room', resource: 'vosges', lang: 'fr' });
    expect(r.statusCode).toBe(201);
    const { url, id } = r.json<{ url: string; id: string }>();
    expect(url).toMatch(/^http:\/\/localhost:80\/calendar\/[A-Za-z0-9_-]{43}\.ics\?lang=fr$/);
    // Only the token's hash is kept: the id is it, and the table holds no token.
    expect(id).toBe(tokenHash(url.slice(url.indexOf('/calendar/') + '/calendar/'.length, url.indexOf('.ics'))));
    const feed = await get(url);
    expect(feed.statusCode).toBe(200);
    expect(feed.headers['content-type']).toBe('text/calendar; charset=utf-8');
    expect(feed.body).not.toMatch(/Chlo|Dan|chloe|dan\b/);
    expect(events(feed.body)).toEqual([
      {
        uid: 'bk-1@tessera',
        summary: 'Réservé',
        location: `${LONG_NAME}, Reichstett`,
        status: 'CONFIRMED',
        start: at('2026-11-24T08:00:00Z'),
        utc: 'UTC',
      },
      {
        uid: 'bk-2@tessera',
        summary: 'Réservé',
        location: `${LONG_NAME}, Reichstett`,
        status: 'CONFIRMED',
        start: at('2026-11-25T13:00:00Z'),
        utc: 'UTC',
      },
    ]);
    // The long, escaped name is folded into lines of at most 75 octets.
    for (const line of feed.body.split('\r\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
    expect(feed.body).toContain('\r\n ');
    expect(feed.body).toContain('\\,');
    expect(feed.body).toContain('\\;');
    expect(events((await get(url.replace('?lang=fr', ''))).body)[0]?.summary).toBe('Booked');
  });

  it("serves a member's own bookings, cancelled ones marked so, within 30 days back and 180 ahead", async () => {
    const { url } = (await create(admin, { kind: 'member', member: 'dan' })).json<{ url: string }>();
    expect(events((await get(url)).body).map((e) => [e.uid, e.summary, e.location, e.status])).toEqual([
      ['bk-2@tessera', LONG_NAME, 'Reichstett', 'CONFIRMED'],
      ['bk-3@tessera', LONG_NAME, 'Reichstett', 'CANCELLED'],
    ]);
    const chloe = (await create(admin, { kind: 'member', member: 'chloe' })).json<{ url: string }>();
    expect(events((await get(chloe.url)).body).map((e) => e.uid)).toEqual(['bk-1@tessera']);
  });

  it('answers 404 for a revoked feed and for a token never given, and revokes only for whoever may share it', async () => {
    const manager = await loginAs(hub.api, admin, { username: 'mgr', role: 'site_manager', sites: ['reichstett'] });
    const other = await loginAs(hub.api, admin, { username: 'mgr2', role: 'site_manager', sites: ['murat'] });
    const r = await create(manager, { kind: 'room', resource: 'vosges' });
    expect(r.statusCode).toBe(201);
    const { url, id } = r.json<{ url: string; id: string }>();
    expect((await get(url)).statusCode).toBe(200);
    const revoke = (headers: AuthHeaders) =>
      hub.api.inject({ method: 'DELETE', url: `/calendar-feeds/${id}`, headers });
    expect((await revoke(other)).statusCode).toBe(403);
    expect((await get(url)).statusCode).toBe(200);
    expect((await revoke(manager)).statusCode).toBe(204);
    expect((await get(url)).statusCode).toBe(404);
    expect((await revoke(admin)).statusCode).toBe(204);
    expect((await get(url)).statusCode).toBe(404);
    expect((await get(`/calendar/${'A'.repeat(43)}.ics`)).statusCode).toBe(404);
    expect(
      (await hub.api.inject({ method: 'DELETE', url: `/calendar-feeds/${'0'.repeat(64)}`, headers: admin })).statusCode,
    ).toBe(404);
  });

  it('lets only the room’s site manager, the operator, and staff who see the member create feeds; the rest needs a session', async () => {
    const other = await loginAs(hub.api, admin, { username: 'mgr2', role: 'site_manager', sites: ['murat'] });
    const manager = await loginAs(hub.api, admin, { username: 'mgr', role: 'site_manager', sites: ['reichstett'] });
    expect((await create(other, { kind: 'room', resource: 'vosges' })).statusCode).toBe(403);
    expect((await create(other, { kind: 'member', member: 'chloe' })).statusCode).toBe(404);
    expect((await create(manager, { kind: 'member', member: 'chloe' })).statusCode).toBe(201);
    expect((await create(admin, { kind: 'room', resource: 'nowhere' })).statusCode).toBe(404);
    expect(
      (await hub.api.inject({ method: 'POST', url: '/calendar-feeds', payload: { kind: 'room', resource: 'vosges' } }))
        .statusCode,
    ).toBe(401);
    // Only a feed's exact path is public: anything else under /calendar still asks for a session.
    expect((await get('/calendar/short.ics')).statusCode).toBe(401);
    expect((await get(`/calendar/${'A'.repeat(43)}.ics/x`)).statusCode).toBe(401);
  });
});
