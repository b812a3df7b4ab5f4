import { createReadStream, statSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import type { Command, Io } from '../../../shared/platform/command.js';
import { EXIT } from '../../../shared/platform/command.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import { errorOf, openHubSession, readPassword, type HubSession } from '../../../shared/platform/hub-client.js';
import { Progress, uploadProgress } from './upload-progress.js';

const COMMON = { url: { type: 'string' }, user: { type: 'string' } } as const;

function usage(io: Io, message: string, text: string): number {
  io.err(`tessera: ${message}\nusage: tessera ${text}`);
  return EXIT.USAGE;
}

/** Logs in, runs `work`, logs out; a refusal or an unreachable hub is one line and exit 1. */
async function withSession(
  io: Io,
  url: string,
  user: string,
  work: (s: HubSession) => Promise<number>,
): Promise<number> {
  let session: HubSession | undefined;
  try {
    session = await openHubSession(url, user, await readPassword(user));
    return await work(session);
  } catch (err) {
    if (!(err instanceof TesseraError)) throw err;
    io.err(`tessera: ${err.message} [${err.code}]`);
    return EXIT.FAILURE;
  } finally {
    await session?.logout();
  }
}

/** Streams the file to the hub, reporting bytes sent, and prints what the hub did. */
async function importFile(
  io: Io,
  session: HubSession,
  file: string,
  mode: 'all' | 'valid',
  progress: Progress,
  json: boolean,
): Promise<number> {
  const size = statSync(file).size;
  const body = Readable.toWeb(uploadProgress(createReadStream(file), size, progress)) as ReadableStream<Uint8Array>;
  // duplex: 'half' is what Node's fetch needs to send a stream body.
  const res = await session.fetch(`/directory/members/import?mode=${mode}`, {
    method: 'POST',
    headers: { 'content-type': 'text/csv' },
    body,
    duplex: 'half',
  } as RequestInit);
  if (!res.ok) {
    const e = await errorOf(res);
    io.err(`tessera: ${e.message} [${e.code}]`);
    for (const d of e.details) io.err(`  ${d.path}: ${d.message}`);
    return EXIT.FAILURE;
  }
  const r = (await res.json()) as {
    applied: boolean;
    revision: number | null;
    rows: number;
    created: number;
    updated: number;
    badges: number;
    problems: number;
    skipped: Array<{ path: string; message: string }>;
  };
  if (json) {
    io.out(JSON.stringify(r));
    return r.problems > 0 ? EXIT.FAILURE : EXIT.OK;
  }
  io.out(
    `${r.applied ? 'imported' : 'nothing to import'}: ${r.rows} rows, ${r.created} members created, ${r.updated} updated, ${r.badges} badges${r.revision === null ? '' : `; directory revision ${r.revision}`}`,
  );
  for (const s of r.skipped) io.err(`  skipped ${s.path}: ${s.message}`);
  if (r.problems > r.skipped.length) io.err(`  ... and ${r.problems - r.skipped.length} more`);
  return r.problems > 0 ? EXIT.FAILURE : EXIT.OK;
}

export const membersImportCommand: Command = {
  name: 'members import',
  summary:
    'Imports members with their plans and badges from a CSV file into a hub: all or nothing unless --valid-only; each bad row with its line number.',
  usage:
    'members import FILE --url HUB_URL --user NAME [--valid-only] [--json]   (password: TESSERA_PASSWORD, or asked)',
  async run(args, io) {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        options: { ...COMMON, 'valid-only': { type: 'boolean' }, json: { type: 'boolean' } },
        allowPositionals: true,
      });
    } catch (err) {
      return usage(io, (err as Error).message, this.usage);
    }
    const { values, positionals } = parsed;
    if (positionals.length !== 1) return usage(io, 'expected one CSV file', this.usage);
    if (!values.url || !values.user) return usage(io, '--url and --user are required', this.usage);
    const file = positionals[0] ?? '';
    try {
      statSync(file);
    } catch {
      io.err(`tessera: cannot read ${file}`);
      return EXIT.FAILURE;
    }
    const progress = Progress.for(process.stderr, io);
    return withSession(io, values.url, values.user, (s) =>
      importFile(io, s, file, values['valid-only'] ? 'valid' : 'all', progress, values.json === true),
    );
  },
};

export const membersExportCommand: Command = {
  name: 'members export',
  summary:
    'Writes the members a hub account may see, with their plans and active badges, as CSV (stdout or --out FILE). No --json: the CSV is the result.',
  usage:
    'members export --url HUB_URL --user NAME [--site SITE] [--dialect rfc4180|excel-fr] [--out FILE]   (password: TESSERA_PASSWORD, or asked)',
  async run(args, io) {
    let values;
    try {
      ({ values } = parseArgs({
        args,
        options: { ...COMMON, site: { type: 'string' }, dialect: { type: 'string' }, out: { type: 'string' } },
      }));
    } catch (err) {
      return usage(io, (err as Error).message, this.usage);
    }
    if (!values.url || !values.user) return usage(io, '--url and --user are required', this.usage);
    const params = new URLSearchParams();
    if (values.site) params.set('site', values.site);
    // The hub checks the dialect (400 with the ones it knows).
    if (values.dialect) params.set('dialect', values.dialect);
    const query = params.size > 0 ? `?${params.toString()}` : '';
    return withSession(io, values.url, values.user, async (s) => {
      const res = await s.fetch(`/directory/members.csv${query}`);
      if (!res.ok) {
        const e = await errorOf(res);
        io.err(`tessera: ${e.message} [${e.code}]`);
        return EXIT.FAILURE;
      }
      // The bytes as sent: decoding them as text would drop the BOM that Excel needs (dialect excel-fr).
      const csv = Buffer.from(await res.arrayBuffer());
      if (values.out) writeFileSync(values.out, csv);
      else process.stdout.write(csv);
      return EXIT.OK;
    });
  },
};
