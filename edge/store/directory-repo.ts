import type { Db } from '../../shared/platform/sqlite.js';
import type { Booking, Resource } from '../../shared/protocol/bookings.js';
import type { Badge, Directory, Employer, Member, Plan } from '../../shared/protocol/directory.js';
import { Badge as BadgeSchema, Member as MemberSchema, Plan as PlanSchema } from '../../shared/protocol/directory.js';

/** One directory edit: an entity upserted, or deleted by id (a badge by its UID). */
export type DirectoryEdit =
  | { entity: 'plan'; value: Plan }
  | { entity: 'employer'; value: Employer }
  | { entity: 'member'; value: Member }
  | { entity: 'badge'; value: Badge }
  | { entity: 'resource'; value: Resource }
  | { entity: 'booking'; value: Booking }
  | { entity: DirectoryEntity; id: string };

export type DirectoryEntity = 'plan' | 'employer' | 'member' | 'badge' | 'resource' | 'booking';

/** Tables emptied by a replace, those that others point to last. */
const DIRECTORY_TABLES = ['bookings', 'resources', 'badges', 'members', 'employers', 'plans'] as const;

export interface BadgeHolder {
  badge: Badge;
  member: Member | undefined;
  plan: Plan | undefined;
}

export interface DirectoryInfo {
  revision: number;
  loadedAt: number;
  /** When the hub issued the update in force (hub-fed sites). */
  issuedAt: number | null;
  source: string;
  members: number;
  badges: number;
  /** Active UID-only badges: anyone who reads one can clone it (docs/badges.md). */
  cloneableBadges: number;
}

/** Plans whose parsed form is kept; more distinct plan bodies than this start the memory afresh. */
const MAX_REMEMBERED_PLANS = 256;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

interface HolderRow {
  uid: string;
  member: string;
  status: string;
  type: string;
  member_body: string | null;
  plan_body: string | null;
}

/** A badge's holder as a tap reads it, with whether the member is checked in (one statement). */
export interface HolderAtTap {
  holder: BadgeHolder;
  inside: boolean;
}

/** The site's copy of the directory: replaced whole (standalone file) or by deltas (hub, later). */
export class DirectoryRepo {
  private readonly holder;
  private readonly holderAtTap;
  private readonly member;
  private readonly info;
  private readonly hash;
  private readonly counts;
  private readonly writes;
  private readonly plans = new Map<string, Plan>();

  constructor(private readonly db: Db) {
    this.writes = {
      plan: db.prepare('INSERT OR REPLACE INTO plans (id, body) VALUES (?, ?)'),
      employer: db.prepare('INSERT OR REPLACE INTO employers (id, name) VALUES (?, ?)'),
      member: db.prepare('INSERT OR REPLACE INTO members (id, plan, body) VALUES (?, ?, ?)'),
      badge: db.prepare('INSERT OR REPLACE INTO badges (uid, member, status, type) VALUES (?, ?, ?, ?)'),
      resource: db.prepare('INSERT OR REPLACE INTO resources (id, site, kind, body) VALUES (?, ?, ?, ?)'),
      booking: db.prepare(
        'INSERT OR REPLACE INTO bookings (id, resource, site, member, start_ms, end_ms) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      remove: {
        plan: db.prepare('DELETE FROM plans WHERE id = ?'),
        employer: db.prepare('DELETE FROM employers WHERE id = ?'),
        member: db.prepare('DELETE FROM members WHERE id = ?'),
        badge: db.prepare('DELETE FROM badges WHERE uid = ?'),
        resource: db.prepare('DELETE FROM resources WHERE id = ?'),
        booking: db.prepare('DELETE FROM bookings WHERE id = ?'),
      },
    };
    this.holder = db.prepare<[string], HolderRow>(
      `SELECT b.uid, b.member, b.status, b.type, m.body AS member_body, p.body AS plan_body
       FROM badges b LEFT JOIN members m ON m.id = b.member LEFT JOIN plans p ON p.id = m.plan
       WHERE b.uid = ?`,
    );
    // The tap's one read: the holder and their presence, one statement rather than two.
    this.holderAtTap = db.prepare<[string], HolderRow & { inside: number }>(
      `SELECT b.uid, b.member, b.status, b.type, m.body AS member_body, p.body AS plan_body,
         pr.member IS NOT NULL AS inside
       FROM badges b LEFT JOIN members m ON m.id = b.member LEFT JOIN plans p ON p.id = m.plan
         LEFT JOIN presence pr ON pr.member = m.id
       WHERE b.uid = ?`,
    );
    this.member = db.prepare<[string], { body: string }>('SELECT body FROM members WHERE id = ?');
    this.hash = db.prepare<[string], { content_hash: string | null }>(
      'SELECT content_hash FROM directory_meta WHERE id = 1 AND source = ?',
    );
    this.info = db.prepare<[], { revision: number; loaded_at: number; source: string; issued_at: number | null }>(
      'SELECT revision, loaded_at, source, issued_at FROM directory_meta WHERE id = 1',
    );
    this.counts = db.prepare<[], { members: number; badges: number; cloneableBadges: number }>(
      "SELECT (SELECT COUNT(*) FROM members) AS members, (SELECT COUNT(*) FROM badges) AS badges, (SELECT COUNT(*) FROM badges WHERE type = 'uid' AND status = 'active') AS cloneableBadges",
    );
  }

