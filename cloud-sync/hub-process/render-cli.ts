import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Command, Io } from '../../shared/platform/command.js';
import { EXIT } from '../../shared/platform/command.js';
import { hardeningLines } from '../../firmware-config/render-hardening.js';
import { WATCHDOG_SECONDS } from '../../firmware-config/render.js';
import { isPostgresUrl } from '../hub/storage/hub-db.js';
import { parseHubArgs } from './cli.js';

/**
 * The hub's systemd unit and environment file (docs/hub.md, "Under systemd"), rendered like a
 * site's by `tessera config render`: the same sandbox, Type=notify with a watchdog, its state
 * (database, hub key, the first operator's one-time password) under /var/lib/tessera.
 */

const USAGE =
  'hub render --out DIR [--install-dir DIR] [--user NAME] [--node PATH] [--json] [-- HUB OPTIONS (tessera hub --help)]';

export const HUB_UNIT = 'tessera-hub.service';
export const HUB_ENV = '/etc/tessera/hub.env';
const STATE_DIR = '/var/lib/tessera';

const OPTIONS = {
  out: { type: 'string' },
  'install-dir': { type: 'string' },
  user: { type: 'string' },
  node: { type: 'string' },
  json: { type: 'boolean' },
} as const;

interface HubTarget {
  installDir: string;
  user: string;
  nodePath: string;
  /** The hub's own options, checked, with absolute paths. */
  hubArgs: string[];
  /** A port below 1024 needs CAP_NET_BIND_SERVICE. */
  privilegedPort: boolean;
  postgres: boolean;
}

function parseTarget(args: string[]): { out: string; json: boolean; target: HubTarget } | string {
  const split = args.indexOf('--');
  const own = split === -1 ? args : args.slice(0, split);
  const hubArgs = split === -1 ? [] : args.slice(split + 1);
  let values;
  try {
    ({ values } = parseArgs({ args: own, options: OPTIONS }));
  } catch (err) {
    return (err as Error).message;
  }
  if (values.out === undefined) return '--out DIR is required';
  for (const flag of ['install-dir', 'node'] as const) {
    const value = values[flag];
    if (value !== undefined && !isAbsolute(value))
      return `--${flag} expects an absolute path on the target, got "${value}"`;
  }
  if (values.user !== undefined && !/^[a-z_][a-z0-9_-]{0,31}$/.test(values.user))
    return `--user expects a system user name, got "${values.user}"`;
  const checked = checkHubArgs(hubArgs);
  if (typeof checked === 'string') return checked;
  return {
    out: values.out,
    json: values.json === true,
    target: {
      installDir: values['install-dir'] ?? '/opt/tessera',
      user: values.user ?? 'tessera',
      nodePath: values.node ?? '/usr/bin/node',
      ...checked,
    },
  };
}

/** The hub's options as `tessera hub` would take them, with what a unit file needs on top. */
function checkHubArgs(hubArgs: string[]): Pick<HubTarget, 'hubArgs' | 'privilegedPort' | 'postgres'> | string {
  const errors: string[] = [];
  const parsed = parseHubArgs(hubArgs, { out: () => undefined, err: (t) => errors.push(t) }, 'hub');
  if (typeof parsed === 'number') return `hub option: ${(errors[0] ?? '').replace(/^tessera: |\nusage:[^]*$/g, '')}`;
  const { values } = parseArgs({ args: hubArgs, options: PATH_OPTIONS, strict: false });
  for (const flag of ['key', 'tls-cert', 'tls-key'] as const) {
    const value = values[flag];
    // The unit runs on another machine: a path relative to here would mean nothing there.
    if (typeof value === 'string' && !isAbsolute(value))
      return `--${flag} expects an absolute path on the target, got "${value}"`;
  }
  const db = values.db;
  if (typeof db === 'string' && !isPostgresUrl(db) && !isAbsolute(db))
    return `--db expects an absolute path on the target or a postgres:// URL, got "${db}"`;
  // The unit file is world-readable; PGPASSWORD in the environment file is not.
  if (typeof db === 'string' && isPostgresUrl(db) && /\/\/[^/@]*:[^/@]*@/.test(db))
    return `--db: keep the password out of the unit (anyone can read it); put PGPASSWORD=... in ${HUB_ENV}`;
  const ports = [parsed.brokerPort, parsed.apiPort].filter((p) => p !== undefined);
  return {
    hubArgs: db === undefined ? ['--db', `${STATE_DIR}/hub.db`, ...hubArgs] : hubArgs,
    privilegedPort: ports.some((p) => p > 0 && p < 1024),
    postgres: typeof db === 'string' && isPostgresUrl(db),
  };
}

const PATH_OPTIONS = {
  db: { type: 'string' },
  key: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
} as const;

