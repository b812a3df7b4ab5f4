import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { signedInHub, type AuthHeaders } from '../harness/hub-auth.js';
import { silent } from '../support/logger.js';
import { call, HOURS } from './hub-bookings-fixtures.js';
import { accountOf, network, type Network } from './hub-self-service-fixtures.js';

/**
 * Erasing a member takes what self-service gave them: their account and its sessions, their
 * invitations (an email address) and calendar feeds; their bookings stay for billing under the
 * pseudonym, those to come cancelled and gone from the doors. Now is Monday 2026-12-07, 09:00 in Paris.
 */
describe('a member erased at the hub, with an account, bookings, an invitation and a feed', () => {
  let hub: Hub;
  let net: Network;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock('2026-12-07T08:00:00Z');
    const signed = await signedInHub(silent, clock);
    hub = signed.hub;
    net = await network(hub, signed.admin);
    const room = { site: 'murat', kind: 'room', name: 'Salle', capacity: 4, hours: HOURS };
    expect((await call(hub, net.admin, 'PUT', '/resources/salle', room)).status).toBe(200);
  });
  afterEach(async () => hub.stop());

  const book = async (who: AuthHeaders, date: string, from: string, to: string) => {
    const r = await call(hub, who, 'POST', '/bookings', { resource: 'salle', date, from, to });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.item.id;
  };
  const bookingRow = (id: string) =>
    hub.store.db.get<{ member: string; status: string }>('SELECT member, status FROM bookings WHERE id = ?', [id]);
  const liveBookingEntities = () =>
    hub.store.db.column<string>("SELECT id FROM directory_entities WHERE entity = 'booking' AND deleted = 0");

  it('exports the bookings, then leaves no account, session, invitation or feed, and the bookings under the pseudonym', async () => {
    const earlier = await book(net.member, '2026-12-07', '09:30', '10:30');
    const later = await book(net.member, '2026-12-10', '14:00', '15:00');
    const feed = await call(hub, net.member, 'POST', '/calendar-feeds', { kind: 'member', member: 'ana' });
    expect(feed.status, JSON.stringify(feed.body)).toBe(201);
    const whole = new URL((feed.body as unknown as { url: string }).url);
    const feedUrl = `${whole.pathname}${whole.search}`;
    const invite = await call(hub, net.admin, 'POST', '/invitations', {
      role: 'member',
      member: 'mia',
      email: 'mia@example.org',
    });
    expect(invite.status, JSON.stringify(invite.body)).toBe(201);
    // Mia's account and invitation are not Ana's: they stay.
    await accountOf(hub.api, net.admin, { username: 'mia', role: 'member', member: 'mia' });
    clock.advance(60 * 60_000); // 10:00: the first booking is under way, the second to come
    expect((await hub.api.inject({ method: 'GET', url: feedUrl })).statusCode).toBe(200);

    const exported = await hub.api.inject({ method: 'GET', url: '/directory/members/ana/export', headers: net.admin });
    expect(exported.statusCode).toBe(200);
    const bookings = exported.json<{ bookings: Array<{ id: string; status: string }> }>().bookings;
    expect(bookings.map((b) => [b.id, b.status])).toEqual([
      [earlier, 'confirmed'],
      [later, 'confirmed'],
    ]);

    const erased = await call(hub, net.admin, 'POST', '/directory/members/ana/erase', { confirm: 'ana' });
    expect(erased.status, JSON.stringify(erased.body)).toBe(200);
    const pseudonym = (erased.body as unknown as { pseudonym: string }).pseudonym;

    expect((await call(hub, net.member, 'GET', '/me')).status).toBe(401);
    expect(await hub.store.db.value('SELECT count(*) FROM accounts WHERE member = ?', ['ana'])).toBe(0);
    expect(Number(await hub.store.db.value("SELECT count(*) FROM accounts WHERE member = 'mia'"))).toBe(1);
    expect(Number(await hub.store.db.value("SELECT count(*) FROM invitations WHERE member = 'mia'"))).toBe(1);
    expect((await hub.api.inject({ method: 'GET', url: feedUrl })).statusCode).toBe(404);
    expect(await bookingRow(earlier)).toEqual({ member: pseudonym, status: 'confirmed' });
    expect(await bookingRow(later)).toEqual({ member: pseudonym, status: 'cancelled' });
    expect(Number(await hub.store.db.value('SELECT count(*) FROM bookings WHERE member = ?', ['ana']))).toBe(0);
    expect(await liveBookingEntities()).toEqual([]);
    const entities = await hub.store.db.column<string>(
      "SELECT value FROM directory_entities WHERE entity = 'booking' AND value IS NOT NULL",
    );
    expect(entities.filter((v) => v.includes('"ana"'))).toEqual([]);
  });

  it('deletes the invitations of the member erased', async () => {
    const invite = await call(hub, net.admin, 'POST', '/invitations', {
      role: 'member',
      member: 'eve',
      email: 'eve@example.org',
    });
    expect(invite.status, JSON.stringify(invite.body)).toBe(201);
    expect((await call(hub, net.admin, 'POST', '/directory/members/eve/erase', { confirm: 'eve' })).status).toBe(200);
    expect(Number(await hub.store.db.value("SELECT count(*) FROM invitations WHERE member = 'eve'"))).toBe(0);
    expect(Number(await hub.store.db.value("SELECT count(*) FROM invitations WHERE email LIKE 'eve%'"))).toBe(0);
  });
});
