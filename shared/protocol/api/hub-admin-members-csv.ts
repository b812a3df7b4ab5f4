import { z } from 'zod';
import { CsvDialectParam, defineRoute } from './common.js';
import { Problem } from './hub-admin-page.js';

/**
 * Members in and out as CSV (`POST /directory/members/import`, `GET /directory/members.csv`):
 * one line per member with their plan, employer and active badges. The import takes `text/csv`
 * (or `text/plain`) only, refused 415 otherwise; a bad header is refused 400 `import.invalid`
 * whatever the mode, as is any bad row in mode `all`, each problem at `line N: column`.
 */

export const MemberImportQuery = z.strictObject({
  /** `all` (default): nothing is applied if any row is bad. `valid`: the good rows are applied, the bad ones reported. */
  mode: z.enum(['all', 'valid']).default('all'),
});
export type MemberImportQuery = z.infer<typeof MemberImportQuery>;

/**
 * The file's text: a header line naming the columns, then one line per member. Commas or
 * semicolons (the header's tells which), UTF-8 with or without a BOM, or Windows-1252.
 */
export const MemberImportBody = z
  .string()
  .describe('CSV, columns member_id, name, plan, role, employer, status, valid_from, valid_until, badges, badge_type');

/** What an import did. At most 1,000 problems are listed; `problems` counts them all. */
export const MemberImportResult = z.strictObject({
  /** Whether a revision was written: false when no row was good (mode `valid`) or the file had none. */
  applied: z.boolean(),
  revision: z.number().int().positive().nullable(),
  /** Lines read, good and bad. */
  rows: z.number().int().nonnegative(),
  created: z.number().int().nonnegative(),
  updated: z.number().int().nonnegative(),
  /** Badges written with the members. */
  badges: z.number().int().nonnegative(),
  problems: z.number().int().nonnegative(),
  /** The bad lines left out (mode `valid`), `line N: column` each. */
  skipped: z.array(Problem),
});
export type MemberImportResult = z.infer<typeof MemberImportResult>;

/** `GET /directory/members.csv`: the members matching these, every one (no paging), with their active badges. */
export const MemberCsvQuery = z.strictObject({
  q: z.string().max(200).optional(),
  site: z.string().max(64).optional(),
  plan: z.string().max(64).optional(),
  employer: z.string().max(64).optional(),
  status: z.enum(['active', 'suspended']).optional(),
  dialect: CsvDialectParam,
});
export type MemberCsvQuery = z.infer<typeof MemberCsvQuery>;

export const HubMemberCsvRoutes = {
  import: defineRoute({
    method: 'POST',
    url: '/directory/members/import',
    operationId: 'importMembersCsv',
    tags: ['members'],
    summary: 'Import members with plans and badges from CSV: all or nothing unless mode=valid',
    description: "Up to 32 MB. A site manager gives only their sites' own plans, employers and members.",
    querystring: MemberImportQuery,
    body: MemberImportBody,
    consumes: 'text/csv',
    response: { 200: MemberImportResult },
    errors: ['import.invalid', 'request.unsupported_type', 'conflict'],
  }),
  export: defineRoute({
    method: 'GET',
    url: '/directory/members.csv',
    operationId: 'exportMembersCsv',
    tags: ['members'],
    summary: 'Export members with their active badges as CSV',
    querystring: MemberCsvQuery,
    response: {},
    produces: { 'text/csv': { description: 'the columns the import reads, as the attachment members.csv' } },
    errors: ['auth.forbidden'],
  }),
};
