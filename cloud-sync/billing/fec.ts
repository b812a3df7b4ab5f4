import { DateTime } from 'luxon';
import { decimalComma } from '../../shared/platform/csv.js';
import { TesseraError } from '../../shared/platform/errors.js';
import type { FecAccounts } from '../../shared/protocol/api/hub-billing-fec.js';
import { formatCents } from './export.js';
import type { Invoice } from './invoice.js';

/**
 * The sales journal as a FEC, "fichier des écritures comptables" (article A47 A-1 of the LPF):
 * the 18 columns in their order, one entry per issued invoice or credit note (docs/billing.md
 * "Accounting exports (FEC)"). Pure: the documents in, the file's text out.
 */
export const FEC_COLUMNS = [
  'JournalCode',
  'JournalLib',
  'EcritureNum',
  'EcritureDate',
  'CompteNum',
  'CompteLib',
  'CompAuxNum',
  'CompAuxLib',
  'PieceRef',
  'PieceDate',
  'EcritureLib',
  'Debit',
  'Credit',
  'EcritureLet',
  'DateLet',
  'ValidDate',
  'Montantdevise',
  'Idevise',
] as const;

/** The seller's time zone: what dates a document frozen before issue dates were written on it. */
const SELLER_ZONE = 'Europe/Paris';

/** The amounts are the accounting currency's: a document in another cannot be written without a rate. */
const ACCOUNTING_CURRENCY = 'EUR';

const localDate = (iso: string): string =>
  DateTime.fromISO(iso, { zone: 'utc' }).setZone(SELLER_ZONE).toISODate() ?? '';

/**
 * A document's dates, `YYYY-MM-DD`: the entry's (and the piece's), its issue date, or for one
 * frozen before issue dates were written, the seller's local date of its close; and the date
 * it was validated, frozen for good: its close, never before its own date.
 */
export function accountingDates(doc: Invoice): { date: string; validDate: string } {
  const closed = doc.closedAt === null ? undefined : localDate(doc.closedAt);
  const date = doc.issueDate ?? closed ?? '';
  return { date, validDate: closed !== undefined && closed > date ? closed : date };
}

/**
 * The auxiliary (customer) account of a billed account: the one set for it, else the prefix and
 * its id in capitals, letters and digits only (`employer:acme` is `411ACME`).
 */
export function auxiliaryAccount(accounts: FecAccounts, account: Invoice['account']): string {
  return (
    accounts.auxiliary[`${account.kind}:${account.id}`] ??
    `${accounts.customers.auxiliaryPrefix}${account.id.toUpperCase().replace(/[^0-9A-Z]/g, '')}`
  );
}

/** One line of an entry: an account, and its amount in cents, positive on the debit side, negative on the credit side. */
interface Posting {
  account: string;
  label: string;
  auxiliary: { account: string; name: string } | undefined;
  cents: number;
}

interface Entry {
  date: string;
  validDate: string;
  /** Invoices before credit notes on the same day, then by number. */
  rank: number;
  piece: string;
  label: string;
  postings: Posting[];
}

/** A VAT rate as the accounts' keys write it: `20`, `5.5`. */
const rateKey = (percent: number): string => String(percent);

function check(doc: Invoice): void {
  const fail = (why: string) => {
    throw new TesseraError('billing.not_exportable', `${doc.number ?? 'a document'}: ${why}`);
  };
  if (doc.number === null) fail('a preview has no number and no place in the accounts');
  if (doc.currency !== ACCOUNTING_CURRENCY)
    fail(`its amounts are in ${doc.currency}; the FEC holds ${ACCOUNTING_CURRENCY} amounts only`);
  const base = doc.vat.reduce((s, v) => s + v.baseCents, 0);
  const vat = doc.vat.reduce((s, v) => s + v.vatCents, 0);
  if (base !== doc.subtotalCents || vat !== doc.vatCents || base + vat !== doc.totalCents)
    fail('its VAT breakdown does not add up to its totals');
}

/** Adds `cents` to the posting of `account` in `byAccount`, making it if new. */
function post(byAccount: Map<string, Posting>, to: { account: string; label: string }, cents: number): void {
  const p = byAccount.get(to.account);
  if (p) p.cents += cents;
  else byAccount.set(to.account, { account: to.account, label: to.label, auxiliary: undefined, cents });
}

/**
 * The entry of one document: the customer's total on the debit side, revenue and VAT by rate
 * on the credit side; a credit note (amounts positive, money back) the other way round. An
 * amount below zero (an invoice whose adjustments outweigh its month) goes to the other side.
 * Accounts with nothing on them are left out; a document of 0.00 has no entry.
 */
function entryOf(doc: Invoice, accounts: FecAccounts, auxiliary: string): Entry | undefined {
  check(doc);
  const credit = doc.type === 'credit-note';
  const sign = credit ? -1 : 1;
  const name = doc.buyer?.name ?? doc.account.name;
  const revenue = new Map<string, Posting>();
  const vat = new Map<string, Posting>();
  for (const v of doc.vat) {
    const rate = rateKey(v.vatPercent);
    post(revenue, accounts.revenue.byRate[rate] ?? accounts.revenue, -sign * v.baseCents);
    post(vat, accounts.vat.byRate[rate] ?? accounts.vat, -sign * v.vatCents);
  }
  const byAccount = (m: Map<string, Posting>) => [...m.values()].sort((a, b) => (a.account < b.account ? -1 : 1));
  const postings = [
    {
      account: accounts.customers.account,
      label: accounts.customers.label,
      auxiliary: { account: auxiliary, name },
      cents: sign * doc.totalCents,
    },
    ...byAccount(revenue),
    ...byAccount(vat),
  ].filter((p) => p.cents !== 0);
  if (postings.length === 0) return undefined;
  const number = doc.number ?? '';
  const corrects = doc.corrects ? ` (facture ${doc.corrects.number})` : '';
  return {
    ...accountingDates(doc),
    rank: credit ? 1 : 0,
    piece: number,
    label: `${credit ? 'Avoir' : 'Facture'} ${number} ${name}${corrects}`,
    postings,
  };
}

