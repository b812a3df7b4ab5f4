import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { systemClock } from '../../shared/platform/clock.js';
import { loginOver, FAST_PASSWORD_COST, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { finished, runCli, spawnCli, waitForOutput } from '../harness/process.js';
import { lastingHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';

describe('the admin API over a real socket, and the members CLI against a real hub', () => {
  let dir: string;
  let hub: Hub;
  let apiUrl: string;
  let admin: AuthHeaders;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-hub-admin-'));
    hub = await createHub({
      dbPath: await lastingHubDb(dir),
      clock: systemClock,
      log: silent,
      brokerPort: 0,
      apiPort: 0,
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
    ({ apiUrl } = await hub.start());
    admin = await loginOver(apiUrl, TEST_ADMIN.username, TEST_ADMIN.password);
    const put = async (path: string, body: object) => {
      const res = await fetch(`${apiUrl}${path}`, {
        method: 'PUT',
        headers: { ...admin, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
    };
    await put('/directory/plans/always', { name: '24/7', access: 'always' });
    await put('/directory/plans/staffed', { name: 'Staffed', access: 'staffed', sites: ['murat'] });
    await put('/directory/employers/acme', { name: 'Acme' });
  });
  afterEach(async () => {
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the session cookie from login works as is; without it, 401', async () => {
    const login = await fetch(`${apiUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(TEST_ADMIN),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect(cookie).toMatch(/^tessera_session=/);
    expect((await fetch(`${apiUrl}/directory/plans`, { headers: { cookie } })).status).toBe(200);
    const anonymous = await fetch(`${apiUrl}/directory/plans`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ code: 'auth.required' });
  });

  it('tessera members import: all or nothing with line numbers, then applied; export gives it back', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'member_id,name,plan,badges\nalice,Alice,always,04A1A1A1A1A1A1\nbob,Bob,gold,\n');
    const refused = await runCli(['members', 'import', bad, '--url', apiUrl, '--user', 'admin'], {
      TESSERA_PASSWORD: TEST_ADMIN.password,
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('nothing was imported [import.invalid]');
    expect(refused.stderr).toContain('line 3: plan: no plan "gold"');
    expect(await hub.directory.get(hub.store.db, 'member', 'alice')).toBeUndefined();

    const good = join(dir, 'members.csv');
    writeFileSync(
      good,
      'member_id,name,plan,employer,badges\nalice,Alice,always,acme,04A1A1A1A1A1A1\nbob,Bob,staffed,,04B2B2B2B2B2B2\n',
    );
    const before = await hub.directory.revision(hub.store.db);
    const done = await runCli(['members', 'import', good, '--url', apiUrl, '--user', 'admin'], {
      TESSERA_PASSWORD: TEST_ADMIN.password,
    });
    expect(done.code).toBe(0);
    expect(done.stderr).toContain('sent 100%');
    expect(done.stdout).toContain(
      `imported: 2 rows, 2 members created, 0 updated, 2 badges; directory revision ${before + 1}`,
    );
    expect(await hub.directory.get(hub.store.db, 'badge', '04B2B2B2B2B2B2')).toMatchObject({
      member: 'bob',
      status: 'active',
    });
    // --json: the hub's answer as one object; the same file again changes nothing.
    const again = await runCli(['members', 'import', good, '--url', apiUrl, '--user', 'admin', '--json'], {
      TESSERA_PASSWORD: TEST_ADMIN.password,
    });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ rows: 2, created: 0, problems: 0 });

    const out = await runCli(['members', 'export', '--url', apiUrl, '--user', 'admin', '--site', 'murat'], {
      TESSERA_PASSWORD: TEST_ADMIN.password,
    });
    expect(out.code).toBe(0);
    expect(out.stdout.trim().split('\r\n')).toEqual([
      'member_id,name,plan,role,employer,status,valid_from,valid_until,badges,badge_type',
      'alice,Alice,always,member,acme,active,,,04A1A1A1A1A1A1,uid',
      'bob,Bob,staffed,member,,active,,,04B2B2B2B2B2B2,uid',
    ]);
    // For Excel in French, into a file: its bytes as the hub sent them, the BOM first.
    const fr = join(dir, 'fr.csv');
    const excel = await runCli(
      [
        'members',
        'export',
        '--url',
        apiUrl,
        '--user',
        'admin',
        '--site',
        'murat',
        '--dialect',
        'excel-fr',
        '--out',
        fr,
      ],
      { TESSERA_PASSWORD: TEST_ADMIN.password },
    );
    expect(excel.code).toBe(0);
    expect(readFileSync(fr, 'utf8').split('\r\n').slice(0, 2)).toEqual([
      '\uFEFFmember_id;name;plan;role;employer;status;valid_from;valid_until;badges;badge_type',
      'alice;Alice;always;member;acme;active;;;04A1A1A1A1A1A1;uid',
    ]);
  });

  it('tessera members import: a wrong password, no password, no hub: one line each and exit 1', async () => {
    const file = join(dir, 'm.csv');
    writeFileSync(file, 'member_id,name,plan\nzoe,Zoe,always\n');
    const wrong = await runCli(['members', 'import', file, '--url', apiUrl, '--user', 'admin'], {
      TESSERA_PASSWORD: 'not-the-password',
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('wrong username or password [auth.invalid]');
    const none = await runCli(['members', 'import', file, '--url', apiUrl, '--user', 'admin'], {
      TESSERA_PASSWORD: '',
    });
    expect(none.stderr).toContain('set TESSERA_PASSWORD');
    const usage = await runCli(['members', 'import', file]);
    expect(usage.code).toBe(64);
    const stopped = await hub.stop().then(() =>
      runCli(['members', 'import', file, '--url', apiUrl, '--user', 'admin'], {
        TESSERA_PASSWORD: TEST_ADMIN.password,
      }),
    );
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toContain(`cannot reach the hub at ${apiUrl}`);
  });
});

describe('tessera hub, first start', () => {
  it('writes the one-time admin password to a 0600 file beside the key (never on stdout or in the log), which must be changed at the first login', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-hub-first-'));
    const child = spawnCli(
      ['hub', '--db', await lastingHubDb(dir), '--key', join(dir, 'hub.key'), '--broker-port', '0', '--api-port', '0'],
      { TESSERA_INITIAL_ADMIN_PASSWORD: '' },
    );
    try {
      // The first admin is hashed at full scrypt cost before the hub listens: a loaded machine needs time.
      const [, file] = await waitForOutput(child, /one-time password in (\S+) \(mode 0600\)/, 60_000);
      const [, apiUrl] = await waitForOutput(child, /API:\s+(http:\/\/127\.0\.0\.1:\d+)/);
      expect(file).toBe(join(dir, 'first-admin-password'));
      expect(statSync(file ?? '').mode & 0o777).toBe(0o600);
      const password = readFileSync(file ?? '', 'utf8').trim();
      expect(password).toMatch(/^[A-Za-z0-9_-]{20}$/);
      expect(child.output.stdout).not.toContain(password);
      expect(child.output.stderr).not.toContain(password);
      const admin = await loginOver(apiUrl ?? '', 'admin', password);
      const blocked = await fetch(`${apiUrl}/sites`, { headers: admin });
      expect(await blocked.json()).toMatchObject({ code: 'auth.password_change_required' });
      const set = await fetch(`${apiUrl}/auth/password`, {
        method: 'POST',
        headers: { ...admin, 'content-type': 'application/json' },
        body: JSON.stringify({ currentPassword: password, newPassword: 'the-operators-own' }),
      });
      expect(set.status).toBe(204);
      expect((await fetch(`${apiUrl}/sites`, { headers: admin })).status).toBe(200);
      child.kill('SIGTERM');
      expect((await finished(child, 8000)).code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
