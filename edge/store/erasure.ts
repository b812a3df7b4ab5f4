import { ErasedMembers, pseudonymiseBody } from '../../shared/protocol/erasure.js';
import type { Db } from '../../shared/platform/sqlite.js';

/** An erasure the hub sent: the pseudonym, and the salt that gives it from the member's id. */
export interface Erasure {
  pseudonym: string;
  salt: string;
}

export interface ErasureCounts {
  /** Members found here and erased (ids that give one of the pseudonyms). */
  members: number;
  /** Events rewritten under a pseudonym. */
  events: number;
  badges: number;
}

/**
 * Applies the hub's erasures to the site's store (docs/hub.md "Members' personal data"), inside
 * the caller's transaction. The site is told pseudonyms, never ids: it hashes each id it holds
 * (directory, presence, day usage, lockers, events) and erases those that give one. An erased
 * member's badges, their SUN counters, their bookings and their record go; their events, presence, day usage and
 * lockers are kept under the pseudonym, so that someone inside is still counted and checked out
 * as usual. Applying the same erasure again finds nothing: a pseudonym gives no pseudonym.
 */
export function applyErasures(db: Db, erasures: readonly Erasure[]): ErasureCounts {
  if (!db.inTransaction) throw new Error('applyErasures must run inside a transaction');
  const counts: ErasureCounts = { members: 0, events: 0, badges: 0 };
  if (erasures.length === 0) return counts;
  const matchers = bySalt(erasures);
  for (const id of localMemberIds(db)) {
    const pseudonym = matchers.map((m) => m.match(id)).find((p) => p !== undefined);
    if (pseudonym === undefined) continue;
    counts.members++;
    counts.badges += eraseDirectoryEntry(db, id);
    counts.events += rekey(db, id, pseudonym);
  }
  return counts;
}

function bySalt(erasures: readonly Erasure[]): ErasedMembers[] {
  const out = new Map<string, ErasedMembers>();
  for (const e of erasures) {
    let m = out.get(e.salt);
    if (!m) out.set(e.salt, (m = new ErasedMembers(e.salt)));
    m.add(e.pseudonym);
  }
  return [...out.values()];
}

/** Every member id the store holds anywhere. */
function localMemberIds(db: Db): string[] {
  return db
    .prepare<[], string>(
      `SELECT id FROM members UNION SELECT member FROM badges UNION SELECT member FROM presence UNION SELECT member FROM day_usage UNION SELECT member FROM days_elsewhere UNION SELECT member FROM bookings
       UNION SELECT member FROM lockers WHERE member IS NOT NULL
       UNION SELECT json_extract(body, '$.data.memberId') FROM events WHERE json_valid(body) AND json_extract(body, '$.data.memberId') IS NOT NULL`,
    )
    .pluck()
    .all();
}

/** The member's badges (with their SUN counters), bookings and record; returns the badges deleted. */
function eraseDirectoryEntry(db: Db, id: string): number {
  db.prepare('DELETE FROM sun_counters WHERE uid IN (SELECT uid FROM badges WHERE member = ?)').run(id);
  const badges = db.prepare('DELETE FROM badges WHERE member = ?').run(id).changes;
  db.prepare('DELETE FROM bookings WHERE member = ?').run(id);
  db.prepare('DELETE FROM members WHERE id = ?').run(id);
  return badges;
}

/** Presence, day usage, lockers and events of `id` under the pseudonym (days elsewhere dropped); returns the events rewritten. */
function rekey(db: Db, id: string, pseudonym: string): number {
  // Presence as UPDATE OR REPLACE would, but with the row it replaces deleted as such: a
  // conflict's implicit delete fires no trigger, and a trigger keeps the site's occupancy.
  db.prepare('DELETE FROM presence WHERE member = ? AND EXISTS (SELECT 1 FROM presence WHERE member = ?)').run(
    pseudonym,
    id,
  );
  db.prepare('UPDATE presence SET member = ? WHERE member = ?').run(pseudonym, id);
  db.prepare('UPDATE OR REPLACE day_usage SET member = ? WHERE member = ?').run(pseudonym, id);
  // The hub's next message no longer names the member: until then their days elsewhere are theirs alone.
  db.prepare('DELETE FROM days_elsewhere WHERE member = ?').run(id);
  db.prepare('UPDATE lockers SET member = ? WHERE member = ?').run(pseudonym, id);
  const rows = db
    .prepare<[string, string], { seq: number; body: string }>(
      "SELECT seq, body FROM events WHERE instr(body, ?) > 0 AND json_valid(body) AND json_extract(body, '$.data.memberId') = ?",
    )
    .all(JSON.stringify(id), id);
  const update = db.prepare<[string, number]>('UPDATE events SET body = ? WHERE seq = ?');
  const pseudonymFor = (memberId: string) => (memberId === id ? pseudonym : undefined);
  let events = 0;
  for (const row of rows) {
    const body = pseudonymiseBody(row.body, pseudonymFor);
    if (body === undefined) continue;
    update.run(body, row.seq);
    events++;
  }
  return events;
}
