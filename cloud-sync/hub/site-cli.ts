import { existsSync, readFileSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Command, Io } from '../../shared/platform/command.js';
import { EXIT } from '../../shared/platform/command.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { hubPrivateKey } from '../../shared/protocol/signing.js';
import { edgeClientId } from '../../shared/protocol/topics.js';
import { BrokerIdentities } from './broker-identities.js';
import { defaultHubKey, hubDbExists, hubDbTarget, openHubDatabase } from './db.js';

const USAGE = 'site provision SITE [--db FILE|URL] [--key FILE] [--url URL] [--ca FILE] [--json]';

interface ProvisionArgs {
  site: string;
  db: string;
  key: string;
  url: string;
  ca: string | undefined;
  /** The login as one JSON object instead of the config block. */
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
        key: { type: 'string' },
        url: { type: 'string' },
        ca: { type: 'string' },
        json: { type: 'boolean' },
      },
    });
  } catch (err) {
    return (err as Error).message;
  }
  const [site, ...extra] = parsed.positionals;
  if (site === undefined || extra.length > 0) return 'expected one site id';
  const { values } = parsed;
  const url = values.url ?? 'mqtt://127.0.0.1:1883';
  if (!/^mqtts?:\/\/[^\s/?#]+/.test(url)) return `--url expects mqtt://host:port or mqtts://host:port, got "${url}"`;
  const db = hubDbTarget(values.db);
  return {
    site,
    db,
    key: values.key === undefined ? defaultHubKey(db) : resolve(values.key),
    url,
    ca: values.ca === undefined ? undefined : resolve(values.ca),
    json: values.json === true,
  };
}

/** The `broker` block of the site's config, YAML; the password appears here and nowhere else. */
export function siteBrokerBlock(o: {
  site: string;
  url: string;
  username: string;
  password: string;
  hubPublicKeyPem: string;
  caPem?: string | undefined;
}): string {
  const indent = (pem: string) =>
    pem
      .trim()
      .split('\n')
      .map((l) => `    ${l}`);
  return [
    `# ${o.site}: its broker identity, shown once (provisioning it again replaces the password).`,
    '# Put this block in the site config; with directory.source: hub the site takes its directory from the hub.',
    `# The broker admits this identity with its edge's client id only (${edgeClientId(o.site)}): no other login can take its session.`,
    'broker:',
    `  url: ${o.url}`,
    `  username: ${o.username}`,
    `  password: ${o.password}`,
    '  hubPublicKey: |',
    ...indent(o.hubPublicKeyPem),
    ...(o.caPem === undefined ? [] : ['  ca: |', ...indent(o.caPem)]),
    '',
  ].join('\n');
}

async function provision(a: ProvisionArgs, io: Io): Promise<number> {
  // Opening would create an empty database, and the key is made by the hub's first start.
  for (const [what, path, flag, exists] of [
    ['hub database', a.db, '--db', hubDbExists],
    ['hub key', a.key, '--key', existsSync],
  ] as const) {
    if (exists(path)) continue;
    io.err(`tessera: no ${what} at ${path} (${flag} FILE; start the hub once to make them)`);
    return EXIT.FAILURE;
  }
  const hubPublicKeyPem = createPublicKey(hubPrivateKey(readFileSync(a.key, 'utf8')))
    .export({ type: 'spki', format: 'pem' })
    .toString();
  const caPem = a.ca === undefined ? undefined : readFileSync(a.ca, 'utf8');
  return provisionInto(a.db, io, async (identities) => {
    const login = await identities.provision(a.site);
    const block = { site: a.site, url: a.url, ...login, hubPublicKeyPem, caPem };
    return a.json ? JSON.stringify(block) : siteBrokerBlock(block);
  });
}

/** Makes one broker identity in the hub's database and prints what `block` says of it; a refused name is one line and exit 1. */
export async function provisionInto(
  dbPath: string,
  io: Io,
  block: (identities: BrokerIdentities) => Promise<string>,
): Promise<number> {
  const db = await openHubDatabase(dbPath);
  try {
    io.out(await block(new BrokerIdentities(db, Date.now)));
    return EXIT.OK;
  } catch (err) {
    if (!(err instanceof TesseraError)) throw err;
    io.err(`tessera: ${err.message} [${err.code}]`);
    return EXIT.FAILURE;
  } finally {
    await db.close();
  }
}

/** A `tessera … provision` command: its arguments parsed first, a usage error told with the usage line (exit 64). */
export function provisionCommand<A>(c: {
  name: string;
  summary: string;
  usage: string;
  parse: (args: string[]) => A | string;
  provision: (a: A, io: Io) => Promise<number>;
}): Command {
  return {
    name: c.name,
    summary: c.summary,
    usage: c.usage,
    run(args, io) {
      const a = c.parse(args);
      if (typeof a === 'string') {
        io.err(`tessera: ${a}\nusage: tessera ${c.usage}`);
        return Promise.resolve(EXIT.USAGE);
      }
      return c.provision(a, io);
    },
  };
}

export const siteProvisionCommand: Command = provisionCommand({
  name: 'site provision',
  summary:
    "Gives a site its own identity on the hub's embedded broker (it may then publish only its own events and status, and read only its own ack, directory, days elsewhere and commands) and prints the site's broker config block. Works beside a running hub.",
  usage: USAGE,
  parse,
  provision,
});
