import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HubAuth } from '../../cloud-sync/hub/auth/hub-auth.js';
import { hashPassword, verifyPassword } from '../../cloud-sync/hub/auth/password.js';
import { openHubDatabase, type HubDb } from '../../cloud-sync/hub/db.js';
import type { Params } from '../../cloud-sync/hub/storage/hub-db.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { testHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';

const COST = { N: 2 ** 10, r: 8, p: 1 };
const ADMIN = { username: 'admin', password: 'tessera-test-admin' };
const ADDRESS = '10.0.0.1';

/**
 * The database, where the first read whose SQL holds `sqlPart` answers only after `meanwhile`
 * ran: another request's write landing between a read and the write that read decides.
 */
function landingAfterRead(db: HubDb, sqlPart: string, meanwhile: () => Promise<unknown>): HubDb {
  let landed = false;
  return new Proxy(db, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const bound = (value as (...args: unknown[]) => unknown).bind(target);
      if (prop !== 'get' && prop !== 'value') return bound;
      return async (sql: string, params?: Params) => {
        const out = await (bound(sql, params) as Promise<unknown>);
        if (!landed && sql.includes(sqlPart)) {
          landed = true;
          await meanwhile();
        }
        return out;
      };
    },
  });
}

describe('hub accounts and sessions on the store', () => {
  let db: HubDb;
  let clock: ManualClock;
  beforeEach(async () => {
    db = await openHubDatabase(await testHubDb());
    clock = new ManualClock('2026-11-23T08:00:00Z');
  });
  afterEach(async () => db.close());

  const open = (over: Partial<Parameters<typeof HubAuth.open>[0]> = {}) =>
    HubAuth.open({ db, clock, log: silent, initialAdmin: ADMIN, passwordCost: COST, ...over });
  const loggedIn = async (auth: HubAuth, password = ADMIN.password) => {
    const r = await auth.login(ADMIN.username, password, ADDRESS);
    if (!r.ok) throw new Error(`login refused: ${r.reason}`);
    return r;
  };
  const sessions = () => db.value('SELECT count(*) FROM sessions');

  it('the first start makes the given operator once; a session lasts its time, and ends at logout', async () => {
    const auth = await open({ sessionTtlMs: 60_000 });
    expect(auth.oneTimeAdmin).toBeUndefined();
    await open();
    expect((await auth.accounts.list(db)).map((a) => [a.username, a.role, a.mustChangePassword])).toEqual([
      ['admin', 'operator', false],
    ]);
    const first = await loggedIn(auth);
    const second = await loggedIn(auth);
    expect((await auth.sessionAccount(first.token))?.username).toBe('admin');
    await auth.logout(first.token);
    expect(await auth.sessionAccount(first.token)).toBeUndefined();
    clock.advance(60_000 - 1);
    expect((await auth.sessionAccount(second.token))?.username).toBe('admin');
    clock.advance(1);
    expect(await auth.sessionAccount(second.token)).toBeUndefined();
    // Expired sessions go at the next login.
    await loggedIn(auth);
    expect(await sessions()).toBe(1);
  });

  it('a disabled account’s session no longer authenticates, and it cannot log in', async () => {
    const auth = await open();
    const { token, account } = await loggedIn(auth);
    await auth.accounts.update(db, account.id, { disabled: true });
    expect(await auth.sessionAccount(token)).toBeUndefined();
    expect(await auth.login(ADMIN.username, ADMIN.password, ADDRESS)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('a username is taken whatever its case, also by two accounts made at once', async () => {
    const auth = await open();
    const make = (username: string) =>
      auth.accounts.create(db, { username, role: 'operator', sites: [], passwordHash: 'x', mustChangePassword: false });
    await expect(make('ADMIN')).rejects.toMatchObject({ code: 'conflict' });
    const both = await Promise.allSettled([make('night-desk'), make('Night-Desk')]);
    expect(both.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(both.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'conflict' } });
  });

  it('an update keeps the fields it does not change, and a site manager’s sites only', async () => {
    const auth = await open();
    const made = await auth.accounts.create(db, {
      username: 'lyon-desk',
      role: 'site_manager',
      sites: ['lyon'],
      passwordHash: 'x',
      mustChangePassword: false,
    });
    expect(await auth.accounts.update(db, made.id, { disabled: true })).toMatchObject({
      role: 'site_manager',
      sites: ['lyon'],
      disabled: true,
    });
    expect(await auth.accounts.update(db, made.id, { role: 'operator' })).toMatchObject({
      role: 'operator',
      sites: [],
      disabled: true,
    });
    expect(
      await auth.accounts.update(db, made.id, { role: 'site_manager', sites: ['murat'], disabled: false }),
    ).toMatchObject({ role: 'site_manager', sites: ['murat'], disabled: false });
    await expect(auth.accounts.update(db, 'no-such-id', { disabled: true })).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('two changes of one’s own password with the same current one: the second finds it no longer current', async () => {
    const { token, account } = await loggedIn(await open());
    let other: string | undefined;
    // The other change runs whole after this one read the current password, before it writes.
    const auth: HubAuth = await open({
      db: landingAfterRead(db, 'SELECT password FROM accounts', async () => {
        other = await change('the-other-new-password');
      }),
    });
    const change = (next: string) => auth.changeOwnPassword(account, token, ADMIN.password, next, ADDRESS);
    expect(await change('this-new-password')).toBe('wrong_password');
    expect(other).toBe('changed');
    expect((await auth.login(ADMIN.username, 'this-new-password', '10.0.0.2')).ok).toBe(false);
    expect((await auth.login(ADMIN.username, 'the-other-new-password', '10.0.0.3')).ok).toBe(true);
  });

  it('a password change whose session ended meanwhile is refused as a session ended', async () => {
    const auth = await open();
    const { token, account } = await loggedIn(auth);
    const closing = await open({
      db: landingAfterRead(db, 'SELECT password FROM accounts', () => auth.logout(token)),
    });
    await expect(
      closing.changeOwnPassword(account, token, ADMIN.password, 'a-new-long-password', ADDRESS),
    ).rejects.toMatchObject({ code: 'auth.invalid' });
    expect(await verifyPassword(ADMIN.password, (await auth.accounts.passwordHash(db, account.id)) ?? '')).toBe(true);
  });

  it('a login whose password is reset while it is checked opens no session, and does not write the old one back', async () => {
    const auth = await open();
    const id = (await auth.accounts.list(db))[0]?.id ?? '';
    // At an older cost: a right password would be stored again at today's.
    await auth.accounts.setPasswordHash(db, id, await hashPassword(ADMIN.password, { N: 2 ** 11, r: 8, p: 1 }), false);
    const reset = await hashPassword('set-by-an-operator', COST);
    const racing = await open({
      db: landingAfterRead(db, 'lower(username) = lower(?)', () =>
        db.transaction(async (tx) => {
          await auth.accounts.setPasswordHash(tx, id, reset, true);
          await auth.sessions.closeAll(tx, id);
        }),
      ),
    });
    expect(await racing.login(ADMIN.username, ADMIN.password, ADDRESS)).toEqual({ ok: false, reason: 'invalid' });
    expect(await sessions()).toBe(0);
    expect(await auth.accounts.passwordHash(db, id)).toBe(reset);
    expect((await auth.accounts.get(db, id))?.mustChangePassword).toBe(true);
  });

  it('a login at an older cost stores the hash again at today’s, keeping the one-time mark', async () => {
    const auth = await open();
    const id = (await auth.accounts.list(db))[0]?.id ?? '';
    const old = await hashPassword(ADMIN.password, { N: 2 ** 11, r: 8, p: 1 });
    await auth.accounts.setPasswordHash(db, id, old, true);
    const r = await loggedIn(auth);
    expect(r.account.mustChangePassword).toBe(true);
    const now = (await auth.accounts.passwordHash(db, id)) ?? '';
    expect(now).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(await verifyPassword(ADMIN.password, now)).toBe(true);
    expect((await auth.accounts.get(db, id))?.mustChangePassword).toBe(true);
  });

  it('the first start’s one-time password is not renewed over the password its admin set meanwhile', async () => {
    const first = await open({ initialAdmin: undefined });
    const once = first.oneTimeAdmin;
    expect(once?.username).toBe('admin');
    const takeOver = async () => {
      const { token, account } = await loggedIn(first, once?.password);
      expect(await first.changeOwnPassword(account, token, once?.password ?? '', 'taken-over-now', ADDRESS)).toBe(
        'changed',
      );
    };
    const second = await open({ initialAdmin: undefined, db: landingAfterRead(db, 'SELECT password', takeOver) });
    expect(second.oneTimeAdmin).toBeUndefined();
    expect((await loggedIn(second, 'taken-over-now')).account.mustChangePassword).toBe(false);
    // Not taken over: each start gives a new one, and the previous one no longer opens a session.
    const db2 = await openHubDatabase(await testHubDb());
    try {
      const a = await open({ db: db2, initialAdmin: undefined });
      const b = await open({ db: db2, initialAdmin: undefined });
      expect(b.oneTimeAdmin?.password).not.toBe(a.oneTimeAdmin?.password);
      expect((await b.login('admin', a.oneTimeAdmin?.password ?? '', ADDRESS)).ok).toBe(false);
      expect((await b.login('admin', b.oneTimeAdmin?.password ?? '', ADDRESS)).ok).toBe(true);
    } finally {
      await db2.close();
    }
  });

  it('a login or a password change the store could not check is not counted as a failure', async () => {
    const auth = await open();
    const { token, account } = await loggedIn(auth);
    await db.close();
    for (let i = 0; i < 8; i++) {
      await expect(auth.login(ADMIN.username, 'wrong-or-not', ADDRESS)).rejects.toThrow();
      await expect(auth.changeOwnPassword(account, token, 'wrong-or-not', 'a-new-long-one', ADDRESS)).rejects.toThrow();
    }
    expect(auth.throttle.retryAfterMs(ADMIN.username, ADDRESS)).toBe(0);
  });
});
