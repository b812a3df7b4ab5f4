import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '../../cloud-sync/hub/hub.js';
import { hashPassword, verifyPassword } from '../../cloud-sync/hub/auth/password.js';
import { ManualClock } from '../../shared/clock.js';
import { login, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { testHubDb, lastingHubDb } from '../harness/hub-db.js';

const silent = pino({ level: 'silent' });
const MINUTE = 60_000;

describe('hub authentication', () => {
  let hub: Hub;
  let clock: ManualClock;
  beforeEach(() => {
    clock = new ManualClock('2026-11-23T08:00:00Z');
    hub = createHub({ dbPath: testHubDb(), clock, log: silent, initialAdmin: TEST_ADMIN });
  });
  afterEach(async () => hub.stop());

  const get = (url: string, headers: Record<string, string> = {}) => hub.api.inject({ method: 'GET', url, headers });
  const attempt = (password: string, username: string = TEST_ADMIN.username, remoteAddress = '127.0.0.1') =>
    hub.api.inject({ method: 'POST', url: '/auth/login', payload: { username, password }, remoteAddress });

  it('every data route needs a session; /health and the dashboard files do not', async () => {
    for (const url of ['/sites', '/dead-letters', '/directory', '/directory/members', '/auth/me', '/nope']) {
      const r = await get(url);
      expect(r.statusCode, url).toBe(401);
      expect(r.json(), url).toMatchObject({ code: 'auth.required' });
    }
    const put = await hub.api.inject({ method: 'PUT', url: '/directory/plans/p', payload: { name: 'P', access: 'always' } });
    expect(put.statusCode).toBe(401);
    expect(hub.directory.list('plan')).toEqual([]);
    expect((await get('/health')).statusCode).toBe(200);
    expect((await get('/')).statusCode).toBe(200);
    expect((await get('/ui/app.js')).statusCode).toBe(200);
    // A public path that does not exist is a 404, not a 401.
    expect((await get('/ui/no-such-file.js')).statusCode).toBe(404);
  });

  it('login answers the account and a token, sets an HttpOnly SameSite=Strict cookie, and both the cookie and the bearer token work', async () => {
    const r = await attempt(TEST_ADMIN.password);
    expect(r.statusCode).toBe(200);
    const body = r.json<{ account: Record<string, unknown>; token: string; expiresAt: string }>();
    expect(body.account).toMatchObject({ username: 'admin', role: 'operator', sites: [], mustChangePassword: false, disabled: false });
    expect(body.account).not.toHaveProperty('password');
    expect(body.expiresAt).toBe('2026-11-23T20:00:00.000Z');
    const setCookie = String(r.headers['set-cookie']);
    expect(setCookie).toMatch(new RegExp(`^tessera_session=${body.token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200$`));
    expect((await get('/auth/me', { cookie: `other=1; tessera_session=${body.token}` })).json()).toMatchObject({ account: { username: 'admin' } });
    expect((await get('/sites', { authorization: `Bearer ${body.token}` })).statusCode).toBe(200);
  });

  it('a wrong password, an unknown user and a forged token are refused with auth.invalid', async () => {
    expect((await attempt('not-the-password')).json()).toMatchObject({ code: 'auth.invalid' });
    expect((await attempt(TEST_ADMIN.password, 'nobody')).statusCode).toBe(401);
    expect((await get('/sites', { cookie: 'tessera_session=%E0%A4%A' })).json()).toMatchObject({ code: 'auth.invalid' });
    const forged = await get('/sites', { authorization: 'Bearer forged-token' });
    expect(forged.statusCode).toBe(401);
    expect(forged.json()).toMatchObject({ code: 'auth.invalid' });
    const bad = await hub.api.inject({ method: 'POST', url: '/auth/login', payload: { username: 'admin' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'request.invalid', details: [{ path: 'password' }] });
  });

  it('a session ends at logout and after 12 hours', async () => {
    const headers = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
    const other = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
    const out = await hub.api.inject({ method: 'POST', url: '/auth/logout', headers });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
    expect((await get('/sites', headers)).json()).toMatchObject({ code: 'auth.invalid' });
    clock.advance(12 * 60 * MINUTE - 1);
    expect((await get('/sites', other)).statusCode).toBe(200);
    clock.advance(1);
    expect((await get('/sites', other)).json()).toMatchObject({ code: 'auth.invalid' });
  });

  it('5 failed logins for one username within 15 minutes: 429 with Retry-After, the right password included, until the window passes', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await attempt(`wrong-${i}`)).statusCode).toBe(401);
      clock.advance(MINUTE);
    }
    const limited = await attempt(TEST_ADMIN.password);
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ code: 'auth.rate_limited' });
    // The first failure was at 0 min, now is 5 min: it counts until 15 min.
    expect(limited.headers['retry-after']).toBe(String(10 * 60));
    clock.advance(10 * MINUTE - 1);
    expect((await attempt(TEST_ADMIN.password)).statusCode).toBe(429);
    clock.advance(1);
    expect((await attempt(TEST_ADMIN.password)).statusCode).toBe(200);
  });

  it('20 failures from one address lock that address out for any username, not other addresses', async () => {
    for (let i = 0; i < 20; i++) expect((await attempt('wrong-password', `user-${i}`, '10.0.0.7')).statusCode).toBe(401);
    expect((await attempt(TEST_ADMIN.password, 'admin', '10.0.0.7')).statusCode).toBe(429);
    expect((await attempt(TEST_ADMIN.password, 'admin', '10.0.0.8')).statusCode).toBe(200);
  });

  it('parallel guesses cannot slip under the limit', async () => {
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => attempt(`guess-${i}`)));
    expect(answers.filter((r) => r.statusCode === 401)).toHaveLength(5);
    expect(answers.filter((r) => r.statusCode === 429)).toHaveLength(7);
  });

  it('a user changes their own password with the current one; their other sessions end', async () => {
    const headers = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
    const other = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
    const change = (currentPassword: string, newPassword: string, h: AuthHeaders = headers) => hub.api.inject({ method: 'POST', url: '/auth/password', headers: h, payload: { currentPassword, newPassword } });
    const wrong = await change('wrong-current', 'a-new-long-password');
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toMatchObject({ code: 'request.invalid', details: [{ path: 'currentPassword' }] });
    expect((await change(TEST_ADMIN.password, TEST_ADMIN.password)).json()).toMatchObject({ code: 'request.invalid', details: [{ path: 'newPassword' }] });
    const short = await change(TEST_ADMIN.password, 'short');
    expect(short.statusCode).toBe(400);
    expect(short.json()).toMatchObject({ details: [{ path: 'newPassword' }] });
    expect((await change(TEST_ADMIN.password, 'a-new-long-password')).statusCode).toBe(204);
    expect((await get('/sites', headers)).statusCode).toBe(200);
    expect((await get('/sites', other)).statusCode).toBe(401);
    expect((await attempt(TEST_ADMIN.password)).statusCode).toBe(401);
    expect((await attempt('a-new-long-password')).statusCode).toBe(200);
  });
});

