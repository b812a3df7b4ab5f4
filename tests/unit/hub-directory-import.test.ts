import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../cloud-sync/hub/admin/audit.js';
import { applyImportInSlices, planImport } from '../../cloud-sync/hub/admin/member-import.js';
import { parseMembersCsv } from '../../cloud-sync/hub/admin/members-csv.js';
import type { Account } from '../../cloud-sync/hub/auth/account.js';
import { openHubDatabase, type HubDb } from '../../cloud-sync/hub/db.js';
import { DirectoryImport, recoverImport } from '../../cloud-sync/hub/directory-import.js';
import { HubDirectory, importUnderWay, type Entity } from '../../cloud-sync/hub/directory.js';
import { SLICE, Slices } from '../../cloud-sync/hub/slices.js';
import { testHubDb } from '../harness/hub-db.js';
import { cleanupsAfterEach } from '../support/cleanups.js';

const cleanups = cleanupsAfterEach();

const OPERATOR: Account = { id: 'op-1', username: 'operator', role: 'operator', sites: [] };
const MANAGER: Account = { id: 'sm-1', username: 'murat-manager', role: 'site_manager', sites: ['murat'] };

/** A directory with a member, a live badge and a tombstone: what an import replaces and must put back. */
async function directory() {
  const db = await openHubDatabase(await testHubDb());
  cleanups.push(() => db.close());
  const dir = new HubDirectory(db);
  await dir.upsert(db, 'plan', { id: 'all', name: 'Network', access: 'always' });
  await dir.upsert(db, 'plan', { id: 'murat-only', name: 'Murat', access: 'staffed', sites: ['murat'] });
  await dir.upsert(db, 'employer', { id: 'acme', name: 'ACME' });
  await dir.upsert(db, 'employer', { id: 'murat-cafe', name: 'Murat Café' });
  await dir.upsert(db, 'member', { id: 'alice', name: 'Alice', plan: 'all', employer: 'acme' });
  await dir.upsert(db, 'member', { id: 'marc', name: 'Marc', plan: 'murat-only', employer: 'murat-cafe' });
  await dir.upsert(db, 'badge', { uid: '04A1A1A1A1A1A1', member: 'alice' });
  await dir.upsert(db, 'badge', { uid: '04A2A2A2A2A2A2', member: 'alice' });
  await dir.remove(db, 'badge', '04A2A2A2A2A2A2');
  return { db, dir };
}

const rowsOf = (db: HubDb) =>
  db.all('SELECT entity, id, value, revision, deleted FROM directory_entities ORDER BY entity, id');
const journal = async (db: HubDb) => (await db.value<number>('SELECT count(*) FROM directory_import_undo')) ?? 0;

/** Alice renamed, her tombstoned badge given back, and `n` new members with a badge each: member, badge, member... */
function items(n: number): Array<{ entity: Entity; value: unknown }> {
  const out: Array<{ entity: Entity; value: unknown }> = [
    { entity: 'member', value: { id: 'alice', name: 'Alice B', plan: 'all', employer: 'acme' } },
    { entity: 'badge', value: { uid: '04A2A2A2A2A2A2', member: 'alice' } },
  ];
  for (let i = 0; i < n; i++) {
    const id = `m${String(i).padStart(4, '0')}`;
    out.push(
      { entity: 'member', value: { id, name: `Member ${i}`, plan: i % 2 ? 'all' : 'murat-only' } },
      { entity: 'badge', value: { uid: `04B0${String(i).padStart(10, '0')}`, member: id } },
    );
  }
  return out;
}

async function writeAll(batch: DirectoryImport, all: ReadonlyArray<{ entity: Entity; value: unknown }>) {
  const starts: number[] = [];
  for (let at = 0; at < all.length;) {
    starts.push(at);
    at = await batch.writeSlice(all, at);
  }
  return starts;
}

