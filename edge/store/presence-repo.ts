import type { Db } from '../../shared/platform/sqlite.js';

export interface PresentMember {
  member: string;
  name: string | undefined;
  since: number;
  door: string | null;
}

/** Who is in, and the days each member has come (for days-per-week quotas). */
export class PresenceRepo {
  private readonly count;
  private readonly insert;
  private readonly remove;
  private readonly all;
  private readonly overstayed;
  private readonly useDay;
  private readonly days;

  constructor(db: Db) {
    // Kept by triggers on presence (edge/store/migrations.ts): one row, however many are in.
    this.count = db.prepare<[], { n: number }>("SELECT value AS n FROM counters WHERE name = 'occupancy'");
    this.insert = db.prepare('INSERT INTO presence (member, since, door) VALUES (?, ?, ?)');
    this.remove = db.prepare<[string], { since: number }>('DELETE FROM presence WHERE member = ? RETURNING since');
    this.all = db.prepare<[], { member: string; since: number; door: string | null; name: string | null }>(
      "SELECT p.member, p.since, p.door, json_extract(m.body, '$.name') AS name FROM presence p LEFT JOIN members m ON m.id = p.member ORDER BY p.since",
    );
    this.overstayed = db.prepare<[number], { member: string }>(
      'SELECT member FROM presence WHERE since <= ? ORDER BY since',
    );
    this.useDay = db.prepare('INSERT OR IGNORE INTO day_usage (member, day) VALUES (?, ?)');
    this.days = db.prepare<[string, string], { day: string }>(
      'SELECT day FROM day_usage WHERE member = ? AND day >= ? ORDER BY day',
    );
  }

  occupancy(): number {
    return this.count.get()?.n ?? 0;
  }

  checkIn(member: string, atMs: number, door: string | undefined): void {
    this.insert.run(member, atMs, door ?? null);
  }

  /** Removes the member; returns when they had checked in, or undefined if they were not in. */
  checkOut(member: string): number | undefined {
    return this.remove.get(member)?.since;
  }

  list(): PresentMember[] {
    return this.all.all().map((r) => ({ member: r.member, name: r.name ?? undefined, since: r.since, door: r.door }));
  }

  /** Members who checked in at or before `sinceAtMost`. */
  inSince(sinceAtMost: number): string[] {
    return this.overstayed.all(sinceAtMost).map((r) => r.member);
  }

  recordDay(member: string, day: string): void {
    this.useDay.run(member, day);
  }

  /** Site-local days on or after `fromDay` on which the member came. */
  daysFrom(member: string, fromDay: string): string[] {
    return this.days.all(member, fromDay).map((r) => r.day);
  }
}
