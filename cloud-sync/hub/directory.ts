import type { z } from 'zod';
import { Badge, Employer, Member, Plan } from '../../shared/protocol/directory.js';
import { Booking, Resource } from '../../shared/protocol/bookings.js';
import { TesseraError } from '../../shared/platform/errors.js';
import type { DirectoryChange } from '../../shared/protocol/sync.js';
import { describeIssues } from '../../shared/platform/validation.js';
import type { HubDb, Sql, Tx } from './db.js';
import { HubErasures } from './erasures.js';
import { SLICE, Slices } from './slices.js';
import { sqlDialect } from './storage/dialect.js';
import { unstorableText } from './storage/unstorable.js';
import { bookingChangesFor, bookingSnapshotFor } from './bookings/site-view.js';
import { heldAccounts, memberAsSent, type HoldsChange } from './access-holds.js';
import { checkUntrusted } from '../../shared/platform/check-untrusted.js';

/** Creates an entity or replaces it, tombstone or not. */
export const UPSERT_ENTITY =
  'INSERT INTO directory_entities (entity, id, value, revision, deleted) VALUES (?, ?, ?, ?, 0) ON CONFLICT (entity, id) DO UPDATE SET value = excluded.value, revision = excluded.revision, deleted = 0';

export type Entity = 'plan' | 'employer' | 'member' | 'badge' | 'resource' | 'booking';
const SCHEMA = {
  plan: Plan,
  employer: Employer,
  member: Member,
  badge: Badge,
  resource: Resource,
  booking: Booking,
} as const;
/** The entities of the admin API's `/directory/:entity` collections; resources and bookings have routes of their own. */
export type CollectionEntity = Exclude<Entity, 'resource' | 'booking'>;
/** The value of an entity of kind `E`, as its schema gives it. */
export type EntityOf<E extends Entity> = z.infer<(typeof SCHEMA)[E]>;
export const keyOf = (entity: Entity, value: { id?: string; uid?: string }) =>
  (entity === 'badge' ? value.uid : value.id) ?? '';

/** Whether a members import is being written (by this hub or another instance): cloud-sync/hub/directory-import.ts. */
export async function importUnderWay(q: Sql): Promise<boolean> {
  return (await q.value('SELECT 1 AS one FROM directory_import WHERE id = 1')) !== undefined;
}

interface Row {
  entity: Entity;
  id: string;
  value: string | null;
  revision: number;
  deleted: number;
}

/** Whether `value` names an existing live entity: what a write's references are checked with. */
export type Exists = (entity: Entity, id: string) => Promise<boolean>;

/** `input` as its schema makes it, or undefined when it is not valid: what `validated` checks first. */
export function parseEntity<E extends Entity>(entity: E, input: unknown): EntityOf<E> | undefined {
  const parsed = checkUntrusted(SCHEMA[entity], input);
  return parsed.success ? (parsed.data as EntityOf<E>) : undefined;
}

const parsedAs = <E extends Entity>(entity: E, value: string | null): EntityOf<E> =>
  SCHEMA[entity].parse(JSON.parse(value ?? 'null')) as EntityOf<E>;

/** Ids PostgreSQL can be asked about: one holding NUL names nothing (see `get`). */
const askable = (ids: Iterable<string>) => [...new Set(ids)].filter((id) => !id.includes('\u0000'));

/**
 * The network's directory at the hub: plans, employers, members and badges, each
 * change a new revision. A site gets the changes since its revision, cut to what it needs:
 * every plan and employer, and the members whose plan opens that site, with their badges.
 *
 * Every method that may run inside a caller's transaction takes its handle first (`q`, or the
 * database itself); a write runs in a transaction of its own on that handle (a savepoint inside
 * the caller's).
 */
export class HubDirectory {
  /** The members erased: sent to every site with the changes, refused as new ids. */
  readonly erasures = new HubErasures();

  /** `now`: the hub clock, in ms (which bookings a site still needs). */
  constructor(
    private readonly db: HubDb,
    private readonly now: () => number = () => Date.now(),
  ) {}

