import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PriceList } from '../../cloud-sync/billing/prices.js';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { isPseudonym } from '../../shared/protocol/erasure.js';
import { SiteEvent } from '../../shared/protocol/events.js';
import type { DirectoryChange } from '../../shared/protocol/sync.js';
import { login, loginAs, FAST_PASSWORD_COST, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { testHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';

const UID_ALICE = '04A1A1A1A1A1A1';
const UID_BOB = '04B2B2B2B2B2B2';
const PRICES: PriceList = {
  currency: 'EUR',
  plans: {
    'murat-day': { kind: 'per-day', dayCents: 2000, vatPercent: 20, included: {} },
    'reichstett-day': { kind: 'per-day', dayCents: 1200, vatPercent: 20, included: {} },
  },
  consumables: {},
};

describe('a member’s personal data at the hub: export and erasure', () => {
  let hub: Hub;
  let clock: ManualClock;
  let admin: AuthHeaders;
  const seqs = new Map<string, number>();

  const call = (method: 'GET' | 'PUT' | 'POST', url: string, payload?: unknown, headers: AuthHeaders = admin) =>
    hub.api.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });

  /** One event from `site` through ingest, as if over MQTT: what the live projection sees too. */
  async function receive(
    site: string,
    at: string,
    type: SiteEvent['type'],
    data: Record<string, unknown>,
  ): Promise<void> {
    const seq = (seqs.get(site) ?? 0) + 1;
    seqs.set(site, seq);
    const event = SiteEvent.parse({ v: 1, site, seq, id: randomUUID(), at, type, data });
    hub.ingest.onMessage(
      `tessera/v1/sites/${site}/events`,
      Buffer.from(JSON.stringify({ v: 1, site, events: [event] })),
    );
    await hub.ingest.commitGroup();
  }

  const visit = async (site: string, member: string, badge: string, date: string) => {
    await receive(site, `${date}T09:00:00.000+01:00`, 'access.granted', {
      reader: 'front-in',
      role: 'entry',
      door: 'front',
      badge,
      memberId: member,
      reason: 'ok',
    });
    await receive(site, `${date}T09:00:00.100+01:00`, 'presence.in', { memberId: member, door: 'front' });
    await receive(site, `${date}T17:00:00.000+01:00`, 'presence.out', {
      memberId: member,
      cause: 'badge',
      via: 'exit_reader',
      minutes: 480,
    });
  };

  const allEventBodies = () => hub.store.db.column<string>('SELECT body FROM events ORDER BY site, seq');
  const invoices = () =>
    hub.store.db.all<{ number: string; total_cents: number; body: string }>(
      'SELECT number, total_cents, body FROM billing_invoices ORDER BY number',
    );
  const auditText = async () => JSON.stringify(await hub.store.db.all('SELECT * FROM audit_log'));

  beforeEach(async () => {
    seqs.clear();
    clock = new ManualClock('2026-11-02T07:00:00Z');
    hub = await createHub({
      dbPath: await testHubDb(),
      clock,
      log: silent,
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
    admin = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
    for (const [id, name] of [
      ['murat', 'Murat'],
      ['reichstett', 'Reichstett'],
    ])
      await hub.sites.upsert({ id, name, timeZone: 'Europe/Paris', capacity: 10 });
    await call('PUT', '/directory/plans/murat-day', { name: 'Murat day', access: 'staffed', sites: ['murat'] });
    await call('PUT', '/directory/plans/reichstett-day', {
      name: 'Reichstett day',
      access: 'staffed',
      sites: ['reichstett'],
    });
    await call('PUT', '/directory/employers/acme', { name: 'Acme' });
    await call('PUT', '/directory/members/alice', { name: 'Alice Martin', plan: 'murat-day', employer: 'acme' });
    await call('PUT', `/directory/badges/${UID_ALICE}`, { member: 'alice' });
    await call('PUT', '/directory/members/bob', { name: 'Bob Durand', plan: 'reichstett-day', employer: 'acme' });
    await call('PUT', `/directory/badges/${UID_BOB}`, { member: 'bob' });
    await visit('murat', 'alice', '…A1A1', '2026-11-02');
    await visit('murat', 'bob', '…B2B2', '2026-11-03');
    await visit('reichstett', 'bob', '…B2B2', '2026-11-04');
    // November is closed on 3 December: one frozen invoice for Acme naming both.
    clock.advanceTo('2026-12-03T08:00:00Z');
    admin = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
    expect((await call('PUT', '/billing/prices', PRICES)).statusCode).toBe(200);
    expect((await call('POST', '/billing/periods/2026-11/close')).statusCode).toBe(200);
    // Alice is in at Murat right now.
    await receive('murat', '2026-12-03T09:00:00.000+01:00', 'presence.in', { memberId: 'alice', door: 'front' });
  });
  afterEach(async () => hub.stop());

  describe('export', () => {
    it('is one JSON document with the record, badges, plan, employer, events, audit rows, invoice lines and presence', async () => {
      const r = await call('GET', '/directory/members/alice/export');
      expect(r.statusCode).toBe(200);
      expect(r.headers['content-disposition']).toContain('member-alice.json');
      const doc = r.json<
        Record<string, unknown> & {
          events: SiteEvent[];
          audit: Array<{ action: string; entity: string }>;
          invoices: Array<{ lines: Array<{ member: string }> }>;
        }
      >();
      expect(doc).toMatchObject({
        memberId: 'alice',
        member: { id: 'alice', name: 'Alice Martin', plan: 'murat-day', employer: 'acme' },
        plan: { id: 'murat-day' },
        employer: { id: 'acme', name: 'Acme' },
        badges: [{ uid: UID_ALICE, member: 'alice', status: 'active' }],
        presence: [{ site: 'murat', present: true, since: '2026-12-03T09:00:00.000+01:00' }],
        invoices: [{ number: '2026-000001', account: { id: 'acme' } }],
      });
      expect(doc.events.map((e) => e.type)).toEqual(['access.granted', 'presence.in', 'presence.out', 'presence.in']);
      expect(doc.invoices[0]?.lines.map((l) => l.member)).toEqual(['alice']);
      expect(doc.audit.map((a) => `${a.action} ${a.entity}`)).toEqual([
        'create member',
        'create badge',
        'export member',
      ]);
    });

    it('holds nothing of another member, and is itself in the audit log', async () => {
      const text = (await call('GET', '/directory/members/alice/export')).body;
      for (const other of ['bob', 'Bob Durand', UID_BOB, '…B2B2', 'reichstett']) expect(text).not.toContain(other);
      const audit = (await call('GET', '/audit?action=export')).json<{
        items: Array<{ entityId: string; actor: { username: string } }>;
      }>();
      expect(audit.items).toMatchObject([{ entityId: 'alice', actor: { username: 'admin' } }]);
    });

    it('a site manager exports the members of their sites only; an unknown id is 404', async () => {
      const murat = await loginAs(hub.api, admin, {
        username: 'murat-manager',
        role: 'site_manager',
        sites: ['murat'],
      });
      expect((await call('GET', '/directory/members/alice/export', undefined, murat)).statusCode).toBe(200);
      expect((await call('GET', '/directory/members/bob/export', undefined, murat)).statusCode).toBe(404);
      expect((await call('GET', '/directory/members/nobody/export')).json()).toMatchObject({ code: 'not_found' });
    });
  });

  describe('erasure', () => {
    const erase = (id: string, headers: AuthHeaders = admin, body: unknown = { confirm: id }) =>
      call('POST', `/directory/members/${id}/erase`, body, headers);

    it('must be confirmed with the member id, and changes nothing otherwise', async () => {
      const revision = await hub.directory.revision(hub.store.db);
      expect((await call('POST', '/directory/members/alice/erase')).json()).toMatchObject({ code: 'request.invalid' });
      expect((await erase('alice', admin, { confirm: 'bob' })).json()).toMatchObject({
        code: 'request.invalid',
        details: [{ path: 'confirm' }],
      });
      expect(await hub.directory.revision(hub.store.db)).toBe(revision);
      expect((await hub.directory.get(hub.store.db, 'member', 'alice'))?.name).toBe('Alice Martin');
    });

    it('refuses a site manager of another site (404, as if absent) and lets one of the member’s site do it', async () => {
      const reichstett = await loginAs(hub.api, admin, {
        username: 'reichstett-manager',
        role: 'site_manager',
        sites: ['reichstett'],
      });
      expect((await erase('alice', reichstett)).statusCode).toBe(404);
      expect((await allEventBodies()).filter((b) => b.includes('"alice"'))).toHaveLength(4);
      const murat = await loginAs(hub.api, admin, {
        username: 'murat-manager',
        role: 'site_manager',
        sites: ['murat'],
      });
      expect((await erase('alice', murat)).statusCode).toBe(200);
      expect((await erase('bob', murat)).statusCode).toBe(404);
    });

    it('an erasure another hub instance committed on the same database is applied to what ingest stores after it', async () => {
      // This hub has read the erasures (none) for its ingest; another instance then erases alice.
      await visit('murat', 'bob', '…B2B2', '2026-11-24');
      const pseudonym = await hub.directory.erasures.pseudonymOf(hub.store.db, 'alice');
      await hub.store.db.run('INSERT INTO member_erasures (pseudonym, revision, at) VALUES (?, ?, ?)', [
        pseudonym,
        (await hub.directory.revision(hub.store.db)) + 1,
        clock.now(),
      ]);
      await visit('murat', 'alice', '…A1A1', '2026-11-25');
      const latest = (await allEventBodies()).filter((b) => b.includes('2026-11-25'));
      expect(latest).toHaveLength(3);
      expect(latest.join('\n')).not.toContain('"alice"');
      expect(latest.every((b) => b.includes(pseudonym))).toBe(true);
    });

    it('pseudonymises the member’s events, masks their badge, and leaves other members’ events alone', async () => {
      const before = await allEventBodies();
      const r = await erase('alice');
      expect(r.statusCode).toBe(200);
      const { pseudonym, events, badges } = r.json<{ pseudonym: string; events: number; badges: number }>();
      expect(isPseudonym(pseudonym)).toBe(true);
      expect({ events, badges }).toEqual({ events: 4, badges: 1 });
      const after = await allEventBodies();
      expect(after).toHaveLength(before.length);
      expect(after.join('\n')).not.toContain('alice');
      expect(after.join('\n')).not.toContain('…A1A1');
      const theirs = after
        .map((b) => SiteEvent.parse(JSON.parse(b)))
        .filter((e) => 'memberId' in e.data && e.data.memberId === pseudonym);
      expect(theirs.map((e) => e.type)).toEqual(['access.granted', 'presence.in', 'presence.out', 'presence.in']);
      expect(theirs[0]?.data).toMatchObject({ badge: '…', memberId: pseudonym, reason: 'ok' });
      expect(after.filter((b) => b.includes('"bob"'))).toEqual(before.filter((b) => b.includes('"bob"')));
    });

    it('scrubs the directory record, tombstones the badges for the sites, and keeps plan and employer for billing', async () => {
      const revision = await hub.directory.revision(hub.store.db);
      const { pseudonym } = (await erase('alice')).json<{ pseudonym: string }>();
      expect(await hub.directory.get(hub.store.db, 'member', 'alice')).toBeUndefined();
      expect(await hub.directory.get(hub.store.db, 'badge', UID_ALICE)).toBeUndefined();
      expect(await hub.directory.get(hub.store.db, 'member', pseudonym)).toEqual({
        id: pseudonym,
        name: pseudonym,
        role: 'member',
        plan: 'murat-day',
        employer: 'acme',
        status: 'suspended',
      });
      const rows = await hub.store.db.all<{ entity: string; id: string; deleted: number }>(
        "SELECT entity, id, deleted FROM directory_entities WHERE entity IN ('member', 'badge')",
      );
      expect(rows.some((row) => row.id === 'alice')).toBe(false);
      expect(rows).toContainEqual({ entity: 'badge', id: UID_ALICE, deleted: 1 });
      const changes = await hub.directory.changesFor(hub.store.db, 'murat', revision);
      expect(changes).toContainEqual({ entity: 'badge', op: 'delete', id: UID_ALICE });
      expect(changes).toContainEqual({
        entity: 'member',
        op: 'erase',
        pseudonym,
        salt: expect.stringMatching(/^[0-9a-f]{32}$/) as string,
      });
      // A site starting from nothing is told of the erasure too: it may hold the member's events.
      expect(
        (await hub.directory.snapshotFor('allanche')).filter((c: DirectoryChange) => c.op === 'erase'),
      ).toHaveLength(1);
      expect(JSON.stringify(await hub.directory.snapshotFor('murat'))).not.toContain('alice');
    });

    it('is in the audit log by pseudonym, and earlier audit rows no longer name the member', async () => {
      const { pseudonym } = (await erase('alice')).json<{ pseudonym: string }>();
      const audit = (await call('GET', '/audit?action=erase')).json<{ items: Array<Record<string, unknown>> }>();
      expect(audit.items).toMatchObject([
        {
          entity: 'member',
          entityId: pseudonym,
          actor: { username: 'admin' },
          at: '2026-12-03T08:00:00.000Z',
          before: null,
        },
      ]);
      const text = await auditText();
      for (const personal of ['alice', 'Alice Martin', UID_ALICE]) expect(text).not.toContain(personal);
      expect(text).toContain('Bob Durand');
    });

    it('leaves closed invoices as issued, totals and bytes, and the period totals', async () => {
      const frozen = await invoices();
      const period = await hub.billing.closed('2026-11');
      await erase('alice');
      expect(await invoices()).toEqual(frozen);
      expect(await hub.billing.closed('2026-11')).toEqual(period);
      expect(frozen.map((i) => i.total_cents)).toEqual([(2000 + 1200 + 1200) * 1.2]); // Alice's day at Murat, Bob's at Murat and Reichstett
    });

    it('bills the open month under the pseudonym, to the same employer', async () => {
      const { pseudonym } = (await erase('alice')).json<{ pseudonym: string }>();
      await receive('murat', '2026-12-03T17:00:00.000+01:00', 'presence.out', {
        memberId: pseudonym,
        cause: 'badge',
        via: 'exit_reader',
        minutes: 480,
      });
      expect((await hub.billing.preview('2026-12')).invoices).toMatchObject([
        { account: { id: 'acme' }, totalCents: 2400, lines: [{ member: pseudonym, memberName: pseudonym }] },
      ]);
    });

    it('renames the member in the live presence: still counted in, under the pseudonym', async () => {
      expect(await hub.live.projection.whoIsIn('murat')).toMatchObject([{ memberId: 'alice', name: 'Alice Martin' }]);
      const { pseudonym } = (await erase('alice')).json<{ pseudonym: string }>();
      expect(await hub.live.projection.whoIsIn('murat')).toEqual([
        { memberId: pseudonym, name: pseudonym, since: '2026-12-03T09:00:00.000+01:00' },
      ]);
      expect(await hub.store.db.column('SELECT member_id FROM presence_state')).not.toContain('alice');
      await receive('murat', '2026-12-03T12:00:00.000+01:00', 'presence.out', {
        memberId: pseudonym,
        cause: 'badge',
        via: 'exit_reader',
        minutes: 180,
      });
      expect((await hub.live.projection.site('murat')).present).toBe(0);
    });

    it('stores a late event naming the erased id, from a site not told yet, under the pseudonym', async () => {
      const { pseudonym } = (await erase('alice')).json<{ pseudonym: string }>();
      await receive('murat', '2026-12-03T10:00:00.000+01:00', 'access.denied', {
        reader: 'front-in',
        role: 'entry',
        badge: '…A1A1',
        memberId: 'alice',
        reason: 'anti_passback',
      });
      const last = (await hub.store.events('murat', 0, 100)).at(-1)?.event;
      expect(last).toMatchObject({ type: 'access.denied', data: { memberId: pseudonym, badge: '…' } });
      expect((await hub.live.projection.whoIsIn('murat')).map((m) => m.memberId)).toEqual([pseudonym]);
    });

    it('is harmless run again, and the erased id cannot come back as a new member; its export is 404', async () => {
      const first = (await erase('alice')).json<{ pseudonym: string; revision: number }>();
      const audited = (await call('GET', '/audit')).json<{ total: number }>().total;
      const again = await erase('alice');
      expect(again.statusCode).toBe(200);
      expect(again.json()).toMatchObject({
        pseudonym: first.pseudonym,
        alreadyErased: true,
        revision: first.revision,
        events: 0,
      });
      expect(await hub.directory.revision(hub.store.db)).toBe(first.revision);
      expect((await call('GET', '/audit')).json<{ total: number }>().total).toBe(audited);
      const back = await call('PUT', '/directory/members/alice', { name: 'Alice Martin', plan: 'murat-day' });
      expect(back.json()).toMatchObject({ code: 'conflict', details: [{ path: 'id' }] });
      expect((await call('GET', '/directory/members/alice/export')).statusCode).toBe(404);
      expect((await erase('nobody')).statusCode).toBe(404);
    });
  });
});
