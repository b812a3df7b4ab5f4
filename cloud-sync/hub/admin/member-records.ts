import type { HubDb } from '../db.js';
import type { AuditRow } from './audit.js';

/**
 * The hub's stored rows that name one member, outside the directory: what an export shows and
 * an erasure rewrites (docs/hub.md "Members' personal data"). Each query first looks for the
 * quoted id in the JSON text, cheaply, and only then reads the JSON.
 */
const quoted = (s: string) => JSON.stringify(s);

export interface EventRow {
  site: string;
  seq: number;
  body: string;
}

/** Every stored event whose `data.memberId` is the member, by site and seq. */
export function eventsNaming(db: HubDb, memberId: string): EventRow[] {
  return db
    .prepare<[string, string], EventRow>(
      "SELECT site, seq, body FROM events WHERE instr(body, ?) > 0 AND json_valid(body) AND json_extract(body, '$.data.memberId') = ? ORDER BY site, seq",
    )
    .all(quoted(memberId), memberId);
}

/** Audit rows about the member or one of `badgeUids`: by entity id, or naming one in before / after. */
export function auditNaming(db: HubDb, memberId: string, badgeUids: readonly string[]): AuditRow[] {
  const keys = [memberId, ...badgeUids];
  const inText = keys.map(() => "instr(coalesce(before, '') || coalesce(after, ''), ?) > 0").join(' OR ');
  const ids = keys.map(() => '?').join(', ');
  return db
    .prepare<string[], AuditRow>(`SELECT * FROM audit_log WHERE entity_id IN (${ids}) OR ${inText} ORDER BY id`)
    .all(...keys, ...keys.map(quoted));
}

export interface InvoiceRow {
  number: string;
  period: string;
  account: string;
  body: string;
}

/** Closed invoices whose body names the member (a line, the per-member summary, or the account). */
export function invoicesNaming(db: HubDb, memberId: string): InvoiceRow[] {
  return db
    .prepare<[string], InvoiceRow>(
      'SELECT number, period, account, body FROM billing_invoices WHERE instr(body, ?) > 0 ORDER BY year, seq',
    )
    .all(quoted(memberId));
}

export interface DeadLetterRow {
  id: number;
  topic: string;
  reason: string;
  at: number;
  payload: string;
}

/** Refused messages (kept for the operator) whose payload names the member. */
export function deadLettersNaming(db: HubDb, memberId: string): DeadLetterRow[] {
  return db
    .prepare<[string], DeadLetterRow>(
      'SELECT id, topic, reason, at, payload FROM dead_letters WHERE instr(payload, ?) > 0 ORDER BY id',
    )
    .all(quoted(memberId));
}

export interface PresenceRow {
  site: string;
  seq: number;
  present: number;
  since: string | null;
}

/** The member's presence at each site in the live occupancy projection. */
export function presenceOf(db: HubDb, memberId: string): PresenceRow[] {
  return db
    .prepare<[string], PresenceRow>(
      'SELECT site, seq, present, since FROM presence_state WHERE member_id = ? ORDER BY site',
    )
    .all(memberId);
}

/** A JSON value with every string equal to a key of `replace` replaced: ids, names, UIDs in audit rows. */
export function replaceStrings(value: unknown, replace: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') return replace.get(value) ?? value;
  if (Array.isArray(value)) return value.map((v) => replaceStrings(v, replace));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceStrings(v, replace)]));
  return value;
}
