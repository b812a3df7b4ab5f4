import { dirname, resolve } from 'node:path';
import type { Command, Io } from '../shared/platform/command.js';
import { EXIT } from '../shared/platform/command.js';
import type { ErrorDetail } from '../shared/platform/errors.js';
import { parseText, readTextFile } from '../shared/platform/yaml-document.js';
import { parseFileArgs, printRefusal } from './cli.js';
import { readSiteConfig } from './load.js';
import type { StepReport } from './migrate.js';
import { migrateText } from './migrate.js';
import { writeMigrated } from './migrate-write.js';
import { CONFIG_VERSION, declaredVersion, versionRefusal } from './version.js';

const USAGE = 'config migrate [--config] FILE [--dry-run] [--json]';

/** What `--json` prints: one object, whatever happened. */
interface Summary {
  file: string;
  /** The version the file declared, null when it could not be read that far. */
  from: number | null;
  to: number;
  written: boolean;
  backup: string | null;
  steps: StepReport[];
  errors: ErrorDetail[];
  /** With --dry-run: the file as it would be written. */
  text?: string;
}

type Outcome = { code: number; summary: Summary; lines: string[] };

/** Everything but the writing: read, check the version, run the steps, check the result. */
function plan(file: string): Outcome & { text?: string } {
  const base: Summary = { file, from: null, to: CONFIG_VERSION, written: false, backup: null, steps: [], errors: [] };
  const refuse = (errors: ErrorDetail[], from: number | null = null): Outcome => ({
    code: EXIT.CONFIG_INVALID,
    summary: { ...base, from, errors },
    lines: [],
  });
  const read = readTextFile(file, 'config.unreadable', 'config.invalid');
  if (!read.ok) return refuse(read.errors);
  const parsed = parseText(read.value, file);
  if (!parsed.ok) return refuse(parsed.errors);
  const declared = declaredVersion(parsed.data);
  if (!declared.ok) return refuse([declared.error]);
  const from = declared.version;
  if (from === CONFIG_VERSION)
    return {
      code: EXIT.OK,
      summary: { ...base, from },
      lines: [
        `${file}: already version ${CONFIG_VERSION}, nothing to do (\`tessera config validate\` checks the rest)`,
      ],
    };
  if (from > CONFIG_VERSION) return refuse([versionRefusal(file, from) as ErrorDetail], from);
  const migrated = migrateText(read.value, from);
  if (!migrated.ok) return refuse(migrated.errors, from);
  const checked = readSiteConfig(migrated.text, file, dirname(resolve(file))).result;
  // Whatever made it invalid was most likely in the old file already; either way nothing is written.
  if (!checked.ok)
    return {
      ...refuse(checked.errors, from),
      summary: { ...base, from, steps: migrated.steps, errors: checked.errors },
    };
  return { code: EXIT.OK, summary: { ...base, from, steps: migrated.steps }, lines: [], text: migrated.text };
}

function stepLines(steps: StepReport[]): string[] {
  return steps.flatMap((s) => [`version ${s.from} → ${s.to}: ${s.title}`, ...s.changes.map((c) => `  ${c}`)]);
}

function report(io: Io, outcome: Outcome, json: boolean): number {
  const { summary } = outcome;
  if (json) io.out(JSON.stringify(summary));
  else if (summary.errors.length > 0) {
    if (summary.steps.length > 0) {
      io.err(
        `${summary.file}: after migration to version ${CONFIG_VERSION} the file would not be valid; nothing written`,
      );
      for (const line of stepLines(summary.steps)) io.err(line);
    }
    printRefusal(io, summary.file, summary.errors);
  } else for (const line of outcome.lines) io.out(line);
  return outcome.code;
}

export const migrateCommand: Command = {
  name: 'config migrate',
  summary: "rewrite a site config of an older version to this release's, keeping a backup beside it",
  usage: USAGE,
  async run(args, io) {
    const opts = parseFileArgs(args, ['dry-run', 'json']);
    if (typeof opts === 'string') {
      io.err(`tessera: ${opts}\nusage: tessera ${USAGE}`);
      return EXIT.USAGE;
    }
    const { file } = opts;
    const json = opts.flags.json === true;
    const planned = plan(file);
    if (planned.text === undefined) return report(io, planned, json);
    const { summary } = planned;
    if (opts.flags['dry-run']) {
      if (json) io.out(JSON.stringify({ ...summary, text: planned.text }));
      else {
        // The file on stdout, so it can be redirected; what changed on stderr.
        for (const line of stepLines(summary.steps)) io.err(line);
        io.err(`(dry run: ${file} not written)`);
        io.out(planned.text.replace(/\r?\n$/, ''));
      }
      return EXIT.OK;
    }
    let backup: string;
    try {
      backup = writeMigrated(file, planned.text, summary.from ?? 1);
    } catch (error) {
      const message = `cannot write: ${(error as Error).message}`;
      if (json) io.out(JSON.stringify({ ...summary, errors: [{ path: '(file)', message }] }));
      else io.err(`${file}: ${message}; the file is unchanged`);
      return EXIT.FAILURE;
    }
    const done = { ...summary, written: true, backup };
    if (json) io.out(JSON.stringify(done));
    else {
      for (const line of stepLines(summary.steps)) io.out(line);
      io.out(`${file}: now version ${CONFIG_VERSION}; the old file is kept as ${backup}`);
    }
    return EXIT.OK;
  },
};
