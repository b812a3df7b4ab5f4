import type { Sql } from '../db.js';
import { sqlDialect } from '../storage/dialect.js';
import type { AuditRow } from './audit.js';

/**
 * The hub's stored rows that name one member, outside the directory: what an export shows and
 * an erasure rewrites (docs/hub.md "Members' personal data"). Each query first looks for the
 * quoted id in the JSON text, cheaply, and only then reads the JSON. A JSON column is read as
 * text for that (a no-op on SQLite, a jsonb's text on PostgreSQL, where the quoted id reads the same).
 */
const quoted = (s: string) => JSON.stringify(s);

export interface EventRow {
  site: string;
  seq: number;
  body: string;
}

/** Every stored event whose `data.memberId` is the member, by site and seq. */
export function eventsNaming(q: Sql, memberId: string): Promise<EventRow[]> {
  const d = sqlDialect(q);
  return q.all<EventRow>(
    `SELECT site, seq, body FROM events WHERE ${d.contains('CAST(body AS TEXT)', '?')} AND ${d.jsonValid('body')} AND ${d.jsonText('body', 'data.memberId')} = ? ORDER BY site, seq`,
    [quoted(memberId), memberId],
  );
}

/** Audit rows about the member or one of `badgeUids`: by entity id, or naming one in before / after. */
export function auditNaming(q: Sql, memberId: string, badgeUids: readonly string[]): Promise<AuditRow[]> {
  const keys = [memberId, ...badgeUids];
  const text = "coalesce(CAST(before AS TEXT), '') || coalesce(CAST(after AS TEXT), '')";
  const inText = keys.map(() => sqlDialect(q).contains(text, '?')).join(' OR ');
  const ids = keys.map(() => '?').join(', ');
  return q.all<AuditRow>(`SELECT * FROM audit_log WHERE entity_id IN (${ids}) OR ${inText} ORDER BY id`, [
    ...keys,
    ...keys.map(quoted),
  ]);
}

export interface InvoiceRow {
  number: string;
  period: string;
  account: string;
  body: string;
}

/**
 * Closed invoices whose body names the member (a line, the per-member summary, or the account),
 * then the credit notes that do (billing/credit-notes.ts).
 */
export function invoicesNaming(q: Sql, memberId: string): Promise<InvoiceRow[]> {
  const naming = sqlDialect(q).contains('CAST(body AS TEXT)', '?');
  return q.all<InvoiceRow>(
    `SELECT number, period, account, body FROM (
       SELECT 0 AS kind, year, seq, number, period, account, body FROM billing_invoices WHERE ${naming}
       UNION ALL
       SELECT 1 AS kind, year, seq, number, period, account, body FROM billing_credit_notes WHERE ${naming}
     ) AS named ORDER BY kind, year, seq`,
    [quoted(memberId), quoted(memberId)],
  );
}

export interface DeadLetterRow {
  id: number;
  topic: string;
  reason: string;
  at: number;
  payload: string;
}

/** Refused messages (kept for the operator) whose payload names the member. */
export function deadLettersNaming(q: Sql, memberId: string): Promise<DeadLetterRow[]> {
  return q.all<DeadLetterRow>(
    `SELECT id, topic, reason, at, payload FROM dead_letters WHERE ${sqlDialect(q).contains('payload', '?')} ORDER BY id`,
    [quoted(memberId)],
  );
}

export interface PresenceRow {
  site: string;
  seq: number;
  present: number;
  since: string | null;
}

/** The member's presence at each site in the live occupancy projection. */
export function presenceOf(q: Sql, memberId: string): Promise<PresenceRow[]> {
  return q.all<PresenceRow>('SELECT site, seq, present, since FROM presence_state WHERE member_id = ? ORDER BY site', [
    memberId,
  ]);
}

/** A JSON value with every string equal to a key of `replace` replaced: ids, names, UIDs in audit rows. */
export function replaceStrings(value: unknown, replace: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') return replace.get(value) ?? value;
  if (Array.isArray(value)) return value.map((v) => replaceStrings(v, replace));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceStrings(v, replace)]));
  return value;
}
