import type { z } from 'zod';
import { Badge, Employer, Member, Plan } from '../../shared/protocol/directory.js';
import { TesseraError } from '../../shared/platform/errors.js';
import type { DirectoryChange } from '../../shared/protocol/sync.js';
import { describeIssues } from '../../shared/platform/validation.js';
import type { HubDb } from './db.js';
import { HubErasures } from './erasures.js';
import { SLICE, Slices } from './slices.js';

/** Creates an entity or replaces it, tombstone or not. */
export const UPSERT_ENTITY =
  'INSERT INTO directory_entities (entity, id, value, revision, deleted) VALUES (?, ?, ?, ?, 0) ON CONFLICT (entity, id) DO UPDATE SET value = excluded.value, revision = excluded.revision, deleted = 0';

export type Entity = 'plan' | 'employer' | 'member' | 'badge';
const SCHEMA = { plan: Plan, employer: Employer, member: Member, badge: Badge } as const;
export const keyOf = (entity: Entity, value: { id?: string; uid?: string }) =>
  (entity === 'badge' ? value.uid : value.id) ?? '';

/** Whether a members import is being written (by this hub or another instance): cloud-sync/hub/directory-import.ts. */
export function importUnderWay(db: HubDb): boolean {
  return db.prepare('SELECT 1 AS one FROM directory_import WHERE id = 1').get() !== undefined;
}

interface Row {
  entity: Entity;
  id: string;
  value: string | null;
  revision: number;
  deleted: number;
}

/**
 * The network's directory at the hub: plans, employers, members and badges, each
 * change a new revision. A site gets the changes since its revision, cut to what it needs:
 * every plan and employer, and the members whose plan opens that site, with their badges.
 */
export class HubDirectory {
  /** The members erased: sent to every site with the changes, refused as new ids. */
  readonly erasures: HubErasures;

  constructor(private readonly db: HubDb) {
    this.erasures = new HubErasures(db);
  }

  revision(): number {
    return (
      this.db.prepare<[], { revision: number }>('SELECT revision FROM directory_revision WHERE id = 1').get()
        ?.revision ?? 0
    );
  }

  /** Creates or replaces an entity; refuses one whose references do not resolve. Returns the new revision. */
  upsert(entity: Entity, input: unknown): { revision: number; value: Plan | Employer | Member | Badge } {
    const value = this.validated(entity, input);
    return this.db.transaction(() => {
      const revision = this.bump();
      this.db.prepare(UPSERT_ENTITY).run(entity, keyOf(entity, value), JSON.stringify(value), revision);
      return { revision, value };
    })();
  }

  /**
   * Creates or replaces many entities as one revision, in one transaction: all or none (a CSV
   * import). Each reference must resolve against the directory or an entity earlier in `items`.
   */
  upsertAll(items: ReadonlyArray<{ entity: Entity; value: unknown }>): number {
    return this.db.transaction(() => {
      const revision = this.bump();
      const insert = this.db.prepare(UPSERT_ENTITY);
      items.forEach(({ entity, value: input }, i) => {
        const value = this.validated(entity, input, `${entity} (item ${i})`);
        insert.run(entity, keyOf(entity, value), JSON.stringify(value), revision);
      });
      return revision;
    })();
  }

  /** `input` as a valid entity whose references resolve: what every write checks first. */
  validated(entity: Entity, input: unknown, what: string = entity): Plan | Employer | Member | Badge {
    const parsed = SCHEMA[entity].safeParse(input);
    if (!parsed.success)
      throw new TesseraError('request.invalid', `invalid ${what}`, describeIssues(parsed.error, input));
    this.checkReferences(entity, parsed.data);
    return parsed.data;
  }

  /** Deletes an entity (a tombstone remains for sites behind). Refuses a plan or member still referenced. */
  remove(entity: Entity, id: string): number {
    if (!this.get(entity, id)) throw new TesseraError('not_found', `no ${entity} ${JSON.stringify(id)}`);
    const users = this.referencesTo(entity, id);
    if (users.length > 0)
      throw new TesseraError('request.invalid', `${entity} ${id} is still used by ${users.slice(0, 3).join(', ')}`);
    return this.db.transaction(() => {
      const revision = this.bump();
      this.db
        .prepare('UPDATE directory_entities SET value = NULL, deleted = 1, revision = ? WHERE entity = ? AND id = ?')
        .run(revision, entity, id);
      return revision;
    })();
  }

