import { parse as parseStream, type Options } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { csvDocument, restoreFormula, type CsvDialect } from '../../../shared/platform/csv.js';
import { detectCsvDelimiter } from '../../../shared/platform/csv-read.js';
import type { Badge, Member } from '../../../shared/protocol/directory.js';
import type { Slices } from '../slices.js';

/**
 * The members CSV (docs/hub.md "Members CSV"): one row per member, with the plan it is on and
 * the UIDs of its active badges. The same columns go out (export) and come in (import).
 */
export const MEMBER_COLUMNS = [
  'member_id',
  'name',
  'plan',
  'role',
  'employer',
  'status',
  'valid_from',
  'valid_until',
  'badges',
  'badge_type',
] as const;
export type MemberColumn = (typeof MEMBER_COLUMNS)[number];
const REQUIRED: readonly MemberColumn[] = ['member_id', 'name', 'plan'];

export interface CsvRow {
  /** The file's line number where the row starts (the header is line 1). */
  line: number;
  fields: Partial<Record<MemberColumn, string>>;
}

export interface RowError {
  line: number;
  column?: string;
  message: string;
}

type Parsed = Array<{ record: Record<string, string>; info: { lines: number } }>;

/**
 * csv-parse's options for a members file whose text is `text`; CSV-level problems go to
 * `errors` as row errors. The delimiter is the header line's: `,` or `;` (French Excel), or a tab.
 */
function csvOptions(text: string, errors: RowError[]): Options {
  return {
    bom: true,
    delimiter: detectCsvDelimiter(text),
    columns: (header: string[]) => checkHeader(header, errors),
    info: true,
    skip_empty_lines: true,
    trim: true,
    skip_records_with_error: true,
    on_skip: (err) => {
      if (err) errors.push({ line: typeof err.lines === 'number' ? err.lines : 1, message: err.message });
      return undefined;
    },
  };
}

const fatal = (err: unknown, errors: RowError[]) => {
  const e = err as Error & { lines?: number };
  return { rows: [], errors: [...errors, { line: e.lines ?? 1, message: e.message }] };
};

function rowsOf(records: Parsed, errors: RowError[]): { rows: CsvRow[]; errors: RowError[] } {
  // info.lines is where a record ends; a quoted field across lines started that many lines earlier.
  const startOf = (record: Record<string, string>, end: number) =>
    end - Object.values(record).reduce((n, v) => n + (v.match(/\n/g)?.length ?? 0), 0);
  const rows = records.map(({ record, info }) => ({
    line: startOf(record, info.lines),
    fields: record as CsvRow['fields'],
  }));
  return { rows, errors };
}

/** Parses the file's text; CSV-level problems (quotes, field counts, header) come back as row errors. */
export function parseMembersCsv(text: string): { rows: CsvRow[]; errors: RowError[] } {
  const errors: RowError[] = [];
  try {
    return rowsOf(parseSync(text, csvOptions(text, errors)) as unknown as Parsed, errors);
  } catch (err) {
    return fatal(err, errors);
  }
}

/** Characters of the file parsed between two turns of the event loop. */
const TEXT_SLICE = 16 * 1024;

/** The same as parseMembersCsv, a slice of the text at a time (a 5 MB file takes seconds). */
export async function parseMembersCsvInSlices(
  text: string,
  slices: Slices,
): Promise<{ rows: CsvRow[]; errors: RowError[] }> {
  const errors: RowError[] = [];
  const records: Parsed = [];
  const parser = parseStream(csvOptions(text, errors));
  let failure: unknown;
  parser.on('data', (r: Parsed[number]) => records.push(r));
  parser.on('error', (err) => (failure ??= err));
  const ended = new Promise<void>((resolve) => parser.once('end', resolve).once('error', () => resolve()));
  for (let at = 0; at < text.length && failure === undefined;) {
    // Never between the two halves of a surrogate pair: each slice is encoded on its own.
    const end =
      Math.min(text.length, at + TEXT_SLICE) + (/[\uD800-\uDBFF]/.test(text.charAt(at + TEXT_SLICE - 1)) ? 1 : 0);
    parser.write(text.slice(at, end));
    at = end;
    await slices.tick();
  }
  parser.end();
  await ended;
  return failure === undefined ? rowsOf(records, errors) : fatal(failure, errors);
}

function checkHeader(header: string[], errors: RowError[]): string[] {
  const names = header.map((h) => h.trim().toLowerCase());
  for (const h of names)
    if (!(MEMBER_COLUMNS as readonly string[]).includes(h))
      errors.push({ line: 1, column: h, message: `unknown column; expected some of ${MEMBER_COLUMNS.join(', ')}` });
  for (const r of REQUIRED)
    if (!names.includes(r)) errors.push({ line: 1, column: r, message: 'required column missing' });
  return names;
}

/**
 * A row's member and badges, as the directory schemas will check them. An optional column the
 * file has, left empty, is `null` (clear it); a column the file lacks is absent (keep it).
 */
export function entitiesOf(row: CsvRow): { member: Record<string, unknown>; badges: Array<Record<string, unknown>> } {
  const f = (c: MemberColumn) =>
    row.fields[c] === undefined || row.fields[c] === '' ? undefined : restoreFormula(row.fields[c]);
  const member: Record<string, unknown> = { id: f('member_id'), name: f('name'), plan: f('plan') };
  const optional: Array<[MemberColumn, string]> = [
    ['role', 'role'],
    ['employer', 'employer'],
    ['status', 'status'],
    ['valid_from', 'validFrom'],
    ['valid_until', 'validUntil'],
  ];
  for (const [column, key] of optional) if (column in row.fields) member[key] = f(column) ?? null;
  const uids = (f('badges') ?? '').split(/[\s;]+/).filter((u) => u !== '');
  const type = f('badge_type');
  return {
    member,
    badges: uids.map((uid) => ({ uid, member: member.id, status: 'active', ...(type ? { type } : {}) })),
  };
}

/**
 * The CSV of these members with their active badges, header first, in `dialect`
 * (shared/platform/csv.ts: a formula is neutralised with a leading `'`, which import takes off again).
 */
export function formatMembersCsv(
  members: Member[],
  badgesOf: (memberId: string) => Badge[],
  dialect: CsvDialect = 'rfc4180',
): string {
  const rows = members.map((m) => {
    const badges = badgesOf(m.id).filter((b) => b.status === 'active');
    const types = new Set(badges.map((b) => b.type));
    return [
      m.id,
      m.name,
      m.plan,
      m.role,
      m.employer ?? '',
      m.status,
      m.validFrom ?? '',
      m.validUntil ?? '',
      badges.map((b) => b.uid).join(' '),
      types.size === 1 ? ([...types][0] ?? '') : '',
    ];
  });
  return csvDocument(MEMBER_COLUMNS, rows, dialect);
}
