import type { FastifyInstance, FastifyReply } from 'fastify';
import { parseOr400, sendError } from '../../../shared/platform/http-errors.js';
import { MemberCsvQuery as ExportQuery, MemberImportQuery as ImportQuery } from '../../../shared/protocol/api/hub-admin-members-csv.js';
import type { Badge, Member } from '../../../shared/protocol/directory.js';
import type { Account } from '../auth/account.js';
import { requireSite } from '../auth/guards.js';
import { DirectoryImport } from '../directory-import.js';
import { Slices } from '../slices.js';
import { sendFailure, type AdminDeps } from './deps.js';
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
const detailsOf = (errors: RowError[]) => errors.slice(0, MAX_DETAILS).map((e) => ({ path: `line ${e.line}${e.column ? `: ${e.column}` : ''}`, message: e.message }));
const listed = (n: number) => (n > MAX_DETAILS ? ` (the first ${MAX_DETAILS} listed)` : '');

/** Members in and out as CSV (docs/hub.md "Members CSV"). */
export function registerMemberCsvRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const { directory, db } = deps;
  // No bodyLimit of its own: a CSV or text body sent to any other route stays under the API's limit.
  app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.post('/directory/members/import', { bodyLimit: CSV_BODY_LIMIT }, async (req, reply) => {
    const q = parseOr400(reply, ImportQuery, req.query, 'query');
    if (!q) return reply;
    if (typeof req.body !== 'string') return sendError(reply, 'request.unsupported_type', 'send the file as text/csv');
    // A file of 200,000 rows takes a minute to check and write: in slices, so the hub keeps answering meanwhile.
    const slices = new Slices(deps.stopping);
    const parsed = await parseMembersCsvInSlices(req.body, slices);
    const header = parsed.errors.filter((e) => e.line === 1);
    if (header.length > 0) return sendError(reply, 'import.invalid', 'the header is wrong: nothing was imported', detailsOf(header));
    let batch: DirectoryImport;
    try {
      batch = DirectoryImport.begin(db, directory, deps.importOwner ?? '', deps.now());
    } catch (err) {
      return sendFailure(reply, err);
    }
    try {
      return await importRows(deps, batch, { reply, account: req.account, mode: q.mode }, parsed, slices);
    } catch (err) {
      // A hub stopping leaves the rows to the next start's roll-back: stopping now matters more.
      // Its connection is closed with the answer, or the server's close would wait for it (keep-alive, 72 s).
      if (deps.stopping?.aborted) void reply.header('connection', 'close');
      else batch.rollback();
      throw err;
    }
  });

  app.get('/directory/members.csv', (req, reply) => {
    const q = parseOr400(reply, ExportQuery, req.query, 'query');
    if (!q) return reply;
    let plans = new DirectoryScope(req.account, directory).plans();
    if (q.site !== undefined) {
      if (!requireSite(req, reply, q.site)) return reply;
      const opening = plansOpening(directory, q.site);
      plans = plans ? plans.filter((p) => opening.includes(p)) : opening;
    }
    const { values } = searchDirectory(db, 'member', { ...q, plans, offset: 0, limit: Number.MAX_SAFE_INTEGER });
    const byMember = new Map<string, Badge[]>();
    for (const b of directory.list('badge')) byMember.set(b.member, [...(byMember.get(b.member) ?? []), b]);
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="members.csv"')
      .send(formatMembersCsv(values as Member[], (id) => byMember.get(id) ?? []));
  });
}

/** Checks the rows and applies them (all, or the valid ones) while the import holds the directory; what the route answers. */
async function importRows(deps: AdminDeps, batch: DirectoryImport, req: { reply: FastifyReply; account: Account; mode: 'all' | 'valid' }, parsed: { rows: CsvRow[]; errors: RowError[] }, slices: Slices) {
  const plan = await planImportInSlices(parsed.rows, deps.directory, req.account, slices);
  const errors = [...parsed.errors, ...plan.errors].sort((a, b) => a.line - b.line);
  const summary = { rows: plan.rows + parsed.errors.length, created: plan.created.length, updated: plan.updated.length, badges: plan.badges };
  if (errors.length > 0 && req.mode === 'all') {
    batch.rollback();
    return sendError(req.reply, 'import.invalid', `${errors.length} problem(s) in the file${listed(errors.length)}: nothing was imported`, detailsOf(errors));
  }
  let revision: number | null = null;
  if (plan.items.length > 0) {
    revision = await applyImportInSlices(batch, deps.audit, req.account, plan, slices);
    deps.onDirectoryChange();
  } else batch.rollback();
  deps.log.info({ account: req.account.username, ...summary, skipped: errors.length, revision }, 'members imported');
  return { applied: revision !== null, revision, ...summary, problems: errors.length, skipped: detailsOf(errors) };
}
