import type { Command } from '../shared/platform/command.js';
import { EXIT } from '../shared/platform/command.js';
import { loadSiteConfig } from './load.js';
import type { SiteConfig } from './schema.js';

const USAGE = 'config validate FILE';

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

export const validateCommand: Command = {
  name: 'config validate',
  summary: 'check a site config file; every error with its path',
  usage: USAGE,
  async run(args, io) {
    const [file] = args;
    if (file === undefined || args.length !== 1 || file.startsWith('-')) {
      io.err(`usage: tessera ${USAGE}`);
      return EXIT.USAGE;
    }
    const result = loadSiteConfig(file);
    if (!result.ok) {
      // An unreadable file is a config problem too: systemd must not restart in a loop on it.
      io.err(`${file}: ${count(result.errors.length, 'error')}`);
      for (const e of result.errors) io.err(`  ${e.path}: ${e.message}`);
      return EXIT.CONFIG_INVALID;
    }
    io.out(summarizeSiteConfig(result.value));
    return EXIT.OK;
  },
};
