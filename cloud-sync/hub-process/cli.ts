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
import { systemdNotifier } from '../../shared/platform/systemd-notify.js';
import { ListenError } from '../broker/embedded.js';
import { createHub } from './hub.js';
import { defaultHubKey, hubDbTarget } from '../hub/db.js';
import type { InitialAdmin } from '../hub/auth/index.js';
import { loadNotifications, type NotificationPlan } from '../hub/notify/index.js';
import { isPostgresUrl } from '../hub/storage/hub-db.js';
import { redact } from '../hub/storage/postgres.js';

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
  notifications: { type: 'string' },
} as const;

interface HubArgs {
  db: string;
  key: string;
  mqtt: string | undefined;
  /** The external broker's password, from TESSERA_MQTT_PASSWORD_FILE (hubSecrets). */
  mqttPassword: string | undefined;
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
  /** The alarm notifications file (docs/notifications.md); TESSERA_NOTIFICATIONS otherwise. */
  notifications: string | undefined;
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

export function parseHubArgs(args: string[], io: Io, usage: string): HubArgs | number {
  let values;
  try {
    ({ values } = parseArgs({ args, options: OPTIONS }));
  } catch (err) {
    return usageError(io, (err as Error).message, usage);
  }
  const mqtt = values.mqtt ?? process.env.TESSERA_MQTT_URL;
  if (mqtt !== undefined && values['broker-port'] !== undefined)
    return usageError(
      io,
      '--mqtt and --broker-port exclude each other (TESSERA_MQTT_URL counts as --mqtt): an external broker, or the embedded one on a port',
      usage,
    );
  if (mqtt !== undefined && !/^mqtts?:\/\/./.test(mqtt))
    return usageError(io, `--mqtt expects mqtt://host:port or mqtts://host:port, got "${mqtt}"`, usage);
  if (values.mqtt !== undefined && /^mqtts?:\/\/[^/@]*:[^/@]*@/.test(values.mqtt))
    io.err(
      'note: a password in --mqtt is seen by every user of this machine (ps); TESSERA_MQTT_PASSWORD_FILE keeps it off the command line',
    );
  const brokerPort = parsePort('broker-port', values['broker-port']);
  if (typeof brokerPort === 'string') return usageError(io, brokerPort, usage);
  const apiPort = parsePort('api-port', values['api-port']);
  if (typeof apiPort === 'string') return usageError(io, apiPort, usage);
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined))
    return usageError(io, '--tls-cert and --tls-key go together: the certificate chain and its key, PEM', usage);
  if (mqtt !== undefined && (values['tls-cert'] !== undefined || values['open-broker'] === true))
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
  const secrets = hubSecrets({ mqtt, db: hubDbTarget(values.db) }, process.env);
  if (typeof secrets === 'string') return usageError(io, secrets, usage);
  const { db } = secrets;
  return {
    publicUrl,
    notifications: values.notifications ?? (process.env.TESSERA_NOTIFICATIONS || undefined),
    retentionDays,
    openBroker: values['open-broker'] === true,
    tls,
    db,
    key: values.key === undefined ? defaultHubKey(db) : resolve(values.key),
    mqtt,
    mqttPassword: secrets.mqttPassword,
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
    'Runs the hub: an MQTT broker (embedded, or --mqtt for an external one), event ingest into SQLite (or PostgreSQL: --db postgres://...; several instances: --instance, docs/scaling.md), and its API, until SIGINT or SIGTERM. The first start prints the one-time password of the operator "admin" (TESSERA_INITIAL_ADMIN_PASSWORD sets one instead). Passwords stay off the command line: TESSERA_MQTT_URL stands for --mqtt, TESSERA_MQTT_PASSWORD_FILE and TESSERA_DB_PASSWORD_FILE name the files holding the passwords of the broker and of the database.',
  usage:
    'hub [--db FILE|URL] [--key FILE] [--mqtt URL | --broker-port N [--open-broker] [--tls-cert FILE --tls-key FILE]] [--api-port N] [--api-host ADDR] [--home-assistant [--home-assistant-commands]] [--retention-days N] [--instance NAME] [--topic-prefix P] [--public-url URL] [--notifications FILE]',
  async run(args, io) {
    const opts = parseHubArgs(args, io, this.usage);
    if (typeof opts === 'number') return opts;
    const log = createLogger('tessera-hub');
    try {
      // Checked before anything is made (the hub key on a first start).
      const notifications = notificationsFrom(opts.notifications);
      const hub = await createHub({
        dbPath: opts.db,
        privateKeyPem: hubKeyFile(opts.key, log),
        clock: systemClock,
        log,
        ...(opts.mqtt !== undefined ? { mqttUrl: opts.mqtt } : {}),
        ...(opts.mqttPassword !== undefined ? { mqttPassword: opts.mqttPassword } : {}),
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
        ...notifications,
        ...(opts.tls ? { brokerTls: { cert: readFileSync(opts.tls.cert), key: readFileSync(opts.tls.key) } } : {}),
      });
      const { mqttUrl, apiUrl } = await hub.start();
      // Under the unit `tessera hub render` writes: READY=1 now that the broker and the API listen.
      const systemd = systemdNotifier({ env: process.env, log });
      const stop = async () => {
        systemd.stopping();
        await hub.stop();
      };
      // The hub drives no relays: its safe state is nothing to do.
      guardProcess({ stop, safeState: () => undefined }, { log });
      systemd.ready(`API on ${apiUrl}, MQTT on ${mqttUrl}`);
      io.out(
        [
          '',
          `Tessera hub`,
          `MQTT broker: ${redact(mqttUrl)}${opts.mqtt === undefined ? ` (embedded, MQTT 3.1.1; ${opts.openBroker ? 'open to any client' : 'provisioned sites only: tessera site provision SITE'})` : ' (external)'}`,
          `API:         ${apiUrl}   (health: ${apiUrl}/health, sites: ${apiUrl}/sites)`,
          `Database:    ${redact(opts.db)}`,
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

/** A secret file's text: its one trailing newline (`echo secret > file`) is not part of the secret. */
function readSecretFile(variable: string, path: string): string {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`${variable}: cannot read ${path}: ${(err as Error).message}`);
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret === '' || /[\r\n]/.test(secret))
    throw new Error(`${variable}: ${path} must hold the password alone, on one line`);
  return secret;
}

/**
 * The hub's passwords from files named in the environment, never on its command line (which
 * every user of the machine sees with ps) nor in the URLs it prints and logs:
 * `TESSERA_MQTT_PASSWORD_FILE`, the external broker's password for the username in `--mqtt` (or
 * `TESSERA_MQTT_URL`); `TESSERA_DB_PASSWORD_FILE`, the password of the PostgreSQL `--db` URL's
 * user. Container secrets are such files (docker-compose.yml). An error message, or the values.
 */
export function hubSecrets(
  given: { mqtt: string | undefined; db: string },
  env: Record<string, string | undefined>,
): { mqttPassword: string | undefined; db: string } | string {
  const mqttFile = env.TESSERA_MQTT_PASSWORD_FILE;
  const dbFile = env.TESSERA_DB_PASSWORD_FILE;
  let mqttPassword: string | undefined;
  let db = given.db;
  try {
    if (mqttFile) {
      if (given.mqtt === undefined)
        return 'TESSERA_MQTT_PASSWORD_FILE is the password of an external broker: give its URL (--mqtt or TESSERA_MQTT_URL)';
      const url = new URL(given.mqtt);
      if (url.username === '')
        return `TESSERA_MQTT_PASSWORD_FILE needs the username in the broker URL: mqtt://USER@host:port`;
      if (url.password !== '')
        return 'the broker URL has a password already: leave it out, TESSERA_MQTT_PASSWORD_FILE gives it';
      mqttPassword = readSecretFile('TESSERA_MQTT_PASSWORD_FILE', mqttFile);
    }
    if (dbFile) {
      if (!isPostgresUrl(given.db))
        return 'TESSERA_DB_PASSWORD_FILE is the password of a PostgreSQL database: --db postgres://USER@host/DATABASE';
      const url = new URL(given.db);
      if (url.password !== '')
        return 'the --db URL has a password already: leave it out, TESSERA_DB_PASSWORD_FILE gives it';
      // Encoded, so that a "%" or "@" in the password reaches PostgreSQL as it is.
      url.password = encodeURIComponent(readSecretFile('TESSERA_DB_PASSWORD_FILE', dbFile));
      db = url.toString();
    }
  } catch (err) {
    return (err as Error).message;
  }
  return { mqttPassword, db };
}

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

/** The alarm notifications file, checked (every error with its path) and with its secrets read. */
function notificationsFrom(path: string | undefined): { notifications?: NotificationPlan } {
  if (path === undefined) return {};
  const loaded = loadNotifications(path, process.env);
  if (loaded.ok) return { notifications: loaded.value };
  const lines = loaded.errors.map((e) => `  ${e.path}: ${e.message}`).join('\n');
  throw new TesseraError(loaded.code, `notifications file ${path} refused:\n${lines}`, loaded.errors);
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
