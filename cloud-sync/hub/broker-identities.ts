import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { TesseraError } from '../../shared/platform/errors.js';
import { SITE_ID_PATTERN, edgeClientId } from '../../shared/protocol/topics.js';
import type { HubDb } from './db.js';
import type { BrokerIdentity } from '../broker/access.js';

/** The hub's own username on its embedded broker: `#` is in no site id, so it names no site. */
export const HUB_BROKER_USERNAME = '#hub';

/**
 * An observer's username, which is also its one client id: the `.` is in no site id, so an
 * observer can never be taken for a site, nor a site for an observer.
 */
export const observerUsername = (name: string) => `observer.${name}`;
const OBSERVER_USERNAME = /^observer\.([a-z0-9][a-z0-9-]{0,62})$/;

/** The credentials of a broker identity, shown once, with the client id it must connect with. */
export interface BrokerLogin {
  username: string;
  password: string;
  clientId: string;
}

interface Row {
  salt: string;
  secret: string;
}

const SQL = {
  get: 'SELECT salt, secret FROM broker_identities WHERE site = ?',
  put: 'INSERT INTO broker_identities (site, salt, secret, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (site) DO UPDATE SET salt = excluded.salt, secret = excluded.secret, created_at = excluded.created_at',
};

const digest = (salt: string, password: string) => createHash('sha256').update(salt).update(password).digest();

/**
 * The credentials of the sites and observers on the embedded broker (each has its own broker
 * identity). A site's username is its id, an observer's `observer.NAME` (both kept in one table,
 * keyed by username); the password is random, shown once at provisioning, and only its salted
 * hash is kept.
 */
export class BrokerIdentities {
  constructor(
    private readonly db: HubDb,
    private readonly now: () => number,
  ) {}

  /** Makes the site's identity, or replaces it (the old password stops working). Returns the password, once. */
  async provision(site: string): Promise<BrokerLogin> {
    if (!SITE_ID_PATTERN.test(site))
      throw new TesseraError(
        'request.invalid',
        `invalid site id ${JSON.stringify(site)}: lowercase letters, digits and "-"`,
      );
    return { ...(await this.put(site)), clientId: edgeClientId(site) };
  }

  /** Makes a read-only observer's identity, or replaces it. Returns the password, once. */
  async provisionObserver(name: string): Promise<BrokerLogin> {
    if (!SITE_ID_PATTERN.test(name))
      throw new TesseraError(
        'request.invalid',
        `invalid observer name ${JSON.stringify(name)}: lowercase letters, digits and "-"`,
      );
    const username = observerUsername(name);
    return { ...(await this.put(username)), clientId: username };
  }

  /** The site or observer whose credentials these are, or undefined; compares in constant time. */
  async verify(username: string | undefined, password: Buffer | undefined): Promise<BrokerIdentity | undefined> {
    if (username === undefined || password === undefined) return undefined;
    const observer = OBSERVER_USERNAME.exec(username)?.[1];
    if (observer === undefined && !SITE_ID_PATTERN.test(username)) return undefined;
    const row = await this.db.get<Row>(SQL.get, [username]);
    if (!row) return undefined;
    const expected = Buffer.from(row.secret, 'base64url');
    const actual = digest(row.salt, password.toString('utf8'));
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return undefined;
    return observer === undefined ? { kind: 'site', site: username } : { kind: 'observer', name: observer };
  }

  private async put(username: string): Promise<{ username: string; password: string }> {
    const password = randomBytes(18).toString('base64url');
    const salt = randomBytes(16).toString('base64url');
    await this.db.run(SQL.put, [username, salt, digest(salt, password).toString('base64url'), this.now()]);
    return { username, password };
  }
}