  /** The badge with this UID, its member and plan; rows are re-checked against the schemas. */
  lookup(uid: string): BadgeHolder | undefined {
    const row = this.holder.get(uid);
    return row ? this.holderOf(row) : undefined;
  }

  /**
   * As `lookup`, and whether the badge's member is checked in at the site (presence), read in the
   * same statement: what a tap decides on, in one lookup.
   */
  lookupAtTap(uid: string): HolderAtTap | undefined {
    const row = this.holderAtTap.get(uid);
    return row ? { holder: this.holderOf(row), inside: row.inside === 1 } : undefined;
  }

  private holderOf(row: HolderRow): BadgeHolder {
    return {
      badge: BadgeSchema.parse({ uid: row.uid, member: row.member, status: row.status, type: row.type }),
      member: row.member_body === null ? undefined : MemberSchema.parse(JSON.parse(row.member_body)),
      plan: row.plan_body === null ? undefined : this.planOf(row.plan_body),
    };
  }

  /**
   * A plan row, checked against the schema once per distinct body: a site has a handful of plans
   * and every tap reads one. A changed plan is a different body, so it is parsed afresh. Frozen,
   * since every tap holding it shares it.
   */
  private planOf(body: string): Plan {
    const known = this.plans.get(body);
    if (known) return known;
    const plan = deepFreeze(PlanSchema.parse(JSON.parse(body)));
    if (this.plans.size >= MAX_REMEMBERED_PLANS) this.plans.clear();
    this.plans.set(body, plan);
    return plan;
  }

  getMember(id: string): Member | undefined {
    const row = this.member.get(id);
    return row ? MemberSchema.parse(JSON.parse(row.body)) : undefined;
  }

  /** Replaces the whole directory. Call inside a transaction with whatever else must change. */
  replace(dir: Directory, source: string, atMs: number, issuedAt: number | null = null): void {
    if (!this.db.inTransaction) throw new Error('DirectoryRepo.replace must run inside a transaction');
    for (const table of DIRECTORY_TABLES) this.db.prepare(`DELETE FROM ${table}`).run();
    this.applyChanges([
      ...dir.plans.map((value) => ({ entity: 'plan' as const, value })),
      ...dir.employers.map((value) => ({ entity: 'employer' as const, value })),
      ...dir.members.map((value) => ({ entity: 'member' as const, value })),
      ...dir.badges.map((value) => ({ entity: 'badge' as const, value })),
      ...dir.resources.map((value) => ({ entity: 'resource' as const, value })),
      ...dir.bookings.map((value) => ({ entity: 'booking' as const, value })),
    ]);
    this.setMeta(dir.revision, source, atMs, issuedAt);
  }

  /** Upserts and deletes entities. Inside a transaction; the caller checks integrity after. */
  applyChanges(changes: readonly DirectoryEdit[]): void {
    if (!this.db.inTransaction) throw new Error('DirectoryRepo.applyChanges must run inside a transaction');
    for (const c of changes) {
      if ('id' in c) this.writes.remove[c.entity].run(c.id);
      else this.upsert(c);
    }
  }

