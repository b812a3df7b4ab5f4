import { describe, expect, it } from 'vitest';
import { openHubDatabase } from '../../cloud-sync/hub/db.js';
import { HubDirectory } from '../../cloud-sync/hub/directory.js';
import { TesseraError } from '../../shared/platform/errors.js';
import type { DirectoryChange } from '../../shared/protocol/sync.js';
import { testHubDb } from '../harness/hub-db.js';

function directory() {
  const dir = new HubDirectory(openHubDatabase(testHubDb()));
  dir.upsert('plan', { id: 'all', name: 'Network', access: 'always' });
  dir.upsert('plan', { id: 'reichstett-only', name: 'Reichstett', access: 'staffed', sites: ['reichstett'] });
  dir.upsert('employer', { id: 'acme', name: 'ACME' });
  dir.upsert('member', { id: 'alice', name: 'Alice', plan: 'all', employer: 'acme' });
  dir.upsert('member', { id: 'bob', name: 'Bob', plan: 'reichstett-only' });
  dir.upsert('badge', { uid: '04A1A1A1A1A1A1', member: 'alice' });
  dir.upsert('badge', { uid: '04B0B0B0B0B0B0', member: 'bob' });
  return dir;
}

const summary = (changes: DirectoryChange[]) =>
  changes.map(
    (c) =>
      `${c.op} ${c.entity} ${c.op === 'delete' ? c.id : c.op === 'erase' ? c.pseudonym : 'uid' in c.value ? c.value.uid : c.value.id}`,
  );

describe('the hub directory', () => {
  it('counts a revision per change and refuses references that do not resolve', () => {
    const dir = directory();
    expect(dir.revision()).toBe(7);
    expect(() => dir.upsert('member', { id: 'eve', name: 'Eve', plan: 'nope' })).toThrow(/no plan "nope"/);
    expect(() => dir.upsert('badge', { uid: '04C0C0C0C0C0C0', member: 'nobody' })).toThrow(TesseraError);
    expect(() => dir.upsert('badge', { uid: 'zz', member: 'alice' })).toThrow(/invalid badge/);
    expect(() => dir.remove('plan', 'all')).toThrow(/still used by member alice/);
    expect(dir.revision()).toBe(7);
  });

  it('finds nothing under an id holding NUL, on either store, without asking the database', () => {
    const dir = directory();
    for (const [entity, id] of [
      ['member', 'alice\u0000'],
      ['plan', '\u0000'],
      ['badge', '04A1A1A1A1A1A1\u0000'],
      ['employer', 'ac\u0000me'],
    ] as const)
      expect(dir.get(entity, id)).toBeUndefined();
    expect(dir.get('member', 'alice')).toMatchObject({ name: 'Alice' });
  });

  it('gives each site only the members its plans open there, with their badges', async () => {
    const dir = directory();
    expect(summary(await dir.snapshotFor('murat'))).toEqual([
      'upsert plan all',
      'upsert plan reichstett-only',
      'upsert employer acme',
      'upsert member alice',
      'upsert badge 04A1A1A1A1A1A1',
    ]);
    expect(summary(await dir.snapshotFor('reichstett'))).toContain('upsert badge 04B0B0B0B0B0B0');
  });

  it('sends a revocation as the one badge changed since the site’s revision', () => {
    const dir = directory();
    const before = dir.revision();
    dir.upsert('badge', { uid: '04A1A1A1A1A1A1', member: 'alice', status: 'revoked' });
    const changes = dir.changesFor('murat', before);
    expect(changes).toEqual([
      {
        entity: 'badge',
        op: 'upsert',
        value: { uid: '04A1A1A1A1A1A1', member: 'alice', status: 'revoked', type: 'uid' },
      },
    ]);
  });

  it('a plan that stops opening a site takes its members and their badges out of that site', () => {
    const dir = directory();
    const before = dir.revision();
    dir.upsert('plan', { id: 'all', name: 'Network', access: 'always', sites: ['reichstett'] });
    expect(summary(dir.changesFor('murat', before))).toEqual([
      'upsert plan all',
      'delete member alice',
      'delete badge 04A1A1A1A1A1A1',
    ]);
    expect(summary(dir.changesFor('reichstett', before))).toEqual([
      'upsert plan all',
      'upsert member alice',
      'upsert badge 04A1A1A1A1A1A1',
    ]);
  });

  it('a deletion reaches sites that were behind it, after the members that used it', () => {
    const dir = directory();
    const before = dir.revision();
    dir.remove('badge', '04B0B0B0B0B0B0');
    dir.remove('member', 'bob');
    dir.remove('plan', 'reichstett-only');
    expect(summary(dir.changesFor('reichstett', before))).toEqual([
      'delete member bob',
      'delete badge 04B0B0B0B0B0B0',
      'delete plan reichstett-only',
    ]);
    expect(() => dir.remove('plan', 'reichstett-only')).toThrow(/no plan/);
  });
});
