import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { signedInHub } from '../harness/hub-auth.js';
import { silent } from '../support/logger.js';
import { call, HOURS } from './hub-bookings-fixtures.js';
import { network, type Network } from './hub-self-service-fixtures.js';

/**
 * Bookings over HTTP with the self-service accounts, as an outsider would try them: Ana's member
 * account, and the manager of Acme (Ana's and Ben's employer; Leo is Globex's). Neither sees,
 * books, moves nor cancels anything of anyone else's. Now is Monday 2026-12-07, 09:00 in Paris.
 */
describe('bookings seen and made by a member and by an employer’s manager', () => {
  let hub: Hub;
  let net: Network;
  beforeEach(async () => {
    const signed = await signedInHub(silent, new ManualClock('2026-12-07T08:00:00Z'));
    hub = signed.hub;
    net = await network(hub, signed.admin);
    for (const [id, site] of [
      ['salle', 'murat'],
      ['lyon-room', 'lyon'],
    ] as const)
      expect(
        (
          await call(hub, net.admin, 'PUT', `/resources/${id}`, {
            site,
            kind: 'room',
            name: id,
            capacity: 4,
            hours: HOURS,
          })
        ).status,
      ).toBe(200);
  });
  afterEach(async () => hub.stop());

  const when = (from: string, to: string) => ({ date: '2026-12-09', from, to });
  const bookAs = (who: keyof Network, body: object) => call(hub, net[who], 'POST', '/bookings', body);

  it('a member books for themselves only, and lists, moves and cancels only their own', async () => {
    const own = await bookAs('member', { resource: 'salle', ...when('09:00', '10:00') });
    expect(own.status, JSON.stringify(own.body)).toBe(201);
    expect(own.body.item.member).toBe('ana');
    // Someone else's name in the body: the same answer as a member that does not exist.
    for (const member of ['ben', 'leo', 'nobody'])
      expect((await bookAs('member', { resource: 'salle', member, ...when('11:00', '12:00') })).status).toBe(404);
    const bens = await bookAs('admin', { resource: 'lyon-room', member: 'ben', ...when('09:00', '10:00') });
    expect(bens.status).toBe(201);
    const listed = await call(hub, net.member, 'GET', '/bookings');
    expect(listed.body.items.map((b) => b.id)).toEqual([own.body.item.id]);
    expect((await call(hub, net.member, 'GET', '/bookings?member=ben')).body.items ?? []).toEqual([]);
    expect((await call(hub, net.member, 'GET', '/bookings?site=lyon')).body.items ?? []).toEqual([]);
    const theirs = bens.body.item.id;
    expect((await call(hub, net.member, 'PATCH', `/bookings/${theirs}`, when('14:00', '15:00'))).status).toBe(404);
    expect((await call(hub, net.member, 'POST', `/bookings/${theirs}/cancel`)).status).toBe(404);
    const stored = await hub.store.db.get<{ status: string; start_ms: number }>(
      'SELECT status, start_ms FROM bookings WHERE id = ?',
      [theirs],
    );
    expect(stored).toEqual({ status: 'confirmed', start_ms: Date.parse('2026-12-09T08:00:00Z') });
    expect((await call(hub, net.member, 'POST', `/bookings/${own.body.item.id}/cancel`)).status).toBe(200);
  });

  it('an employer’s manager books for their staff only, and sees only their staff’s bookings', async () => {
    const forBen = await bookAs('employerManager', { resource: 'lyon-room', member: 'ben', ...when('09:00', '10:00') });
    expect(forBen.status, JSON.stringify(forBen.body)).toBe(201);
    expect(
      (await bookAs('employerManager', { resource: 'salle', member: 'leo', ...when('09:00', '10:00') })).status,
    ).toBe(404);
    // Without a member, a manager's booking is for no one: refused, naming the field.
    expect((await bookAs('employerManager', { resource: 'salle', ...when('09:00', '10:00') })).status).toBe(400);
    const leos = await bookAs('admin', { resource: 'salle', member: 'leo', ...when('11:00', '12:00') });
    expect(leos.status).toBe(201);
    const listed = await call(hub, net.employerManager, 'GET', '/bookings');
    expect(listed.body.items.map((b) => b.member)).toEqual(['ben']);
    expect((await call(hub, net.employerManager, 'GET', '/bookings?member=leo')).body.items ?? []).toEqual([]);
    expect((await call(hub, net.employerManager, 'POST', `/bookings/${leos.body.item.id}/cancel`)).status).toBe(404);
    // Resources and availability are open to both, read-only.
    expect(
      (await call(hub, net.employerManager, 'GET', '/availability?date=2026-12-09&from=09:00&to=10:00')).status,
    ).toBe(200);
    const resource = { site: 'murat', kind: 'room', name: 'Mine', capacity: 2, hours: HOURS };
    for (const who of ['member', 'employerManager'] as const) {
      expect((await call(hub, net[who], 'GET', '/resources')).status).toBe(200);
      expect((await call(hub, net[who], 'PUT', '/resources/mine', resource)).status).toBe(403);
      expect((await call(hub, net[who], 'DELETE', '/resources/salle')).status).toBe(403);
    }
  });
});
