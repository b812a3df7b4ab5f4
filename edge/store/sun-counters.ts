import type { Db } from '../../shared/platform/sqlite.js';

/**
 * The last SUN counter seen for each NTAG 424 card. A SUN message is a bearer token: whoever
 * read the card once can replay it, so a message is accepted only if its counter is higher.
 */
export class SunCounters {
  private readonly read;
  private readonly write;

  constructor(db: Db) {
    this.read = db.prepare<[string], { counter: number }>('SELECT counter FROM sun_counters WHERE uid = ?');
    this.write = db.prepare(
      'INSERT INTO sun_counters (uid, counter, seen_at) VALUES (?, ?, ?) ON CONFLICT (uid) DO UPDATE SET counter = excluded.counter, seen_at = excluded.seen_at',
    );
  }

  last(uid: string): number | undefined {
    return this.read.get(uid)?.counter;
  }

  /** Records the counter if it is newer; returns false for a replay (not newer). */
  accept(uid: string, counter: number, atMs: number): boolean {
    const last = this.last(uid);
    if (last !== undefined && counter <= last) return false;
    this.write.run(uid, counter, atMs);
    return true;
  }
}
