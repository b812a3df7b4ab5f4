import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openHubDatabase } from '../../cloud-sync/hub/db.js';
import { HUB_MIGRATIONS } from '../../cloud-sync/hub/migrations.js';
import { PG_MIGRATIONS } from '../../cloud-sync/hub/pg-migrations.js';
import { migratePostgres } from '../../cloud-sync/hub/storage/pg-schema.js';
import { PostgresHubDb } from '../../cloud-sync/hub/storage/postgres.js';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { openSqlite } from '../../shared/platform/sqlite.js';
import { signedInHub, type AuthHeaders } from '../harness/hub-auth.js';
import { freshPgDatabase, HUB_DB_KIND } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';
import { seedDirectory } from './hub-self-service-fixtures.js';

describe('accounts of a member and of an employer manager', () => {
  let hub: Hub;
  let admin: AuthHeaders;
  beforeEach(async () => {
    ({ hub, admin } = await signedInHub(silent));
    await seedDirectory(hub.api, admin);
  });
  afterEach(async () => hub.stop());

  const create = (payload: object) =>
    hub.api.inject({
      method: 'POST',
      url: '/accounts',
      headers: admin,
      payload: { password: 'a-long-password-1', mustChangePassword: false, ...payload },
    });

  it('a member account names an existing member, once; a manager account an existing employer', async () => {
    const ana = await create({ username: 'ana', role: 'member', member: 'ana' });
    expect(ana.statusCode).toBe(201);
    expect(ana.json()).toMatchObject({ account: { role: 'member', member: 'ana', sites: [] } });
    expect(ana.json().account.employer).toBeUndefined();
    const again = await create({ username: 'ana-2', role: 'member', member: 'ana' });
    expect(again.statusCode).toBe(409);
    expect(again.json().message).toMatch(/already has an account/);
    const boss = await create({ username: 'boss', role: 'employer_manager', employer: 'acme' });
    expect(boss.json()).toMatchObject({ account: { role: 'employer_manager', employer: 'acme' } });
    // Several managers for one employer.
    expect((await create({ username: 'boss-2', role: 'employer_manager', employer: 'acme' })).statusCode).toBe(201);
  });

  it('refuses a link missing, unknown or on the wrong role, with its path', async () => {
    const cases: Array<[object, string]> = [
      [{ username: 'x1', role: 'member' }, 'member'],
      [{ username: 'x2', role: 'member', member: 'nobody' }, 'member'],
      [{ username: 'x3', role: 'member', member: 'acme' }, 'member'],
      [{ username: 'x4', role: 'employer_manager' }, 'employer'],
      [{ username: 'x5', role: 'employer_manager', employer: 'nobody' }, 'employer'],
      [{ username: 'x6', role: 'employer_manager', employer: 'ana' }, 'employer'],
      [{ username: 'x7', role: 'operator', member: 'ana' }, 'member'],
      [{ username: 'x8', role: 'site_manager', sites: ['murat'], employer: 'acme' }, 'employer'],
      [{ username: 'x9', role: 'member', member: 'ana', employer: 'acme' }, 'employer'],
    ];
    for (const [payload, path] of cases) {
      const r = await create(payload);
      expect(r.statusCode, JSON.stringify(payload)).toBe(400);
      expect(
        r.json().details.map((d: { path: string }) => d.path),
        JSON.stringify(payload),
      ).toContain(path);
    }
    expect((await hub.api.inject({ method: 'GET', url: '/accounts', headers: admin })).json().total).toBe(1);
  });

  it('a member or manager account keeps its role, and no staff account becomes one', async () => {
    const ana = (await create({ username: 'ana', role: 'member', member: 'ana' })).json().account;
    const op = (await create({ username: 'op2', role: 'operator' })).json().account;
    const patch = (id: string, payload: object) =>
      hub.api.inject({ method: 'PATCH', url: `/accounts/${id}`, headers: admin, payload });
    for (const [id, role] of [
      [ana.id, 'operator'],
      [ana.id, 'employer_manager'],
      [op.id, 'member'],
    ]) {
      const r = await patch(id, { role });
      expect(r.statusCode, `${id} to ${role}`).toBe(400);
    }
    // Other changes still apply: disabling a member's account ends their sessions.
    expect((await patch(ana.id, { disabled: true })).json()).toMatchObject({
      account: { role: 'member', member: 'ana', disabled: true },
    });
  });
});

describe('the migration that brings self-service accounts', () => {
  const mine = (list: readonly string[]) => list.findIndex((m) => m.includes('CREATE TABLE invitations'));
  const before = (list: readonly string[]) => list.slice(0, mine(list));
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('keeps the accounts and their sessions, and lets a member account in', async () => {
    let target: string;
    const seed = [
      "INSERT INTO accounts (id, username, role, sites, password, must_change_password, disabled, created_at, updated_at) VALUES ('a1', 'Admin', 'operator', '[]', 'h', 0, 0, 1, 1)",
      "INSERT INTO sessions (token_hash, account_id, created_at, expires_at) VALUES ('t1', 'a1', 1, 99999999999999)",
    ];
    if (HUB_DB_KIND === 'postgres') {
      target = await freshPgDatabase();
      const old = new PostgresHubDb(target);
      await migratePostgres(old, before(PG_MIGRATIONS), 'test');
      for (const s of seed) await old.run(s);
      await old.close();
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'tessera-mig-'));
      dirs.push(dir);
      target = join(dir, 'hub.db');
      const old = openSqlite(target, before(HUB_MIGRATIONS), 'test');
      for (const s of seed) old.exec(s);
      old.close();
    }
    const db = await openHubDatabase(target);
    try {
      expect(await db.all('SELECT id, username, role, member, employer FROM accounts')).toEqual([
        { id: 'a1', username: 'Admin', role: 'operator', member: null, employer: null },
      ]);
      expect(await db.column('SELECT account_id FROM sessions')).toEqual(['a1']);
      await db.run(
        "INSERT INTO accounts (id, username, role, sites, password, created_at, updated_at, member) VALUES ('m1', 'ana', 'member', '[]', 'h', 1, 1, 'ana')",
      );
      // Still one account per username, whatever its case, and now one per member.
      await expect(
        db.run(
          "INSERT INTO accounts (id, username, role, sites, password, created_at, updated_at) VALUES ('a2', 'ADMIN', 'operator', '[]', 'h', 1, 1)",
        ),
      ).rejects.toThrow();
      await expect(
        db.run(
          "INSERT INTO accounts (id, username, role, sites, password, created_at, updated_at, member) VALUES ('m2', 'ana2', 'member', '[]', 'h', 1, 1, 'ana')",
        ),
      ).rejects.toThrow();
      await expect(
        db.run(
          "INSERT INTO accounts (id, username, role, sites, password, created_at, updated_at) VALUES ('z', 'z', 'root', '[]', 'h', 1, 1)",
        ),
      ).rejects.toThrow();
      // The sessions still belong to the accounts table: deleting the account ends them.
      await db.run("DELETE FROM accounts WHERE id = 'a1'");
      expect(await db.column('SELECT account_id FROM sessions')).toEqual([]);
    } finally {
      await db.close();
    }
  });
});
