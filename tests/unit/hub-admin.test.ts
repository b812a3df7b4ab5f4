import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { login, loginAs, FAST_PASSWORD_COST, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { batchOf } from '../harness/hub-fixtures.js';
import { testHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';

const UID_A = '04A1A1A1A1A1A1';
const UID_B = '04B2B2B2B2B2B2';

describe('admin API: the directory', () => {
  let hub: Hub;
  let admin: AuthHeaders;
  beforeEach(async () => {
    hub = await createHub({
      dbPath: await testHubDb(),
      clock: new ManualClock('2026-11-23T08:00:00Z'),
      log: silent,
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
    admin = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
  });
  afterEach(async () => hub.stop());

  const call = (
    method: 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE',
    url: string,
    payload?: unknown,
    headers: AuthHeaders = admin,
  ) => hub.api.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });

  async function seed(): Promise<void> {
    expect((await call('PUT', '/directory/plans/always', { name: '24/7', access: 'always' })).statusCode).toBe(200);
    expect((await call('PUT', '/directory/employers/acme', { name: 'Acme' })).statusCode).toBe(200);
    for (let i = 1; i <= 12; i++) {
      const id = `m${String(i).padStart(2, '0')}`;
      expect(
        (
          await call('PUT', `/directory/members/${id}`, {
            name: i % 2 ? `Alice ${i}` : `Bob ${i}`,
            plan: 'always',
            ...(i <= 3 ? { employer: 'acme' } : {}),
          })
        ).statusCode,
      ).toBe(200);
    }
  }

  it('lists with search and paging: items, total, offset, limit', async () => {
    await seed();
    const page = (await call('GET', '/directory/members?q=alice&limit=4&offset=2')).json<{
      items: Array<{ id: string }>;
      total: number;
    }>();
    expect(page.total).toBe(6);
    expect(page.items.map((m) => m.id)).toEqual(['m05', 'm07', 'm09', 'm11']);
    expect((await call('GET', '/directory/members?employer=acme')).json()).toMatchObject({ total: 3 });
    expect((await call('GET', '/directory/members?q=100%25')).json()).toMatchObject({ total: 0 });
    const bad = await call('GET', '/directory/members?limit=501&colour=red');
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json<{ details: Array<{ path: string }> }>()
        .details.map((d) => d.path)
        .sort(),
    ).toEqual(['colour', 'limit']);
  });

  it('gets one, patches it (null removes a field), and 404s what does not exist', async () => {
    await seed();
    expect((await call('GET', '/directory/members/m01')).json()).toMatchObject({
      item: { id: 'm01', name: 'Alice 1', employer: 'acme', status: 'active' },
    });
    const patched = await call('PATCH', '/directory/members/m01', { status: 'suspended', employer: null });
    expect(patched.statusCode).toBe(200);
    expect(patched.json<{ value: Record<string, unknown> }>().value).toEqual({
      id: 'm01',
      name: 'Alice 1',
      role: 'member',
      plan: 'always',
      status: 'suspended',
    });
    expect((await call('GET', '/directory/members/nobody')).statusCode).toBe(404);
    expect((await call('PATCH', '/directory/members/nobody', { name: 'X' })).statusCode).toBe(404);
    expect((await call('GET', '/directory/gizmos')).json()).toMatchObject({ code: 'not_found' });
  });

  it('refuses bad bodies and dangling references with the path at fault, and changes nothing', async () => {
    await seed();
    const revision = await hub.directory.revision(hub.store.db);
    const bad = await call('PUT', '/directory/members/m99', { name: '', plan: 'nope' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'request.invalid', details: [{ path: 'name' }] });
    const dangling = await call('PUT', '/directory/badges/04C3C3C3C3C3C3', { member: 'ghost' });
    expect(dangling.json()).toMatchObject({ code: 'request.invalid', details: [{ path: 'member' }] });
    expect((await call('PUT', '/directory/members/m99', ['not', 'an', 'object'])).statusCode).toBe(400);
    expect((await call('DELETE', '/directory/plans/always')).json()).toMatchObject({ code: 'request.invalid' });
    expect(await hub.directory.revision(hub.store.db)).toBe(revision);
  });

  it('each change writes one audit row with who, what, when, before and after; GET /audit filters and pages', async () => {
    await seed();
    await call('PUT', `/directory/badges/${UID_A}`, { member: 'm01' });
    expect((await call('POST', '/directory/badges/04:a1:a1:a1:a1:a1:a1/revoke')).json()).toMatchObject({
      value: { uid: UID_A, status: 'revoked' },
    });
    expect((await call('DELETE', `/directory/badges/${UID_A}`)).statusCode).toBe(200);
    const audit = (await call('GET', `/audit?entity=badge&entityId=${UID_A}`)).json<{
      items: Array<Record<string, unknown>>;
      total: number;
    }>();
    expect(audit.total).toBe(3);
    expect(audit.items.map((e) => e.action)).toEqual(['delete', 'revoke', 'create']);
    expect(audit.items[1]).toMatchObject({
      at: '2026-11-23T08:00:00.000Z',
      actor: { username: 'admin' },
      entity: 'badge',
      before: { uid: UID_A, status: 'active' },
      after: { uid: UID_A, status: 'revoked' },
    });
    expect(audit.items[0]).toMatchObject({ before: { status: 'revoked' }, after: null });
    expect((await call('GET', '/audit?action=create&limit=2')).json()).toMatchObject({
      total: 15,
      limit: 2,
      items: [{}, {}],
    });
    expect((await call('GET', '/audit?since=tomorrow')).statusCode).toBe(400);
  });

  it('a refused change leaves no audit row', async () => {
    await call('PUT', '/directory/members/x', { name: 'X', plan: 'missing' });
    expect((await call('GET', '/audit')).json()).toMatchObject({ total: 0 });
  });

  it('declared sites: create, list, patch, delete, with audit', async () => {
    expect(
      (await call('PUT', '/directory/sites/murat', { name: 'Murat', timeZone: 'Europe/Paris', capacity: 20 })).json(),
    ).toMatchObject({ item: { id: 'murat', capacity: 20 } });
    expect((await call('PATCH', '/directory/sites/murat', { capacity: 25 })).json()).toMatchObject({
      item: { name: 'Murat', capacity: 25 },
    });
    expect(
      (await call('PUT', '/directory/sites/lyon', { name: 'Lyon', timeZone: 'Mars/Olympus', capacity: 5 })).json(),
    ).toMatchObject({ code: 'request.invalid', details: [{ path: 'timeZone' }] });
    expect((await call('GET', '/directory/sites')).json()).toMatchObject({ total: 1, items: [{ id: 'murat' }] });
    expect((await call('DELETE', '/directory/sites/murat')).statusCode).toBe(204);
    expect((await call('DELETE', '/directory/sites/murat')).statusCode).toBe(404);
    const audit = (await call('GET', '/audit?entity=site')).json<{ items: Array<{ action: string }> }>();
    expect(audit.items.map((e) => e.action)).toEqual(['delete', 'update', 'create']);
  });
});

describe('admin API: a site manager sees and changes only what concerns their sites', () => {
  let hub: Hub;
  let admin: AuthHeaders;
  let manager: AuthHeaders;
  beforeEach(async () => {
    hub = await createHub({
      dbPath: await testHubDb(),
      clock: new ManualClock('2026-11-23T08:00:00Z'),
      log: silent,
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
    admin = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
    const put = async (url: string, payload: object) =>
      expect((await hub.api.inject({ method: 'PUT', url, headers: admin, payload })).statusCode).toBe(200);
    await put('/directory/sites/murat', { name: 'Murat', timeZone: 'Europe/Paris', capacity: 20 });
    await put('/directory/sites/lyon', { name: 'Lyon', timeZone: 'Europe/Paris', capacity: 40 });
    await put('/directory/plans/murat-only', { name: 'Murat', access: 'staffed', sites: ['murat'] });
    await put('/directory/plans/lyon-only', { name: 'Lyon', access: 'staffed', sites: ['lyon'] });
    await put('/directory/members/ana', { name: 'Ana', plan: 'murat-only' });
    await put('/directory/members/leo', { name: 'Leo', plan: 'lyon-only' });
    await put(`/directory/badges/${UID_A}`, { member: 'ana' });
    await put(`/directory/badges/${UID_B}`, { member: 'leo' });
    manager = await loginAs(hub.api, admin, { username: 'manon', role: 'site_manager', sites: ['murat'] });
  });
  afterEach(async () => hub.stop());

  const as = (method: 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE', url: string, payload?: object) =>
    hub.api.inject({ method, url, headers: manager, ...(payload === undefined ? {} : { payload }) });

  it('lists only their members, badges, plans and sites; another site is 403, another member 404', async () => {
    expect((await as('GET', '/directory/members')).json()).toMatchObject({ total: 1, items: [{ id: 'ana' }] });
    expect((await as('GET', '/directory/badges')).json()).toMatchObject({ total: 1, items: [{ uid: UID_A }] });
    expect((await as('GET', '/directory/plans')).json()).toMatchObject({ total: 1, items: [{ id: 'murat-only' }] });
    expect((await as('GET', '/directory/sites')).json()).toMatchObject({ total: 1, items: [{ id: 'murat' }] });
    expect((await as('GET', '/directory/members?site=lyon')).json()).toMatchObject({ code: 'auth.forbidden' });
    expect((await as('GET', '/directory/members/leo')).statusCode).toBe(404);
    expect((await as('GET', '/directory/sites/lyon')).statusCode).toBe(404);
  });

  it('adds a member to their site and revokes their badges, but cannot touch another site', async () => {
    expect((await as('PUT', '/directory/members/zoe', { name: 'Zoe', plan: 'murat-only' })).statusCode).toBe(200);
    expect((await as('POST', `/directory/badges/${UID_A}/revoke`)).statusCode).toBe(200);
    const elsewhere = await as('PUT', '/directory/members/max', { name: 'Max', plan: 'lyon-only' });
    expect(elsewhere.statusCode).toBe(403);
    expect(elsewhere.json()).toMatchObject({ code: 'auth.forbidden' });
    expect(await hub.directory.get(hub.store.db, 'member', 'max')).toBeUndefined();
    expect((await as('PATCH', '/directory/members/ana', { plan: 'lyon-only' })).statusCode).toBe(403);
    expect((await hub.directory.get(hub.store.db, 'member', 'ana'))?.plan).toBe('murat-only');
    expect((await as('POST', `/directory/badges/${UID_B}/revoke`)).statusCode).toBe(404);
    expect((await as('DELETE', '/directory/members/leo')).statusCode).toBe(404);
    expect((await hub.directory.get(hub.store.db, 'badge', UID_B))?.status).toBe('active');
    expect((await as('PATCH', '/directory/sites/lyon', { capacity: 1 })).statusCode).toBe(403);
    expect((await as('PATCH', '/directory/sites/murat', { capacity: 22 })).statusCode).toBe(200);
    expect(
      (await as('PUT', '/directory/sites/paris', { name: 'Paris', timeZone: 'Europe/Paris', capacity: 9 })).statusCode,
    ).toBe(403);
  });

  it('cannot change plans, employers, accounts, or read the audit log', async () => {
    expect(
      (await as('PUT', '/directory/plans/murat-only', { name: 'Cheaper', access: 'always', sites: ['murat'] }))
        .statusCode,
    ).toBe(403);
    expect((await as('PUT', '/directory/employers/acme', { name: 'Acme' })).statusCode).toBe(403);
    expect((await as('DELETE', '/directory/sites/murat')).statusCode).toBe(403);
    expect((await as('GET', '/accounts')).json()).toMatchObject({ code: 'auth.forbidden' });
    expect(
      (await as('POST', '/accounts', { username: 'evil', role: 'operator', password: 'long-enough-pw' })).statusCode,
    ).toBe(403);
    expect((await as('GET', '/audit')).statusCode).toBe(403);
  });
});

describe('the ingest view under roles', () => {
  it('a site manager sees only their sites and their events; dead letters are the operator’s', async () => {
    const hub = await createHub({
      dbPath: await testHubDb(),
      clock: new ManualClock('2026-11-23T08:00:00Z'),
      log: silent,
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
    try {
      for (const site of ['murat', 'lyon']) {
        hub.ingest.onMessage(`tessera/v1/sites/${site}/events`, Buffer.from(JSON.stringify(batchOf(site, 1, 2))));
      }
      await hub.ingest.commitGroup();
      const admin = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
      const manager = await loginAs(hub.api, admin, { username: 'manon', role: 'site_manager', sites: ['murat'] });
      const get = (url: string, headers: AuthHeaders) => hub.api.inject({ method: 'GET', url, headers });
      expect((await get('/sites', admin)).json<{ sites: unknown[] }>().sites).toHaveLength(2);
      expect((await get('/sites', manager)).json()).toMatchObject({ sites: [{ site: 'murat' }] });
      expect((await get('/sites', manager)).json<{ sites: unknown[] }>().sites).toHaveLength(1);
      expect((await get('/sites/murat/events', manager)).statusCode).toBe(200);
      expect((await get('/sites/lyon/events', manager)).json()).toMatchObject({ code: 'auth.forbidden' });
      expect((await get('/dead-letters', manager)).statusCode).toBe(403);
      expect((await get('/dead-letters', admin)).statusCode).toBe(200);
    } finally {
      await hub.stop();
    }
  });
});