  async revision(q: Sql): Promise<number> {
    return (await q.value<number>('SELECT revision FROM directory_revision WHERE id = 1')) ?? 0;
  }

  /** Creates or replaces an entity; refuses one whose references do not resolve. Returns the new revision. */
  upsert<E extends Entity>(q: Sql, entity: E, input: unknown): Promise<{ revision: number; value: EntityOf<E> }> {
    return q.transaction(async (tx) => {
      const value = await this.validated(tx, entity, input);
      const revision = await this.bump(tx);
      await tx.run(UPSERT_ENTITY, [entity, keyOf(entity, value), JSON.stringify(value), revision]);
      return { revision, value };
    });
  }

  /**
   * Creates or replaces many entities as one revision, in one transaction: all or none (a CSV
   * import). Each reference must resolve against the directory or an entity earlier in `items`.
   */
  upsertAll(q: Sql, items: ReadonlyArray<{ entity: Entity; value: unknown }>): Promise<number> {
    return q.transaction(async (tx) => {
      const revision = await this.bump(tx);
      for (const [i, { entity, value: input }] of items.entries()) {
        const value = await this.validated(tx, entity, input, `${entity} (item ${i})`);
        await tx.run(UPSERT_ENTITY, [entity, keyOf(entity, value), JSON.stringify(value), revision]);
      }
      return revision;
    });
  }

  /**
   * `input` as a valid entity whose references resolve: what every write checks first.
   * `exists` answers for the references (default: the directory as `q` sees it).
   */
  async validated<E extends Entity>(
    q: Sql,
    entity: E,
    input: unknown,
    what: string = entity,
    exists: Exists = async (e, id) => (await this.get(q, e, id)) !== undefined,
  ): Promise<EntityOf<E>> {
    const parsed = checkUntrusted(SCHEMA[entity], input);
    if (!parsed.success)
      throw new TesseraError('request.invalid', `invalid ${what}`, describeIssues(parsed.error, input));
    const value = parsed.data as EntityOf<E>;
    if (entity === 'member' && (value as Member).billingHold !== undefined)
      throw new TesseraError('request.invalid', `invalid ${what}`, [
        {
          path: 'billingHold',
          message: 'set by billing for an overdue bill (docs/billing.md "Payments"), not by hand',
        },
      ]);
    // Refused on both stores alike: PostgreSQL's jsonb cannot hold it.
    const unstorable = unstorableText(value);
    if (unstorable !== undefined)
      throw new TesseraError('request.invalid', `invalid ${what}`, [
        {
          path: unstorable.replace(/^\$\.?/, ''),
          message: 'a text holding a NUL character or half a surrogate pair cannot be stored',
        },
      ]);
    await this.checkReferences(q, entity, value, exists);
    return value;
  }

  /** Deletes an entity (a tombstone remains for sites behind). Refuses a plan or member still referenced. */
  remove(q: Sql, entity: Entity, id: string): Promise<number> {
    return q.transaction(async (tx) => {
      if (!(await this.get(tx, entity, id))) throw new TesseraError('not_found', `no ${entity} ${JSON.stringify(id)}`);
      const users = await this.referencesTo(tx, entity, id);
      if (users.length > 0)
        throw new TesseraError('request.invalid', `${entity} ${id} is still used by ${users.slice(0, 3).join(', ')}`);
      const revision = await this.bump(tx);
      await tx.run(
        'UPDATE directory_entities SET value = NULL, deleted = 1, revision = ? WHERE entity = ? AND id = ?',
        [revision, entity, id],
      );
      return revision;
    });
  }

  /**
   * The entity named `id`, if there is one. An id holding NUL names nothing (the schemas refuse
   * it and PostgreSQL cannot store it): it is not asked of the database, so a lookup of one gives
   * the same answer on both stores instead of an error on PostgreSQL.
   */
  async get<E extends Entity>(q: Sql, entity: E, id: string): Promise<EntityOf<E> | undefined> {
    if (id.includes('\u0000')) return undefined;
    const value = await q.value<string | null>(
      'SELECT value FROM directory_entities WHERE entity = ? AND id = ? AND deleted = 0',
      [entity, id],
    );
    return value ? parsedAs(entity, value) : undefined;
  }

