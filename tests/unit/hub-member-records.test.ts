import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../cloud-sync/hub/admin/audit.js';
import { searchDirectory } from '../../cloud-sync/hub/admin/directory-search.js';
import { MemberErasure } from '../../cloud-sync/hub/admin/member-erasure.js';
import { exportMember } from '../../cloud-sync/hub/admin/member-export.js';
import { DirectoryScope } from '../../cloud-sync/hub/admin/scope.js';
import type { Account } from '../../cloud-sync/hub/auth/account.js';
import { bookingsOfMember } from '../../cloud-sync/hub/bookings/routes.js';
import { openHubDatabase } from '../../cloud-sync/hub/db.js';
import { HubDirectory } from '../../cloud-sync/hub/directory.js';
import type { EventBatch } from '../../shared/protocol/sync.js';
import { testHubDb } from '../harness/hub-db.js';
import { cleanupsAfterEach } from '../support/cleanups.js';

const cleanups = cleanupsAfterEach();

const OPERATOR: Account = { id: 'op-1', username: 'operator', role: 'operator', sites: [] };
const MURAT: Account = { id: 'sm-1', username: 'murat-manager', role: 'site_manager', sites: ['murat'] };
const UID = '04A1A1A1A1A1A1';

/** Alice (Murat only, billed to Acme, one badge) and Bob, with the rows the hub keeps about them outside the directory. */
async function hub() {
  const db = await openHubDatabase(await testHubDb());
  cleanups.push(() => db.close());
  const directory = new HubDirectory(db);
  await directory.upsert(db, 'plan', { id: 'all', name: 'Network', access: 'always' });
  await directory.upsert(db, 'plan', { id: 'murat-only', name: 'Murat', access: 'staffed', sites: ['murat'] });
  await directory.upsert(db, 'employer', { id: 'acme', name: 'ACME' });
  await directory.upsert(db, 'member', { id: 'alice', name: 'Alice Martin', plan: 'murat-only', employer: 'acme' });
  await directory.upsert(db, 'member', { id: 'bob', name: 'Bob Durand', plan: 'all' });
  await directory.upsert(db, 'badge', { uid: UID, member: 'alice' });
  const audit = new AuditLog(db, () => 1_000);
  const record = (entity: string, id: string, after: unknown) =>
    db.transaction((tx) => audit.record(tx, OPERATOR, 'create', entity, id, null, after));
  await record('member', 'alice', { id: 'alice', name: 'Alice Martin' });
  await record('badge', UID, { uid: UID, member: 'alice' });
  await record('member', 'bob', { id: 'bob', name: 'Bob Durand' });
  const event = (seq: number, data: Record<string, unknown>) =>
    db.run('INSERT INTO events (site, seq, id, at, type, body, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      'murat',
      seq,
      `event-${seq}`,
      '2026-11-02T09:00:00.000+01:00',
      'presence.in',
      JSON.stringify({ v: 1, site: 'murat', seq, type: 'presence.in', data }),
      1_000,
    ]);
  await event(1, { memberId: 'alice', door: 'front' });
  // Bob's, though it holds Alice's id as text: only `data.memberId` names a member.
  await event(2, { memberId: 'bob', door: 'alice' });
  await event(3, { memberId: 'alice', door: 'front' });
  await db.run(
    "INSERT INTO presence_state (site, member_id, seq, present, since) VALUES ('murat', 'alice', 3, 1, NULL)",
  );
  await db.run("INSERT INTO dead_letters (topic, reason, detail, payload, at) VALUES ('t', 'r', 'd', ?, 5)", [
    '{"memberId":"alice"}',
  ]);
  return { db, directory, audit, deps: { db, directory, audit, now: () => 2_000 } };
}

