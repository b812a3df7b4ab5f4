import { pbkdf2Sync, randomBytes } from 'node:crypto';
import {
  DEFAULT_DISCOVERY_PREFIX,
  DEFAULT_TOPIC_PREFIX,
  observerRights,
  siteRights,
} from '../shared/protocol/topics.js';
import type { SiteConfig } from './schema.js';

/**
 * A site's or an observer's broker identity for Mosquitto: its password-file line and its ACL.
 * A site may publish only its own events and status (the status is also its last will) and read
 * only its own ack, directory, days elsewhere and commands; an observer reads the network's occupancy, the
 * hub's and sites' statuses and the Home Assistant topics, and publishes Home Assistant's birth
 * (and, given commands, its button presses) only. The ACL cannot tie a client id to a
 * login: the broker's listener does, with `use_username_as_clientid true`
 * (deploy/mosquitto/mosquitto.conf), so that no login can take over another's session.
 */

/** The ACL binds topics to a login, not a client id to it: the listener must (one login, one client). */
const ONE_CLIENT =
  "# The listener needs `use_username_as_clientid true` (deploy/mosquitto/mosquitto.conf), or another login may take this one's session.";

/** Mosquitto 2's `mosquitto_passwd` default is 101; a higher count costs the broker only at connect. */
export const PASSWORD_ITERATIONS = 1000;

/**
 * Mosquitto 2's password-file hash: `$7$ITERATIONS$SALT$HASH`, PBKDF2-HMAC-SHA512 over a 12-byte
 * salt giving 64 bytes, both base64 (checked against `mosquitto_passwd` 2.0.11 and a real broker).
 */
export function mosquittoPasswordHash(
  password: string,
  salt: Buffer = randomBytes(12),
  iterations = PASSWORD_ITERATIONS,
): string {
  const hash = pbkdf2Sync(password, salt, iterations, 64, 'sha512');
  return `$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** The username the site connects with: its config's, else its site id (then the config needs it set). */
export function brokerUsername(config: SiteConfig): string {
  return config.broker?.username ?? config.site.id;
}

/** The line to append to Mosquitto's `password_file`; without a password in the config, how to make it. */
export function renderPasswordLine(config: SiteConfig, salt?: Buffer): string {
  const user = brokerUsername(config);
  const password = config.broker?.password;
  if (password === undefined) {
    return [
      `# ${config.site.id}: the config has no broker.password. Make one and hash it on the broker host:`,
      `#   mosquitto_passwd /etc/mosquitto/passwd ${user}`,
      '',
    ].join('\n');
  }
  return mosquittoPasswordLine(user, password, salt);
}

/** One line of Mosquitto's `password_file`. */
export function mosquittoPasswordLine(username: string, password: string, salt?: Buffer): string {
  return `${username}:${mosquittoPasswordHash(password, salt)}\n`;
}

/**
 * ACL lines for an observer's user (shared/protocol/topics.ts observerRights): what it reads,
 * Home Assistant's birth topic, and with `commands` the Home Assistant command topics.
 */
export function renderObserverAcl(
  username: string,
  topicPrefix?: string,
  discoveryPrefix?: string,
  commands = false,
): string {
  const rights = observerRights(topicPrefix, discoveryPrefix, commands);
  return [
    `# ${username}: an observer (display, Home Assistant): reads occupancy, statuses and the Home Assistant topics${commands ? ', presses the Home Assistant buttons' : ''}.`,
    ONE_CLIENT,
    `user ${username}`,
    ...rights.read.map((t) => `topic read ${t}`),
    ...rights.publish.map((t) => `topic write ${t}`),
    '',
  ].join('\n');
}

/** ACL lines for Mosquitto's `acl_file`: this site's user, its five topics, nothing else. */
export function renderAcl(config: SiteConfig): string {
  const site = config.site.id;
  const rights = siteRights(site, config.broker?.topicPrefix);
  return [
    `# ${config.site.name} (${site}): publishes its events and status (and its last will), reads its ack, directory, days elsewhere and commands.`,
    ONE_CLIENT,
    `user ${brokerUsername(config)}`,
    ...rights.publish.map((t) => `topic write ${t}`),
    ...rights.subscribe.map((t) => `topic read ${t}`),
    '',
  ].join('\n');
}

/**
 * ACL lines for the hub's user: it reads every site's events and status and publishes their
 * acks, directories, days elsewhere and commands and the network's occupancy (everything under
 * the prefix), and the Home Assistant discovery configs.
 */
export function renderHubAcl(
  username: string,
  topicPrefix = DEFAULT_TOPIC_PREFIX,
  discoveryPrefix = DEFAULT_DISCOVERY_PREFIX,
): string {
  return [
    `# The hub (${username}): reads every site's events and status, writes their acks, directories, days elsewhere and commands, the occupancy and the Home Assistant discovery configs.`,
    ONE_CLIENT,
    `user ${username}`,
    `topic readwrite ${topicPrefix}/#`,
    `topic readwrite ${discoveryPrefix}/#`,
    '',
  ].join('\n');
}

/** Where a line of a password file keeps its salt: `user:$7$ITERATIONS$SALT$HASH`. */
export function passwordSalt(line: string): Buffer | undefined {
  const salt = /^[^:]+:\$7\$\d+\$([^$]+)\$/.exec(line)?.[1];
  return salt === undefined ? undefined : Buffer.from(salt, 'base64');
}

/**
 * A whole network's Mosquitto `password_file` and `acl_file`: the hub's identity first, then each
 * site's, as `tessera config render` writes them one site at a time. `salts`: by username, to
 * render again the same lines (a test compares them with committed files); otherwise new ones.
 */
export function renderBrokerFiles(
  hub: { username: string; password: string; topicPrefix?: string },
  sites: SiteConfig[],
  salts: ReadonlyMap<string, Buffer> = new Map(),
): { passwd: string; acl: string } {
  const names = [hub.username, ...sites.map(brokerUsername)];
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new Error(`two identities log in as ${JSON.stringify(twice)}`);
  const header = `# Rendered by \`tessera config mosquitto\` for the hub and ${sites.map((s) => s.site.id).join(', ')}: render again rather than edit.`;
  return {
    // Each line ends with its newline.
    passwd: [
      `${header}\n`,
      mosquittoPasswordLine(hub.username, hub.password, salts.get(hub.username)),
      ...sites.map((s) => renderPasswordLine(s, salts.get(brokerUsername(s)))),
    ].join(''),
    acl: [header, renderHubAcl(hub.username, hub.topicPrefix), ...sites.map((s) => renderAcl(s))].join('\n'),
  };
}
