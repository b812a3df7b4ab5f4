import { DateTime } from 'luxon';
import type { Logger } from 'pino';
import { TesseraError } from '../../shared/platform/errors.js';
import { FecAccounts } from '../../shared/protocol/api/hub-billing-fec.js';
import type { HubDb, Sql } from '../hub/db.js';
import { sqlDialect } from '../hub/storage/dialect.js';
import { accountingDates, encodeLatin9, FecJournal, fecFileName, fecText } from './fec.js';
import type { Invoice } from './invoice.js';

/** A range of days, `YYYY-MM-DD`, both included. */
export interface DayRange {
  from: string;
  to: string;
}

/** A fiscal year is at most 24 months long (a first one may run that long): so is a FEC's range. */
const MAX_MONTHS = 24;

/** The range `from`..`to`, or the calendar `year`; refused (request.invalid) if a date does not exist, is backwards or spans more than 24 months. */
export function fecRange(q: {
  from?: string | undefined;
  to?: string | undefined;
  year?: string | undefined;
}): DayRange {
  const range = q.year !== undefined ? { from: `${q.year}-01-01`, to: `${q.year}-12-31` } : { from: q.from, to: q.to };
  const bad = (path: string, message: string) =>
    new TesseraError('request.invalid', `invalid range: ${message}`, [{ path, message }]);
  if (range.from === undefined || range.to === undefined) throw bad('from', 'give either year, or from and to');
  const from = DateTime.fromISO(range.from, { zone: 'utc' });
  const to = DateTime.fromISO(range.to, { zone: 'utc' });
  if (!from.isValid) throw bad('from', `${range.from} is not a date`);
  if (!to.isValid) throw bad('to', `${range.to} is not a date`);
  if (to < from) throw bad('to', `${range.to} is before ${range.from}`);
  if (to >= from.plus({ months: MAX_MONTHS })) throw bad('to', `a range spans at most ${MAX_MONTHS} months`);
  return { from: range.from, to: range.to };
}

/** Documents read at a time (their bodies are long). */
const PAGE = 200;
const DAY_MS = 86_400_000;
const dayShift = (day: string, days: number) => new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString();

/**
 * The issued documents (invoices, and credit notes, whose `type` says so) dated in `range`, in
 * pages: where accounting reads them from. The frozen invoices' table holds both; a document
 * without an issue date (frozen before they were written) is dated by its close, in the seller's
 * time zone, so the query takes those closed within a day of the range and accountingDates
 * decides.
 */
export async function* issuedDocuments(q: Sql, range: DayRange, page = PAGE): AsyncGenerator<Invoice> {
  // Invoices, then credit notes (cloud-sync/billing/credit-notes.ts): the journal sorts them by date.
  for (const table of ['billing_invoices', 'billing_credit_notes']) yield* issuedIn(q, table, range, page);
}

async function* issuedIn(q: Sql, table: string, range: DayRange, page: number): AsyncGenerator<Invoice> {
  const d = sqlDialect(q);
  const issued = d.jsonText('body', 'issueDate');
  let after = '';
  for (;;) {
    const rows = await q.all<{ number: string; body: string }>(
      `SELECT number, body FROM ${table} WHERE number > ? AND (${issued} BETWEEN ? AND ? OR (${issued} IS NULL AND ${d.jsonText('body', 'closedAt')} BETWEEN ? AND ?)) ORDER BY number LIMIT ${page}`,
      [after, range.from, range.to, dayShift(range.from, -1), dayShift(range.to, 2)],
    );
    for (const row of rows) {
      const doc = JSON.parse(row.body) as Invoice;
      const { date } = accountingDates(doc);
      if (date >= range.from && date <= range.to) yield doc;
    }
    const last = rows.at(-1);
    if (!last || rows.length < page) return;
    after = last.number;
  }
}

/** A FEC as handed over: its name, its bytes (ISO 8859-15), and what it holds. */
export interface FecFile {
  fileName: string;
  bytes: Buffer;
  /** Entries (one per document with an amount), their lines, and the documents of 0.00 left out. */
  entries: number;
  lines: number;
  empty: number;
  /** The sum of the debits, which is that of the credits. */
  debitCents: number;
}

/** The accounting side of billing: the accounts the journal posts to, and the FEC. */
export class BillingAccounting {
  private readonly log: Logger;

  constructor(private readonly deps: { db: HubDb; now: () => number; log: Logger }) {
    this.log = deps.log.child({ module: 'accounting' });
  }

  /** The accounts set with setAccounts, or the defaults. */
  async accounts(): Promise<FecAccounts> {
    const value = await this.deps.db.value<string>('SELECT value FROM billing_accounting WHERE id = 1');
    return FecAccounts.parse(value === undefined ? {} : JSON.parse(value));
  }

  async setAccounts(accounts: FecAccounts): Promise<FecAccounts> {
    const parsed = FecAccounts.parse(accounts);
    await this.deps.db.run(
      'INSERT INTO billing_accounting (id, value, updated_at) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
      [JSON.stringify(parsed), this.deps.now()],
    );
    this.log.info({ journal: parsed.journal.code }, 'FEC accounts updated');
    return parsed;
  }

  /**
   * The FEC of the documents dated in `range`. Its name carries `siren`, else the seller's SIREN
   * on the range's latest document, else none (`FECYYYYMMDD.txt`).
   */
  async fec(range: DayRange, options: { separator: '\t' | '|'; siren?: string | undefined }): Promise<FecFile> {
    const journal = new FecJournal(await this.accounts());
    let latest: { date: string; siren: string | undefined } | undefined;
    for await (const doc of issuedDocuments(this.deps.db, range)) {
      journal.add(doc);
      const { date } = accountingDates(doc);
      const siren = doc.seller?.siren;
      if (siren !== undefined && /^\d{9}$/.test(siren) && (latest === undefined || date >= latest.date))
        latest = { date, siren };
    }
    const rows = journal.rows();
    const file: FecFile = {
      fileName: fecFileName(options.siren ?? latest?.siren, range.to),
      bytes: encodeLatin9(fecText(rows, options.separator)),
      entries: journal.size,
      lines: rows.length,
      empty: journal.empty,
      debitCents: journal.debitCents,
    };
    this.log.info({ ...range, entries: file.entries, lines: file.lines, file: file.fileName }, 'FEC written');
    return file;
  }
}
