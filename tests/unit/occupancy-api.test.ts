import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import type { NewEvent, SiteEvent } from '../../shared/protocol/events.js';
import type { SiteStatus } from '../../shared/protocol/sync.js';
import { topics } from '../../shared/protocol/topics.js';
import { statusOf, json } from '../harness/hub-fixtures.js';
import { FAST_PASSWORD_COST, TEST_ADMIN, login, type AuthHeaders } from '../harness/hub-auth.js';
import { testHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';

const t = topics();
const seqs = new Map<string, number>();

/** Sends one site's events to the hub's ingest as a batch and commits it; times are Paris local, Monday 23 November 2026. */
async function send(hub: Hub, site: string, hhmm: string, ...events: NewEvent[]) {
  const batch: SiteEvent[] = events.map((e) => {
    const seq = (seqs.get(site) ?? 0) + 1;
    seqs.set(site, seq);
    return { v: 1, site, seq, id: randomUUID(), at: `2026-11-23T${hhmm}:00+01:00`, ...e } as SiteEvent;
  });
  hub.ingest.onMessage(t.events(site), json({ v: 1, site, events: batch }));
  await hub.ingest.commitGroup();
}
/** A site's status through the hub's ingest: recorded, and judged by the live side. */
async function report(hub: Hub, status: SiteStatus) {
  hub.ingest.onMessage(t.status(status.site), json(status));
  await hub.ingest.settled();
  await hub.live.settled();
}
const checkIn = (memberId: string): NewEvent => ({ type: 'presence.in', data: { memberId } });
const checkOut = (memberId: string): NewEvent => ({
  type: 'presence.out',
  data: { memberId, cause: 'badge', via: 'exit_reader', minutes: 5 },
});

describe('occupancy, site health and alarms over the hub API', () => {
  let hub: Hub;
  let clock: ManualClock;
  let admin: AuthHeaders;
  let manager: AuthHeaders;
  beforeEach(async () => {
    seqs.clear();
    clock = new ManualClock('2026-11-23T09:00:00Z');
    hub = await createHub({
      dbPath: await testHubDb(),
      clock,
      log: silent,
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
    await hub.sites.upsert({ id: 'murat', name: 'Télécentre de Murat', timeZone: 'Europe/Paris', capacity: 4 });
    await hub.sites.upsert({ id: 'allanche', name: 'Allanche', timeZone: 'Europe/Paris', capacity: 10 });
    admin = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
    const created = await hub.api.inject({
      method: 'POST',
      url: '/accounts',
      headers: admin,
      payload: {
        username: 'manon',
        role: 'site_manager',
        sites: ['allanche'],
        password: 'manon-manages-allanche',
        mustChangePassword: false,
      },
    });
    expect(created.statusCode).toBe(201);
    manager = await login(hub.api, 'manon', 'manon-manages-allanche');
  });
  afterEach(() => hub.stop());

  it('GET /occupancy gives each site present, capacity and rate, and the network total; a site manager sees only their sites', async () => {
    await send(hub, 'murat', '09:00', checkIn('alice'), checkIn('bob'), checkIn('chloe'), checkOut('bob'));
    await send(hub, 'allanche', '09:05', checkIn('dan'));
    const all = (await hub.api.inject({ method: 'GET', url: '/occupancy', headers: admin })).json<{
      sites: Array<{ site: string; present: number; rate: number }>;
      total: unknown;
    }>();
    expect(all.sites.map((s) => [s.site, s.present, s.rate])).toEqual([
      ['allanche', 1, 0.1],
      ['murat', 2, 0.5],
    ]);
    expect(all.total).toEqual({ present: 3, capacity: 14, rate: 0.214 });
    const mine = (await hub.api.inject({ method: 'GET', url: '/occupancy', headers: manager })).json<{
      sites: Array<{ site: string }>;
      total: unknown;
    }>();
    expect(mine.sites.map((s) => s.site)).toEqual(['allanche']);
    expect(mine.total).toEqual({ present: 1, capacity: 10, rate: 0.1 });
  });

  it('GET /occupancy/:site says who is in with names from the directory; another site is 403 for a site manager; a bad id is 400, an unknown site 404', async () => {
    await hub.api.inject({
      method: 'PUT',
      url: '/directory/plans/always',
      headers: admin,
      payload: { name: '24/7', access: 'always' },
    });
    await hub.api.inject({
      method: 'PUT',
      url: '/directory/members/alice',
      headers: admin,
      payload: { name: 'Alice Martin', plan: 'always' },
    });
    await send(hub, 'murat', '08:45', checkIn('alice'), checkIn('ghost'));
    const r = await hub.api.inject({ method: 'GET', url: '/occupancy/murat', headers: admin });
    expect(r.json()).toMatchObject({
      site: 'murat',
      present: 2,
      whoIsIn: [
        { memberId: 'alice', name: 'Alice Martin', since: '2026-11-23T08:45:00+01:00' },
        { memberId: 'ghost', name: null, since: '2026-11-23T08:45:00+01:00' },
      ],
    });
    const forbidden = await hub.api.inject({ method: 'GET', url: '/occupancy/murat', headers: manager });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toMatchObject({ code: 'auth.forbidden' });
    expect(
      (await hub.api.inject({ method: 'GET', url: '/occupancy/Not%20a%20site', headers: admin })).json(),
    ).toMatchObject({ code: 'request.invalid' });
    for (const url of ['/occupancy/lyon', '/occupancy/lyon/history', '/site-health/lyon']) {
      const unknown = await hub.api.inject({ method: 'GET', url, headers: admin });
      expect(unknown.statusCode, url).toBe(404);
      expect(unknown.json(), url).toMatchObject({ code: 'not_found' });
    }
    // Another manager's site is 403 whether the hub knows it or not: its existence is not for them.
    expect((await hub.api.inject({ method: 'GET', url: '/occupancy/lyon', headers: manager })).statusCode).toBe(403);
    expect((await hub.api.inject({ method: 'GET', url: '/occupancy' })).statusCode).toBe(401);
  });

  it('GET /occupancy/:site/history gives 15-minute points over 24 hours or 7 days, with the site time zone', async () => {
    await send(hub, 'murat', '09:00', checkIn('alice'), checkIn('bob'));
    clock.advanceTo('2026-11-23T10:00:00Z');
    const day = (
      await hub.api.inject({ method: 'GET', url: '/occupancy/murat/history?range=24h', headers: admin })
    ).json<{ timeZone: string; points: Array<{ start: number; present: number; rate: number }> }>();
    expect(day.timeZone).toBe('Europe/Paris');
    expect(day.points).toHaveLength(97);
    expect(day.points.find((p) => p.start === Date.parse('2026-11-23T08:00:00Z'))).toEqual({
      start: Date.parse('2026-11-23T08:00:00Z'),
      present: 2,
      rate: 0.5,
    });
    expect(day.points.at(-1)?.present).toBe(2);
    const week = (
      await hub.api.inject({ method: 'GET', url: '/occupancy/murat/history?range=7d', headers: admin })
    ).json<{ points: unknown[] }>();
    expect(week.points).toHaveLength(7 * 96 + 1);
    expect(
      (await hub.api.inject({ method: 'GET', url: '/occupancy/murat/history?range=1y', headers: admin })).statusCode,
    ).toBe(400);
  });

  it('a forced door raises an alarm that door.secured clears and an operator acknowledges, who and when', async () => {
    await send(hub, 'murat', '22:10', { type: 'door.forced', data: { door: 'front' } });
    const [raised] = (await hub.api.inject({ method: 'GET', url: '/alarms?open=true', headers: admin })).json<{
      alarms: Array<{ id: number; kind: string; subject: string; clearedAt: string | null }>;
    }>().alarms;
    expect(raised).toMatchObject({
      site: 'murat',
      kind: 'door.forced',
      subject: 'front',
      clearedAt: null,
      acknowledgedAt: null,
      open: true,
    });
    await send(hub, 'murat', '22:11', { type: 'door.secured', data: { door: 'front', after: 'forced' } });
    clock.advance(60_000);
    const acked = await hub.api.inject({ method: 'POST', url: `/alarms/${raised?.id}/ack`, headers: admin });
    expect(acked.json()).toMatchObject({
      alarm: {
        clearedAt: '2026-11-23T22:11:00+01:00',
        clearedBy: 'door.secured',
        acknowledgedBy: 'admin',
        acknowledgedAt: '2026-11-23T09:01:00.000Z',
        open: false,
      },
    });
    expect((await hub.api.inject({ method: 'GET', url: '/alarms?open=true', headers: admin })).json()).toEqual({
      alarms: [],
    });
    expect((await hub.api.inject({ method: 'POST', url: '/alarms/999/ack', headers: admin })).statusCode).toBe(404);
  });

  it('GET /alarms?open=false lists only the closed alarms (cleared and acknowledged), ?open=true only the open ones, no filter both', async () => {
    await send(
      hub,
      'murat',
      '22:10',
      { type: 'door.forced', data: { door: 'front' } },
      { type: 'door.secured', data: { door: 'front', after: 'forced' } },
    );
    await send(hub, 'murat', '22:20', { type: 'door.held', data: { door: 'back', seconds: 90 } });
    const kinds = async (query: string) =>
      (await hub.api.inject({ method: 'GET', url: `/alarms${query}`, headers: admin }))
        .json<{ alarms: Array<{ kind: string; open: boolean }> }>()
        .alarms.map((a) => [a.kind, a.open]);
    // Cleared but not yet acknowledged is still open: nothing is closed yet.
    expect(await kinds('?open=false')).toEqual([]);
    const forced = (await hub.api.inject({ method: 'GET', url: '/alarms?open=true', headers: admin }))
      .json<{ alarms: Array<{ id: number; kind: string }> }>()
      .alarms.find((a) => a.kind === 'door.forced');
    expect(
      (await hub.api.inject({ method: 'POST', url: `/alarms/${forced?.id}/ack`, headers: admin })).statusCode,
    ).toBe(200);
    expect(await kinds('?open=false')).toEqual([['door.forced', false]]);
    expect(await kinds('?open=true')).toEqual([['door.held', true]]);
    expect(await kinds('')).toEqual([
      ['door.held', true],
      ['door.forced', false],
    ]);
    expect((await hub.api.inject({ method: 'GET', url: '/alarms?open=no', headers: admin })).statusCode).toBe(400);
  });

  it('a site manager acknowledges the alarms of their site and cannot see or acknowledge another site', async () => {
    await send(hub, 'murat', '10:00', {
      type: 'device.fault',
      data: { device: 'ACR122U 00', kind: 'reader.lost', detail: 'unplugged' },
    });
    await send(hub, 'allanche', '10:00', { type: 'door.held', data: { door: 'main', seconds: 90 } });
    const seen = (await hub.api.inject({ method: 'GET', url: '/alarms', headers: manager })).json<{
      alarms: Array<{ id: number; site: string }>;
    }>().alarms;
    expect(seen.map((a) => a.site)).toEqual(['allanche']);
    const other = (await hub.api.inject({ method: 'GET', url: '/alarms', headers: admin }))
      .json<{ alarms: Array<{ id: number; site: string }> }>()
      .alarms.find((a) => a.site === 'murat');
    expect(
      (await hub.api.inject({ method: 'POST', url: `/alarms/${other?.id}/ack`, headers: manager })).statusCode,
    ).toBe(404);
    expect((await hub.api.inject({ method: 'GET', url: '/alarms?site=murat', headers: manager })).statusCode).toBe(403);
    const ack = await hub.api.inject({ method: 'POST', url: `/alarms/${seen[0]?.id}/ack`, headers: manager });
    expect(ack.json()).toMatchObject({ alarm: { acknowledgedBy: 'manon', clearedAt: null, open: true } });
  });

  it('site health: offline after the last will (with a site.offline alarm), back online clears it; backlog, directory and clock as reported; doors and readers from recent events', async () => {
    await report(hub, statusOf('murat', { lastSeq: 12, ackedSeq: 2, clock: { synced: false } }));
    await send(
      hub,
      'murat',
      '10:00',
      {
        type: 'access.granted',
        data: { reader: 'front-in', role: 'entry', door: 'front', badge: '…A1A1', memberId: 'alice', reason: 'ok' },
      },
      { type: 'door.mode', data: { door: 'front', mode: 'free_access' } },
    );
    let health = (await hub.api.inject({ method: 'GET', url: '/site-health/murat', headers: admin })).json();
    expect(health).toMatchObject({
      site: 'murat',
      online: true,
      state: 'degraded',
      backlog: 10,
      clock: { synced: false },
      problems: ['clock.unsynced'],
      openAlarms: 0,
    });
    expect(health).toMatchObject({
      doors: [{ door: 'front', mode: 'free_access', alarm: null }],
      readers: [{ reader: 'front-in', connected: true, lastTap: { granted: true, reason: 'ok' } }],
    });
    await report(hub, statusOf('murat', { online: false }));
    health = (await hub.api.inject({ method: 'GET', url: '/site-health', headers: admin })).json();
    expect(health).toMatchObject({
      sites: [
        { site: 'allanche', state: 'unknown' },
        { site: 'murat', online: false, state: 'offline', openAlarms: 1 },
      ],
    });
    await report(hub, statusOf('murat', { online: true }));
    const alarms = (await hub.api.inject({ method: 'GET', url: '/alarms?site=murat', headers: admin })).json<{
      alarms: Array<{ kind: string; clearedBy: string | null }>;
    }>().alarms;
    expect(alarms).toMatchObject([{ kind: 'site.offline', clearedBy: 'site.online' }]);
  });
});
