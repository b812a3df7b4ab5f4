import { parse } from 'csv-parse/sync';
import { TesseraError } from '../../../shared/platform/errors.js';
import { isCalendarDate } from './status.js';

/**
 * A bank statement as CSV (docs/billing.md "Importing a bank statement"): what banks export,
 * read without guessing. The text is UTF-8 (a BOM is dropped); fields are separated by `;` or
 * `,` (or a tab), whichever the header line uses most; the header may follow a few lines of
 * preamble (account number, period), and names at least a date, an amount (or a credit and a
 * debit column) and a label or a reference. Other columns (balance, category) are ignored.
 * Amounts are read in French (`1 234,56`, `-12,00 €`) or English (`1,234.56`) form; one that
 * could be either (`1,234`) is refused, never guessed.
 */

/** The largest statement the import reads (a year of a busy account is under 1 MB). */
export const MAX_STATEMENT_BYTES = 4 * 1024 * 1024;
/** The most operations a statement may hold. */
export const MAX_STATEMENT_LINES = 50_000;
/** How far down the header may be: lines of preamble before it. */
const MAX_PREAMBLE_LINES = 20;
/** Labels are cut to this many characters. */
const MAX_LABEL = 500;

export interface StatementLine {
  /** The file's line number (the first is 1). */
  line: number;
  /** `YYYY-MM-DD`. */
  date: string;
  /** Positive: money received; negative: money out. */
  amountCents: number;
  /** The label and reference columns, joined by ` / `. */
  label: string;
}

export interface StatementProblem {
  line: number;
  column?: string;
  message: string;
}

const invalid = (message: string, details: Array<{ path: string; message: string }> = []) =>
  new TesseraError('import.invalid', message, details);

/**
 * The statement's text. Bytes must be UTF-8 (a statement in Latin-1 or Windows-1252 is refused
 * with the line of the first byte that is not, rather than read wrong); UTF-16 is refused by its
 * BOM. Text already decoded (an HTTP body) is refused if it holds U+FFFD, the mark of bytes that
 * were not UTF-8. A leading BOM is dropped.
 */
export function decodeStatement(input: Uint8Array | string): string {
  let text: string;
  if (typeof input === 'string') {
    text = input;
    const bad = text.indexOf('\uFFFD');
    if (bad >= 0) throw notUtf8(lineAt(text, bad));
  } else {
    if ((input[0] === 0xff && input[1] === 0xfe) || (input[0] === 0xfe && input[1] === 0xff))
      throw invalid('the statement is in UTF-16: export it as UTF-8 (or "CSV UTF-8")');
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      const decoded = new TextDecoder('utf-8').decode(input);
      throw notUtf8(lineAt(decoded, decoded.indexOf('\uFFFD')));
    }
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.includes('\u0000')) throw invalid('the statement holds NUL characters: it is not a text file');
  return text;
}

const lineAt = (text: string, index: number) => text.slice(0, Math.max(0, index)).split('\n').length;
const notUtf8 = (line: number) =>
  invalid(`the statement is not UTF-8 (line ${line}): export it as UTF-8, or "CSV UTF-8"`, [
    { path: `line ${line}`, message: 'not UTF-8 (Latin-1 or Windows-1252?)' },
  ]);

type Role = 'date' | 'amount' | 'credit' | 'debit' | 'label' | 'reference';

/** Header names by role, normalised (lower case, no accents, words separated by one space, currency dropped). */
const COLUMN_NAMES: Record<Role, readonly string[]> = {
  // In order of preference: the operation's date before the value date.
  date: [
    'date',
    'date operation',
    'date de l operation',
    'date d operation',
    'date comptable',
    'booking date',
    'transaction date',
    'date valeur',
    'date de valeur',
    'value date',
  ],
  amount: ['amount', 'montant', 'montant operation', 'montant de l operation', 'somme'],
  credit: ['credit', 'credits', 'montant credit', 'credit amount'],
  debit: ['debit', 'debits', 'montant debit', 'debit amount'],
  label: [
    'label',
    'libelle',
    'libelle operation',
    'libelle de l operation',
    'libelle simplifie',
    'description',
    'details',
    'motif',
    'intitule',
  ],
  reference: [
    'reference',
    'ref',
    'references',
    'reference operation',
    'communication',
    'information complementaire',
    'informations complementaires',
    'remittance information',
  ],
};

