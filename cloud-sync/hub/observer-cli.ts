import { parseArgs } from 'node:util';
import type { Command, Io } from '../../shared/platform/command.js';
import { EXIT } from '../../shared/platform/command.js';
import { DEFAULT_TOPIC_PREFIX, HOME_ASSISTANT_OBSERVER, observerRights } from '../../shared/protocol/topics.js';
import { mosquittoPasswordLine, renderObserverAcl } from '../../firmware-config/render-mosquitto.js';
import type { BrokerLogin } from './broker-identities.js';
import { hubDbExists, hubDbTarget } from './db.js';
import { provisionCommand, provisionInto } from './site-cli.js';

const USAGE = 'observer provision NAME [--db FILE|URL] [--url URL] [--topic-prefix P] [--json]';

interface ProvisionArgs {
  name: string;
  db: string;
  url: string;
  topicPrefix: string;
  /** The login as one JSON object instead of the text block. */
  json: boolean;
}

function parse(args: string[]): ProvisionArgs | string {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        db: { type: 'string' },
        url: { type: 'string' },
        'topic-prefix': { type: 'string' },
        json: { type: 'boolean' },
      },
    });
  } catch (err) {
    return (err as Error).message;
  }
  const [name, ...extra] = parsed.positionals;
  if (name === undefined || extra.length > 0) return 'expected one observer name';
  const { values } = parsed;
  const url = values.url ?? 'mqtt://127.0.0.1:1883';
  if (!/^mqtts?:\/\/[^\s/?#]+/.test(url)) return `--url expects mqtt://host:port or mqtts://host:port, got "${url}"`;
  return {
    name,
    db: hubDbTarget(values.db),
    url,
    topicPrefix: values['topic-prefix'] ?? DEFAULT_TOPIC_PREFIX,
    json: values.json === true,
  };
}

/** What to give the observer's owner: its login on the hub's broker, and the same for a Mosquitto broker. */
export function observerBlock(o: { name: string; url: string; topicPrefix: string; login: BrokerLogin }): string {
  // Home Assistant's identity may press its buttons where the hub takes them (--home-assistant-commands).
  const commands = o.name === HOME_ASSISTANT_OBSERVER;
  const rights = observerRights(o.topicPrefix, undefined, commands);
  return [
    `# Observer "${o.name}": a broker identity, shown once (provisioning it again replaces the password).`,
    `# It may read ${rights.read.join(', ')}; publish ${rights.publish.join(', ')}.`,
    `url: ${o.url}`,
    `username: ${o.login.username}`,
    `password: ${o.login.password}`,
    `# The broker admits this identity with this client id only:`,
    `clientId: ${o.login.clientId}`,
    '',
    '# On a Mosquitto broker instead (tessera hub --mqtt), append this line to its password_file:',
    mosquittoPasswordLine(o.login.username, o.login.password).trimEnd(),
    '# and these to its acl_file:',
    renderObserverAcl(o.login.username, o.topicPrefix, undefined, commands),
  ].join('\n');
}

async function provision(a: ProvisionArgs, io: Io): Promise<number> {
  // Opening would create an empty database: a mistyped path must not.
  if (!hubDbExists(a.db)) {
    io.err(`tessera: no hub database at ${a.db} (--db FILE; start the hub once to make it)`);
    return EXIT.FAILURE;
  }
  return provisionInto(a.db, io, async (identities) => {
    const o = {
      name: a.name,
      url: a.url,
      topicPrefix: a.topicPrefix,
      login: await identities.provisionObserver(a.name),
    };
    if (!a.json) return observerBlock(o);
    const commands = o.name === HOME_ASSISTANT_OBSERVER;
    const rights = observerRights(o.topicPrefix, undefined, commands);
    const mosquitto = {
      passwordLine: mosquittoPasswordLine(o.login.username, o.login.password).trimEnd(),
      acl: renderObserverAcl(o.login.username, o.topicPrefix, undefined, commands),
    };
    return JSON.stringify({
      ...o.login,
      name: o.name,
      url: o.url,
      reads: rights.read,
      publishes: rights.publish,
      mosquitto,
    });
  });
}

export const observerProvisionCommand: Command = provisionCommand({
  name: 'observer provision',
  summary:
    "Gives a display or Home Assistant an identity on the hub's embedded broker: it may read the network's occupancy, the hub's and sites' statuses and the Home Assistant topics; the observer named home-assistant may also press Home Assistant's buttons when the hub takes them (tessera hub --home-assistant-commands). Prints its login, and the Mosquitto password and ACL lines of the same identity. Works beside a running hub.",
  usage: USAGE,
  parse,
  provision,
});