  private upsert(c: Exclude<DirectoryEdit, { id: string }>): void {
    const w = this.writes;
    if (c.entity === 'plan') w.plan.run(c.value.id, JSON.stringify(c.value));
    else if (c.entity === 'employer') w.employer.run(c.value.id, c.value.name);
    else if (c.entity === 'member') w.member.run(c.value.id, c.value.plan, JSON.stringify(c.value));
    else if (c.entity === 'badge') w.badge.run(c.value.uid, c.value.member, c.value.status, c.value.type);
    else if (c.entity === 'resource') w.resource.run(c.value.id, c.value.site, c.value.kind, JSON.stringify(c.value));
    else {
      const b = c.value;
      w.booking.run(b.id, b.resource, b.site, b.member, Date.parse(b.start), Date.parse(b.end));
    }
  }

  setMeta(revision: number, source: string, atMs: number, issuedAt: number | null): void {
    this.db
      .prepare(
        `INSERT INTO directory_meta (id, revision, loaded_at, source, issued_at) VALUES (1, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET revision = excluded.revision, loaded_at = excluded.loaded_at, source = excluded.source, issued_at = excluded.issued_at`,
      )
      .run(revision, atMs, source, issuedAt);
  }

  /** References that do not resolve: a member's plan or employer, a badge's member, a booking's resource. */
  dangling(): string[] {
    const rows = this.db
      .prepare<[], { problem: string }>(
        `SELECT 'member ' || m.id || ': no plan ' || m.plan AS problem FROM members m LEFT JOIN plans p ON p.id = m.plan WHERE p.id IS NULL
         UNION ALL SELECT 'member ' || m.id || ': no employer ' || json_extract(m.body, '$.employer') FROM members m
           LEFT JOIN employers e ON e.id = json_extract(m.body, '$.employer') WHERE json_extract(m.body, '$.employer') IS NOT NULL AND e.id IS NULL
         UNION ALL SELECT 'badge …' || substr(b.uid, -4) || ': no member ' || b.member FROM badges b LEFT JOIN members m ON m.id = b.member WHERE m.id IS NULL
         UNION ALL SELECT 'booking ' || k.id || ': no resource ' || k.resource FROM bookings k LEFT JOIN resources r ON r.id = k.resource WHERE r.id IS NULL`,
      )
      .all();
    return rows.map((r) => r.problem);
  }

  /** Members holding an assigned locker, as the directory says. */
  assignedLockers(): Array<{ member: string; bank: string; number: number }> {
    const rows = this.db
      .prepare<[], { body: string }>("SELECT body FROM members WHERE json_extract(body, '$.locker') IS NOT NULL")
      .all();
    return rows.flatMap((r) => {
      const m = MemberSchema.parse(JSON.parse(r.body));
      return m.locker ? [{ member: m.id, bank: m.locker.bank, number: m.locker.number }] : [];
    });
  }

  /**
   * The content hash of the directory file in force, when `source` imported it whole and nothing
   * changed the directory since (a trigger forgets the hash on any change).
   */
  fileHash(source: string): string | undefined {
    return this.hash.get(source)?.content_hash ?? undefined;
  }

  /** Records the content hash of the file just imported whole; after the import's own writes. */
  recordFileHash(hash: string): void {
    this.db.prepare('UPDATE directory_meta SET content_hash = ? WHERE id = 1').run(hash);
  }

  /** Revision and times of the directory in force: one row, cheap enough for the tap path. */
  meta(): { revision: number; loadedAt: number; issuedAt: number | null } | undefined {
    const m = this.info.get();
    return m ? { revision: m.revision, loadedAt: m.loaded_at, issuedAt: m.issued_at } : undefined;
  }

  describe(): DirectoryInfo | undefined {
    const meta = this.info.get();
    if (!meta) return undefined;
    const counts = this.counts.get() ?? { members: 0, badges: 0, cloneableBadges: 0 };
    return {
      revision: meta.revision,
      loadedAt: meta.loaded_at,
      source: meta.source,
      issuedAt: meta.issued_at,
      ...counts,
    };
  }
}
