import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { login, FAST_PASSWORD_COST, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { testHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';

describe('admin API: accounts, the operator manages them', () => {
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
    method: 'GET' | 'POST' | 'PATCH',
    url: string,
    payload?: object,
    headers: AuthHeaders | Record<string, string> = admin,
  ) => hub.api.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
  const create = (payload: object) => call('POST', '/accounts', payload);

  it('creates a site manager with a one-time password, who must set their own before anything else', async () => {
    const r = await create({ username: 'manon', role: 'site_manager', sites: ['murat'], password: 'handed-over-pw' });
    expect(r.statusCode).toBe(201);
    expect(r.json()).toMatchObject({
      account: { username: 'manon', role: 'site_manager', sites: ['murat'], mustChangePassword: true, disabled: false },
    });
    const manon = await login(hub.api, 'manon', 'handed-over-pw');
    expect((await call('GET', '/directory/members', undefined, manon)).json()).toMatchObject({
      code: 'auth.password_change_required',
    });
    expect(
      (
        await call(
          'POST',
          '/auth/password',
          { currentPassword: 'handed-over-pw', newPassword: 'manon-own-password' },
          manon,
        )
      ).statusCode,
    ).toBe(204);
    expect((await call('GET', '/directory/members', undefined, manon)).statusCode).toBe(200);
    expect((await call('GET', '/audit?action=change_password')).json()).toMatchObject({
      total: 1,
      items: [{ actor: { username: 'manon' }, entity: 'account' }],
    });
  });

  it('refuses a taken username (any case), a site manager without sites, a short password, an unknown role', async () => {
    await create({ username: 'manon', role: 'site_manager', sites: ['murat'], password: 'handed-over-pw' });
    const taken = await create({ username: 'MANON', role: 'operator', password: 'handed-over-pw' });
    expect(taken.statusCode).toBe(409);
    expect(taken.json()).toMatchObject({ code: 'conflict' });
    expect((await create({ username: 'sam', role: 'site_manager', password: 'handed-over-pw' })).json()).toMatchObject({
      code: 'request.invalid',
      details: [{ path: 'sites' }],
    });
    const bad = await create({ username: 's', role: 'king', password: 'short' });
    expect(
      bad
        .json<{ details: Array<{ path: string }> }>()
        .details.map((d) => d.path)
        .sort(),
    ).toEqual(['password', 'role', 'username']);
    expect((await call('GET', '/accounts')).json()).toMatchObject({ total: 2 });
  });

  it('changes role and sites, disables (ending sessions), resets a password; each with an audit row', async () => {
    const { account } = (
      await create({
        username: 'manon',
        role: 'site_manager',
        sites: ['murat'],
        password: 'handed-over-pw',
        mustChangePassword: false,
      })
    ).json<{ account: { id: string } }>();
    const manon = await login(hub.api, 'manon', 'handed-over-pw');
    expect((await call('PATCH', `/accounts/${account.id}`, { sites: ['murat', 'lyon'] })).json()).toMatchObject({
      account: { sites: ['murat', 'lyon'] },
    });
    expect((await call('PATCH', `/accounts/${account.id}`, { disabled: true })).json()).toMatchObject({
      account: { disabled: true },
    });
    expect((await call('GET', '/auth/me', undefined, manon)).json()).toMatchObject({ code: 'auth.invalid' });
    expect((await call('POST', '/auth/login', { username: 'manon', password: 'handed-over-pw' }, {})).statusCode).toBe(
      401,
    );
    await call('PATCH', `/accounts/${account.id}`, { disabled: false });
    expect((await call('POST', `/accounts/${account.id}/password`, { password: 'a-fresh-one-time' })).statusCode).toBe(
      204,
    );
    expect(
      (await call('POST', '/auth/login', { username: 'manon', password: 'a-fresh-one-time' }, {})).json(),
    ).toMatchObject({ account: { mustChangePassword: true } });
    const audit = (await call('GET', `/audit?entity=account&entityId=${account.id}`)).json<{
      items: Array<{ action: string; after: Record<string, unknown> }>;
    }>();
    expect(audit.items.map((e) => e.action)).toEqual(['reset_password', 'update', 'update', 'update', 'create']);
    expect(JSON.stringify(audit.items)).not.toMatch(/scrypt|handed-over|a-fresh/);
  });

  it('the last enabled operator cannot be disabled or demoted', async () => {
    const me = (await call('GET', '/auth/me')).json<{ account: { id: string } }>().account.id;
    expect((await call('PATCH', `/accounts/${me}`, { disabled: true })).json()).toMatchObject({ code: 'conflict' });
    expect((await call('PATCH', `/accounts/${me}`, { role: 'site_manager', sites: ['murat'] })).statusCode).toBe(409);
    await create({ username: 'second', role: 'operator', password: 'second-operator' });
    expect((await call('PATCH', `/accounts/${me}`, { role: 'site_manager', sites: ['murat'] })).statusCode).toBe(200);
  });

  it('answers 404 for an unknown account', async () => {
    expect((await call('GET', '/accounts/nope')).statusCode).toBe(404);
    expect((await call('PATCH', '/accounts/nope', { disabled: true })).statusCode).toBe(404);
    expect((await call('POST', '/accounts/nope/password', { password: 'whatever-long' })).statusCode).toBe(404);
  });
});
