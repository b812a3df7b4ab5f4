import { parseArgs } from 'node:util';
import type { Command, Io } from '../shared/platform/command.js';
import { EXIT } from '../shared/platform/command.js';
import { inspectSiteConfig } from './load.js';
import type { SiteConfig } from './schema.js';
import { CONFIG_VERSION, versionHeadline } from './version.js';

const USAGE = 'config validate [--config] FILE [--json]';

const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** One line an operator can check at a glance against what is on the wall. */
export function summarizeSiteConfig(config: SiteConfig): string {
  const lockers = config.lockers.reduce((sum, bank) => sum + bank.relays.length, 0);
  const banks =
    config.lockers.length === 0
      ? 'no lockers'
      : `${count(config.lockers.length, 'locker bank')} of ${count(lockers, 'locker')}`;
  const { id, name, timeZone } = config.site;
  return `${id} (${name}, ${timeZone}): ${count(config.doors.length, 'door')}, ${count(config.readers.length, 'reader')}, ${banks}, directory from ${config.directory.source}`;
}

export interface FileArgs {
  file: string;
  flags: Record<string, boolean>;
}

/** `FILE` or `--config FILE` (as `tessera edge` takes it), and the boolean `flags`; a string is a usage error. */
export function parseFileArgs(args: string[], flags: readonly string[]): FileArgs | string {
  const options = Object.fromEntries([
    ['config', { type: 'string' }],
    ...flags.map((f) => [f, { type: 'boolean' }]),
  ]) as Record<string, { type: 'string' | 'boolean' }>;
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    return (err as Error).message;
  }
  const { values, positionals } = parsed;
  const files = [...(typeof values.config === 'string' ? [values.config] : []), ...positionals];
  const [file] = files;
  if (file === undefined || files.length !== 1) return 'one config FILE is required';
  return { file, flags: Object.fromEntries(flags.map((f) => [f, values[f] === true])) };
}

export const validateCommand: Command = {
  name: 'config validate',
  summary: 'check a site config file; every error with its path',
  usage: USAGE,
  async run(args, io) {
    const opts = parseFileArgs(args, ['json']);
    if (typeof opts === 'string') {
      io.err(`tessera: ${opts}\nusage: tessera ${USAGE}`);
      return EXIT.USAGE;
    }
    const { file } = opts;
    const { result, version } = inspectSiteConfig(file);
    if (opts.flags.json) {
      const errors = result.ok ? [] : result.errors;
      io.out(JSON.stringify({ file, valid: result.ok, version: version ?? null, reads: CONFIG_VERSION, errors }));
      return result.ok ? EXIT.OK : EXIT.CONFIG_INVALID;
    }
    if (!result.ok) {
      // An unreadable file is a config problem too: systemd must not restart in a loop on it.
      printRefusal(io, file, result.errors);
      return EXIT.CONFIG_INVALID;
    }
    io.out(summarizeSiteConfig(result.value));
    return EXIT.OK;
  },
};

/** A file of another version: that line alone; else the count and every error with its path. */
export function printRefusal(io: Io, file: string, errors: ReadonlyArray<{ path: string; message: string }>): void {
  const headline = versionHeadline(file, errors);
  if (headline !== undefined) {
    io.err(headline);
    return;
  }
  io.err(`${file}: ${count(errors.length, 'error')}`);
  for (const e of errors) io.err(`  ${e.path}: ${e.message}`);
}