describe('the directory searched in SQL', () => {
  it('filters on the JSON fields of the stored values, within the plans an account sees', async () => {
    const { db, directory } = await hub();
    const page = { offset: 0, limit: 10 };
    expect((await searchDirectory(db, 'member', { ...page, q: 'MARTIN' })).values).toMatchObject([{ id: 'alice' }]);
    expect((await searchDirectory(db, 'member', { ...page, employer: 'acme', status: 'active' })).total).toBe(1);
    expect((await searchDirectory(db, 'member', { ...page, plans: ['all'] })).values).toMatchObject([{ id: 'bob' }]);
    expect((await searchDirectory(db, 'badge', { ...page, plans: ['murat-only'] })).total).toBe(1);
    expect((await searchDirectory(db, 'badge', { ...page, plans: ['all'] })).total).toBe(0);
    const scope = new DirectoryScope(MURAT, directory, db);
    expect(await scope.plans()).toEqual(['all', 'murat-only']);
    expect(await scope.bills('acme')).toBe(true);
    expect(await scope.bills('initech')).toBe(false);
    await expect(directory.remove(db, 'employer', 'acme')).rejects.toThrow(/still used by member alice/);
    await expect(directory.remove(db, 'member', 'alice')).rejects.toThrow(/still used by badge …A1A1/);
  });
});

describe('a member’s records at the hub', () => {
  it('exports the events, presence, audit rows and dead letters naming the member, and no one else’s', async () => {
    const { deps } = await hub();
    const doc = await exportMember({ ...deps, memberBookings: bookingsOfMember }, MURAT, 'alice');
    expect(doc.events).toMatchObject([{ seq: 1 }, { seq: 3 }]);
    expect(doc.presence).toEqual([{ site: 'murat', present: true, since: null }]);
    expect(doc.badges).toMatchObject([{ uid: UID }]);
    // The two rows about Alice and her badge, and the export's own.
    expect(doc.audit.map((a) => `${a.action} ${a.entity} ${a.entityId}`)).toEqual([
      'create member alice',
      `create badge ${UID}`,
      'export member alice',
    ]);
    expect(doc.deadLetters).toHaveLength(1);
  });

  it('erases the member everywhere under the pseudonym, once, and ingest pseudonymises what arrives later', async () => {
    const { db, directory, deps } = await hub();
    const erasure = new MemberErasure(deps);
    const r = await erasure.erase(MURAT, 'alice');
    expect(r).toMatchObject({ events: 2, badges: 1, auditRows: 2, alreadyErased: false });
    const bodies = await db.column<string>('SELECT body FROM events ORDER BY seq');
    expect(bodies.map((b) => (JSON.parse(b) as { data: { memberId: string } }).data.memberId)).toEqual([
      r.pseudonym,
      'bob',
      r.pseudonym,
    ]);
    const audit = JSON.stringify(await db.all("SELECT * FROM audit_log WHERE action = 'create'"));
    for (const personal of ['"alice"', 'Alice Martin', UID]) expect(audit).not.toContain(personal);
    expect(await db.column('SELECT member_id FROM presence_state')).toEqual([r.pseudonym]);
    expect(await db.value('SELECT payload FROM dead_letters')).toBe(`{"memberId":"${r.pseudonym}"}`);
    expect(await directory.memberNames(db, ['alice', r.pseudonym])).toEqual(new Map([[r.pseudonym, r.pseudonym]]));
    expect(await erasure.erase(OPERATOR, 'alice')).toMatchObject({ alreadyErased: true, events: 0 });
    await expect(directory.upsert(db, 'member', { id: 'alice', name: 'Alice', plan: 'all' })).rejects.toThrow(
      /was erased/,
    );
    // A hub started afterwards knows of the erasure from its database.
    const restarted = new HubDirectory(db);
    const late: EventBatch = {
      v: 1,
      site: 'murat',
      events: [
        {
          v: 1,
          site: 'murat',
          seq: 4,
          id: '3f0d1c9e-6a53-4c1e-9a43-0f6f4b1f2a10',
          at: '2026-11-02T10:00:00.000+01:00',
          type: 'presence.in',
          data: { memberId: 'alice', door: 'front' },
        },
      ],
    };
    const stored = await db.transaction((tx) => restarted.erasures.pseudonymise(tx, late));
    expect(stored.events[0]).toMatchObject({ data: { memberId: r.pseudonym } });
    expect((await restarted.changesFor(db, 'murat', 0)).filter((c) => c.op === 'erase')).toMatchObject([
      { pseudonym: r.pseudonym },
    ]);
  });
});