  /**
   * The entity named `id`, if there is one. An id holding NUL names nothing (the schemas refuse
   * it and PostgreSQL cannot store it): it is not asked of the database, so a lookup of one gives
   * the same answer on both stores instead of an error on PostgreSQL.
   */
  get<E extends Entity>(entity: E, id: string): z.infer<(typeof SCHEMA)[E]> | undefined {
    if (id.includes('\u0000')) return undefined;
    const row = this.db
      .prepare<[string, string], Row>('SELECT * FROM directory_entities WHERE entity = ? AND id = ? AND deleted = 0')
      .get(entity, id);
    return row?.value ? (SCHEMA[entity].parse(JSON.parse(row.value)) as z.infer<(typeof SCHEMA)[E]>) : undefined;
  }

  list<E extends Entity>(entity: E): Array<z.infer<(typeof SCHEMA)[E]>> {
    return this.db
      .prepare<[string], Row>('SELECT * FROM directory_entities WHERE entity = ? AND deleted = 0 ORDER BY id')
      .all(entity)
      .map((r) => SCHEMA[entity].parse(JSON.parse(r.value ?? 'null')) as z.infer<(typeof SCHEMA)[E]>);
  }

  /**
   * How many entities changed after revision `since`, counted up to `atMost + 1`: a cheap bound
   * before working out a delta that may be too long to send.
   */
  changedSince(since: number, atMost: number): number {
    const sql =
      'SELECT count(*) AS n FROM (SELECT 1 AS one FROM directory_entities WHERE revision > ? LIMIT ?) AS changed';
    return this.db.prepare<[number, number], { n: number }>(sql).get(since, atMost + 1)?.n ?? 0;
  }

