import { afterEach, describe, expect, it } from 'vitest';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { loginAs, signedInHub } from '../harness/hub-auth.js';
import { silent } from '../support/logger.js';
import { call, HOURS, seedNetwork } from './hub-bookings-fixtures.js';

describe('resources at the hub', () => {
  let hub: Hub | undefined;
  afterEach(async () => hub?.stop());

  it('an operator declares them at declared sites only, naming plans that exist', async () => {
    const s = await signedInHub(silent);
    hub = s.hub;
    await seedNetwork(hub, s.admin);
    const list = await call(hub, s.admin, 'GET', '/resources');
    expect(list.body.items.map((r: { id: string }) => r.id)).toEqual(['desk-7', 'pool', 'room-a']);
    expect((await call(hub, s.admin, 'GET', '/resources?site=lyon')).body.items).toHaveLength(1);
    const nowhere = await call(hub, s.admin, 'PUT', '/resources/x', {
      site: 'paris',
      kind: 'desk',
      name: 'X',
      hours: HOURS,
    });
    expect(nowhere.status).toBe(400);
    expect(nowhere.body.message).toMatch(/no declared site "paris"/);
    const noPlan = await call(hub, s.admin, 'PUT', '/resources/x', {
      site: 'murat',
      kind: 'desk',
      name: 'X',
      hours: HOURS,
      plans: ['gold'],
    });
    expect(noPlan.status).toBe(400);
    expect(noPlan.body.message).toMatch(/no plan "gold"/);
    const noSize = await call(hub, s.admin, 'PUT', '/resources/x', {
      site: 'murat',
      kind: 'desk-pool',
      name: 'X',
      hours: HOURS,
    });
    expect(noSize.status).toBe(400);
    // A plan a resource names cannot go.
    expect((await call(hub, s.admin, 'DELETE', '/directory/plans/network')).status).toBe(400);
    expect((await call(hub, s.admin, 'DELETE', '/resources/desk-7')).status).toBe(204);
    expect((await call(hub, s.admin, 'GET', '/resources?site=lyon')).body.items).toEqual([]);
  });

  it("a site manager changes their own sites' resources, sees no other, and cannot put one elsewhere", async () => {
    const s = await signedInHub(silent);
    hub = s.hub;
    await seedNetwork(hub, s.admin);
    const manager = await loginAs(hub.api, s.admin, { username: 'mgr', role: 'site_manager', sites: ['murat'] });
    expect((await call(hub, manager, 'GET', '/resources')).body.items.map((r: { id: string }) => r.id)).toEqual([
      'pool',
      'room-a',
    ]);
    const room = { site: 'murat', kind: 'room', name: 'Room B', capacity: 4, hours: HOURS };
    expect((await call(hub, manager, 'PUT', '/resources/room-b', room)).status).toBe(200);
    expect((await call(hub, manager, 'PUT', '/resources/room-c', { ...room, site: 'lyon' })).status).toBe(403);
    expect((await call(hub, manager, 'PUT', '/resources/desk-7', room)).status).toBe(404);
    expect((await call(hub, manager, 'DELETE', '/resources/desk-7')).status).toBe(404);
    expect((await call(hub, s.admin, 'GET', '/resources?site=lyon')).body.items).toHaveLength(1);
    const audit = await call(hub, s.admin, 'GET', '/audit?entity=resource');
    expect(audit.body.items.map((e) => e.entityId)).toContain('room-b');
  });
});
