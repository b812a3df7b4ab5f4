import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../shared/platform/command.js';
import { EXIT } from '../shared/platform/command.js';
import { loadSiteConfig } from './load.js';
import { printRefusal } from './cli.js';
import type { SiteConfig } from './schema.js';
import { renderBrokerFiles } from './render-mosquitto.js';

const USAGE = 'config mosquitto SITE.yaml... --hub-password-file FILE --out DIR [--hub-user NAME]';

/**
 * `tessera config mosquitto`: the password and ACL files of a Mosquitto that serves a whole
 * network, the hub's login and each site's, from the sites' configs and the hub's password file
 * (the same file the hub reads through TESSERA_MQTT_PASSWORD_FILE). docker-compose.yml's broker
 * runs on the files this wrote in deploy/mosquitto/.
 */
export const renderBrokerCommand: Command = {
  name: 'config mosquitto',
  summary:
    "Writes the Mosquitto password file (passwd) and ACL file (acl) of a network: the hub's login, reading and writing all its topics, and each site's, reaching only its own.",
  usage: USAGE,
  async run(args, io) {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        allowPositionals: true,
        options: { 'hub-password-file': { type: 'string' }, out: { type: 'string' }, 'hub-user': { type: 'string' } },
      });
    } catch (err) {
      io.err(`tessera: ${(err as Error).message}\nusage: tessera ${USAGE}`);
      return EXIT.USAGE;
    }
    const { values, positionals } = parsed;
    const passwordFile = values['hub-password-file'];
    if (positionals.length === 0 || passwordFile === undefined || values.out === undefined) {
      io.err(`tessera: site configs, --hub-password-file and --out are required\nusage: tessera ${USAGE}`);
      return EXIT.USAGE;
    }
    const sites: SiteConfig[] = [];
    for (const file of positionals) {
      const loaded = loadSiteConfig(file);
      if (!loaded.ok) {
        printRefusal(io, file, loaded.errors);
        return EXIT.CONFIG_INVALID;
      }
      if (loaded.value.broker === undefined) {
        io.err(`${file}: no broker block: this site does not use the broker, nothing rendered`);
        return EXIT.CONFIG_INVALID;
      }
      sites.push(loaded.value);
    }
    let password;
    try {
      // The same reading as the hub's: one line, its newline not part of the password.
      password = readFileSync(passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      io.err(`tessera: cannot read ${passwordFile}: ${(err as Error).message}`);
      return EXIT.FAILURE;
    }
    if (password === '' || /[\r\n]/.test(password)) {
      io.err(`tessera: ${passwordFile} must hold the hub's password alone, on one line`);
      return EXIT.FAILURE;
    }
    const username = values['hub-user'] ?? 'hub';
    let files;
    try {
      files = renderBrokerFiles({ username, password, topicPrefix: sites[0]?.broker?.topicPrefix }, sites);
    } catch (err) {
      io.err(`tessera: ${(err as Error).message}`);
      return EXIT.CONFIG_INVALID;
    }
    const out = resolve(values.out);
    mkdirSync(out, { recursive: true });
    // Readable by the broker's own user: in a container it is not the files' owner.
    for (const [name, text] of [
      ['passwd', files.passwd],
      ['acl', files.acl],
    ] as const) {
      writeFileSync(join(out, name), text, { mode: 0o644 });
      chmodSync(join(out, name), 0o644);
    }
    io.out(
      `Wrote ${join(out, 'passwd')} and ${join(out, 'acl')}: the hub (${username}) and ${sites.map((s) => s.site.id).join(', ')}. Mosquitto reads them at start, or on SIGHUP.`,
    );
    return EXIT.OK;
  },
};