/** A text cell: what separates cells or lines (tab, `|`, CR, LF, any control character) becomes a space. */
const cell = (text: string): string => text.replace(/[\t|\p{Cc}]+/gu, ' ').trim();
const compactDate = (date: string): string => date.replaceAll('-', '');
const amount = (cents: number): string => decimalComma(formatCents(cents));

/** The sales journal being written: documents in any order; sorted and numbered when read. */
export class FecJournal {
  private readonly entries: Entry[] = [];
  /** Each auxiliary account given, and the billed account it stands for: two accounts may not meet in one. */
  private readonly auxiliaries = new Map<string, string>();
  /** Documents of 0.00: nothing to post. */
  empty = 0;

  constructor(private readonly accounts: FecAccounts) {}

  add(doc: Invoice): void {
    const auxiliary = auxiliaryAccount(this.accounts, doc.account);
    const key = `${doc.account.kind}:${doc.account.id}`;
    const holder = this.auxiliaries.get(auxiliary) ?? key;
    if (holder !== key)
      throw new TesseraError(
        'billing.not_exportable',
        `${holder} and ${key} would both be the auxiliary account ${auxiliary}: give one its own in the FEC accounts' "auxiliary"`,
      );
    this.auxiliaries.set(auxiliary, key);
    const entry = entryOf(doc, this.accounts, auxiliary);
    if (entry) this.entries.push(entry);
    else this.empty++;
  }

  /**
   * The file's rows, without the header: the entries in the order they were validated (their
   * date, validation date, invoices before credit notes, number), numbered from 1 with no gap
   * (`VE000001`...), every line of an entry under its number.
   */
  rows(): string[][] {
    const { code, label: journal } = this.accounts.journal;
    const sorted = [...this.entries].sort(
      (a, b) =>
        a.date.localeCompare(b.date) ||
        a.validDate.localeCompare(b.validDate) ||
        a.rank - b.rank ||
        (a.piece < b.piece ? -1 : a.piece > b.piece ? 1 : 0),
    );
    return sorted.flatMap((e, i) =>
      e.postings.map((p) => [
        code,
        cell(journal),
        `${code}${String(i + 1).padStart(6, '0')}`,
        compactDate(e.date),
        p.account,
        cell(p.label),
        p.auxiliary?.account ?? '',
        cell(p.auxiliary?.name ?? ''),
        cell(e.piece),
        compactDate(e.date),
        cell(e.label),
        amount(Math.max(p.cents, 0)),
        amount(Math.max(-p.cents, 0)),
        '',
        '',
        compactDate(e.validDate),
        '',
        '',
      ]),
    );
  }

  get size(): number {
    return this.entries.length;
  }

  /** The sum of the debits (that of the credits: every entry balances). */
  get debitCents(): number {
    return this.entries.reduce((s, e) => s + e.postings.reduce((t, p) => t + Math.max(p.cents, 0), 0), 0);
  }
}

/** The FEC's text: the 18 column names, then the rows, cells separated by a tab or `|`, lines by CRLF. */
export function fecText(rows: readonly (readonly string[])[], separator: '\t' | '|'): string {
  return [FEC_COLUMNS, ...rows].map((r) => `${r.join(separator)}\r\n`).join('');
}

/** The name the FEC is handed over under: `SIRENFECYYYYMMDD.txt`, the date the fiscal year's (the range's) last day. */
export const fecFileName = (siren: string | undefined, to: string): string => `${siren ?? ''}FEC${compactDate(to)}.txt`;

/** Characters ISO 8859-15 has where ISO 8859-1 has others, and those eight ISO 8859-1 characters it has not. */
const LATIN9 = new Map([
  [0x20ac, 0xa4],
  [0x160, 0xa6],
  [0x161, 0xa8],
  [0x17d, 0xb4],
  [0x17e, 0xb8],
  [0x152, 0xbc],
  [0x153, 0xbd],
  [0x178, 0xbe],
]);
const NOT_LATIN9 = new Set(LATIN9.values());
/** What typography puts in names that ISO 8859-15 lacks, as the plain character it stands for. */
const PLAIN = new Map([
  ['\u2018', "'"],
  ['\u2019', "'"],
  ['\u201C', '"'],
  ['\u201D', '"'],
  ['\u2013', '-'],
  ['\u2014', '-'],
  ['\u2026', '...'],
  ['\u2009', ' '],
  ['\u202F', ' '],
]);

const latin9 = (cp: number): number | undefined =>
  LATIN9.get(cp) ?? (cp < 0x80 || (cp >= 0xa0 && cp <= 0xff && !NOT_LATIN9.has(cp)) ? cp : undefined);

/**
 * The text in ISO 8859-15, one of the character sets the LPF allows (French letters, `€`, `œ`
 * included). Another character is written as its letter without accent if it has one (`ł`
 * stays `?`, `ș` is `s`), a typographic quote or dash as the plain one, anything else as `?`.
 */
export function encodeLatin9(text: string): Buffer {
  const bytes: number[] = [];
  for (const ch of text) {
    const b = latin9(ch.codePointAt(0) ?? 0);
    if (b !== undefined) {
      bytes.push(b);
      continue;
    }
    for (const base of PLAIN.get(ch) ?? ch.normalize('NFD').replace(/\p{M}/gu, ''))
      bytes.push(latin9(base.codePointAt(0) ?? 0) ?? 0x3f);
  }
  return Buffer.from(bytes);
}
