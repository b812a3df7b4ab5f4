import { describe, expect, it } from 'vitest';
import { openHubDatabase } from '../../cloud-sync/hub/db.js';
import { HubDirectory } from '../../cloud-sync/hub/directory.js';
import { TesseraError } from '../../shared/platform/errors.js';
import type { DirectoryChange } from '../../shared/protocol/sync.js';
import { testHubDb } from '../harness/hub-db.js';
import { cleanupsAfterEach } from '../support/cleanups.js';

const cleanups = cleanupsAfterEach();

/** The directory of these tests, with the database it is in. */
async function directory() {
  const db = await openHubDatabase(await testHubDb());
  cleanups.push(() => db.close());
  const dir = new HubDirectory(db);
  await dir.upsert(db, 'plan', { id: 'all', name: 'Network', access: 'always' });
  await dir.upsert(db, 'plan', { id: 'reichstett-only', name: 'Reichstett', access: 'staffed', sites: ['reichstett'] });
  await dir.upsert(db, 'employer', { id: 'acme', name: 'ACME' });
  await dir.upsert(db, 'member', { id: 'alice', name: 'Alice', plan: 'all', employer: 'acme' });
  await dir.upsert(db, 'member', { id: 'bob', name: 'Bob', plan: 'reichstett-only' });
  await dir.upsert(db, 'badge', { uid: '04A1A1A1A1A1A1', member: 'alice' });
  await dir.upsert(db, 'badge', { uid: '04B0B0B0B0B0B0', member: 'bob' });
  return { dir, db };
}

const summary = (changes: DirectoryChange[]) =>
  changes.map(
    (c) =>
      `${c.op} ${c.entity} ${c.op === 'delete' ? c.id : c.op === 'erase' ? c.pseudonym : 'uid' in c.value ? c.value.uid : c.value.id}`,
  );

describe('the hub directory', () => {
  it('counts a revision per change and refuses references that do not resolve', async () => {
    const { dir, db } = await directory();
    expect(await dir.revision(db)).toBe(7);
    await expect(dir.upsert(db, 'member', { id: 'eve', name: 'Eve', plan: 'nope' })).rejects.toThrow(/no plan "nope"/);
    await expect(dir.upsert(db, 'badge', { uid: '04C0C0C0C0C0C0', member: 'nobody' })).rejects.toThrow(TesseraError);
    await expect(dir.upsert(db, 'badge', { uid: 'zz', member: 'alice' })).rejects.toThrow(/invalid badge/);
    await expect(dir.remove(db, 'plan', 'all')).rejects.toThrow(/still used by member alice/);
    expect(await dir.revision(db)).toBe(7);
  });

  it('finds nothing under an id holding NUL, on either store, without asking the database', async () => {
    const { dir, db } = await directory();
    for (const [entity, id] of [
      ['member', 'alice\u0000'],
      ['plan', '\u0000'],
      ['badge', '04A1A1A1A1A1A1\u0000'],
      ['employer', 'ac\u0000me'],
    ] as const)
      expect(await dir.get(db, entity, id)).toBeUndefined();
    expect(await dir.get(db, 'member', 'alice')).toMatchObject({ name: 'Alice' });
    expect(await dir.memberNames(db, ['alice\u0000', 'alice'])).toEqual(new Map([['alice', 'Alice']]));
  });

  it('names the members asked for that it has, in one answer', async () => {
    const { dir, db } = await directory();
    expect(await dir.memberNames(db, [])).toEqual(new Map());
    expect(await dir.memberNames(db, ['bob', 'nobody', 'alice', 'bob'])).toEqual(
      new Map([
        ['alice', 'Alice'],
        ['bob', 'Bob'],
      ]),
    );
    await dir.remove(db, 'badge', '04B0B0B0B0B0B0');
    await dir.remove(db, 'member', 'bob');
    expect(await dir.memberNames(db, ['bob', 'alice'])).toEqual(new Map([['alice', 'Alice']]));
  });

  it('gives each site only the members its plans open there, with their badges', async () => {
    const { dir } = await directory();
    expect(summary(await dir.snapshotFor('murat'))).toEqual([
      'upsert plan all',
      'upsert plan reichstett-only',
      'upsert employer acme',
      'upsert member alice',
      'upsert badge 04A1A1A1A1A1A1',
    ]);
    expect(summary(await dir.snapshotFor('reichstett'))).toContain('upsert badge 04B0B0B0B0B0B0');
  });

  it('sends a revocation as the one badge changed since the site’s revision', async () => {
    const { dir, db } = await directory();
    const before = await dir.revision(db);
    await dir.upsert(db, 'badge', { uid: '04A1A1A1A1A1A1', member: 'alice', status: 'revoked' });
    const changes = await dir.changesFor(db, 'murat', before);
    expect(changes).toEqual([
      {
        entity: 'badge',
        op: 'upsert',
        value: { uid: '04A1A1A1A1A1A1', member: 'alice', status: 'revoked', type: 'uid' },
      },
    ]);
  });

  it('a plan that stops opening a site takes its members and their badges out of that site', async () => {
    const { dir, db } = await directory();
    const before = await dir.revision(db);
    await dir.upsert(db, 'plan', { id: 'all', name: 'Network', access: 'always', sites: ['reichstett'] });
    expect(summary(await dir.changesFor(db, 'murat', before))).toEqual([
      'upsert plan all',
      'delete member alice',
      'delete badge 04A1A1A1A1A1A1',
    ]);
    expect(summary(await dir.changesFor(db, 'reichstett', before))).toEqual([
      'upsert plan all',
      'upsert member alice',
      'upsert badge 04A1A1A1A1A1A1',
    ]);
  });

  it('a deletion reaches sites that were behind it, after the members that used it', async () => {
    const { dir, db } = await directory();
    const before = await dir.revision(db);
    await dir.remove(db, 'badge', '04B0B0B0B0B0B0');
    await dir.remove(db, 'member', 'bob');
    await dir.remove(db, 'plan', 'reichstett-only');
    expect(summary(await dir.changesFor(db, 'reichstett', before))).toEqual([
      'delete member bob',
      'delete badge 04B0B0B0B0B0B0',
      'delete plan reichstett-only',
    ]);
    await expect(dir.remove(db, 'plan', 'reichstett-only')).rejects.toThrow(/no plan/);
  });
});