describe('a members import written in slices', () => {
  it('writes SLICE items per transaction, and a roll-back puts every row back as it was, tombstones included', async () => {
    const { db, dir } = await directory();
    const before = await rowsOf(db);
    const revision = await dir.revision(db);
    const batch = await DirectoryImport.begin(db, dir, '', 1_000);
    expect(batch.revision).toBe(revision + 1);
    expect(await importUnderWay(db)).toBe(true);
    await expect(DirectoryImport.begin(db, dir, '', 1_000)).rejects.toThrow(/members import is being applied/);
    await expect(dir.upsert(db, 'employer', { id: 'late', name: 'Late' })).rejects.toThrow(
      /members import is being applied/,
    );

    const all = items(300);
    expect(await writeAll(batch, all)).toEqual([0, SLICE, 2 * SLICE]);
    expect(await dir.get(db, 'member', 'alice')).toMatchObject({ name: 'Alice B' });
    expect(await dir.get(db, 'badge', '04A2A2A2A2A2A2')).toMatchObject({ member: 'alice', status: 'active' });
    expect(await dir.get(db, 'member', 'm0299')).toMatchObject({ name: 'Member 299' });
    // The directory's revision moves only at the commit.
    expect(await dir.revision(db)).toBe(revision);
    // One row kept per entity touched: those that existed as they were, the others marked new.
    expect(await journal(db)).toBe(all.length);
    expect(
      await db.all('SELECT entity, id, existed, deleted FROM directory_import_undo WHERE existed = 1 ORDER BY id'),
    ).toEqual([
      { entity: 'badge', id: '04A2A2A2A2A2A2', existed: 1, deleted: 1 },
      { entity: 'member', id: 'alice', existed: 1, deleted: 0 },
    ]);

    await batch.rollback();
    expect(await rowsOf(db)).toEqual(before);
    expect(await journal(db)).toBe(0);
    expect(await importUnderWay(db)).toBe(false);
    expect((await dir.upsert(db, 'employer', { id: 'late', name: 'Late' })).revision).toBe(revision + 1);
  });

  it('keeps what an entity was before the import first wrote it, however often the import writes it again', async () => {
    const { db, dir } = await directory();
    const before = await rowsOf(db);
    const batch = await DirectoryImport.begin(db, dir, '', 1_000);
    const again = [
      { entity: 'member' as const, value: { id: 'alice', name: 'Alice B', plan: 'all' } },
      { entity: 'member' as const, value: { id: 'carol', name: 'Carol', plan: 'all' } },
    ];
    await writeAll(batch, again);
    await writeAll(batch, [
      { entity: 'member', value: { id: 'alice', name: 'Alice C', plan: 'all' } },
      { entity: 'member', value: { id: 'carol', name: 'Carol C', plan: 'all' } },
    ]);
    expect(await dir.get(db, 'member', 'carol')).toMatchObject({ name: 'Carol C' });
    await batch.rollback();
    expect(await rowsOf(db)).toEqual(before);
  });

  it('resolves each reference against the directory or an item before it, and refuses a slice that does not', async () => {
    const { db, dir } = await directory();
    const before = await rowsOf(db);
    const batch = await DirectoryImport.begin(db, dir, '', 1_000);
    const badgeFirst = [
      { entity: 'badge' as const, value: { uid: '04C0C0C0C0C0C0', member: 'carol' } },
      { entity: 'member' as const, value: { id: 'carol', name: 'Carol', plan: 'all' } },
    ];
    await expect(batch.writeSlice(badgeFirst, 0)).rejects.toThrow(/no member "carol"/);
    await expect(
      batch.writeSlice([{ entity: 'member', value: { id: 'carol', name: 'Carol', plan: 'nope' } }], 0),
    ).rejects.toThrow(/no plan "nope"/);
    await expect(
      batch.writeSlice([{ entity: 'member', value: { id: 'carol', name: 'Carol', plan: 'all', employer: 'x' } }], 0),
    ).rejects.toThrow(/no employer "x"/);
    // A refused slice wrote nothing, kept nothing.
    expect(await rowsOf(db)).toEqual(before);
    expect(await journal(db)).toBe(0);
    expect(await batch.writeSlice([...badgeFirst].reverse(), 0)).toBe(2);
    // A reference to an entity written by an earlier slice, and to one already in the directory.
    expect(await batch.writeSlice([{ entity: 'badge', value: { uid: '04C1C1C1C1C1C1', member: 'carol' } }], 0)).toBe(1);
    expect(await batch.writeSlice([{ entity: 'badge', value: { uid: '04C2C2C2C2C2C2', member: 'marc' } }], 0)).toBe(1);
    await batch.rollback();
    expect(await rowsOf(db)).toEqual(before);
  });

  it('commits as one revision with its audit row, then forgets its journal and frees the directory', async () => {
    const { db, dir } = await directory();
    const revision = await dir.revision(db);
    const audit = new AuditLog(db, () => 5_000);
    const batch = await DirectoryImport.begin(db, dir, '', 1_000);
    await writeAll(batch, items(10));
    expect(await batch.commit((tx) => audit.recordJson(tx, OPERATOR, 'import', 'member', '*', '{"a":1}', null))).toBe(
      revision + 1,
    );
    expect(await dir.revision(db)).toBe(revision + 1);
    expect(await importUnderWay(db)).toBe(true);
    await batch.forget(new Slices());
    expect(await journal(db)).toBe(0);
    expect(await importUnderWay(db)).toBe(false);
    expect((await audit.query({ offset: 0, limit: 10 })).entries).toMatchObject([
      { action: 'import', entity: 'member', entityId: '*', before: { a: 1 }, after: null },
    ]);
    // Sites behind get the import as changes of its revision.
    const changes = await dir.changesFor(db, 'murat', revision);
    expect(changes.filter((c) => c.entity === 'member').map((c) => c.op)).toHaveLength(11);
  });

  it('at start, rolls back an import its own last run left half-written, and leaves another instance’s alone', async () => {
    const { db, dir } = await directory();
    const before = await rowsOf(db);
    const batch = await DirectoryImport.begin(db, dir, 'hub-a', 1_000);
    await writeAll(batch, items(200));
    expect(await recoverImport(db, 'hub-b')).toBe(false);
    expect(await importUnderWay(db)).toBe(true);
    expect(await recoverImport(db, 'hub-a')).toBe(true);
    expect(await rowsOf(db)).toEqual(before);
    expect(await importUnderWay(db)).toBe(false);
    expect(await recoverImport(db, 'hub-a')).toBe(false);
  });
});

