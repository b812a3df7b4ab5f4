import type { FastifyInstance, FastifyRequest } from 'fastify';
import { serve } from '../../../shared/platform/api-contract.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import {
  HubMemberCsvRoutes as Routes,
  type MemberImportResult,
} from '../../../shared/protocol/api/hub-admin-members-csv.js';
import type { Badge, Member } from '../../../shared/protocol/directory.js';
import type { Account } from '../auth/account.js';
import { ensureSite } from '../auth/guards.js';
import { DirectoryImport } from '../directory-import.js';
import { Slices } from '../slices.js';
import { sendCsvFile } from '../csv-reply.js';
import { decodeCsvBytes } from '../../../shared/platform/csv-read.js';
import type { AdminDeps } from './deps.js';
import { searchDirectory } from './directory-search.js';
import { applyImportInSlices, planImportInSlices } from './member-import.js';
import { formatMembersCsv, parseMembersCsvInSlices, type CsvRow, type RowError } from './members-csv.js';
import { DirectoryScope, plansOpening } from './scope.js';

/**
 * A members file of 100,000 rows is about 10 MB: this route alone takes such a body. Every other
 * route keeps the API's 1 MB limit, and the import is reached only once the caller's session has
 * been checked (the auth hook runs before any body is read).
 */
const CSV_BODY_LIMIT = 32 * 1024 * 1024;

/** At most this many problems are listed in an answer; the message gives the total. */
const MAX_DETAILS = 1000;
const detailsOf = (errors: RowError[]) =>
  errors
    .slice(0, MAX_DETAILS)
    .map((e) => ({ path: `line ${e.line}${e.column ? `: ${e.column}` : ''}`, message: e.message }));
const listed = (n: number) => (n > MAX_DETAILS ? ` (the first ${MAX_DETAILS} listed)` : '');

/**
 * The import takes CSV (or plain text) only, whatever its query: 415 before anything else is
 * checked, as a JSON body would otherwise be read against the text schema and refused 400.
 */
const csvOnly = async (req: FastifyRequest) => {
  if (typeof req.body !== 'string') throw new TesseraError('request.unsupported_type', 'send the file as text/csv');
};

/** Members in and out as CSV (docs/hub.md "Members CSV"). */
export function registerMemberCsvRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const { directory, db } = deps;
  // No bodyLimit of its own: a CSV or text body sent to any other route stays under the API's limit.
  // The bytes are decoded here: UTF-8, or Windows-1252 as a French Excel saves "CSV" (csv-read.ts).
  app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, decodeCsvBytes(body as Buffer)),
  );

  serve(
    app,
    Routes.import,
    async (req, reply) => {
      // A file of 200,000 rows takes a minute to check and write: in slices, so the hub keeps answering meanwhile.
      const slices = new Slices(deps.stopping);
      const parsed = await parseMembersCsvInSlices(req.body, slices);
      const header = parsed.errors.filter((e) => e.line === 1);
      if (header.length > 0)
        throw new TesseraError('import.invalid', 'the header is wrong: nothing was imported', detailsOf(header));
      const batch = await DirectoryImport.begin(db, directory, deps.importOwner ?? '', deps.now());
      let outcome: MemberImportResult | TesseraError;
      try {
        outcome = await importRows(deps, batch, { account: req.account, mode: req.query.mode }, parsed, slices);
      } catch (err) {
        // A hub stopping leaves the rows to the next start's roll-back: stopping now matters more.
        // Its connection is closed with the answer, or the server's close would wait for it (keep-alive, 72 s).
        if (deps.stopping?.aborted) void reply.header('connection', 'close');
        else await batch.rollback();
        throw err;
      }
      if (outcome instanceof TesseraError) throw outcome;
      return outcome;
    },
    { bodyLimit: CSV_BODY_LIMIT, preValidation: csvOnly },
  );

  serve(app, Routes.export, async (req, reply) => {
    const { dialect, ...q } = req.query;
    let plans = await new DirectoryScope(req.account, directory, db).plans();
    if (q.site !== undefined) {
      ensureSite(req, q.site);
      const opening = await plansOpening(db, directory, q.site);
      plans = plans ? plans.filter((p) => opening.includes(p)) : opening;
    }
    const { values } = await searchDirectory(db, 'member', { ...q, plans, offset: 0, limit: Number.MAX_SAFE_INTEGER });
    const byMember = new Map<string, Badge[]>();
    for (const b of await directory.list(db, 'badge')) byMember.set(b.member, [...(byMember.get(b.member) ?? []), b]);
    return sendCsvFile(
      reply,
      'members.csv',
      formatMembersCsv(values as Member[], (id) => byMember.get(id) ?? [], dialect),
    );
  });
}

/**
 * Checks the rows and applies them (all, or the valid ones) while the import holds the directory:
 * what the route answers, or the refusal of a file with bad rows in mode `all` (rolled back here).
 */
async function importRows(
  deps: AdminDeps,
  batch: DirectoryImport,
  req: { account: Account; mode: 'all' | 'valid' },
  parsed: { rows: CsvRow[]; errors: RowError[] },
  slices: Slices,
): Promise<MemberImportResult | TesseraError> {
  const plan = await planImportInSlices(deps.db, parsed.rows, deps.directory, req.account, slices);
  const errors = [...parsed.errors, ...plan.errors].sort((a, b) => a.line - b.line);
  const summary = {
    rows: plan.rows + parsed.errors.length,
    created: plan.created.length,
    updated: plan.updated.length,
    badges: plan.badges,
  };
  if (errors.length > 0 && req.mode === 'all') {
    await batch.rollback();
    return new TesseraError(
      'import.invalid',
      `${errors.length} problem(s) in the file${listed(errors.length)}: nothing was imported`,
      detailsOf(errors),
    );
  }
  let revision: number | null = null;
  if (plan.items.length > 0) {
    revision = await applyImportInSlices(batch, deps.audit, req.account, plan, slices);
    deps.onDirectoryChange();
  } else await batch.rollback();
  deps.log.info({ account: req.account.username, ...summary, skipped: errors.length, revision }, 'members imported');
  return { applied: revision !== null, revision, ...summary, problems: errors.length, skipped: detailsOf(errors) };
}
