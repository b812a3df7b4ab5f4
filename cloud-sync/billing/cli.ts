import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Command, Io } from '../../shared/platform/command.js';
import { EXIT } from '../../shared/platform/command.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { describeIssues, formatDetails } from '../../shared/platform/validation.js';
import { FecQuery } from '../../shared/protocol/api/hub-billing-fec.js';
import { BillingAccounting, fecRange, type DayRange } from './accounting.js';
import pino, { type Logger } from 'pino';
import { hubDbExists, hubDbTarget, openHubDatabase, type HubDb } from '../hub/db.js';
import { HubDirectory } from '../hub/directory.js';
import { HubSites } from '../hub/sites.js';
import { formatCents, invoicesCsv } from './export.js';
import { CSV_DIALECTS, type CsvDialect } from '../../shared/platform/csv.js';
import { BillingLedger, type PeriodSummary } from './ledger.js';
import { PeriodId } from './period.js';
import { progressReporter } from './progress.js';
import type { UnpricedUse } from './unpriced.js';
import { checkUntrusted } from '../../shared/platform/check-untrusted.js';

interface Parsed {
  period: string;
  db: string;
  format: 'json' | 'csv';
  dialect: CsvDialect;
  invoice: string | undefined;
  /** The result as one JSON object on stdout. */
  json: boolean;
}

/** Reports a bad command line with the usage: exit 64. */
const usageError =
  (io: Io, usage: string) =>
  (message: string): number => {
    io.err(`tessera: ${message}\nusage: tessera ${usage}`);
    return EXIT.USAGE;
  };

function parse(args: string[], io: Io, usage: string, exportOptions: boolean): Parsed | number {
  const fail = usageError(io, usage);
  let parsed;
  try {
    const options: ParseArgsConfig['options'] = exportOptions
      ? {
          db: { type: 'string' },
          format: { type: 'string' },
          dialect: { type: 'string' },
          invoice: { type: 'string' },
          json: { type: 'boolean' },
        }
      : { db: { type: 'string' }, json: { type: 'boolean' } };
    parsed = parseArgs({ args, options, allowPositionals: true });
  } catch (err) {
    return fail((err as Error).message);
  }
  const [period, ...extra] = parsed.positionals;
  if (period === undefined || extra.length > 0) return fail('expected one month, YYYY-MM');
  if (!PeriodId.safeParse(period).success) return fail(`expected a month "YYYY-MM", got "${period}"`);
  const values = parsed.values as { db?: string; format?: string; dialect?: string; invoice?: string; json?: boolean };
  if (values.json === true && values.format !== undefined && values.format !== 'json')
    return fail(`--json and --format ${values.format} exclude each other`);
  const format = values.format ?? (values.json === true ? 'json' : 'csv');
  if (format !== 'csv' && format !== 'json') return fail(`--format expects csv or json, got "${format}"`);
  const dialect = values.dialect ?? 'rfc4180';
  if (!isCsvDialect(dialect)) return fail(`--dialect expects ${CSV_DIALECTS.join(' or ')}, got "${dialect}"`);
  return { period, db: hubDbTarget(values.db), format, dialect, invoice: values.invoice, json: values.json === true };
}

/**
 * Opens the hub's database (WAL, busy timeout: safe beside a running hub) and runs `fn` on it;
 * a TesseraError is one line (with its details) and exit 1.
 */
async function withHubDb(db: string, io: Io, fn: (handle: HubDb, log: Logger) => Promise<number>): Promise<number> {
  // Opening would create an empty database: a mistyped path must not look like a month without events.
  if (!hubDbExists(db)) {
    io.err(`tessera: no hub database at ${db} (--db FILE or postgres://URL; the hub's default is var/hub.db)`);
    return EXIT.FAILURE;
  }
  // stdout carries the report or the export: logs go to stderr, warnings and worse unless asked.
  const log = pino(
    { name: 'tessera-billing', level: process.env.TESSERA_LOG_LEVEL ?? 'warn' },
    pino.destination({ fd: 2, sync: true }),
  );
  let handle;
  try {
    handle = await openHubDatabase(db);
    return await fn(handle, log);
  } catch (err) {
    if (!(err instanceof TesseraError)) throw err;
    io.err(`tessera: ${err.message} [${err.code}]${err.details.length > 0 ? `\n${formatDetails(err.details)}` : ''}`);
    return EXIT.FAILURE;
  } finally {
    await handle?.close();
  }
}

/** Runs `fn` on the hub database's billing ledger (withHubDb). */
const withLedger = (db: string, io: Io, fn: (ledger: BillingLedger) => Promise<number>): Promise<number> =>
  withHubDb(db, io, (handle, log) =>
    fn(
      new BillingLedger({
        db: handle,
        directory: new HubDirectory(handle),
        sites: new HubSites(handle, Date.now),
        now: Date.now,
        log,
      }),
    ),
  );

