import { afterEach, describe, expect, it } from 'vitest';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { availability } from '../../cloud-sync/hub/bookings/availability.js';
import { signedInHub } from '../harness/hub-auth.js';
import { silent } from '../support/logger.js';
import { call, HOURS, seedNetwork } from './hub-bookings-fixtures.js';

describe('availability across the network', () => {
  let hub: Hub | undefined;
  afterEach(async () => hub?.stop());

  it("counts each site's free desks and rooms for a window, and caps today's by who is in", async () => {
    const s = await signedInHub(silent); // 2026-11-23T08:00Z: 09:00 in Paris
    hub = s.hub;
    await seedNetwork(hub, s.admin);
    const book = (resource: string, member: string, from: string, to: string) =>
      call(hub!, s.admin, 'POST', '/bookings', { resource, member, date: '2026-11-24', from, to });
    expect((await book('pool', 'ana', '10:00', '11:00')).status).toBe(201);
    expect((await book('room-a', 'leo', '10:30', '11:30')).status).toBe(201);
    expect((await book('desk-7', 'leo', '09:00', '10:15')).status).toBe(201);
    const at = async (from: string, to: string, site = '') =>
      (await call(hub!, s.admin, 'GET', `/availability?date=2026-11-24&from=${from}&to=${to}${site}`)).body.sites;
    const busy = await at('10:00', '11:00');
    expect(busy.map((x) => [x.site, x.freeDesks, x.freeRooms.map((r) => r.id)])).toEqual([
      ['lyon', 0, []],
      ['murat', 1, []],
    ]);
    const later = await at('11:30', '12:00', '&site=murat');
    expect(later).toEqual([
      {
        site: 'murat',
        name: 'Murat',
        timeZone: 'Europe/Paris',
        freeDesks: 2,
        freeRooms: [{ id: 'room-a', name: 'Room A', capacity: 6 }],
        occupancy: { present: 0, capacity: null },
      },
    ]);
    // Today, a window holding now: the free places now cap the free desks.
    const sites = await hub.sites.list();
    const now = hub.store.db;
    const full = await availability(
      now,
      sites,
      { date: '2026-11-23', from: '08:30', to: '10:00' },
      Date.parse('2026-11-23T08:00:00Z'),
      async () => [
        { site: 'lyon', present: 30, capacity: 30 },
        { site: 'murat', present: 1, capacity: 2 },
      ],
    );
    expect(full.map((x) => [x.site, x.freeDesks])).toEqual([
      ['lyon', 0],
      ['murat', 1],
    ]);
    const tomorrow = await availability(
      now,
      sites,
      { date: '2026-11-25', from: '08:30', to: '10:00' },
      Date.parse('2026-11-23T08:00:00Z'),
      async () => [{ site: 'lyon', present: 30, capacity: 30 }],
    );
    expect(tomorrow.map((x) => [x.site, x.freeDesks])).toEqual([
      ['lyon', 1],
      ['murat', 2],
    ]);
  });

  it("leaves cancelled bookings out, counts a pool by its peak, reads each zone's window, and follows resource changes at once", async () => {
    const s = await signedInHub(silent); // 2026-11-23T08:00Z
    hub = s.hub;
    await seedNetwork(hub, s.admin);
    const put = async (url: string, body: object) =>
      expect((await call(hub!, s.admin, 'PUT', url, body)).status).toBe(200);
    await put('/directory/sites/stdenis', { name: 'Saint-Denis', timeZone: 'Indian/Reunion' });
    await put('/resources/room-r', { site: 'stdenis', kind: 'room', name: 'Room R', capacity: 4, hours: HOURS });
    await put('/resources/desk-r', { site: 'stdenis', kind: 'desk', name: 'Desk R', hours: HOURS });
    const book = async (resource: string, member: string, from: string, to: string) => {
      const r = await call(hub!, s.admin, 'POST', '/bookings', { resource, member, date: '2026-11-24', from, to });
      expect(r.status).toBe(201);
      return r.body.item.id;
    };
    // The pool (2 desks) booked twice, one after the other: one desk taken at any moment, one free.
    await book('pool', 'ana', '10:00', '11:00');
    await book('pool', 'nina', '11:00', '12:00');
    const cancelled = await book('room-a', 'leo', '10:00', '11:00');
    expect((await call(hub, s.admin, 'POST', `/bookings/${cancelled}/cancel`)).status).toBe(200);
    // 10:00 to 11:00 in Réunion is 06:00 to 07:00 UTC, the window 07:00 to 08:00 asks in Paris.
    await book('room-r', 'leo', '10:00', '11:00');
    const at = async (from: string, to: string) =>
      Object.fromEntries(
        (await call(hub!, s.admin, 'GET', `/availability?date=2026-11-24&from=${from}&to=${to}`)).body.sites.map(
          (x) => [x.site, [x.freeDesks, x.freeRooms.map((r) => `${r.id} ${r.name} ${r.capacity}`)]],
        ),
      );
    expect(await at('10:00', '12:00')).toEqual({
      lyon: [1, []],
      murat: [1, ['room-a Room A 6']],
      stdenis: [1, []],
    });
    expect((await at('07:00', '08:00')).stdenis).toEqual([1, ['room-r Room R 4']]);
    // A resource changed, removed or added shows in the next answer.
    await put('/resources/room-a', { site: 'murat', kind: 'room', name: 'Room A1', capacity: 8, hours: HOURS });
    expect((await call(hub, s.admin, 'DELETE', '/resources/desk-7')).status).toBe(204);
    await put('/resources/room-l', { site: 'lyon', kind: 'room', name: 'Room L', capacity: 3, hours: HOURS });
    expect(await at('10:00', '12:00')).toEqual({
      lyon: [0, ['room-l Room L 3']],
      murat: [1, ['room-a Room A1 8']],
      stdenis: [1, []],
    });
    // "Today" in each site's own zone: 22:30 UTC on the 23rd is already the 24th in Réunion, not yet in Paris.
    const sites = await hub.sites.list();
    const late = await availability(
      hub.store.db,
      sites,
      { date: '2026-11-24', from: '02:00', to: '04:00' },
      Date.parse('2026-11-23T22:30:00Z'),
      async () => sites.map((x) => ({ site: x.id, present: 5, capacity: 5 })),
    );
    expect(late.map((x) => [x.site, x.freeDesks])).toEqual([
      ['lyon', 0],
      ['murat', 2],
      ['stdenis', 0],
    ]);
  });
});
