import type { Db } from '../../shared/platform/sqlite.js';

/**
 * The days each member came to the network's other sites, as the hub last said: counted with
 * the site's own days against a days-a-week plan, and kept across restarts so that a site cut
 * off from the hub still counts what it last knew.
 */
export class DaysElsewhereRepo {
  private readonly days;
  private readonly issued;

  constructor(private readonly db: Db) {
    this.days = db.prepare<[string, string], { day: string }>(
      'SELECT day FROM days_elsewhere WHERE member = ? AND day >= ? ORDER BY day',
    );
    this.issued = db.prepare<[], { value: number }>(
      "SELECT value FROM counters WHERE name = 'days_elsewhere_issued_at'",
    );
  }

  /** When the hub issued the message in force (ms), 0 before the first. */
  issuedAt(): number {
    return this.issued.get()?.value ?? 0;
  }

  /** Replaces every member's days with the hub's message, in one transaction. */
  replace(issuedAt: number, members: ReadonlyArray<{ member: string; days: readonly string[] }>): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM days_elsewhere').run();
      const insert = this.db.prepare('INSERT OR IGNORE INTO days_elsewhere (member, day) VALUES (?, ?)');
      for (const m of members) for (const day of m.days) insert.run(m.member, day);
      this.db.prepare("UPDATE counters SET value = ? WHERE name = 'days_elsewhere_issued_at'").run(issuedAt);
    })();
  }

  /** Days on or after `fromDay` on which the member came to another site. */
  daysFrom(member: string, fromDay: string): string[] {
    return this.days.all(member, fromDay).map((r) => r.day);
  }
}
