import type { Command, Io } from '../shared/platform/command.js';
import { EXIT } from '../shared/platform/command.js';
import { VERSION } from '../shared/platform/package-root.js';

/**
 * The `tessera` command. Each subcommand module is imported only when chosen, so
 * `tessera config validate` never loads SQLite, fastify or hardware modules.
 */
const COMMANDS: Array<{ name: string; summary: string; load: () => Promise<Command> }> = [
  {
    name: 'edge',
    summary: 'run a site: readers, doors, lockers, presence, local API',
    load: async () => (await import('../edge/cli.js')).edgeCommand,
  },
  {
    name: 'edge renumber',
    summary: "after a lost site database: continue the event numbering after the hub's last seq, which you confirm",
    load: async () => (await import('../edge/cli.js')).renumberCommand,
  },
  {
    name: 'hub',
    summary: 'run the network hub: embedded MQTT broker (or an external one), event ingest, API',
    load: async () => (await import('../cloud-sync/hub-process/cli.js')).hubCommand,
  },
  {
    name: 'hub render',
    summary: "write the hub's systemd unit (sandboxed, Type=notify, watchdog) and its environment file for secrets",
    load: async () => (await import('../cloud-sync/hub-process/render-cli.js')).hubRenderCommand,
  },
  {
    name: 'demo',
    summary:
      'run a network: the hub, its dashboard and three simulated centres over MQTT (what `npm start` runs); --standalone: one centre alone',
    load: async () => (await import('../demo/cli.js')).networkDemoCommand,
  },
  {
    name: 'site provision',
    summary: "give a site its own identity on the hub's embedded broker; prints its broker config block",
    load: async () => (await import('../cloud-sync/hub/site-cli.js')).siteProvisionCommand,
  },
  {
    name: 'observer provision',
    summary:
      "give a display or Home Assistant a read-only identity on the hub's broker (occupancy and discovery topics)",
    load: async () => (await import('../cloud-sync/hub/observer-cli.js')).observerProvisionCommand,
  },
  {
    name: 'config validate',
    summary: 'check a site config file; every error with its path',
    load: async () => (await import('../firmware-config/cli.js')).validateCommand,
  },
  {
    name: 'config migrate',
    summary: "rewrite a site config of an older version to this release's, keeping a backup beside it",
    load: async () => (await import('../firmware-config/migrate-cli.js')).migrateCommand,
  },
  {
    name: 'config render',
    summary: "write a site's systemd unit, environment file, Mosquitto password and ACL lines, NFC modprobe blacklist",
    load: async () => (await import('../firmware-config/render-cli.js')).renderCommand,
  },
  {
    name: 'config mosquitto',
    summary: "write the Mosquitto password and ACL files of a network: the hub's login and each site's",
    load: async () => (await import('../firmware-config/render-broker-cli.js')).renderBrokerCommand,
  },
  {
    name: 'billing close',
    summary: 'close a month: number and freeze its invoices (progress on stderr)',
    load: async () => (await import('../cloud-sync/billing/cli.js')).billingCloseCommand,
  },
  {
    name: 'billing export',
    summary: "print a month's invoices, or one, as CSV or JSON",
    load: async () => (await import('../cloud-sync/billing/cli.js')).billingExportCommand,
  },
  {
    name: 'billing fec',
    summary: 'write the sales journal of a year or a date range as a FEC file for the accountant',
    load: async () => (await import('../cloud-sync/billing/cli.js')).billingFecCommand,
  },
  {
    name: 'billing payments import',
    summary: 'send a bank statement (CSV) to a hub: credits matched to invoices are recorded as payments',
    load: async () => (await import('../cloud-sync/billing/payments/cli.js')).billingPaymentsImportCommand,
  },
  {
    name: 'badge keys',
    summary: 'derive the keys to personalise an NTAG 424 DNA badge',
    load: async () => (await import('../edge/badges/cli.js')).badgeKeysCommand,
  },
  {
    name: 'members import',
    summary: 'import members, plans and badges from a CSV file into a hub (all or nothing)',
    load: async () => (await import('../cloud-sync/hub/admin/members-cli.js')).membersImportCommand,
  },
  {
    name: 'members export',
    summary: 'export the members of a hub as CSV',
    load: async () => (await import('../cloud-sync/hub/admin/members-cli.js')).membersExportCommand,
  },
  {
    name: 'badge door-keys',
    summary: 'make the key file a door needs to check NTAG 424 badges',
    load: async () => (await import('../edge/badges/cli.js')).badgeDoorKeysCommand,
  },
  {
    name: 'badge enrol',
    summary:
      'personalise the NTAG 424 DNA badge on a PC/SC reader and register it to a member at the hub (UID-only cards: as cloneable)',
    load: async () => (await import('../edge/badges/enrol-cli.js')).badgeEnrolCommand,
  },
  {
    name: 'badge reset',
    summary: 'return a badge personalised with this master key to its factory keys',
    load: async () => (await import('../edge/badges/enrol-cli.js')).badgeResetCommand,
  },
];

function help(io: Io): void {
  io.out('usage: tessera <command> [options]\n\ncommands:');
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  for (const c of COMMANDS) io.out(`  ${c.name.padEnd(width)}  ${c.summary}`);
  io.out("\n`tessera <command> --help` shows a command's options; `tessera --version [--json]` the version.");
}

/** `tessera --version [--json]`: the package's version, and with --json the Node running it. */
function version(argv: string[], io: Io): number {
  const rest = argv.slice(1);
  if (rest.some((a) => a !== '--json')) {
    io.err(`tessera: unexpected "${rest.find((a) => a !== '--json')}"\nusage: tessera --version [--json]`);
    return EXIT.USAGE;
  }
  io.out(
    rest.includes('--json') ? JSON.stringify({ version: VERSION, node: process.versions.node }) : `tessera ${VERSION}`,
  );
  return EXIT.OK;
}

export async function main(argv: string[], io: Io): Promise<number> {
  if (argv[0] === '--version' || argv[0] === '-V') return version(argv, io);
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    help(io);
    return argv.length === 0 ? EXIT.USAGE : EXIT.OK;
  }
  const entry = COMMANDS.filter((c) => {
    const words = c.name.split(' ');
    return words.every((w, i) => argv[i] === w);
  }).sort((a, b) => b.name.length - a.name.length)[0];
  if (!entry) {
    io.err(`tessera: unknown command "${argv.join(' ')}"\n`);
    help(io);
    return EXIT.USAGE;
  }
  const command = await entry.load();
  const rest = argv.slice(entry.name.split(' ').length);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`usage: tessera ${command.usage}\n\n${command.summary}`);
    return EXIT.OK;
  }
  return command.run(rest, io);
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(`${text}\n`),
  err: (text) => void process.stderr.write(`${text}\n`),
};
