import type { Db } from './db.js';
import type { Badge, Directory, Member, Plan } from '../../shared/directory.js';
import { Badge as BadgeSchema, Member as MemberSchema, Plan as PlanSchema } from '../../shared/directory.js';

export interface BadgeHolder {
  badge: Badge;
  member: Member | undefined;
  plan: Plan | undefined;
}

export interface DirectoryInfo {
  revision: number;
  loadedAt: number;
  source: string;
  members: number;
  badges: number;
  /** Active UID-only badges: anyone who reads one can clone it (docs/badges.md). */
  cloneableBadges: number;
}

interface HolderRow {
  uid: string;
  member: string;
  status: string;
  type: string;
  member_body: string | null;
  plan_body: string | null;
}

/** The site's copy of the directory: replaced whole (standalone file) or by deltas (hub, later). */
export class DirectoryRepo {
  private readonly holder;
  private readonly member;
  private readonly info;
  private readonly counts;

  constructor(private readonly db: Db) {
    this.holder = db.prepare<[string], HolderRow>(
      `SELECT b.uid, b.member, b.status, b.type, m.body AS member_body, p.body AS plan_body
       FROM badges b LEFT JOIN members m ON m.id = b.member LEFT JOIN plans p ON p.id = m.plan
       WHERE b.uid = ?`,
    );
    this.member = db.prepare<[string], { body: string }>('SELECT body FROM members WHERE id = ?');
    this.info = db.prepare<[], { revision: number; loaded_at: number; source: string }>('SELECT revision, loaded_at, source FROM directory_meta WHERE id = 1');
    this.counts = db.prepare<[], { members: number; badges: number; cloneableBadges: number }>(
      "SELECT (SELECT COUNT(*) FROM members) AS members, (SELECT COUNT(*) FROM badges) AS badges, (SELECT COUNT(*) FROM badges WHERE type = 'uid' AND status = 'active') AS cloneableBadges",
    );
  }

  /** The badge with this UID, its member and plan; rows are re-checked against the schemas. */
  lookup(uid: string): BadgeHolder | undefined {
    const row = this.holder.get(uid);
    if (!row) return undefined;
    return {
      badge: BadgeSchema.parse({ uid: row.uid, member: row.member, status: row.status, type: row.type }),
      member: row.member_body === null ? undefined : MemberSchema.parse(JSON.parse(row.member_body)),
      plan: row.plan_body === null ? undefined : PlanSchema.parse(JSON.parse(row.plan_body)),
    };
  }

  getMember(id: string): Member | undefined {
    const row = this.member.get(id);
    return row ? MemberSchema.parse(JSON.parse(row.body)) : undefined;
  }

  /** Replaces the whole directory. Call inside a transaction with whatever else must change. */
  replace(dir: Directory, source: string, atMs: number): void {
    if (!this.db.inTransaction) throw new Error('DirectoryRepo.replace must run inside a transaction');
    for (const table of ['badges', 'members', 'employers', 'plans']) this.db.prepare(`DELETE FROM ${table}`).run();
    const plan = this.db.prepare('INSERT INTO plans (id, body) VALUES (?, ?)');
    for (const p of dir.plans) plan.run(p.id, JSON.stringify(p));
    const employer = this.db.prepare('INSERT INTO employers (id, name) VALUES (?, ?)');
    for (const e of dir.employers) employer.run(e.id, e.name);
    const member = this.db.prepare('INSERT INTO members (id, plan, body) VALUES (?, ?, ?)');
    for (const m of dir.members) member.run(m.id, m.plan, JSON.stringify(m));
    const badge = this.db.prepare('INSERT INTO badges (uid, member, status, type) VALUES (?, ?, ?, ?)');
    for (const b of dir.badges) badge.run(b.uid, b.member, b.status, b.type);
    this.db
      .prepare(
        `INSERT INTO directory_meta (id, revision, loaded_at, source) VALUES (1, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET revision = excluded.revision, loaded_at = excluded.loaded_at, source = excluded.source`,
      )
      .run(dir.revision, atMs, source);
  }

  /** Members holding an assigned locker, as the directory says. */
  assignedLockers(): Array<{ member: string; bank: string; number: number }> {
    const rows = this.db.prepare<[], { body: string }>("SELECT body FROM members WHERE json_extract(body, '$.locker') IS NOT NULL").all();
    return rows.flatMap((r) => {
      const m = MemberSchema.parse(JSON.parse(r.body));
      return m.locker ? [{ member: m.id, bank: m.locker.bank, number: m.locker.number }] : [];
    });
  }

  describe(): DirectoryInfo | undefined {
    const meta = this.info.get();
    if (!meta) return undefined;
    const counts = this.counts.get() ?? { members: 0, badges: 0, cloneableBadges: 0 };
    return { revision: meta.revision, loadedAt: meta.loaded_at, source: meta.source, ...counts };
  }
}
