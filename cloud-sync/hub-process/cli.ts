import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { generateHubKeys } from '../../shared/protocol/signing.js';
import { parseArgs } from 'node:util';
import type { Command, Io } from '../../shared/platform/command.js';
import { EXIT } from '../../shared/platform/command.js';
import { systemClock } from '../../shared/platform/clock.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { createLogger } from '../../shared/platform/logger.js';
import { guardProcess } from '../../shared/platform/process-guard.js';
import { ListenError } from '../broker/embedded.js';
import { createHub } from './hub.js';
import { defaultHubKey, hubDbTarget } from '../hub/db.js';
import type { InitialAdmin } from '../hub/auth/index.js';

const OPTIONS = {
  db: { type: 'string' },
  key: { type: 'string' },
  mqtt: { type: 'string' },
  'broker-port': { type: 'string' },
  'api-port': { type: 'string' },
  'api-host': { type: 'string' },
  'home-assistant': { type: 'boolean' },
  'home-assistant-commands': { type: 'boolean' },
  'open-broker': { type: 'boolean' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'retention-days': { type: 'string' },
  instance: { type: 'string' },
  'topic-prefix': { type: 'string' },
  'public-url': { type: 'string' },
} as const;

interface HubArgs {
  db: string;
  key: string;
  mqtt: string | undefined;
  brokerPort: number | undefined;
  apiPort: number | undefined;
  /** Default 127.0.0.1; 0.0.0.0 in a container, behind its published port. */
  apiHost: string | undefined;
  homeAssistant: boolean;
  /** Home Assistant's locks and buttons send signed commands (implies homeAssistant). */
  homeAssistantCommands: boolean;
  /** The embedded broker admits anyone (tests, a closed LAN): without it, only provisioned sites. */
  openBroker: boolean;
  tls: { cert: string; key: string } | undefined;
  retentionDays: number | undefined;
  /** One of several instances (docs/scaling.md). */
  instance: string | undefined;
  /** Topics under this prefix instead of tessera/v1 (several networks on one broker). */
  topicPrefix: string | undefined;
  /** Where people open the dashboard, for invitation links. */
  publicUrl: string | undefined;
}

function usageError(io: Io, message: string, usage: string): number {
  io.err(`tessera: ${message}\nusage: tessera ${usage}`);
  return EXIT.USAGE;
}

function parsePort(flag: string, value: string | undefined): number | string | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  return Number.isInteger(port) && port >= 0 && port <= 65535 && value.trim() !== ''
    ? port
    : `--${flag} expects 0-65535, got "${value}"`;
}

function parseHubArgs(args: string[], io: Io, usage: string): HubArgs | number {
  let values;
  try {
    ({ values } = parseArgs({ args, options: OPTIONS }));
  } catch (err) {
    return usageError(io, (err as Error).message, usage);
  }
  if (values.mqtt !== undefined && values['broker-port'] !== undefined)
    return usageError(
      io,
      '--mqtt and --broker-port exclude each other: an external broker, or the embedded one on a port',
      usage,
    );
  if (values.mqtt !== undefined && !/^mqtts?:\/\/./.test(values.mqtt))
    return usageError(io, `--mqtt expects mqtt://host:port or mqtts://host:port, got "${values.mqtt}"`, usage);
  const brokerPort = parsePort('broker-port', values['broker-port']);
  if (typeof brokerPort === 'string') return usageError(io, brokerPort, usage);
  const apiPort = parsePort('api-port', values['api-port']);
  if (typeof apiPort === 'string') return usageError(io, apiPort, usage);
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined))
    return usageError(io, '--tls-cert and --tls-key go together: the certificate chain and its key, PEM', usage);
  if (values.mqtt !== undefined && (values['tls-cert'] !== undefined || values['open-broker'] === true))
    return usageError(io, '--tls-cert and --open-broker are options of the embedded broker, not of --mqtt', usage);
  const tls =
    values['tls-cert'] !== undefined && values['tls-key'] !== undefined
      ? { cert: resolve(values['tls-cert']), key: resolve(values['tls-key']) }
      : undefined;
  const retention = values['retention-days'];
  const retentionDays = retention === undefined ? undefined : Number(retention);
  if (
    retentionDays !== undefined &&
    !(Number.isInteger(retentionDays) && retentionDays >= 1 && retentionDays <= 36_500)
  )
    return usageError(io, `--retention-days expects a whole number of days, 1-36500, got "${retention}"`, usage);
  const publicUrl = values['public-url'] ?? process.env.TESSERA_PUBLIC_URL;
  if (publicUrl !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(publicUrl))
    return usageError(io, `--public-url expects https://host[:port], got "${publicUrl}"`, usage);
  const db = hubDbTarget(values.db);
  return {
    publicUrl,
    retentionDays,
    openBroker: values['open-broker'] === true,
    tls,
    db,
    key: values.key === undefined ? defaultHubKey(db) : resolve(values.key),
    mqtt: values.mqtt,
    brokerPort,
    apiPort,
    apiHost: values['api-host'],
    homeAssistant: values['home-assistant'] === true || values['home-assistant-commands'] === true,
    homeAssistantCommands: values['home-assistant-commands'] === true,
    instance: values.instance,
    topicPrefix: values['topic-prefix'],
  };
}

