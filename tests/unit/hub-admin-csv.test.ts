import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import fc from 'fast-check';
import { entitiesOf, formatMembersCsv, parseMembersCsv } from '../../cloud-sync/hub/admin/members-csv.js';
import type { Member } from '../../shared/protocol/directory.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { login, loginAs, FAST_PASSWORD_COST, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { testHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';

const EXAMPLE = readFileSync('docs/examples/members.csv', 'utf8');
const HEADER = 'member_id,name,plan,employer,badges';

describe('members CSV: import and export', () => {
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
    const put = async (url: string, payload: object) =>
      expect((await hub.api.inject({ method: 'PUT', url, headers: admin, payload })).statusCode).toBe(200);
    await put('/directory/plans/always', { name: '24/7', access: 'always' });
    await put('/directory/plans/staffed', { name: 'Staffed hours', access: 'staffed', sites: ['murat'] });
    await put('/directory/plans/lyon', { name: 'Lyon', access: 'staffed', sites: ['lyon'] });
    await put('/directory/employers/acme', { name: 'Acme' });
  });
  afterEach(async () => hub.stop());

  const importCsv = (csv: string, query = '', headers: AuthHeaders = admin) =>
    hub.api.inject({
      method: 'POST',
      url: `/directory/members/import${query}`,
      headers: { ...headers, 'content-type': 'text/csv' },
      payload: csv,
    });

  it('imports the example file as one revision and one audit entry', async () => {
    const before = await hub.directory.revision(hub.store.db);
    const r = await importCsv(EXAMPLE);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({
      applied: true,
      revision: before + 1,
      rows: 4,
      created: 4,
      updated: 0,
      badges: 4,
      skipped: [],
    });
    expect(await hub.directory.revision(hub.store.db)).toBe(before + 1);
    expect(await hub.directory.get(hub.store.db, 'member', 'chloe')).toMatchObject({
      name: 'Chloé Durand, visitor',
      role: 'visitor',
      validFrom: '2026-12-03',
    });
    expect(await hub.directory.get(hub.store.db, 'badge', '04D4D4D4D4D4D4')).toMatchObject({
      member: 'dani',
      type: 'ntag424',
      status: 'active',
    });
    const audit = (await hub.api.inject({ method: 'GET', url: '/audit?action=import', headers: admin })).json<{
      total: number;
      items: Array<{ after: { created: string[] } }>;
    }>();
    expect(audit.total).toBe(1);
    expect(audit.items[0]?.after.created).toEqual(['alice', 'bruno', 'chloe', 'dani']);
  });

  it('with bad rows: every problem with its line number, and nothing applied', async () => {
    await importCsv(EXAMPLE);
    const revision = await hub.directory.revision(hub.store.db);
    const csv = [
      HEADER,
      'eve,Eve,always,,04E5E5E5E5E5E5', // line 2: fine
      'fred,,always,,', // line 3: no name
      'gina,Gina,gold,,', // line 4: no such plan
      'hugo,Hugo,always,globex,', // line 5: no such employer
      'eve,Eve again,always,,', // line 6: duplicate member
      'ivan,Ivan,always,,04A1A1A1A1A1A1', // line 7: alice's badge
      'jade,Jade,always,,not-a-uid', // line 8
      'kim,Kim,always', // line 9: too few fields
      'l\u0000o,Lo,always,,', // line 10: NUL in the id (PostgreSQL cannot even be asked for it)
      'max,Max,alw\u0000ays,,', // line 11: NUL in the plan
    ].join('\n');
    const r = await importCsv(csv);
    expect(r.statusCode).toBe(400);
    const body = r.json<{ code: string; details: Array<{ path: string; message: string }> }>();
    expect(body.code).toBe('import.invalid');
    expect(body.details.map((d) => d.path)).toEqual([
      'line 3: name',
      'line 4: plan',
      'line 5: employer',
      'line 6: member_id',
      'line 7: badges',
      'line 8: badges',
      'line 9',
      'line 10: member_id',
      'line 11: plan',
    ]);
    expect(body.details[4]?.message).toContain('belongs to another member (alice)');
    expect(await hub.directory.revision(hub.store.db)).toBe(revision);
    expect(await hub.directory.get(hub.store.db, 'member', 'eve')).toBeUndefined();
    expect((await hub.api.inject({ method: 'GET', url: '/audit?action=import', headers: admin })).json()).toMatchObject(
      { total: 1 },
    );
  });

  it('mode=valid applies the good rows and reports the others', async () => {
    const r = await importCsv([HEADER, 'eve,Eve,always,,04E5E5E5E5E5E5', 'gina,Gina,gold,,'].join('\n'), '?mode=valid');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ applied: true, created: 1, problems: 1, skipped: [{ path: 'line 3: plan' }] });
    expect(await hub.directory.get(hub.store.db, 'member', 'eve')).toBeDefined();
  });

  it('refuses a file with an unknown or missing column even in mode=valid, and a non-CSV body', async () => {
    const r = await importCsv('member_id,name,colour\nzoe,Zoe,blue\n', '?mode=valid');
    expect(r.statusCode).toBe(400);
    expect(r.json<{ details: Array<{ path: string }> }>().details.map((d) => d.path)).toEqual([
      'line 1: colour',
      'line 1: plan',
    ]);
    expect(
      (
        await hub.api.inject({
          method: 'POST',
          url: '/directory/members/import',
          headers: admin,
          payload: { not: 'csv' },
        })
      ).statusCode,
    ).toBe(415);
  });

  it('re-importing updates members; export gives the same columns back, active badges only', async () => {
    await importCsv(EXAMPLE);
    expect((await importCsv(EXAMPLE)).json()).toMatchObject({ created: 0, updated: 4 });
    await hub.api.inject({ method: 'POST', url: '/directory/badges/04B2B2B2B2B2B3/revoke', headers: admin });
    const r = await hub.api.inject({ method: 'GET', url: '/directory/members.csv', headers: admin });
    expect(r.headers['content-type']).toBe('text/csv; charset=utf-8');
    const rows = parseMembersCsv(r.body);
    expect(rows.errors).toEqual([]);
    expect(rows.rows.map((x) => [x.fields.member_id, x.fields.badges])).toEqual([
      ['alice', '04A1A1A1A1A1A1'],
      ['bruno', '04B2B2B2B2B2B2'],
      ['chloe', ''],
      ['dani', '04D4D4D4D4D4D4'],
    ]);
    expect(r.body).toContain('"Chloé Durand, visitor"');
    await hub.api.inject({
      method: 'PATCH',
      url: '/directory/members/alice',
      headers: admin,
      payload: { name: '=HYPERLINK("http://evil")' },
    });
    const escaped = (await hub.api.inject({ method: 'GET', url: '/directory/members.csv', headers: admin })).body;
    expect(escaped).toContain(`"'=HYPERLINK(""http://evil"")"`);
    expect(
      (await hub.api.inject({ method: 'GET', url: '/directory/members.csv?site=lyon', headers: admin })).body
        .trim()
        .split('\n'),
    ).toHaveLength(3);
  });

  it('a site manager imports and exports only their own sites members', async () => {
    const manager = await loginAs(hub.api, admin, { username: 'manon', role: 'site_manager', sites: ['lyon'] });
    const refused = await importCsv([HEADER, 'lea,Léa,lyon,,', 'max,Max,staffed,,'].join('\n'), '', manager);
    expect(refused.json()).toMatchObject({
      code: 'import.invalid',
      details: [{ path: 'line 3: plan', message: 'plan "staffed" is not one of your sites\' own plans' }],
    });
    await importCsv(EXAMPLE);
    expect((await importCsv([HEADER, 'lea,Léa,lyon,,'].join('\n'), '', manager)).statusCode).toBe(200);
    const exported = (await hub.api.inject({ method: 'GET', url: '/directory/members.csv', headers: manager })).body;
    // alice and dani are on "always" (every site, so lyon too); bruno and chloe are murat's only.
    expect(parseMembersCsv(exported).rows.map((x) => x.fields.member_id)).toEqual(['alice', 'dani', 'lea']);
  });
});

