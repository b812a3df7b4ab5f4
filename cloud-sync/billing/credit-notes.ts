import { TesseraError } from '../../shared/platform/errors.js';
import type { Invoice, InvoiceLine } from '../../shared/protocol/api/hub-billing.js';
import type { Sql, Tx } from '../hub/db.js';
import { sqlDialect } from '../hub/storage/dialect.js';
import { invoiceBytes, invoiceOfLines, lineVat } from './invoice.js';
import { issueDateOf } from './lawful.js';

/**
 * Credit notes (table `billing_credit_notes`): frozen like invoices, numbered `AV-YYYY-NNNNNN`
 * in their own series, gapless per year of issue (Paris), always inside a transaction that first
 * locks the price list's row as a close does: a close's credit notes and an operator's, from
 * this hub or another instance, are numbered one transaction after the other.
 */

/** The row every numbering transaction locks first (PostgreSQL: until its commit; SQLite has one writer). */
export const lockLedger = (tx: Tx): Promise<unknown> =>
  tx.value(`SELECT id FROM billing_prices WHERE id = 1${sqlDialect(tx).forUpdate}`);

/** The year's last credit note seq (0 before its first). */
const lastCreditSeq = async (q: Sql, year: number): Promise<number> =>
  (await q.value<number | null>('SELECT MAX(seq) FROM billing_credit_notes WHERE year = ?', [year])) ?? 0;

export const creditNoteNumber = (year: number, seq: number): string => `AV-${year}-${String(seq).padStart(6, '0')}`;

/**
 * Numbers and stores issued credit notes, in order, after the last of their year: inside the
 * caller's transaction, which holds `lockLedger`. `issuedIn`: the month whose close issues them
 * (null: an operator's). Returns them numbered and dated, as stored.
 */
export async function storeCreditNotes(
  tx: Tx,
  notes: readonly Invoice[],
  at: number,
  issuedIn: string | null,
): Promise<Invoice[]> {
  if (notes.length === 0) return [];
  const year = Number(issueDateOf(at).slice(0, 4));
  let seq = await lastCreditSeq(tx, year);
  const out: Invoice[] = [];
  for (const note of notes) {
    seq += 1;
    const numbered = { ...note, number: creditNoteNumber(year, seq), closedAt: new Date(at).toISOString() };
    await tx.run(
      'INSERT INTO billing_credit_notes (number, year, seq, period, issued_in, corrects, account, total_cents, issued_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        numbered.number,
        year,
        seq,
        note.period,
        issuedIn,
        note.corrects?.number ?? '',
        `${note.account.kind}:${note.account.id}`,
        note.totalCents,
        at,
        invoiceBytes(numbered),
      ],
    );
    out.push(numbered);
  }
  return out;
}

/** The last credit note of the series as (year, seq), whatever its year; null before the first. */
export async function lastCreditNote(q: Sql): Promise<{ year: number; seq: number } | null> {
  const row = await q.get<{ year: number; seq: number }>(
    'SELECT year, seq FROM billing_credit_notes ORDER BY year DESC, seq DESC LIMIT 1',
  );
  return row ? { year: row.year, seq: row.seq } : null;
}

export const parseCreditMark = (mark: string | null): { year: number; seq: number } | null => {
  const m = mark === null ? null : /^AV-(\d{4})-(\d{6})$/.exec(mark);
  return m ? { year: Number(m[1]), seq: Number(m[2]) } : null;
};

/**
 * Which of `invoices` an operator credited by hand (`POST /billing/invoices/:number/credit-note`),
 * by a credit note numbered up to `upTo` (undefined: any so far; null: none existed then).
 */
export async function creditedByHand(
  q: Sql,
  invoices: readonly string[],
  upTo?: { year: number; seq: number } | null,
): Promise<Set<string>> {
  if (invoices.length === 0 || upTo === null) return new Set();
  const bound = upTo === undefined ? '' : ' AND (year < ? OR (year = ? AND seq <= ?))';
  const numbers = await q.column<string>(
    `SELECT DISTINCT corrects FROM billing_credit_notes WHERE issued_in IS NULL AND ${sqlDialect(q).inJsonArray('corrects', '?')}${bound}`,
    [JSON.stringify([...new Set(invoices)]), ...(upTo === undefined ? [] : [upTo.year, upTo.year, upTo.seq])],
  );
  return new Set(numbers);
}