  /** The live entities of one kind among `ids`, by id, in one statement (ids not there are absent). */
  async getMany<E extends Entity>(q: Sql, entity: E, ids: Iterable<string>): Promise<Map<string, EntityOf<E>>> {
    const asked = askable(ids);
    const out = new Map<string, EntityOf<E>>();
    if (asked.length === 0) return out;
    const rows = await q.all<{ id: string; value: string | null }>(
      `SELECT id, value FROM directory_entities WHERE entity = ? AND deleted = 0 AND id IN ${sqlDialect(q).jsonArrayValues('?')}`,
      [entity, JSON.stringify(asked)],
    );
    for (const r of rows) if (r.value) out.set(r.id, parsedAs(entity, r.value));
    return out;
  }

  /** Which of `ids` name a live entity of this kind, in one statement. */
  async present(q: Sql, entity: Entity, ids: Iterable<string>): Promise<Set<string>> {
    const asked = askable(ids);
    if (asked.length === 0) return new Set();
    const found = await q.column<string>(
      `SELECT id FROM directory_entities WHERE entity = ? AND deleted = 0 AND id IN ${sqlDialect(q).jsonArrayValues('?')}`,
      [entity, JSON.stringify(asked)],
    );
    return new Set(found);
  }

  async list<E extends Entity>(q: Sql, entity: E): Promise<Array<EntityOf<E>>> {
    const rows = await q.column<string | null>(
      'SELECT value FROM directory_entities WHERE entity = ? AND deleted = 0 ORDER BY id',
      [entity],
    );
    return rows.map((value) => parsedAs(entity, value));
  }

  /** The names of the members among `ids` (the live occupancy's), in one statement; ids not there are absent. */
  async memberNames(q: Sql, ids: readonly string[]): Promise<Map<string, string>> {
    const asked = askable(ids);
    if (asked.length === 0) return new Map();
    const d = sqlDialect(q);
    const rows = await q.all<{ id: string; name: string | null }>(
      `SELECT id, ${d.jsonText('value', 'name')} AS name FROM directory_entities WHERE entity = 'member' AND deleted = 0 AND id IN ${d.jsonArrayValues('?')}`,
      [JSON.stringify(asked)],
    );
    return new Map(rows.flatMap((r) => (r.name === null ? [] : [[r.id, r.name] as const])));
  }

  /** The member's badges, in uid order. */
  async badgesOf(q: Sql, memberId: string): Promise<Badge[]> {
    const values = await q.column<string | null>(
      `SELECT value FROM directory_entities WHERE entity = 'badge' AND deleted = 0 AND ${sqlDialect(q).jsonText('value', 'member')} = ? ORDER BY id`,
      [memberId],
    );
    return values.map((value) => parsedAs('badge', value));
  }

  /**
   * How many entities changed after revision `since`, counted up to `atMost + 1`: a cheap bound
   * before working out a delta that may be too long to send.
   */
  async changedSince(q: Sql, since: number, atMost: number): Promise<number> {
    const sql =
      'SELECT count(*) AS n FROM (SELECT 1 AS one FROM directory_entities WHERE revision > ? LIMIT ?) AS changed';
    return (await q.value<number>(sql, [since, atMost + 1])) ?? 0;
  }