describe('members CSV format', () => {
  const text = fc
    .string({
      unit: fc.oneof(
        fc.constantFrom(',', '"', '\n', '\r', ';', ' ', "'", '=', '+', '-', '@'),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
      ),
      minLength: 1,
      maxLength: 40,
    })
    .filter((s) => s.trim() === s && s !== '');
  const member = fc.record({
    id: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/),
    name: text,
    plan: fc.constantFrom('always', 'staffed'),
    role: fc.constantFrom('member', 'staff', 'cleaner', 'visitor'),
    status: fc.constantFrom('active', 'suspended'),
  });

  it('what export writes, import reads back the same: commas, quotes, line breaks, formula characters, any script', () => {
    fc.assert(
      fc.property(fc.uniqueArray(member, { selector: (m) => m.id, maxLength: 8 }), (members) => {
        const csv = formatMembersCsv(members as Member[], () => []);
        const parsed = parseMembersCsv(csv);
        expect(parsed.errors).toEqual([]);
        expect(parsed.rows.map((r) => entitiesOf(r).member)).toEqual(
          members.map((m) => ({
            id: m.id,
            name: m.name,
            plan: m.plan,
            role: m.role,
            status: m.status,
            employer: null,
            validFrom: null,
            validUntil: null,
          })),
        );
      }),
    );
  });
});