const HINTS = {
  'MQTT broker': 'pass --broker-port N (0 = any free port), or --mqtt URL to use the broker already listening there',
  'hub API': 'pass --api-port N (0 = any free port)',
} as const;

export const hubCommand: Command = {
  name: 'hub',
  summary:
    'Runs the hub: an MQTT broker (embedded, or --mqtt for an external one), event ingest into SQLite (or PostgreSQL: --db postgres://...; several instances: --instance, docs/scaling.md), and its API, until SIGINT or SIGTERM. The first start prints the one-time password of the operator "admin" (TESSERA_INITIAL_ADMIN_PASSWORD sets one instead).',
  usage:
    'hub [--db FILE|URL] [--key FILE] [--mqtt URL | --broker-port N [--open-broker] [--tls-cert FILE --tls-key FILE]] [--api-port N] [--api-host ADDR] [--home-assistant [--home-assistant-commands]] [--retention-days N] [--instance NAME] [--topic-prefix P] [--public-url URL]',
  async run(args, io) {
    const opts = parseHubArgs(args, io, this.usage);
    if (typeof opts === 'number') return opts;
    const log = createLogger('tessera-hub');
    try {
      const hub = await createHub({
        dbPath: opts.db,
        privateKeyPem: hubKeyFile(opts.key, log),
        clock: systemClock,
        log,
        ...(opts.mqtt !== undefined ? { mqttUrl: opts.mqtt } : {}),
        ...(opts.brokerPort !== undefined ? { brokerPort: opts.brokerPort } : {}),
        ...(opts.apiPort !== undefined ? { apiPort: opts.apiPort } : {}),
        ...(opts.apiHost !== undefined ? { apiHost: opts.apiHost } : {}),
        // Each site's occupancy as a Home Assistant sensor, by MQTT discovery (docs/dashboard.md).
        ...(opts.homeAssistant ? { homeAssistant: { commands: opts.homeAssistantCommands } } : {}),
        ...initialAdminFromEnv(),
        brokerIdentities: !opts.openBroker,
        ...(opts.retentionDays !== undefined ? { retentionDays: opts.retentionDays } : {}),
        ...(opts.instance !== undefined ? { instance: opts.instance } : {}),
        ...(opts.topicPrefix !== undefined ? { topicPrefix: opts.topicPrefix } : {}),
        ...(opts.publicUrl !== undefined ? { publicUrl: opts.publicUrl } : {}),
        ...mailFromEnv(),
        ...(opts.tls ? { brokerTls: { cert: readFileSync(opts.tls.cert), key: readFileSync(opts.tls.key) } } : {}),
      });
      const { mqttUrl, apiUrl } = await hub.start();
      // The hub drives no relays: its safe state is nothing to do.
      guardProcess({ stop: hub.stop, safeState: () => undefined }, { log });
      io.out(
        [
          '',
          `Tessera hub`,
          `MQTT broker: ${mqttUrl}${opts.mqtt === undefined ? ` (embedded, MQTT 3.1.1; ${opts.openBroker ? 'open to any client' : 'provisioned sites only: tessera site provision SITE'})` : ' (external)'}`,
          `API:         ${apiUrl}   (health: ${apiUrl}/health, sites: ${apiUrl}/sites)`,
          `Database:    ${opts.db}`,
          `Hub key:     ${opts.key} (sites pin its public key: ${apiUrl}/directory)`,
          ...oneTimeAdminLines(hub.oneTimeAdmin, firstAdminFile(opts.key), log),
          'Ctrl-C stops.',
          '',
        ].join('\n'),
      );
      return new Promise<number>(() => undefined);
    } catch (err) {
      if (err instanceof ListenError) {
        io.err(`tessera: ${err.message}; ${HINTS[err.component]}`);
        return EXIT.FAILURE;
      }
      if (err instanceof TesseraError) {
        io.err(`tessera: ${err.message} [${err.code}]`);
        return EXIT.FAILURE;
      }
      throw err;
    }
  },
};