  /**
   * What site `site` must apply to go from revision `since` to now. A member is sent when it or
   * its plan changed, as an upsert if its plan opens the site and a delete otherwise; a badge
   * follows its member. Deleting what a site never had is harmless, so no per-site history is
   * kept. Its statements read through `q`: a transaction's handle keeps them together (on
   * SQLite, one moment; on PostgreSQL, a change committed meanwhile may come along).
   */
  async changesFor(q: Sql, site: string, since: number): Promise<DirectoryChange[]> {
    const d = sqlDialect(q);
    const changed = await q.all<Row>(
      'SELECT entity, id, value, revision, deleted FROM directory_entities WHERE revision > ? ORDER BY revision, entity, id',
      [since],
    );
    const ofKind = (entity: Entity) => changed.filter((r) => r.entity === entity).map((r) => r.id);
    const changedPlans = ofKind('plan');
    const memberIds = new Set(ofKind('member'));
    // Only when a plan or member changed: a revocation touches one badge.
    if (changedPlans.length > 0) {
      const onPlans = await q.column<string>(
        `SELECT id FROM directory_entities WHERE entity = 'member' AND deleted = 0 AND ${d.jsonText('value', 'plan')} IN ${d.jsonArrayValues('?')} ORDER BY id`,
        [JSON.stringify(changedPlans)],
      );
      for (const id of onPlans) memberIds.add(id);
    }
    const badgeUids = new Set(ofKind('badge'));
    if (memberIds.size > 0) {
      const ofMembers = await q.column<string>(
        `SELECT id FROM directory_entities WHERE entity = 'badge' AND deleted = 0 AND ${d.jsonText('value', 'member')} IN ${d.jsonArrayValues('?')} ORDER BY id`,
        [JSON.stringify([...memberIds])],
      );
      for (const uid of ofMembers) badgeUids.add(uid);
    }
    // The values all this needs, read at once: the badges, their members and the members', plans.
    const badges = await this.getMany(q, 'badge', badgeUids);
    const members = await this.getMany(q, 'member', [...memberIds, ...[...badges.values()].map((b) => b.member)]);
    const plans = await this.getMany(
      q,
      'plan',
      [...members.values()].map((m) => m.plan),
    );
    const opensSite = (m: Member | undefined) => {
      const plan = m && plans.get(m.plan);
      return plan !== undefined && (plan.sites === 'all' || plan.sites.includes(site));
    };
    const out: DirectoryChange[] = [];
    const send = (entity: Entity, id: string, value: unknown): void =>
      void out.push(
        value === undefined ? { entity, op: 'delete', id } : ({ entity, op: 'upsert', value } as DirectoryChange),
      );
    for (const r of changed)
      if (r.entity === 'plan' || r.entity === 'employer')
        send(r.entity, r.id, r.deleted || !r.value ? undefined : parsedAs(r.entity, r.value));
    const held = memberIds.size > 0 ? await heldAccounts(q) : new Set<string>();
    for (const id of memberIds) {
      const m = members.get(id);
      send('member', id, m && opensSite(m) ? memberAsSent(m, held) : undefined);
    }
    for (const uid of badgeUids) {
      const b = badges.get(uid);
      send('badge', uid, b && opensSite(members.get(b.member)) ? b : undefined);
    }
    // Only the site's own resources and bookings, after the members they name, resources deleted after their bookings.
    const bookings = await bookingChangesFor(q, site, changed, this.now());
    // Deletions of plans and employers go last: the members leaving with them are deleted first.
    const planOrEmployerDelete = (c: DirectoryChange) =>
      c.op === 'delete' && (c.entity === 'plan' || c.entity === 'employer');
    return [
      ...out.filter((c) => !planOrEmployerDelete(c)),
      ...bookings.first,
      ...bookings.last,
      ...out.filter(planOrEmployerDelete),
      ...(await this.erasures.changesSince(q, since)),
    ];
  }