const parsed = (bodies: readonly string[]) => bodies.map((b) => JSON.parse(b) as Invoice);

/** The credit notes a month's close issued, by number. */
export async function creditNotesIssuedIn(q: Sql, period: string): Promise<Invoice[]> {
  return parsed(
    await q.column<string>('SELECT body FROM billing_credit_notes WHERE issued_in = ? ORDER BY year, seq', [period]),
  );
}

/** The credit notes crediting a month's charges, whenever and however issued, by number. */
export async function creditNotesOf(q: Sql, period: string): Promise<Invoice[]> {
  return parsed(
    await q.column<string>('SELECT body FROM billing_credit_notes WHERE period = ? ORDER BY year, seq', [period]),
  );
}

/** The credit notes correcting one invoice, by number. */
export async function creditNotesCorrecting(q: Sql, invoice: string): Promise<Invoice[]> {
  return parsed(
    await q.column<string>('SELECT body FROM billing_credit_notes WHERE corrects = ? ORDER BY year, seq', [invoice]),
  );
}

export async function creditNote(q: Sql, number: string): Promise<Invoice | undefined> {
  const body = await q.value<string>('SELECT body FROM billing_credit_notes WHERE number = ?', [number]);
  return body === undefined ? undefined : (JSON.parse(body) as Invoice);
}

/** What a line charges, whatever its words: the key lines are matched by between an invoice and its credit notes. */
const chargeKey = (l: InvoiceLine, month: string) =>
  [l.member, l.site ?? '', l.kind, l.item ?? '', l.unitCents, l.vatPercent, month].join('\u0000');

/**
 * What is left to credit of an invoice once the credit notes correcting it are taken off: per
 * charge (member, site, kind, item, price, VAT, month), the invoice's amount less what was
 * credited, never more than the invoice charged; a negative line of the invoice (a correction it
 * carried) is reversed (less what a credit note reversed already). Each line keeps the invoice's words; its `adjusts` is the month it
 * credits. Empty when nothing is left.
 */
export function remainderOf(invoice: Invoice, credits: readonly Invoice[]): InvoiceLine[] {
  const credited = new Map<string, number>();
  for (const note of credits)
    for (const l of note.lines) {
      const key = chargeKey(l, l.adjusts ?? note.period);
      credited.set(key, (credited.get(key) ?? 0) + l.amountCents);
    }
  const out: InvoiceLine[] = [];
  for (const l of invoice.lines) {
    const month = l.adjusts ?? invoice.period;
    const key = chargeKey(l, month);
    // What the credit notes took off this charge, within what the line charged (of its sign).
    const was = credited.get(key) ?? 0;
    const taken =
      l.amountCents >= 0 ? Math.max(0, Math.min(l.amountCents, was)) : Math.min(0, Math.max(l.amountCents, was));
    credited.set(key, was - taken);
    const amount = l.amountCents - taken;
    if (amount === 0 || l.unitCents === 0) continue;
    const quantity = amount / l.unitCents;
    out.push({
      ...l,
      adjusts: month,
      quantity,
      amountCents: amount,
      vatCents: lineVat(amount, Math.round(l.vatPercent * 100)),
    });
  }
  return out;
}

/**
 * The draft of an operator's credit note cancelling what is left of `invoice` (not issued:
 * `lawfulCreditNote` dates it and words its mentions). Refused with `conflict` when nothing is
 * left to credit.
 */
export function cancellationDraft(invoice: Invoice, credits: readonly Invoice[]): Invoice {
  const lines = remainderOf(invoice, credits);
  const draft = invoiceOfLines(
    invoice.period,
    invoice.currency,
    invoice.account,
    lines,
    { siteDays: new Map(), memberDays: new Map() },
    (m) => invoice.byMember.find((b) => b.member === m)?.name ?? null,
  );
  if (lines.length === 0 || draft.totalCents <= 0)
    throw new TesseraError(
      'conflict',
      `invoice ${invoice.number ?? ''} is already credited in full (${credits.map((c) => c.number).join(', ')})`,
    );
  return draft;
}

/** Ensures `number` is an issued invoice that can be read inside the transaction. */
export async function invoiceIn(tx: Tx, number: string): Promise<Invoice> {
  const body = await tx.value<string>('SELECT body FROM billing_invoices WHERE number = ?', [number]);
  if (body === undefined) throw new TesseraError('not_found', `no invoice ${number}`);
  return JSON.parse(body) as Invoice;
}