const isCsvDialect = (d: string): d is CsvDialect => (CSV_DIALECTS as readonly string[]).includes(d);

const money = (cents: number, currency: string) => `${formatCents(cents)} ${currency}`;

interface Closed {
  summary: PeriodSummary;
  numbers: string[];
  currency: string;
  credits: string[];
}

/** What `billing close --json` prints: the closed month's figures, warnings stay on stderr. */
function closedJson({ summary: s, numbers, currency, credits }: Closed): string {
  return JSON.stringify({
    period: s.period,
    invoices: s.invoices,
    numbers: numbers.length > 0 ? { first: numbers[0], last: numbers.at(-1) } : null,
    creditNotes: credits.length > 0 ? { count: credits.length, first: credits[0], last: credits.at(-1) } : null,
    currency,
    subtotalCents: s.subtotalCents,
    vatCents: s.vatCents,
    totalCents: s.totalCents,
    cutoff: s.cutoff,
  });
}

function report(io: Io, { summary: s, numbers, currency, credits }: Closed, json: boolean): void {
  const range = numbers.length > 0 ? ` (${numbers[0]} to ${numbers.at(-1)})` : '';
  if (json) io.out(closedJson({ summary: s, numbers, currency, credits }));
  else reportText(io, { summary: s, numbers, currency, credits }, range);
  warnClosed(io, s, currency);
}

function reportText(io: Io, { summary: s, currency, credits }: Closed, range: string): void {
  io.out(
    `closed ${s.period}: ${s.invoices} invoice(s)${range}; subtotal ${money(s.subtotalCents, currency)}, VAT ${money(s.vatCents, currency)}, total ${money(s.totalCents, currency)}`,
  );
  if (credits.length > 0)
    io.out(
      `${credits.length} credit note(s) (${credits[0]} to ${credits.at(-1)}) for what late events took off closed months`,
    );
  io.out(
    `events received up to ${s.cutoff} are on these invoices; later ones go on the next period's as adjustments, or on credit notes`,
  );
}

function warnClosed(io: Io, s: PeriodSummary, currency: string): void {
  if (s.missing?.seller === true)
    io.err('note: no seller setting (PUT /billing/seller): no lawful document can be made of these invoices');
  if ((s.missing?.buyers.length ?? 0) > 0)
    io.err(
      `note: ${s.missing?.buyers.length} account(s) without a buyer identity (PUT /billing/buyers/:account): ${s.missing?.buyers.slice(0, 10).join(', ')}`,
    );
  for (const u of s.unbilled)
    io.err(
      `warning: member ${u.member} is not in the directory: ${u.days} day(s), ${u.consumables} consumable use(s) not billed`,
    );
  for (const d of s.admittedBeyondQuota ?? [])
    io.err(
      `warning: member ${d.member} (plan ${d.plan}) was let in at ${d.site} on ${d.date} beyond the days a week the plan allows: charged ${money(d.unitCents, currency)}`,
    );
  warnUnpriced(io, s.unpriced);
}

/** Item names quoted as JSON: a name an older hub stored may hold anything, a terminal escape included. */
function warnUnpriced(io: Io, unpriced: readonly UnpricedUse[]): void {
  for (const u of unpriced)
    io.err(
      `warning: item ${JSON.stringify(u.item)} has no price: ${u.uses} use(s), ${u.quantity} unit(s) at ${u.site} in ${u.period} not charged`,
    );
}

export const billingCloseCommand: Command = {
  name: 'billing close',
  summary:
    'Closes a month: rates its events, adds adjustments for late events of closed months, numbers and freezes the invoices. Progress on stderr.',
  usage: 'billing close YYYY-MM [--db FILE|URL] [--json]',
  async run(args, io) {
    const opts = parse(args, io, this.usage, false);
    if (typeof opts === 'number') return opts;
    const stderr = { isTTY: process.stderr.isTTY === true, write: (t: string) => void process.stderr.write(t) };
    return withLedger(opts.db, io, async (ledger) => {
      const summary = await ledger.close(opts.period, progressReporter(stderr));
      if (stderr.isTTY) stderr.write('\n');
      const invoices = await ledger.invoices(opts.period);
      const closed = {
        summary,
        numbers: invoices.map((i) => i.number ?? ''),
        currency: invoices[0]?.currency ?? (await ledger.prices())?.currency ?? 'EUR',
        credits: (await ledger.creditNotesIssuedIn(opts.period)).map((c) => c.number ?? ''),
      };
      report(io, closed, opts.json);
      return EXIT.OK;
    });
  },
};

