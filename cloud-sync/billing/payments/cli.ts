import { readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Command, Io } from '../../../shared/platform/command.js';
import { EXIT } from '../../../shared/platform/command.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import type { StatementImportResult } from '../../../shared/protocol/api/hub-billing-payments.js';
import { errorOf, openHubSession, readPassword } from '../../../shared/platform/hub-client.js';
import { formatCents } from '../export.js';
import { decodeStatement, MAX_STATEMENT_BYTES } from './statement.js';

const money = formatCents;

/** What the hub did with the statement, one line per line of it that was not recorded silently. */
function report(io: Io, r: StatementImportResult): void {
  const payments = r.recorded.reduce((n, l) => n + l.payments.length, 0);
  io.out(
    `${r.dryRun ? 'dry run, nothing recorded: would record' : 'recorded'} ${payments} payment(s) from ${r.recorded.length} of ${r.lines} line(s); ${r.unmatched.length} unmatched, ${r.ignored.length} left aside`,
  );
  for (const l of r.recorded)
    io.out(
      `  line ${l.line}: ${money(l.amountCents)} on ${l.date} -> ${l.payments.map((p) => `${p.invoice} ${money(p.amountCents)}`).join(', ')} (by ${l.by})`,
    );
  // Labels come from a bank's file: quoted as JSON, so that nothing in them reaches the terminal as a control.
  for (const u of r.unmatched)
    io.out(
      `  unmatched line ${u.line}: ${money(u.amountCents)} on ${u.date} ${JSON.stringify(u.label)}: ${u.reason}${u.candidates.length > 0 ? ` (${u.candidates.join(', ')})` : ''}`,
    );
  for (const p of r.problems) io.err(`  unreadable ${p.path}: ${p.message}`);
}

export const billingPaymentsImportCommand: Command = {
  name: 'billing payments import',
  summary:
    'Sends a bank statement (CSV) to a hub: each credit matched to an invoice is recorded as its payment, the others listed; importing it again records nothing twice.',
  usage:
    'billing payments import FILE --url HUB_URL --user NAME [--dry-run] [--json]   (password: TESSERA_PASSWORD, or asked)',
  async run(args, io) {
    const usage = (message: string) => {
      io.err(`tessera: ${message}\nusage: tessera ${this.usage}`);
      return EXIT.USAGE;
    };
    let parsed;
    try {
      parsed = parseArgs({
        args,
        options: {
          url: { type: 'string' },
          user: { type: 'string' },
          'dry-run': { type: 'boolean' },
          json: { type: 'boolean' },
        },
        allowPositionals: true,
      });
    } catch (err) {
      return usage((err as Error).message);
    }
    const { values, positionals } = parsed;
    if (positionals.length !== 1) return usage('expected one CSV file');
    if (!values.url || !values.user) return usage('--url and --user are required');
    const file = positionals[0] ?? '';
    let text: string;
    try {
      if (statSync(file).size > MAX_STATEMENT_BYTES)
        throw new TesseraError('import.invalid', `${file} is over ${MAX_STATEMENT_BYTES / 1024 / 1024} MB: split it`);
      // Checked here first: a statement in another encoding is refused before anything is sent.
      text = decodeStatement(readFileSync(file));
    } catch (err) {
      io.err(
        err instanceof TesseraError
          ? `tessera: ${err.message} [${err.code}]`
          : `tessera: cannot read ${file}: ${(err as Error).message}`,
      );
      return EXIT.FAILURE;
    }
    let session;
    try {
      session = await openHubSession(values.url, values.user, await readPassword(values.user));
      const res = await session.fetch(`/billing/payments/import?dryRun=${values['dry-run'] === true}`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv; charset=utf-8' },
        body: text,
      });
      if (!res.ok) {
        const e = await errorOf(res);
        io.err(`tessera: ${e.message} [${e.code}]`);
        for (const d of e.details) io.err(`  ${d.path}: ${d.message}`);
        return EXIT.FAILURE;
      }
      const result = (await res.json()) as StatementImportResult;
      // --json: the hub's answer as it is, every line it recorded, left unmatched or aside.
      if (values.json === true) io.out(JSON.stringify(result));
      else report(io, result);
      return EXIT.OK;
    } catch (err) {
      if (!(err instanceof TesseraError)) throw err;
      io.err(`tessera: ${err.message} [${err.code}]`);
      return EXIT.FAILURE;
    } finally {
      await session?.logout();
    }
  },
};
