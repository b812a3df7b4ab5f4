import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { login, FAST_PASSWORD_COST, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { testHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';

const PLAN = { name: '24/7', access: 'always' };

describe('the hub against cross-site requests, with security headers', () => {
  let hub: Hub;
  let auth: AuthHeaders;
  beforeEach(async () => {
    hub = await createHub({
      dbPath: await testHubDb(),
      clock: new ManualClock('2026-11-23T08:00:00Z'),
      log: silent,
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
    auth = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
  });
  afterEach(async () => hub.stop());

  const put = (headers: Record<string, string>) =>
    hub.api.inject({
      method: 'PUT',
      url: '/directory/plans/always',
      payload: PLAN,
      headers: { host: 'hub.example.org', cookie: auth.cookie, ...headers },
    });

  it('takes a change from its own origin, or from a client that is no browser', async () => {
    expect((await put({ origin: 'https://hub.example.org' })).statusCode).toBe(200);
    expect((await put({ 'sec-fetch-site': 'same-origin', origin: 'https://hub.example.org' })).statusCode).toBe(200);
    expect((await put({ referer: 'https://hub.example.org/#/members' })).statusCode).toBe(200);
    expect((await put({})).statusCode).toBe(200);
  });

  it('refuses a change a browser says comes from another site, even with a valid session, and changes nothing', async () => {
    const crossSiteHeaders: Array<Record<string, string>> = [
      { origin: 'https://evil.example' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site', origin: 'https://hub.example.org' },
      { referer: 'https://evil.example/page' },
      { origin: 'null' },
    ];
    for (const headers of crossSiteHeaders) {
      const r = await put(headers);
      expect(r.statusCode, JSON.stringify(headers)).toBe(403);
      expect(r.json(), JSON.stringify(headers)).toMatchObject({ code: 'auth.forbidden' });
    }
    // A login from another site too (login CSRF), and a logout.
    const loginElsewhere = await hub.api.inject({
      method: 'POST',
      url: '/auth/login',
      payload: TEST_ADMIN,
      headers: { host: 'hub.example.org', origin: 'https://evil.example' },
    });
    expect(loginElsewhere.statusCode).toBe(403);
    expect(await hub.directory.list(hub.store.db, 'plan')).toEqual([]);
    // Reading is not a change: a cross-site GET is answered (the cookie would not come with it).
    const read = await hub.api.inject({
      method: 'GET',
      url: '/directory/plans',
      headers: { host: 'hub.example.org', cookie: auth.cookie, origin: 'https://evil.example' },
    });
    expect(read.statusCode).toBe(200);
  });

  it('sends the security headers on API answers, errors and the dashboard, keeping the dashboard its own CSP', async () => {
    for (const r of [
      await hub.api.inject({ method: 'GET', url: '/health' }),
      await hub.api.inject({ method: 'GET', url: '/sites' }),
      await hub.api.inject({ method: 'GET', url: '/' }),
    ]) {
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['x-frame-options']).toBe('DENY');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
    }
    const page = await hub.api.inject({ method: 'GET', url: '/' });
    expect(String(page.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
  });
});