  /**
   * What site `site` must apply to go from revision `since` to now. A member is sent when it or
   * its plan changed, as an upsert if its plan opens the site and a delete otherwise; a badge
   * follows its member. Deleting what a site never had is harmless, so no per-site history is kept.
   */
  changesFor(site: string, since: number): DirectoryChange[] {
    const changed = this.db
      .prepare<[number], Row>('SELECT * FROM directory_entities WHERE revision > ? ORDER BY revision')
      .all(since);
    const changedPlans = new Set(changed.filter((r) => r.entity === 'plan').map((r) => r.id));
    const memberIds = new Set(changed.filter((r) => r.entity === 'member').map((r) => r.id));
    // Whole-table scans only when a plan or member changed: a revocation touches one badge.
    if (changedPlans.size > 0) for (const m of this.list('member')) if (changedPlans.has(m.plan)) memberIds.add(m.id);
    const badgeUids = new Set(changed.filter((r) => r.entity === 'badge').map((r) => r.id));
    if (memberIds.size > 0) for (const b of this.list('badge')) if (memberIds.has(b.member)) badgeUids.add(b.uid);
    const tombstones = new Set(changed.filter((r) => r.deleted).map((r) => `${r.entity}:${r.id}`));
    const out: DirectoryChange[] = [];
    for (const r of changed)
      if (r.entity === 'plan' || r.entity === 'employer')
        out.push(this.changeOf(r.entity, r.id, tombstones, () => true));
    for (const id of memberIds)
      out.push(this.changeOf('member', id, tombstones, (m) => this.opensSite(m as Member, site)));
    for (const uid of badgeUids)
      out.push(this.changeOf('badge', uid, tombstones, (b) => this.memberAt((b as Badge).member, site)));
    // Deletions of plans and employers go last: the members leaving with them are deleted first.
    const planOrEmployerDelete = (c: DirectoryChange) =>
      c.op === 'delete' && (c.entity === 'plan' || c.entity === 'employer');
    return [
      ...out.filter((c) => !planOrEmployerDelete(c)),
      ...out.filter(planOrEmployerDelete),
      ...this.erasures.changesSince(since),
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
    const plans = this.list('plan');
    const employerList = this.list('employer');
    const employers = new Set(employerList.map((e) => e.id));
    const opening = new Set(plans.filter((p) => p.sites === 'all' || p.sites.includes(site)).map((p) => p.id));
    const members: Member[] = [];
    for await (const m of this.pages('member', slices))
      if (opening.has(m.plan) && (m.employer === undefined || employers.has(m.employer))) members.push(m);
    const ids = new Set(members.map((m) => m.id));
    const badges: Badge[] = [];
    for await (const b of this.pages('badge', slices)) if (ids.has(b.member)) badges.push(b);
    const upserts = <E extends Entity>(entity: E, values: Array<z.infer<(typeof SCHEMA)[E]>>) =>
      values.map((value) => ({ entity, op: 'upsert', value }) as DirectoryChange);
    return [
      ...upserts('plan', plans),
      ...upserts('employer', employerList),
      ...upserts('member', members),
      ...upserts('badge', badges),
      // A site that missed an erasure still holds the member's events: every erasure, always.
      ...this.erasures.changesSince(0),
    ];
  }

  /** The live entities of one kind in id order, read `SLICE` rows at a time. */
  private async *pages<E extends Entity>(entity: E, slices: Slices): AsyncGenerator<z.infer<(typeof SCHEMA)[E]>> {
    const page = this.db.prepare<[string, string, number], Row>(
      'SELECT * FROM directory_entities WHERE entity = ? AND deleted = 0 AND id > ? ORDER BY id LIMIT ?',
    );
    for (let after = ''; ;) {
      const rows = page.all(entity, after, SLICE);
      for (const r of rows) yield SCHEMA[entity].parse(JSON.parse(r.value ?? 'null')) as z.infer<(typeof SCHEMA)[E]>;
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
  erase(
    id: string,
    pseudonym: string,
    atMs: number,
  ): { revision: number; member: Member | undefined; badges: Badge[] } {
    const member = this.get('member', id);
    const badges = this.list('badge').filter((b) => b.member === id);
    const revision = this.bump();
    const tombstone = this.db.prepare(
      "UPDATE directory_entities SET value = NULL, deleted = 1, revision = ? WHERE entity = 'badge' AND id = ?",
    );
    for (const b of badges) tombstone.run(revision, b.uid);
    this.db.prepare("DELETE FROM directory_entities WHERE entity = 'member' AND id = ?").run(id);
    if (member) {
      const value = Member.parse({ ...member, id: pseudonym, name: pseudonym, status: 'suspended' });
      this.db.prepare(UPSERT_ENTITY).run('member', pseudonym, JSON.stringify(value), revision);
    }
    this.erasures.record(pseudonym, revision, atMs);
    return { revision, member, badges };
  }

  private changeOf(
    entity: Entity,
    id: string,
    tombstones: Set<string>,
    wanted: (value: unknown) => boolean,
  ): DirectoryChange {
    const value = tombstones.has(`${entity}:${id}`) ? undefined : this.get(entity, id);
    return value !== undefined && wanted(value)
      ? ({ entity, op: 'upsert', value } as DirectoryChange)
      : { entity, op: 'delete', id };
  }

  private opensSite(member: Member, site: string): boolean {
    const plan = this.get('plan', member.plan);
    return plan !== undefined && (plan.sites === 'all' || plan.sites.includes(site));
  }

  private memberAt(id: string, site: string): boolean {
    const member = this.get('member', id);
    return member !== undefined && this.opensSite(member, site);
  }

  /** A new revision for a change; none while a members import holds the directory (it would be half in it). */
  private bump(): number {
    if (importUnderWay(this.db))
      throw new TesseraError('conflict', 'a members import is being applied: try again once it is done');
    return (
      this.db
        .prepare<[], { revision: number }>(
          'UPDATE directory_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision',
        )
        .get()?.revision ?? 0
    );
  }

  private checkReferences(entity: Entity, value: Plan | Employer | Member | Badge): void {
    const missing = (what: Entity, id: string, path: string) => {
      if (!this.get(what, id))
        throw new TesseraError('request.invalid', `no ${what} ${JSON.stringify(id)}`, [
          { path, message: `no ${what} with this id` },
        ]);
    };
    if (entity === 'member') {
      const m = value as Member;
      if (this.erasures.match(m.id) !== undefined)
        throw new TesseraError('conflict', `member ${JSON.stringify(m.id)} was erased: give the person a new id`, [
          { path: 'id', message: 'an erased id' },
        ]);
      missing('plan', m.plan, 'plan');
      if (m.employer !== undefined) missing('employer', m.employer, 'employer');
    }
    if (entity === 'badge') missing('member', (value as Badge).member, 'member');
  }

  private referencesTo(entity: Entity, id: string): string[] {
    if (entity === 'plan')
      return this.list('member')
        .filter((m) => m.plan === id)
        .map((m) => `member ${m.id}`);
    if (entity === 'employer')
      return this.list('member')
        .filter((m) => m.employer === id)
        .map((m) => `member ${m.id}`);
    if (entity === 'member')
      return this.list('badge')
        .filter((b) => b.member === id)
        .map((b) => `badge …${b.uid.slice(-4)}`);
    return [];
  }
}
