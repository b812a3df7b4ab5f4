import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { hashPassword, verifyPassword } from '../../cloud-sync/hub/auth/password.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { FAST_PASSWORD_COST, login, signedInHub, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { testHubDb, lastingHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';

const MINUTE = 60_000;

describe('hub authentication', () => {
  let hub: Hub;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock('2026-11-23T08:00:00Z');
    hub = await createHub({
      dbPath: await testHubDb(),
      clock,
      log: silent,
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
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
    const put = await hub.api.inject({
      method: 'PUT',
      url: '/directory/plans/p',
      payload: { name: 'P', access: 'always' },
    });
    expect(put.statusCode).toBe(401);
    expect(await hub.directory.list(hub.store.db, 'plan')).toEqual([]);
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
    expect(body.account).toMatchObject({
      username: 'admin',
      role: 'operator',
      sites: [],
      mustChangePassword: false,
      disabled: false,
    });
    expect(body.account).not.toHaveProperty('password');
    expect(body.expiresAt).toBe('2026-11-23T20:00:00.000Z');
    const setCookie = String(r.headers['set-cookie']);
    expect(setCookie).toMatch(
      new RegExp(`^tessera_session=${body.token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200$`),
    );
    expect((await get('/auth/me', { cookie: `other=1; tessera_session=${body.token}` })).json()).toMatchObject({
      account: { username: 'admin' },
    });
    expect((await get('/sites', { authorization: `Bearer ${body.token}` })).statusCode).toBe(200);
  });

  it('a wrong password, an unknown user and a forged token are refused with auth.invalid', async () => {
    expect((await attempt('not-the-password')).json()).toMatchObject({ code: 'auth.invalid' });
    expect((await attempt(TEST_ADMIN.password, 'nobody')).statusCode).toBe(401);
    expect((await get('/sites', { cookie: 'tessera_session=%E0%A4%A' })).json()).toMatchObject({
      code: 'auth.invalid',
    });
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

  it('one address guessing one account: 5 free tries, then a wait that doubles after each failure, the right password included', async () => {
    for (let i = 0; i < 5; i++) expect((await attempt(`wrong-${i}`)).statusCode).toBe(401);
    const waits: string[] = [];
    for (let i = 0; i < 4; i++) {
      const limited = await attempt(TEST_ADMIN.password);
      expect(limited.statusCode).toBe(429);
      expect(limited.json()).toMatchObject({ code: 'auth.rate_limited' });
      waits.push(String(limited.headers['retry-after']));
      clock.advance(Number(limited.headers['retry-after']) * 1000);
      expect((await attempt(`wrong-again-${i}`)).statusCode).toBe(401);
    }
    expect(waits).toEqual(['1', '2', '4', '8']);
    clock.advance(16_000 - 1);
    expect((await attempt(TEST_ADMIN.password)).statusCode).toBe(429);
    clock.advance(1);
    expect((await attempt(TEST_ADMIN.password)).statusCode).toBe(200);
    // A success forgets that address's failures on the account.
    expect((await attempt('wrong-after')).statusCode).toBe(401);
    expect((await attempt(TEST_ADMIN.password)).statusCode).toBe(200);
  });

  it('the waits stop growing at 15 minutes, and a day without failure forgets them', async () => {
    for (let i = 0; i < 5; i++) expect((await attempt(`wrong-${i}`)).statusCode).toBe(401);
    for (let i = 0; i < 14; i++) {
      clock.advance(15 * MINUTE);
      expect((await attempt(`wrong-again-${i}`)).statusCode).toBe(401);
    }
    expect((await attempt(TEST_ADMIN.password)).headers['retry-after']).toBe(String(15 * 60));
    clock.advance(24 * 60 * MINUTE);
    for (let i = 0; i < 5; i++) expect((await attempt(`wrong-tomorrow-${i}`)).statusCode).toBe(401);
  });

  it('thirty wrong passwords from anywhere do not keep the operator out: the right password from a fresh address logs in', async () => {
    for (let i = 0; i < 30; i++) expect((await attempt(`wrong-${i}`, 'admin', `10.0.${i}.1`)).statusCode).toBe(401);
    expect((await attempt(TEST_ADMIN.password, 'admin', '10.9.9.9')).statusCode).toBe(200);
  });

  it('an account under attack (20 failures) gives each new address one free try, then waits', async () => {
    for (let i = 0; i < 20; i++) expect((await attempt(`wrong-${i}`, 'admin', `10.0.${i}.1`)).statusCode).toBe(401);
    expect((await attempt('one-more-guess', 'admin', '10.5.5.5')).statusCode).toBe(401);
    const limited = await attempt(TEST_ADMIN.password, 'admin', '10.5.5.5');
    expect([limited.statusCode, limited.headers['retry-after']]).toEqual([429, '1']);
    // The operator's typo costs them a second, not the day.
    clock.advance(1000);
    expect((await attempt(TEST_ADMIN.password, 'admin', '10.5.5.5')).statusCode).toBe(200);
  });

  it('20 failures from one address, whatever the usernames: that address waits, doubling; other addresses do not', async () => {
    for (let i = 0; i < 20; i++)
      expect((await attempt('wrong-password', `user-${i}`, '10.0.0.7')).statusCode).toBe(401);
    const limited = await attempt(TEST_ADMIN.password, 'admin', '10.0.0.7');
    expect([limited.statusCode, limited.headers['retry-after']]).toEqual([429, '1']);
    expect((await attempt(TEST_ADMIN.password, 'admin', '10.0.0.8')).statusCode).toBe(200);
    clock.advance(1000);
    expect((await attempt('wrong-password', 'user-x', '10.0.0.7')).statusCode).toBe(401);
    expect((await attempt(TEST_ADMIN.password, 'admin', '10.0.0.7')).headers['retry-after']).toBe('2');
  });

  it('IPv6 addresses are throttled by their /64: an attacker cannot step to the next address of their network', async () => {
    for (let i = 0; i < 20; i++)
      expect((await attempt('wrong-password', `user-${i}`, `2001:db8:1:2::${i + 1}`)).statusCode).toBe(401);
    expect((await attempt(TEST_ADMIN.password, 'admin', '2001:db8:1:2:ffff::1')).statusCode).toBe(429);
    expect((await attempt(TEST_ADMIN.password, 'admin', '2001:db8:1:3::1')).statusCode).toBe(200);
  });

  it('parallel guesses cannot slip under the limit', async () => {
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => attempt(`guess-${i}`)));
    expect(answers.filter((r) => r.statusCode === 401)).toHaveLength(5);
    expect(answers.filter((r) => r.statusCode === 429)).toHaveLength(7);
  });

  it('a user changes their own password with the current one; their other sessions end', async () => {
    const headers = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
    const other = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
    const change = (currentPassword: string, newPassword: string, h: AuthHeaders = headers) =>
      hub.api.inject({ method: 'POST', url: '/auth/password', headers: h, payload: { currentPassword, newPassword } });
    const wrong = await change('wrong-current', 'a-new-long-password');
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toMatchObject({ code: 'request.invalid', details: [{ path: 'currentPassword' }] });
    expect((await change(TEST_ADMIN.password, TEST_ADMIN.password)).json()).toMatchObject({
      code: 'request.invalid',
      details: [{ path: 'newPassword' }],
    });
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
    const hub = await createHub({
      dbPath: await testHubDb(),
      clock: new ManualClock(0),
      log: silent,
      passwordCost: FAST_PASSWORD_COST,
    });
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
      const set = await hub.api.inject({
        method: 'POST',
        url: '/auth/password',
        headers,
        payload: { currentPassword: admin?.password, newPassword: 'my-own-password' },
      });
      expect(set.statusCode).toBe(204);
      expect((await hub.api.inject({ method: 'GET', url: '/sites', headers })).statusCode).toBe(200);
    } finally {
      await hub.stop();
    }
  });

  it('refuses a too short initial password, naming it', async () => {
    await expect(
      createHub({
        dbPath: await testHubDb(),
        clock: new ManualClock(0),
        log: silent,
        initialAdmin: { username: 'admin', password: 'short' },
      }),
    ).rejects.toThrow(/initialAdmin.password/);
  });
});

