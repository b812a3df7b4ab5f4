import { afterEach, describe, expect, it } from 'vitest';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { loginAs, signedInHub, type AuthHeaders } from '../harness/hub-auth.js';
import { silent } from '../support/logger.js';
import { call, seedNetwork } from './hub-bookings-fixtures.js';

describe('bookings through the API', () => {
  let hub: Hub | undefined;
  afterEach(async () => hub?.stop());

  async function start(clock = new ManualClock('2026-11-23T08:00:00Z')): Promise<{ hub: Hub; admin: AuthHeaders }> {
    const s = await signedInHub(silent, clock);
    hub = s.hub;
    await seedNetwork(s.hub, s.admin);
    return s;
  }

  it('books in the site time zone, refuses an overlap of a room and a pool over its size', async () => {
    const { hub, admin } = await start();
    const book = (member: string, resource: string, from: string, to: string, date = '2026-11-24') =>
      call(hub, admin, 'POST', '/bookings', { resource, member, date, from, to });
    const first = await book('ana', 'room-a', '10:00', '11:00');
    expect(first.status).toBe(201);
    // Paris is UTC+1 in November.
    expect(first.body.item).toMatchObject({ start: '2026-11-24T09:00:00.000Z', end: '2026-11-24T10:00:00.000Z' });
    expect(first.body.item).toMatchObject({ status: 'confirmed', site: 'murat', member: 'ana' });
    const clash = await book('leo', 'room-a', '10:30', '12:00');
    expect(clash.status).toBe(409);
    expect(clash.body.message).toMatch(/Room A is already booked/);
    // End exclusive: back to back is fine.
    expect((await book('leo', 'room-a', '11:00', '12:00')).status).toBe(201);
    expect((await book('ana', 'pool', '09:00', '12:00')).status).toBe(201);
    expect((await book('leo', 'pool', '11:00', '13:00')).status).toBe(201);
    const third = await book('nina', 'pool', '11:30', '11:45');
    expect(third.status).toBe(409);
    expect(third.body.message).toMatch(/full/);
    expect((await book('nina', 'pool', '12:00', '13:00')).status).toBe(201);
    // The same member twice on a pool at once: refused even with room left.
    expect((await book('leo', 'pool', '08:00', '09:00')).status).toBe(201);
    expect((await book('leo', 'pool', '08:30', '08:45')).status).toBe(409);
  });

  it('refuses what the rules refuse, naming why', async () => {
    const { hub, admin } = await start();
    const book = (over: object) =>
      call(hub, admin, 'POST', '/bookings', {
        resource: 'room-a',
        member: 'ana',
        date: '2026-11-24',
        from: '10:00',
        to: '11:00',
        ...over,
      });
    expect((await book({ from: '06:00', to: '08:00' })).body.message).toMatch(/may not be booked at that time/);
    expect((await book({ date: '2026-11-22' })).body.message).toMatch(/past/);
    expect((await book({ date: '2027-03-01' })).body.message).toMatch(/90 days/);
    expect((await book({ from: '11:00', to: '10:00' })).status).toBe(400);
    expect((await book({ resource: 'desk-7' })).body.message).toMatch(/may not book|does not open/);
    expect((await book({ resource: 'nope' })).status).toBe(404);
    expect((await book({ member: 'nobody' })).status).toBe(404);
    expect(
      (
        await call(hub, admin, 'POST', '/bookings', {
          resource: 'room-a',
          date: '2026-11-24',
          from: '10:00',
          to: '11:00',
        })
      ).status,
    ).toBe(400);
  });

  it('refuses a wall time the clocks skip or show twice', async () => {
    const { hub, admin } = await start(new ManualClock('2026-03-20T08:00:00Z'));
    await call(hub, admin, 'PUT', '/resources/night', {
      site: 'murat',
      kind: 'room',
      name: 'Night room',
      capacity: 2,
      hours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '24:00' }],
    });
    const gap = await call(hub, admin, 'POST', '/bookings', {
      resource: 'night',
      member: 'ana',
      date: '2026-03-29',
      from: '02:30',
      to: '04:00',
    });
    expect(gap.status).toBe(400);
    expect(gap.body.message).toMatch(/2026-03-29 02:30 does not exist in Europe\/Paris/);
    const whole = await call(hub, admin, 'POST', '/bookings', {
      resource: 'night',
      member: 'ana',
      date: '2026-03-29',
      from: '00:00',
      to: '24:00',
    });
    expect(whole.status).toBe(201);
    // 23 hours of instants on the day the clocks go forward.
    expect(Date.parse(whole.body.item.end) - Date.parse(whole.body.item.start)).toBe(23 * 3_600_000);
  });

  it('moves and cancels; a late cancellation is marked; the directory follows', async () => {
    const { hub, admin } = await start();
    const made = await call(hub, admin, 'POST', '/bookings', {
      resource: 'room-a',
      member: 'ana',
      date: '2026-11-24',
      from: '10:00',
      to: '11:00',
    });
    const id = made.body.item.id;
    expect(await hub.directory.get(hub.store.db, 'booking', id)).toMatchObject({ start: '2026-11-24T09:00:00.000Z' });
    const moved = await call(hub, admin, 'PATCH', `/bookings/${id}`, {
      date: '2026-11-25',
      from: '14:00',
      to: '15:00',
    });
    expect(moved.status).toBe(200);
    expect(moved.body.item.start).toBe('2026-11-25T13:00:00.000Z');
    expect(await hub.directory.get(hub.store.db, 'booking', id)).toMatchObject({ start: '2026-11-25T13:00:00.000Z' });
    // More than 24 hours before its start: free.
    const early = await call(hub, admin, 'POST', `/bookings/${id}/cancel`);
    expect(early.body.item).toMatchObject({ status: 'cancelled', lateCancellation: false });
    expect(await hub.directory.get(hub.store.db, 'booking', id)).toBeUndefined();
    expect((await call(hub, admin, 'POST', `/bookings/${id}/cancel`)).status).toBe(409);
    // Less than 24 hours before its start: late, billed.
    const soon = await call(hub, admin, 'POST', '/bookings', {
      resource: 'room-a',
      member: 'ana',
      date: '2026-11-23',
      from: '18:00',
      to: '19:00',
    });
    const late = await call(hub, admin, 'POST', `/bookings/${soon.body.item.id}/cancel`);
    expect(late.body.item).toMatchObject({ status: 'cancelled', lateCancellation: true });
    const listed = await call(hub, admin, 'GET', '/bookings?site=murat');
    expect(listed.body.items.map((b) => b.status)).toEqual(['cancelled', 'cancelled']);
  });

  it('a site manager books only at their sites, for members they see', async () => {
    const { hub, admin } = await start();
    const manager = await loginAs(hub.api, admin, { username: 'mgr', role: 'site_manager', sites: ['lyon'] });
    const at = (resource: string, member: string) =>
      call(hub, manager, 'POST', '/bookings', { resource, member, date: '2026-11-24', from: '10:00', to: '11:00' });
    expect((await at('desk-7', 'leo')).status).toBe(201);
    // ana's plan does not open lyon: not a member this manager sees.
    expect((await at('desk-7', 'ana')).status).toBe(404);
    // room-a is at murat, not theirs.
    expect((await at('room-a', 'leo')).status).toBe(404);
    const mine = await call(hub, admin, 'POST', '/bookings', {
      resource: 'room-a',
      member: 'leo',
      date: '2026-11-24',
      from: '12:00',
      to: '13:00',
    });
    expect((await call(hub, manager, 'POST', `/bookings/${mine.body.item.id}/cancel`)).status).toBe(404);
    const seen = await call(hub, manager, 'GET', '/bookings');
    expect(seen.body.items.map((b) => b.resource)).toEqual(['desk-7']);
    expect((await call(hub, manager, 'GET', '/bookings?member=leo')).body.items.map((b) => b.resource)).toEqual([
      'desk-7',
    ]);
  });
});