export const billingExportCommand: Command = {
  name: 'billing export',
  summary:
    'Prints the invoices of a month (or one, --invoice), as CSV or JSON (--json is --format json); a month not yet closed prints a preview.',
  usage:
    'billing export YYYY-MM [--db FILE|URL] [--format csv|json | --json] [--dialect rfc4180|excel-fr] [--invoice YYYY-NNNNNN]',
  async run(args, io) {
    const opts = parse(args, io, this.usage, true);
    if (typeof opts === 'number') return opts;
    return withLedger(opts.db, io, async (ledger) => {
      const closed = (await ledger.closed(opts.period)) !== undefined;
      if (!closed) io.err(`tessera: ${opts.period} is not closed: this is a preview, without invoice numbers`);
      const preview = closed ? undefined : await ledger.preview(opts.period);
      if (preview) warnUnpriced(io, preview.summary.unpriced);
      let invoices = preview ? preview.invoices : await ledger.invoices(opts.period);
      if (opts.invoice !== undefined) {
        invoices = invoices.filter((i) => i.number === opts.invoice);
        if (invoices.length === 0) throw new TesseraError('not_found', `no invoice ${opts.invoice} in ${opts.period}`);
      }
      // `io.out` ends what it prints with "\n": the CSV's last "\r\n" loses its "\n" to it, so that every row ends with CRLF, as from the API.
      io.out(
        opts.format === 'json'
          ? JSON.stringify({ invoices }, null, 2)
          : invoicesCsv(invoices, opts.dialect).slice(0, -1),
      );
      return EXIT.OK;
    });
  },
};

interface FecArgs {
  db: string;
  range: DayRange;
  separator: '\t' | '|';
  siren: string | undefined;
  out: string | undefined;
  json: boolean;
}

function parseFec(args: string[], io: Io, usage: string): FecArgs | number {
  const fail = usageError(io, usage);
  let values;
  try {
    const options = {
      db: { type: 'string' },
      year: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      separator: { type: 'string' },
      siren: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
    } as const;
    ({ values } = parseArgs({ args, options }));
  } catch (err) {
    return fail((err as Error).message);
  }
  const { db, out, json, ...query } = values;
  if (json === true && out === '-')
    return fail('--json prints the summary on stdout: write the file with --out FILE|DIR');
  const parsed = checkUntrusted(FecQuery, query);
  if (!parsed.success)
    return fail(
      describeIssues(parsed.error, query)
        .map((d) => `--${d.path}: ${d.message}`)
        .join('; '),
    );
  let range;
  try {
    range = fecRange(parsed.data);
  } catch (err) {
    if (!(err instanceof TesseraError)) throw err;
    return fail(err.message);
  }
  const { separator, siren } = parsed.data;
  return { db: hubDbTarget(db), range, separator: separator === 'pipe' ? '|' : '\t', siren, out, json: json === true };
}

/** Where the FEC goes: `--out FILE`, into `--out DIR` under its own name, `-` for stdout; by default its own name here. */
function fecTarget(out: string | undefined, fileName: string): string {
  if (out === undefined) return fileName;
  return out !== '-' && existsSync(out) && statSync(out).isDirectory() ? join(out, fileName) : out;
}

export const billingFecCommand: Command = {
  name: 'billing fec',
  summary:
    'Writes the sales journal of a year or a date range as a FEC (fichier des écritures comptables): one entry per issued invoice or credit note, named SIRENFECYYYYMMDD.txt.',
  usage:
    'billing fec (--year YYYY | --from YYYY-MM-DD --to YYYY-MM-DD) [--db FILE|URL] [--separator tab|pipe] [--siren NNNNNNNNN] [--out FILE|DIR|-] [--json]',
  async run(args, io) {
    const opts = parseFec(args, io, this.usage);
    if (typeof opts === 'number') return opts;
    return withHubDb(opts.db, io, async (db, log) => {
      const accounting = new BillingAccounting({ db, now: Date.now, log });
      const file = await accounting.fec(opts.range, { separator: opts.separator, siren: opts.siren });
      const target = fecTarget(opts.out, file.fileName);
      const summary = `${file.entries} entr${file.entries === 1 ? 'y' : 'ies'} from ${opts.range.from} to ${opts.range.to}, ${file.lines} lines; debit = credit = ${formatCents(file.debitCents)} EUR${file.empty > 0 ? `; ${file.empty} document(s) of 0.00 have no entry` : ''}`;
      if (target === '-') {
        process.stdout.write(file.bytes);
        io.err(summary);
      } else {
        writeFileSync(target, file.bytes);
        const { entries, lines, debitCents, empty } = file;
        const written = { file: target, ...opts.range, entries, lines, debitCents, creditCents: debitCents, empty };
        io.out(opts.json ? JSON.stringify(written) : `wrote ${target}: ${summary}`);
      }
      return EXIT.OK;
    });
  },
};