describe('password hashing', () => {
  it('scrypt hashes carry their parameters and a random salt, and verify only the right password', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^scrypt\$131072\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    expect(await verifyPassword('anything', 'not-a-hash')).toBe(false);
  }, 60_000);
});

describe('the first start’s one-time password, until someone takes the hub over', () => {
  it('each start gives a new one while it is unused (a lost first output is no lock-out); none once the admin set their own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-first-admin-'));
    const dbPath = await lastingHubDb(dir);
    const start = () => createHub({ dbPath, clock: new ManualClock(0), log: silent, passwordCost: FAST_PASSWORD_COST });
    try {
      const first = await start();
      const lost = first.oneTimeAdmin?.password;
      await first.stop();
      const second = await start();
      const fresh = second.oneTimeAdmin?.password;
      expect(fresh).toBeDefined();
      expect(fresh).not.toBe(lost);
      expect(
        (
          await second.api.inject({
            method: 'POST',
            url: '/auth/login',
            payload: { username: 'admin', password: lost },
          })
        ).statusCode,
      ).toBe(401);
      const headers = await login(second.api, 'admin', fresh ?? '');
      await second.api.inject({
        method: 'POST',
        url: '/auth/password',
        headers,
        payload: { currentPassword: fresh, newPassword: 'taken-over-now' },
      });
      await second.stop();
      const third = await start();
      expect(third.oneTimeAdmin).toBeUndefined();
      expect(
        (
          await third.api.inject({
            method: 'POST',
            url: '/auth/login',
            payload: { username: 'admin', password: 'taken-over-now' },
          })
        ).statusCode,
      ).toBe(200);
      await third.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('password rules', () => {
  let hub: Hub;
  let admin: AuthHeaders;
  beforeEach(async () => {
    ({ hub, admin } = await signedInHub(silent));
  });
  afterEach(async () => hub.stop());

  const WEAK = [
    ' '.repeat(10),
    'aaaaaaaaaa',
    'password12',
    ' '.repeat(12),
    'a'.repeat(12),
    'abababababab',
    'password1234',
    'Password1234',
    'QWERTY123456',
    '123456789012',
  ];

  it('a new account refuses short, repeated and common passwords, and its own username (any case)', async () => {
    const create = (username: string, password: string) =>
      hub.api.inject({
        method: 'POST',
        url: '/accounts',
        headers: admin,
        payload: { username, role: 'operator', password },
      });
    for (const password of WEAK) {
      const r = await create('frontdesk', password);
      expect(r.statusCode, JSON.stringify(password)).toBe(400);
      const body = r.json<{ code: string; details: Array<{ path: string }> }>();
      expect(
        [body.code, body.details.length > 0 && body.details.every((d) => d.path === 'password')],
        JSON.stringify(password),
      ).toEqual(['request.invalid', true]);
    }
    const same = await create('frontdesk-lyon', 'FrontDesk-Lyon');
    expect(same.json()).toMatchObject({
      code: 'request.invalid',
      details: [
        { path: 'password', message: expect.stringContaining('a password must not be the username') as string },
      ],
    });
    expect((await hub.auth.accounts.list(hub.auth.db)).map((a) => a.username)).toEqual(['admin']);
    expect((await create('frontdesk-lyon', 'a-desk-at-the-lyon-office')).statusCode).toBe(201);
  });

  it('the same rules for one’s own new password, a reset by an operator and the first admin', async () => {
    const change = (newPassword: string) =>
      hub.api.inject({
        method: 'POST',
        url: '/auth/password',
        headers: admin,
        payload: { currentPassword: TEST_ADMIN.password, newPassword },
      });
    for (const password of ['password1234', 'ADMIN', 'aaaaaaaaaaaa']) {
      const body = (await change(password)).json<{ code: string; details: Array<{ path: string }> }>();
      expect(
        [body.code, body.details.length > 0 && body.details.every((d) => d.path === 'newPassword')],
        password,
      ).toEqual(['request.invalid', true]);
    }
    const created = await hub.api.inject({
      method: 'POST',
      url: '/accounts',
      headers: admin,
      payload: { username: 'night-shift-01', role: 'operator', password: 'a-fine-long-password' },
    });
    const id = created.json<{ account: { id: string } }>().account.id;
    const reset = await hub.api.inject({
      method: 'POST',
      url: `/accounts/${id}/password`,
      headers: admin,
      payload: { password: 'Night-Shift-01' },
    });
    expect(reset.json()).toMatchObject({ code: 'request.invalid', details: [{ path: 'password' }] });
    const first = async (password: string) =>
      await createHub({
        dbPath: await testHubDb(),
        clock: new ManualClock(0),
        log: silent,
        initialAdmin: { username: 'operator-one', password },
      });
    await expect(first('Operator-One')).rejects.toThrow(/initialAdmin\.password: a password must not be the username/);
    await expect(first('password1234')).rejects.toThrow(/initialAdmin\.password/);
  });
});

describe('password hashing cost', () => {
  it('new hashes use scrypt N=2^17, r=8, p=1; a hash of an older cost is stored again at the next successful login, not at a failed one', async () => {
    expect(await hashPassword('correct horse battery')).toMatch(/^scrypt\$131072\$8\$1\$/);
    const hub = await createHub({
      dbPath: await testHubDb(),
      clock: new ManualClock(0),
      log: silent,
      initialAdmin: TEST_ADMIN,
    });
    try {
      const { db, accounts } = hub.auth;
      const id = (await accounts.list(db))[0]?.id ?? '';
      const old = await hashPassword(TEST_ADMIN.password, { N: 2 ** 14, r: 8, p: 1 });
      await accounts.setPasswordHash(db, id, old, false);
      expect(
        (
          await hub.api.inject({
            method: 'POST',
            url: '/auth/login',
            payload: { username: 'admin', password: 'not-the-password' },
          })
        ).statusCode,
      ).toBe(401);
      expect(await accounts.passwordHash(db, id)).toBe(old);
      expect((await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password)).authorization).toMatch(/^Bearer /);
      const now = (await accounts.passwordHash(db, id)) ?? '';
      expect(now).toMatch(/^scrypt\$131072\$8\$1\$/);
      expect(await verifyPassword(TEST_ADMIN.password, now)).toBe(true);
      expect((await accounts.get(db, id))?.mustChangePassword).toBe(false);
    } finally {
      await hub.stop();
    }
  }, 60_000);
});