  /**
   * Everything site `site` needs, as upserts: what a snapshot carries. Read a page at a time,
   * with a turn of the event loop between pages (a directory of 200,000 members takes seconds
   * to read). The directory may change meanwhile: a member is kept only if its plan and employer
   * are in the snapshot, a badge only if its member is, so the snapshot is whole as it stands;
   * what changed after its revision reaches the site in the next delta.
   */
  async snapshotFor(site: string, slices: Slices = new Slices()): Promise<DirectoryChange[]> {
    const plans = await this.list(this.db, 'plan');
    const employerList = await this.list(this.db, 'employer');
    const employers = new Set(employerList.map((e) => e.id));
    const opening = new Set(plans.filter((p) => p.sites === 'all' || p.sites.includes(site)).map((p) => p.id));
    const members: Member[] = [];
    for await (const m of this.pages('member', slices))
      if (opening.has(m.plan) && (m.employer === undefined || employers.has(m.employer))) members.push(m);
    const ids = new Set(members.map((m) => m.id));
    const held = await heldAccounts(this.db);
    const badges: Badge[] = [];
    for await (const b of this.pages('badge', slices)) if (ids.has(b.member)) badges.push(b);
    const upserts = <E extends Entity>(entity: E, values: Array<EntityOf<E>>) =>
      values.map((value) => ({ entity, op: 'upsert', value }) as DirectoryChange);
    return [
      ...upserts('plan', plans),
      ...upserts('employer', employerList),
      ...upserts(
        'member',
        members.map((m) => memberAsSent(m, held)),
      ),
      ...upserts('badge', badges),
      ...(await bookingSnapshotFor(this.db, site, this.now())),
      // A site that missed an erasure still holds the member's events: every erasure, always.
      ...(await this.erasures.changesSince(this.db, 0)),
    ];
  }

  /** The live entities of one kind in id order, read `SLICE` rows at a time. */
  private async *pages<E extends Entity>(entity: E, slices: Slices): AsyncGenerator<EntityOf<E>> {
    for (let after = ''; ;) {
      const rows = await this.db.all<{ id: string; value: string | null }>(
        'SELECT id, value FROM directory_entities WHERE entity = ? AND deleted = 0 AND id > ? ORDER BY id LIMIT ?',
        [entity, after, SLICE],
      );
      for (const r of rows) yield parsedAs(entity, r.value);
      const last = rows.at(-1);
      if (last === undefined || rows.length < SLICE) return;
      after = last.id;
      await slices.tick();
    }
  }

  /**
   * Erases member `id` from the directory as one revision, inside the caller's transaction: the
   * record moves to `pseudonym`, keeping only what billing needs (role, plan, employer, validity,
   * locker), suspended and named by the pseudonym; the id's row goes, tombstone included; its
   * badges become tombstones (sites delete them); the erasure is recorded for sites behind.
   */
  async erase(
    tx: Tx,
    id: string,
    pseudonym: string,
    atMs: number,
  ): Promise<{ revision: number; member: Member | undefined; badges: Badge[] }> {
    const member = await this.get(tx, 'member', id);
    const badges = await this.badgesOf(tx, id);
    const revision = await this.bump(tx);
    for (const b of badges)
      await tx.run(
        "UPDATE directory_entities SET value = NULL, deleted = 1, revision = ? WHERE entity = 'badge' AND id = ?",
        [revision, b.uid],
      );
    await tx.run("DELETE FROM directory_entities WHERE entity = 'member' AND id = ?", [id]);
    if (member) {
      const value = Member.parse({ ...member, id: pseudonym, name: pseudonym, status: 'suspended' });
      await tx.run(UPSERT_ENTITY, ['member', pseudonym, JSON.stringify(value), revision]);
    }
    await this.erasures.record(tx, pseudonym, revision, atMs);
    return { revision, member, badges };
  }