/** Lower case, accents off, punctuation to spaces, one space between words. */
export const normalised = (text: string): string =>
  text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();

/** A header cell's name without a currency: `Montant (EUR)` and `Crédit €` are `montant`, `credit`. */
const headerName = (cell: string) =>
  normalised(cell.replace(/€/g, ' '))
    .replace(/\b(en )?(eur|euro|euros)\b/g, '')
    .trim();

type Columns = Partial<Record<Role, number>>;

function columnsOf(cells: readonly string[]): Columns {
  const names = cells.map(headerName);
  const out: Columns = {};
  for (const role of Object.keys(COLUMN_NAMES) as Role[])
    for (const wanted of COLUMN_NAMES[role]) {
      const i = names.indexOf(wanted);
      if (i >= 0 && !Object.values(out).includes(i)) {
        out[role] = i;
        break;
      }
    }
  return out;
}

const usable = (c: Columns) =>
  c.date !== undefined &&
  (c.amount !== undefined || c.credit !== undefined) &&
  (c.label !== undefined || c.reference !== undefined);

/** The separator the header uses most, outside quotes: `;`, `,` or a tab (`;` on a tie). */
function delimiterOf(header: string): string {
  const counts = new Map<string, number>([
    [';', 0],
    [',', 0],
    ['\t', 0],
  ]);
  let quoted = false;
  for (const ch of header) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && counts.has(ch)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  }
  return [...counts].reduce((best, c) => (c[1] > best[1] ? c : best), [';', 0] as [string, number])[0];
}

/** Money as integer cents: `1 234,56`, `1.234,56`, `1,234.56`, `-12`, `+5,5 €`; undefined if it is none, or could be two. */
export function parseAmountCents(text: string): number | undefined {
  let t = text
    .replace(/[\s\u00a0\u202f']/g, '')
    .replace(/€/g, '')
    .replace(/^eur|eur$/i, '');
  let sign = 1;
  if (/^[+-]/.test(t)) {
    sign = t.startsWith('-') ? -1 : 1;
    t = t.slice(1);
  } else if (t.endsWith('-')) {
    sign = -1;
    t = t.slice(0, -1);
  }
  if (!/^\d([\d.,]*\d)?$/.test(t)) return undefined;
  const last = Math.max(t.lastIndexOf('.'), t.lastIndexOf(','));
  let units = t;
  let fraction = '';
  if (last >= 0) {
    const sep = t.charAt(last);
    const other = sep === ',' ? '.' : ',';
    const before = t.slice(0, last);
    const after = t.slice(last + 1);
    if (after.length <= 2) {
      // The decimal separator: thousands, if any, are grouped with the other one.
      if (before.includes(sep)) return undefined;
      units = grouped(before, other);
      fraction = after;
    } else if (after.length === 3 && before.includes(sep) && !before.includes(other)) {
      // `1.234.567`: the separator appears more than once, so it groups thousands.
      units = grouped(t, sep);
    } else return undefined; // `1,234` alone is 1.234 or 1234: not guessed
  }
  if (units === '') return undefined;
  const cents = Number(units) * 100 + Number(fraction.padEnd(2, '0'));
  return Number.isSafeInteger(cents) ? sign * cents : undefined;
}

/** Digits grouped by threes with `sep` (`1.234.567`), as digits; '' if the grouping is wrong. */
function grouped(text: string, sep: string): string {
  if (!text.includes(sep)) return /^\d+$/.test(text) ? text : '';
  const groups = text.split(sep);
  const [first, ...rest] = groups;
  if (first === undefined || !/^\d{1,3}$/.test(first) || rest.some((g) => !/^\d{3}$/.test(g))) return '';
  return groups.join('');
}

/** `2026-12-02`, `02/12/2026`, `02-12-2026`, `02.12.2026`, `02/12/26` (day first), a time after it ignored. */
export function parseStatementDate(text: string): string | undefined {
  const t = text.trim().split(/[\sT]/)[0] ?? '';
  let iso: string | undefined;
  const ymd = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t);
  const dmy = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})$/.exec(t);
  if (ymd) iso = t;
  else if (dmy) {
    const [, d = '', m = '', y = ''] = dmy;
    iso = `${y.length === 2 ? `20${y}` : y}-${m.padStart(2, '0')}-${d.padStart(2, '0')}`;
  }
  return iso !== undefined && isCalendarDate(iso) ? iso : undefined;
}

