import { afterEach, describe, expect, it } from 'vitest';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { availability } from '../../cloud-sync/hub/bookings/availability.js';
import { signedInHub } from '../harness/hub-auth.js';
import { silent } from '../support/logger.js';
import { call, seedNetwork } from './hub-bookings-fixtures.js';

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
});