/**
 * `TESSERA_SMTP_URL` (`smtp://user:password@host:587`, `smtps://…:465`) and `TESSERA_MAIL_FROM`:
 * invitations are emailed. From the environment only: a password on the command line is seen
 * by every user of the machine (ps). Both or neither.
 */
function mailFromEnv(): { mail?: { smtpUrl: string; from: string } } {
  const smtpUrl = process.env.TESSERA_SMTP_URL;
  const from = process.env.TESSERA_MAIL_FROM;
  if (!smtpUrl && !from) return {};
  if (!smtpUrl || !from)
    throw new TesseraError(
      'config.invalid',
      'TESSERA_SMTP_URL and TESSERA_MAIL_FROM go together: set both, or neither',
    );
  if (!/^smtps?:\/\/./.test(smtpUrl))
    throw new TesseraError('config.invalid', 'TESSERA_SMTP_URL expects smtp://… or smtps://…');
  return { mail: { smtpUrl, from } };
}

/** `TESSERA_INITIAL_ADMIN_PASSWORD`: the first start's `admin` gets this password instead of a one-time one. */
function initialAdminFromEnv(): { initialAdmin?: InitialAdmin } {
  const password = process.env.TESSERA_INITIAL_ADMIN_PASSWORD;
  return password ? { initialAdmin: { username: 'admin', password } } : {};
}

/** Where the first start's one-time password is written: beside the hub key, which is as secret and as backed up. */
export const firstAdminFile = (keyPath: string) => resolve(dirname(keyPath), 'first-admin-password');

/**
 * The one-time password goes to a file only its owner reads (0600), never to stdout: a hub run by
 * systemd has its stdout in the journal, readable by more people than the hub's files. The output
 * and the log say where it is. The file is replaced at each start that makes a new one.
 */
function oneTimeAdminLines(admin: InitialAdmin | undefined, file: string, log: Logger): string[] {
  if (!admin) return [];
  mkdirSync(dirname(file), { recursive: true });
  rmSync(file, { force: true });
  writeFileSync(file, `${admin.password}\n`, { mode: 0o600 });
  log.warn({ file, username: admin.username }, 'the one-time password of the first operator is in this file (0600)');
  return [
    `First start: operator "${admin.username}", one-time password in ${file} (mode 0600)`,
    '             (read it, log in and set your own with POST /auth/password, then delete the file)',
  ];
}

/** The hub's signing key: read, or made on first start (0600). Losing it means re-pinning every site. */
function hubKeyFile(path: string, log: Logger): string {
  if (existsSync(path)) return readFileSync(path, 'utf8');
  const { privateKeyPem } = generateHubKeys();
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, privateKeyPem, { mode: 0o600 });
  log.warn({ path }, 'made a new hub key: back it up; every site pins its public key');
  return privateKeyPem;
}