  /**
   * Makes `accounts` the held ones (access-holds.ts), in a transaction of its own on `q`: when
   * that changes anything, one new revision holds the change and every member of an account
   * added or removed, so that each site gets them again with or without `billingHold`.
   * Returns undefined when the held accounts were already these.
   */
  setHolds(q: Sql, accounts: ReadonlyMap<string, string>, atMs: number): Promise<HoldsChange | undefined> {
    return q.transaction(async (tx) => {
      const before = await heldAccounts(tx);
      const added = [...accounts.keys()].filter((a) => !before.has(a)).sort();
      const removed = [...before].filter((a) => !accounts.has(a)).sort();
      if (added.length === 0 && removed.length === 0) return undefined;
      const revision = await this.bump(tx);
      for (const account of removed) await tx.run('DELETE FROM access_holds WHERE account = ?', [account]);
      for (const account of added)
        await tx.run('INSERT INTO access_holds (account, reason, since) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [
          account,
          accounts.get(account) ?? '',
          atMs,
        ]);
      const changed = [...added, ...removed];
      const ids = (kind: string) =>
        changed.filter((a) => a.startsWith(`${kind}:`)).map((a) => a.slice(kind.length + 1));
      const d = sqlDialect(tx);
      // Touched, not changed: the next delta sends them again, as memberAsSent makes them now.
      await tx.run(
        `UPDATE directory_entities SET revision = ? WHERE entity = 'member' AND deleted = 0 AND (${d.inJsonArray(d.jsonText('value', 'employer'), '?')} OR ${d.inJsonArray('id', '?')})`,
        [revision, JSON.stringify(ids('employer')), JSON.stringify(ids('member'))],
      );
      return { revision, added, removed };
    });
  }

  /** A new revision for a change; none while a members import holds the directory (it would be half in it). */
  private async bump(tx: Tx): Promise<number> {
    if (await importUnderWay(tx))
      throw new TesseraError('conflict', 'a members import is being applied: try again once it is done');
    return (
      (await tx.value<number>(
        'UPDATE directory_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision',
      )) ?? 0
    );
  }

  private async checkReferences(q: Sql, entity: Entity, value: EntityOf<Entity>, exists: Exists): Promise<void> {
    const missing = async (what: Entity, id: string, path: string) => {
      if (!(await exists(what, id)))
        throw new TesseraError('request.invalid', `no ${what} ${JSON.stringify(id)}`, [
          { path, message: `no ${what} with this id` },
        ]);
    };
    if (entity === 'member') {
      const m = value as Member;
      if ((await this.erasures.match(q, m.id)) !== undefined)
        throw new TesseraError('conflict', `member ${JSON.stringify(m.id)} was erased: give the person a new id`, [
          { path: 'id', message: 'an erased id' },
        ]);
      await missing('plan', m.plan, 'plan');
      if (m.employer !== undefined) await missing('employer', m.employer, 'employer');
    }
    if (entity === 'badge') await missing('member', (value as Badge).member, 'member');
    if (entity === 'resource') {
      const r = value as Resource;
      // A resource is booked in its site's time zone: the site must be declared.
      if ((await q.value('SELECT 1 AS one FROM sites WHERE id = ?', [r.site])) === undefined)
        throw new TesseraError('request.invalid', `no declared site ${JSON.stringify(r.site)}`, [
          { path: 'site', message: 'no declared site with this id' },
        ]);
      if (r.plans !== 'all') for (const [i, plan] of r.plans.entries()) await missing('plan', plan, `plans.${i}`);
    }
    if (entity === 'booking') {
      const b = value as Booking;
      await missing('resource', b.resource, 'resource');
      await missing('member', b.member, 'member');
    }
  }

  /** Up to three entities that name `entity` `id`: what keeps it from being deleted. */
  private async referencesTo(q: Sql, entity: Entity, id: string): Promise<string[]> {
    const d = sqlDialect(q);
    const using = (kind: 'member' | 'badge', field: string) =>
      q.column<string>(
        `SELECT id FROM directory_entities WHERE entity = '${kind}' AND deleted = 0 AND ${d.jsonText('value', field)} = ? ORDER BY id LIMIT 3`,
        [id],
      );
    if (entity === 'plan') {
      const members = (await using('member', 'plan')).map((m) => `member ${m}`);
      if (members.length > 0) return members;
    }
    if (entity === 'employer') return (await using('member', 'employer')).map((m) => `member ${m}`);
    if (entity === 'member') return (await using('badge', 'member')).map((uid) => `badge …${uid.slice(-4)}`);
    if (entity === 'plan') {
      const resources = await this.list(q, 'resource');
      return resources.filter((r) => r.plans !== 'all' && r.plans.includes(id)).map((r) => `resource ${r.id}`);
    }
    return [];
  }
}