describe('the first start without an initial admin', () => {
  it('makes "admin" with a one-time password that must be changed before anything else', async () => {
    const hub = createHub({ dbPath: testHubDb(), clock: new ManualClock(0), log: silent });
    try {
      const admin = hub.oneTimeAdmin;
      expect(admin?.username).toBe('admin');
      expect(admin?.password).toMatch(/^[A-Za-z0-9_-]{20}$/);
      const r = await hub.api.inject({ method: 'POST', url: '/auth/login', payload: admin });
      expect(r.json()).toMatchObject({ account: { mustChangePassword: true } });
      const headers = { authorization: `Bearer ${r.json<{ token: string }>().token}` };
      const blocked = await hub.api.inject({ method: 'GET', url: '/sites', headers });
      expect(blocked.statusCode).toBe(403);
      expect(blocked.json()).toMatchObject({ code: 'auth.password_change_required' });
      expect((await hub.api.inject({ method: 'GET', url: '/auth/me', headers })).statusCode).toBe(200);
      const set = await hub.api.inject({ method: 'POST', url: '/auth/password', headers, payload: { currentPassword: admin?.password, newPassword: 'my-own-password' } });
      expect(set.statusCode).toBe(204);
      expect((await hub.api.inject({ method: 'GET', url: '/sites', headers })).statusCode).toBe(200);
    } finally {
      await hub.stop();
    }
  });

  it('refuses a too short initial password, naming it', () => {
    expect(() => createHub({ dbPath: testHubDb(), clock: new ManualClock(0), log: silent, initialAdmin: { username: 'admin', password: 'short' } })).toThrow(/initialAdmin.password/);
  });
});

describe('password hashing', () => {
  it('scrypt hashes carry their parameters and a random salt, and verify only the right password', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    expect(await verifyPassword('anything', 'not-a-hash')).toBe(false);
  });
});

describe('the first start’s one-time password, until someone takes the hub over', () => {
  it('each start gives a new one while it is unused (a lost first output is no lock-out); none once the admin set their own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-first-admin-'));
    const dbPath = lastingHubDb(dir);
    const start = () => createHub({ dbPath, clock: new ManualClock(0), log: silent });
    try {
      const first = start();
      const lost = first.oneTimeAdmin?.password;
      await first.stop();
      const second = start();
      const fresh = second.oneTimeAdmin?.password;
      expect(fresh).toBeDefined();
      expect(fresh).not.toBe(lost);
      expect((await second.api.inject({ method: 'POST', url: '/auth/login', payload: { username: 'admin', password: lost } })).statusCode).toBe(401);
      const headers = await login(second.api, 'admin', fresh ?? '');
      await second.api.inject({ method: 'POST', url: '/auth/password', headers, payload: { currentPassword: fresh, newPassword: 'taken-over-now' } });
      await second.stop();
      const third = start();
      expect(third.oneTimeAdmin).toBeUndefined();
      expect((await third.api.inject({ method: 'POST', url: '/auth/login', payload: { username: 'admin', password: 'taken-over-now' } })).statusCode).toBe(200);
      await third.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