/** One ExecStart= word: quoted when it holds a space or a quote; % and $ are systemd's specifiers. */
function execWord(word: string): string {
  const escaped = word.replaceAll('%', '%%').replaceAll('$', '$$$$');
  return /[\s"'\\;]/.test(escaped) ? `"${escaped.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"` : escaped;
}

export function renderHubUnit(target: HubTarget): string {
  const exec = [target.nodePath, `${target.installDir}/bin/tessera.js`, 'hub', ...target.hubArgs].map(execWord);
  return [
    '# The Tessera hub, rendered by `tessera hub render`.',
    '[Unit]',
    'Description=Tessera hub: MQTT broker, event ingest, API',
    `Documentation=file:${target.installDir}/docs/hub.md`,
    'After=network-online.target time-sync.target',
    'Wants=network-online.target',
    ...(target.postgres ? ['After=postgresql.service'] : []),
    'StartLimitIntervalSec=0',
    '',
    '[Service]',
    // READY=1 once the broker and the API listen; WATCHDOG=1 while the event loop turns.
    'Type=notify',
    // The hub notifies through the systemd-notify binary, a child process of the main one.
    'NotifyAccess=all',
    `ExecStart=${exec.join(' ')}`,
    // Secrets (TESSERA_SMTP_URL, TESSERA_INITIAL_ADMIN_PASSWORD, PGPASSWORD) stay out of the unit.
    `EnvironmentFile=-${HUB_ENV}`,
    `WorkingDirectory=${target.installDir}`,
    `User=${target.user}`,
    `Group=${target.user}`,
    'Restart=always',
    'RestartSec=2s',
    // A mistyped option fails the same way at every restart.
    `RestartPreventExitStatus=${EXIT.USAGE}`,
    `WatchdogSec=${WATCHDOG_SECONDS}s`,
    'TimeoutStopSec=30s',
    ...hardeningLines({ sysfsGpio: false, privilegedPort: target.privilegedPort }),
    // The database, the hub key and the first operator's password: the service user's alone.
    'StateDirectory=tessera',
    'StateDirectoryMode=0700',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

export function renderHubEnvironment(): string {
  return [
    `# Environment of ${HUB_UNIT} (mode 0600: it holds secrets); \`systemctl restart ${HUB_UNIT}\` after a change.`,
    '# Log level: trace, debug, info, warn, error (`journalctl -u tessera-hub -p err` shows the errors).',
    'TESSERA_LOG_LEVEL=info',
    'NODE_ENV=production',
    '# Where people open the dashboard, for invitation links:',
    '#TESSERA_PUBLIC_URL=https://hub.example.org',
    '# Invitations by email (both or neither):',
    '#TESSERA_SMTP_URL=smtps://user:password@mail.example.org:465',
    '#TESSERA_MAIL_FROM=tessera@example.org',
    '# The first operator "admin" gets this password instead of a one-time one:',
    '#TESSERA_INITIAL_ADMIN_PASSWORD=',
    '# With --db postgres://user@host/db, its password:',
    '#PGPASSWORD=',
    '',
  ].join('\n');
}

export const hubRenderCommand: Command = {
  name: 'hub render',
  summary:
    'Writes the hub\'s systemd unit (Type=notify, watchdog, sandboxed, state in /var/lib/tessera) and its environment file for secrets (0600). The hub\'s own options follow "--".',
  usage: USAGE,
  run(args, io) {
    const opts = parseTarget(args);
    if (typeof opts === 'string') {
      io.err(`tessera: ${opts}\nusage: tessera ${USAGE}`);
      return Promise.resolve(EXIT.USAGE);
    }
    const out = resolve(opts.out);
    const files = [
      { name: HUB_UNIT, installPath: `/etc/systemd/system/${HUB_UNIT}`, mode: 0o644, text: renderHubUnit(opts.target) },
      { name: 'hub.env', installPath: HUB_ENV, mode: 0o600, text: renderHubEnvironment() },
    ];
    mkdirSync(out, { recursive: true });
    for (const f of files) {
      writeFileSync(join(out, f.name), f.text, { mode: f.mode });
      chmodSync(join(out, f.name), f.mode);
    }
    printResult(io, out, files, opts.json);
    return Promise.resolve(EXIT.OK);
  },
};

function printResult(
  io: Io,
  out: string,
  files: Array<{ name: string; installPath: string; mode: number }>,
  json: boolean,
): void {
  const next = `sudo install -m 0600 hub.env ${HUB_ENV}, then \`sudo systemctl daemon-reload && sudo systemctl enable --now ${HUB_UNIT}\` (docs/hub.md)`;
  if (json) {
    const listed = files.map((f) => ({ name: f.name, installPath: f.installPath, mode: f.mode.toString(8) }));
    io.out(JSON.stringify({ out, unit: HUB_UNIT, files: listed, next }));
    return;
  }
  const width = Math.max(...files.map((f) => f.name.length));
  io.out(`Rendered ${files.length} files in ${out}:`);
  for (const f of files) io.out(`  ${f.name.padEnd(width)}  -> ${f.installPath}`);
  io.out(`Then: ${next}.`);
}
