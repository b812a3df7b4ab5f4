import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { FAST_PASSWORD_COST, login, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { testHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';
import { closedPort, decoded, smtpServer } from '../harness/smtp.js';
import { accountOf, seedDirectory } from './hub-self-service-fixtures.js';

const PASSWORD = 'a-long-new-password';
const tokenOf = (link: string) => /#\/invite\/([A-Za-z0-9_-]+)$/.exec(link)?.[1] ?? '';

describe('invitations', () => {
  let hub: Hub;
  let clock: ManualClock;
  let admin: AuthHeaders;
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await hub.stop();
    for (const c of cleanups.splice(0)) await c();
  });

  async function start(extra: { mail?: { smtpUrl: string; from: string }; publicUrl?: string } = {}) {
    clock = new ManualClock('2026-11-23T08:00:00Z');
    hub = await createHub({
      dbPath: await testHubDb(),
      clock,
      log: silent,
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
      ...extra,
    });
    admin = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
    await seedDirectory(hub.api, admin);
  }

  const invite = (payload: object, headers: AuthHeaders = admin) =>
    hub.api.inject({ method: 'POST', url: '/invitations', headers, payload });
  const read = (token: string, remoteAddress = '127.0.0.1') =>
    hub.api.inject({ method: 'GET', url: `/invitations/${token}`, remoteAddress });
  const accept = (token: string, username: string, remoteAddress = '127.0.0.1') =>
    hub.api.inject({
      method: 'POST',
      url: `/invitations/${token}/accept`,
      remoteAddress,
      payload: { username, password: PASSWORD },
    });

  it('a one-time link: read and accepted without a session, logged in at once, then dead', async () => {
    await start();
    const made = await invite({ role: 'member', member: 'ana' });
    expect(made.statusCode).toBe(201);
    const { link, expiresAt, emailed } = made.json();
    expect(link).toMatch(/^http:\/\/localhost(:\d+)?\/#\/invite\/[A-Za-z0-9_-]{43}$/);
    expect(expiresAt).toBe('2026-11-30T08:00:00.000Z');
    expect(emailed).toBe(false);
    const token = tokenOf(link);
    // Only the token's hash is stored.
    const stored = await hub.store.db.column<string>('SELECT token_hash FROM invitations');
    expect(stored).toEqual([createHash('sha256').update(token).digest('hex')]);

    expect((await read(token)).json()).toEqual({ role: 'member', name: 'Ana Lima', username: 'ana.lima', expiresAt });
    const accepted = await accept(token, 'ana.lima');
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json()).toMatchObject({ account: { username: 'ana.lima', role: 'member', member: 'ana' } });
    expect(accepted.headers['set-cookie']).toMatch(/^tessera_session=[^;]+; HttpOnly; SameSite=Strict/);
    const session = { authorization: `Bearer ${accepted.json().token}` };
    expect((await hub.api.inject({ method: 'GET', url: '/me', headers: session })).statusCode).toBe(200);

    // Used: the same answer as a token that never was.
    const unknown = await read('x'.repeat(43));
    expect(unknown.statusCode).toBe(404);
    for (const again of [await read(token), await accept(token, 'someone.else')]) {
      expect(again.statusCode).toBe(404);
      expect(again.body).toBe(unknown.body);
    }
    // One account per member: a second invitation for Ana is refused.
    expect((await invite({ role: 'member', member: 'ana' })).statusCode).toBe(409);
  });

  it('expires after 7 days, with the answer of an unknown token', async () => {
    await start();
    const token = tokenOf((await invite({ role: 'employer_manager', employer: 'acme' })).json().link);
    expect((await read(token)).json()).toMatchObject({ role: 'employer_manager', name: 'Acme', username: 'acme' });
    clock.advance(7 * 24 * 3600 * 1000);
    const expired = await accept(token, 'acme.boss');
    expect(expired.statusCode).toBe(404);
    expect(expired.body).toBe((await read('y'.repeat(43), '10.0.0.9')).body);
    expect(await hub.store.db.column('SELECT username FROM accounts')).toEqual(['admin']);
  });

  it('two accepts at once: exactly one makes an account', async () => {
    await start();
    const token = tokenOf((await invite({ role: 'member', member: 'ben' })).json().link);
    const answers = await Promise.all([accept(token, 'ben.one', '10.0.0.1'), accept(token, 'ben.two', '10.0.0.2')]);
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 404]);
    const accounts = await hub.store.db.column<string>("SELECT username FROM accounts WHERE member = 'ben'");
    expect(accounts).toHaveLength(1);
  });

  it('a username taken leaves the invitation unused; weak or username-like passwords are refused', async () => {
    await start();
    const token = tokenOf((await invite({ role: 'member', member: 'eve' })).json().link);
    const taken = await accept(token, 'ADMIN');
    expect(taken.statusCode).toBe(409);
    const weak = await hub.api.inject({
      method: 'POST',
      url: `/invitations/${token}/accept`,
      payload: { username: 'eve.nour', password: 'eve.nour' },
    });
    expect(weak.statusCode).toBe(400);
    expect((await accept(token, 'eve.nour')).statusCode).toBe(200);
  });

  it('guessing tokens from one address is throttled like logins; another address is not', async () => {
    await start();
    const token = tokenOf((await invite({ role: 'member', member: 'ana' })).json().link);
    for (let i = 0; i < 5; i++) expect((await read(`guess-${i}`, '10.9.9.9')).statusCode).toBe(404);
    const throttled = await accept(token, 'ana.lima', '10.9.9.9');
    expect(throttled.statusCode).toBe(429);
    expect(throttled.headers['retry-after']).toBeDefined();
    expect((await accept(token, 'ana.lima', '10.1.1.1')).statusCode).toBe(200);
  });

  it('who may invite whom: a site manager only members they may change, never a manager', async () => {
    await start();
    const manager = await accountOf(hub.api, admin, { username: 'murat-mgr', role: 'site_manager', sites: ['murat'] });
    const cases: Array<[object, number]> = [
      [{ role: 'member', member: 'mia' }, 201],
      [{ role: 'member', member: 'ana' }, 403],
      [{ role: 'member', member: 'leo' }, 403],
      [{ role: 'member', member: 'nobody' }, 404],
      [{ role: 'employer_manager', employer: 'acme' }, 403],
    ];
    for (const [payload, status] of cases)
      expect((await invite(payload, manager)).statusCode, JSON.stringify(payload)).toBe(status);
    expect((await invite({ role: 'member', employer: 'acme' })).statusCode).toBe(400);
    expect((await invite({ role: 'employer_manager', employer: 'nobody' })).statusCode).toBe(404);
    // Invitations are the staff's: no session, 401; a member's session, 403.
    expect((await hub.api.inject({ method: 'POST', url: '/invitations', payload: {} })).statusCode).toBe(401);
    const ana = await accountOf(hub.api, admin, { username: 'ana', role: 'member', member: 'ana' });
    expect((await invite({ role: 'member', member: 'ben' }, ana)).statusCode).toBe(403);
  });

  it('emailed through SMTP in the invitation’s language; the link in the mail works', async () => {
    const smtp = await smtpServer();
    cleanups.push(smtp.close);
    await start({
      mail: { smtpUrl: smtp.url, from: 'Tessera <no-reply@tessera.test>' },
      publicUrl: 'https://hub.example.org',
    });
    const en = await invite({ role: 'member', member: 'ana', email: 'ana@example.org', language: 'en' });
    expect(en.json()).toMatchObject({ emailed: true });
    expect(en.json().link).toMatch(/^https:\/\/hub\.example\.org\/#\/invite\//);
    const fr = await invite({ role: 'employer_manager', employer: 'acme', email: 'boss@acme.test' });
    expect(fr.json()).toMatchObject({ emailed: true });
    expect(smtp.received.map((m) => m.to)).toEqual([['ana@example.org'], ['boss@acme.test']]);
    const [toAna, toBoss] = smtp.received.map((m) => decoded(m.raw));
    expect(toAna).toMatch(/Subject: Your access to your Tessera space/);
    expect(toAna).toMatch(/Content-Type: text\/plain/);
    expect(toAna).toMatch(/Content-Type: text\/html/);
    expect(toBoss).toMatch(/Ouvrez ce lien/);
    expect(toBoss).not.toMatch(/Open this link/);
    const mailed = /https:\/\/hub\.example\.org\/#\/invite\/([A-Za-z0-9_-]{43})/.exec(toAna ?? '')?.[1] ?? '';
    expect(mailed).toBe(tokenOf(en.json().link));
    expect((await accept(mailed, 'ana.lima')).statusCode).toBe(200);
  });

  it('SMTP down: emailed false, the link answered and good', async () => {
    await start({ mail: { smtpUrl: `smtp://127.0.0.1:${await closedPort()}`, from: 'no-reply@tessera.test' } });
    const made = await invite({ role: 'member', member: 'ana', email: 'ana@example.org' });
    expect(made.statusCode).toBe(201);
    expect(made.json().emailed).toBe(false);
    expect((await accept(tokenOf(made.json().link), 'ana.lima')).statusCode).toBe(200);
  });
});