describe('members CSV import keeps what the file does not say', () => {
  it('a column left out keeps its field, an empty cell clears it; a locker, an NTAG 424 badge and a revocation survive', async () => {
    const hub = await createHub({
      dbPath: await testHubDb(),
      clock: new ManualClock(0),
      log: silent,
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
    try {
      const admin = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
      const put = (url: string, payload: object) => hub.api.inject({ method: 'PUT', url, headers: admin, payload });
      await put('/directory/plans/always', { name: '24/7', access: 'always', lockers: true });
      await put('/directory/employers/acme', { name: 'Acme' });
      await put('/directory/members/ana', {
        name: 'Ana',
        plan: 'always',
        employer: 'acme',
        status: 'suspended',
        locker: { bank: 'main', number: 3 },
      });
      await put('/directory/badges/04A1A1A1A1A1A1', { member: 'ana', type: 'ntag424' });
      await put('/directory/badges/04A1A1A1A1A1A2', { member: 'ana', type: 'uid' });
      const importCsv = (csv: string) =>
        hub.api.inject({
          method: 'POST',
          url: '/directory/members/import',
          headers: { ...admin, 'content-type': 'text/csv' },
          payload: csv,
        });

      expect((await importCsv('member_id,name,plan\nana,Ana Lopez,always\n')).statusCode).toBe(200);
      expect(await hub.directory.get(hub.store.db, 'member', 'ana')).toMatchObject({
        name: 'Ana Lopez',
        employer: 'acme',
        status: 'suspended',
        locker: { bank: 'main', number: 3 },
      });

      const exported = (await hub.api.inject({ method: 'GET', url: '/directory/members.csv', headers: admin })).body;
      expect((await importCsv(exported)).statusCode).toBe(200);
      expect(await hub.directory.get(hub.store.db, 'member', 'ana')).toMatchObject({
        employer: 'acme',
        locker: { bank: 'main', number: 3 },
      });
      expect((await hub.directory.get(hub.store.db, 'badge', '04A1A1A1A1A1A1'))?.type).toBe('ntag424');
      expect((await hub.directory.get(hub.store.db, 'badge', '04A1A1A1A1A1A2'))?.type).toBe('uid');

      await hub.api.inject({ method: 'POST', url: '/directory/badges/04A1A1A1A1A1A2/revoke', headers: admin });
      expect((await importCsv('member_id,name,plan,badges\nana,Ana Lopez,always,04A1A1A1A1A1A2\n')).statusCode).toBe(
        200,
      );
      expect((await hub.directory.get(hub.store.db, 'badge', '04A1A1A1A1A1A2'))?.status).toBe('revoked');

      expect((await importCsv('member_id,name,plan,employer\nana,Ana Lopez,always,\n')).statusCode).toBe(200);
      expect(await hub.directory.get(hub.store.db, 'member', 'ana')).not.toHaveProperty('employer');
    } finally {
      await hub.stop();
    }
  });
});
