import type { Logger } from 'pino';
import type { Invoice } from '../../../shared/protocol/api/hub-billing.js';
import type { Sql } from '../../hub/db.js';
import { SLICE, Slices } from '../../hub/slices.js';
import { addDays, billingDate, DEFAULT_TERMS_DAYS, isCalendarDate, type Receivable } from './status.js';

/**
 * The frozen invoices and credit notes as receivables need them (table billing_invoice_terms):
 * each document's type, account, buyer, total and dates, read once from its body in
 * billing_invoices (they never change), so that what is owed is worked out without parsing every
 * invoice again. A credit note is a document of type `credit-note` whose `corrects` names the
 * invoice it reduces; its amount is taken as a reduction whichever sign its total is written with.
 * Its type is `unreadable` for a body that does not read (left out, so that it is not read again).
 */

interface NewRow {
  number: string;
  account: string;
  body: string;
  closed_at: number | null;
}

/**
 * Reads the documents frozen since the last call into billing_invoice_terms, `SLICE` at a time,
 * each slice in a transaction, the event loop turning between them (the first call after an
 * upgrade reads every invoice ever closed); answers how many. A body that does not read is
 * stored as `unreadable`, logged once, and left out of receivables.
 */
export async function syncTerms(q: Sql, log: Logger, slices: Slices = new Slices()): Promise<number> {
  let added = 0;
  for (const select of NEW_DOCUMENTS) added += await syncFrom(q, select, log, slices);
  return added;
}

/** The documents not read yet: invoices (closed with their month), then credit notes (cloud-sync/billing/credit-notes.ts). */
const NEW_DOCUMENTS = [
  `SELECT i.number, i.account, i.body, p.closed_at FROM billing_invoices i
   LEFT JOIN billing_invoice_terms t ON t.number = i.number
   LEFT JOIN billing_periods p ON p.period = i.period
   WHERE t.number IS NULL ORDER BY i.number LIMIT ?`,
  `SELECT c.number, c.account, c.body, c.issued_at AS closed_at FROM billing_credit_notes c
   LEFT JOIN billing_invoice_terms t ON t.number = c.number
   WHERE t.number IS NULL ORDER BY c.number LIMIT ?`,
];

async function syncFrom(q: Sql, select: string, log: Logger, slices: Slices): Promise<number> {
  let added = 0;
  for (;;) {
    const rows = await q.all<NewRow>(select, [SLICE]);
    if (rows.length === 0) return added;
    await q.transaction(async (tx) => {
      for (const r of rows) {
        const terms = termsOf(r);
        if (!terms)
          log.warn({ invoice: r.number }, 'a frozen invoice whose body does not read: left out of receivables');
        await tx.run(
          `INSERT INTO billing_invoice_terms (number, type, account, name, email, total_cents, issue_date, due_date, corrects)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (number) DO NOTHING`,
          terms
            ? [
                r.number,
                terms.type,
                r.account,
                terms.name,
                terms.email,
                terms.totalCents,
                terms.issueDate,
                terms.dueDate,
                terms.corrects,
              ]
            : [r.number, 'unreadable', r.account, r.account, null, 0, '', '', null],
        );
      }
    });
    added += rows.length;
    if (rows.length < SLICE) return added;
    await slices.tick();
  }
}

/**
 * What a document's body says that receivables need. An invoice frozen without a `dueDate` is
 * due 30 days after the day it was closed (Paris); without an `issueDate`, it was issued that day.
 */
export function termsOf(r: NewRow):
  | {
      type: 'invoice' | 'credit-note';
      name: string;
      email: string | null;
      totalCents: number;
      issueDate: string;
      dueDate: string;
      corrects: string | null;
    }
  | undefined {
  let body: Partial<Invoice>;
  try {
    body = JSON.parse(r.body) as Partial<Invoice>;
  } catch {
    return undefined;
  }
  if (typeof body.totalCents !== 'number' || !Number.isSafeInteger(body.totalCents)) return undefined;
  const closedMs = typeof body.closedAt === 'string' ? Date.parse(body.closedAt) : (r.closed_at ?? NaN);
  const closedOn = Number.isFinite(closedMs) ? billingDate(closedMs) : undefined;
  const issueDate = body.issueDate !== undefined && isCalendarDate(body.issueDate) ? body.issueDate : closedOn;
  const dueDate =
    body.dueDate !== undefined && isCalendarDate(body.dueDate)
      ? body.dueDate
      : closedOn !== undefined
        ? addDays(closedOn, DEFAULT_TERMS_DAYS)
        : undefined;
  if (issueDate === undefined || dueDate === undefined) return undefined;
  return {
    type: body.type === 'credit-note' ? 'credit-note' : 'invoice',
    name: body.buyer?.name ?? body.account?.name ?? r.account,
    email: body.buyer?.email ?? null,
    totalCents: body.totalCents,
    issueDate,
    dueDate,
    corrects: body.corrects?.number ?? null,
  };
}

interface ReceivableRow {
  number: string;
  account: string;
  name: string;
  email: string | null;
  total_cents: number;
  issue_date: string;
  due_date: string;
  paid_cents: number;
  credited_cents: number;
  last_paid: string | null;
}

/** Every invoice (not credit notes) with what was paid and credited against it, by number; one account's only if asked. */
export async function receivables(q: Sql, account?: string): Promise<Receivable[]> {
  const rows = await q.all<ReceivableRow>(
    `SELECT t.number, t.account, t.name, t.email, t.total_cents, t.issue_date, t.due_date,
       COALESCE((SELECT SUM(p.amount_cents) FROM billing_payments p WHERE p.invoice = t.number AND p.deleted_at IS NULL), 0) AS paid_cents,
       (SELECT MAX(p.date) FROM billing_payments p WHERE p.invoice = t.number AND p.deleted_at IS NULL) AS last_paid,
       COALESCE((SELECT SUM(ABS(c.total_cents)) FROM billing_invoice_terms c WHERE c.corrects = t.number AND c.type = 'credit-note'), 0) AS credited_cents
     FROM billing_invoice_terms t
     WHERE t.type = 'invoice'${account === undefined ? '' : ' AND t.account = ?'}
     ORDER BY t.number`,
    account === undefined ? [] : [account],
  );
  return rows.map((r) => ({
    number: r.number,
    account: r.account,
    name: r.name,
    email: r.email,
    totalCents: Number(r.total_cents),
    creditedCents: Number(r.credited_cents),
    paidCents: Number(r.paid_cents),
    issueDate: r.issue_date,
    dueDate: r.due_date,
    lastPaymentDate: r.last_paid,
  }));
}