/**
 * The operations of a statement's text. A statement whose header cannot be found, or that is too
 * long, is refused whole (`import.invalid`); a line whose date or amount cannot be read is a
 * problem of its own, and the other lines are read.
 */
export function parseStatement(text: string): { lines: StatementLine[]; problems: StatementProblem[] } {
  const rawLines = text.split(/\r\n|\n|\r/);
  let headerAt = -1;
  let columns: Columns = {};
  let delimiter = ';';
  for (let i = 0; i < Math.min(rawLines.length, MAX_PREAMBLE_LINES + 1); i++) {
    const raw = rawLines[i] ?? '';
    if (raw.trim() === '') continue;
    const d = delimiterOf(raw);
    const cells = cellsOf(raw, d);
    const c = cells ? columnsOf(cells) : {};
    if (usable(c)) {
      headerAt = i;
      columns = c;
      delimiter = d;
      break;
    }
  }
  if (headerAt < 0)
    throw invalid(
      'no header line naming a date, an amount (or credit) and a label (or reference) column: see docs/billing.md "Importing a bank statement"',
      [
        {
          path: 'line 1',
          message: `read: ${JSON.stringify((rawLines.find((l) => l.trim() !== '') ?? '').slice(0, 200))}`,
        },
      ],
    );
  let records: string[][];
  try {
    records = parse(rawLines.slice(headerAt + 1).join('\n'), {
      delimiter,
      relax_column_count: true,
      skip_empty_lines: false,
      relax_quotes: true,
    }) as string[][];
  } catch (err) {
    const e = err as Error & { lines?: number };
    const line = headerAt + 1 + (e.lines ?? 1);
    throw invalid(`line ${line}: ${e.message}`, [{ path: `line ${line}`, message: e.message }]);
  }
  if (records.length > MAX_STATEMENT_LINES)
    throw invalid(`more than ${MAX_STATEMENT_LINES} lines: split the statement`);
  const lines: StatementLine[] = [];
  const problems: StatementProblem[] = [];
  // Quoted fields may span lines: each record's first line is counted from the ones before it.
  let lineNo = headerAt + 2;
  for (const record of records) {
    const line = lineNo;
    lineNo += 1 + record.reduce((n, f) => n + (f.match(/\r\n|\n|\r/g)?.length ?? 0), 0);
    if (record.every((f) => f.trim() === '')) continue;
    const cell = (role: Role) => (columns[role] === undefined ? '' : (record[columns[role]] ?? '').trim());
    const date = parseStatementDate(cell('date'));
    if (date === undefined) {
      problems.push({ line, column: 'date', message: `not a date: ${JSON.stringify(cell('date').slice(0, 40))}` });
      continue;
    }
    const amount = amountOf(cell);
    if (typeof amount === 'string') {
      problems.push({ line, column: 'amount', message: amount });
      continue;
    }
    const label = [cell('label'), cell('reference')]
      .filter((s) => s !== '')
      .join(' / ')
      .replace(/\s+/g, ' ')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f]/g, ' ')
      .slice(0, MAX_LABEL);
    lines.push({ line, date, amountCents: amount, label });
  }
  return { lines, problems };
}

/** The line's amount from the amount column, or from the credit and debit columns; a message if unreadable. */
function amountOf(cell: (role: Role) => string): number | string {
  const read = (role: Role) => {
    const text = cell(role);
    if (text === '') return 0;
    const cents = parseAmountCents(text);
    return cents === undefined
      ? `not an amount, or one that could be read two ways: ${JSON.stringify(text.slice(0, 40))}`
      : cents;
  };
  if (cell('amount') !== '') return read('amount');
  const credit = read('credit');
  const debit = read('debit');
  if (typeof credit === 'string') return credit;
  if (typeof debit === 'string') return debit;
  if (credit === 0 && debit === 0) return 'no amount';
  // A debit column holds money out, written with or without its minus sign.
  return credit !== 0 ? Math.abs(credit) : -Math.abs(debit);
}

/** The cells of one line (the header), or undefined if it is not one CSV record. */
function cellsOf(raw: string, delimiter: string): string[] | undefined {
  try {
    const [record] = parse(raw, { delimiter, relax_quotes: true, relax_column_count: true }) as string[][];
    return record;
  } catch {
    return undefined;
  }
}