describe('a members file checked against the directory', () => {
  const header = 'member_id,name,plan,employer,badges\n';

  it('finds every problem, each with its line, across slices of rows', async () => {
    const { db, dir } = await directory();
    const lines = Array.from(
      { length: 2 * SLICE + 10 },
      (_, i) => `n${i},Name ${i},all,,04D0${String(i).padStart(10, '0')}`,
    );
    lines[3] = 'alice,Alice Martin,all,acme,04A1A1A1A1A1A1';
    lines[4] = 'bruno,Bruno,all,acme,04A1A1A1A1A1A1';
    lines[SLICE + 7] = 'n0,Again,all,,';
    lines[2 * SLICE + 1] = 'zoe,Zoe,nope,ghost,';
    const parsed = parseMembersCsv(header + lines.join('\n'));
    const plan = await planImport(db, parsed.rows, dir, OPERATOR);
    expect(plan.errors.map((e) => `${e.line} ${e.column}: ${e.message}`)).toEqual([
      '6 badges: badge …A1A1 belongs to another member (alice)',
      '6 badges: badge …A1A1 is already on an earlier line',
      `${SLICE + 9} member_id: member n0 is already on an earlier line`,
      `${2 * SLICE + 3} plan: no plan "nope"`,
      `${2 * SLICE + 3} employer: no employer "ghost"`,
    ]);
    expect(plan.updated).toEqual(['alice']);
    expect(plan.replaced).toMatchObject([{ id: 'alice', name: 'Alice' }]);
    expect(plan.created).toHaveLength(lines.length - 4);
    expect(plan.rows).toBe(lines.length);
    // Alice keeps her badge (a known badge keeps its status and type); the others get theirs.
    expect(plan.badges).toBe(lines.length - 3);
  });

  it('gives a site manager one answer for what lies outside their sites', async () => {
    const { db, dir } = await directory();
    const parsed = parseMembersCsv(
      header +
        [
          'nina,Nina,murat-only,murat-cafe,',
          'olga,Olga,all,,',
          'alice,Alice,murat-only,,',
          'paul,Paul,murat-only,acme,',
          'quinn,Quinn,murat-only,,04A1A1A1A1A1A1',
          'marc,Marc Dupont,murat-only,murat-cafe,',
        ].join('\n'),
    );
    const plan = await planImport(db, parsed.rows, dir, MANAGER);
    expect(plan.errors.map((e) => `${e.line} ${e.column}: ${e.message}`)).toEqual([
      `3 plan: plan "all" is not one of your sites' own plans`,
      `4 member_id: member alice is not one of your sites' own members`,
      `5 employer: employer "acme" is not one your sites bill`,
      '6 badges: badge …A1A1 is not free to give',
    ]);
    expect(plan.created).toEqual(['nina']);
    expect(plan.updated).toEqual(['marc']);
  });

  it('applies a checked file as one revision, with one audit row', async () => {
    const { db, dir } = await directory();
    const audit = new AuditLog(db, () => 5_000);
    const revision = await dir.revision(db);
    const parsed = parseMembersCsv(
      header + ['alice,Alice Martin,all,acme,04A1A1A1A1A1A1', 'carol,Carol,murat-only,,04C0C0C0C0C0C0'].join('\n'),
    );
    const batch = await DirectoryImport.begin(db, dir, '', 1_000);
    const plan = await planImport(db, parsed.rows, dir, OPERATOR);
    expect(plan.errors).toEqual([]);
    expect(await applyImportInSlices(batch, audit, OPERATOR, plan, new Slices())).toBe(revision + 1);
    expect(await importUnderWay(db)).toBe(false);
    expect(await dir.get(db, 'member', 'alice')).toMatchObject({ name: 'Alice Martin', employer: 'acme' });
    expect(await dir.get(db, 'badge', '04C0C0C0C0C0C0')).toMatchObject({ member: 'carol' });
    const { entries } = await audit.query({ offset: 0, limit: 10 });
    expect(entries).toMatchObject([
      {
        action: 'import',
        before: { members: [{ id: 'alice', name: 'Alice' }] },
        after: { created: ['carol'], updated: ['alice'] },
      },
    ]);
  });
});
