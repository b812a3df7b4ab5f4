import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SqlStatement } from './storage/hub-db.js';
import { TesseraError } from '../../shared/errors.js';
import { SITE_ID_PATTERN } from '../../shared/topics.js';
import type { HubDb } from './db.js';

/** Who is on the other end of a broker connection. */
export type BrokerIdentity = { kind: 'hub' } | { kind: 'site'; site: string };

/** The hub's own username on its embedded broker: `#` is in no site id, so it names no site. */
export const HUB_BROKER_USERNAME = '#hub';

interface Row {
  salt: string;
  secret: string;
}

const digest = (salt: string, password: string) => createHash('sha256').update(salt).update(password).digest();

/**
 * The sites' credentials on the embedded broker (DESIGN: Security: each site has its own broker
 * identity). A site's username is its id; its password is random, shown once at provisioning,
 * and only its salted hash is kept.
 */
export class BrokerIdentities {
  private readonly stmt: { get: SqlStatement<[string], Row>; put: SqlStatement<[string, string, string, number]> };

  constructor(
    db: HubDb,
    private readonly now: () => number,
  ) {
    this.stmt = {
      get: db.prepare('SELECT salt, secret FROM broker_identities WHERE site = ?'),
      put: db.prepare('INSERT INTO broker_identities (site, salt, secret, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (site) DO UPDATE SET salt = excluded.salt, secret = excluded.secret, created_at = excluded.created_at'),
    };
  }

  /** Makes the site's identity, or replaces it (the old password stops working). Returns the password, once. */
  provision(site: string): { username: string; password: string } {
    if (!SITE_ID_PATTERN.test(site)) throw new TesseraError('request.invalid', `invalid site id ${JSON.stringify(site)}: lowercase letters, digits and "-"`);
    const password = randomBytes(18).toString('base64url');
    const salt = randomBytes(16).toString('base64url');
    this.stmt.put.run(site, salt, digest(salt, password).toString('base64url'), this.now());
    return { username: site, password };
  }

  /** The site whose credentials these are, or undefined; compares in constant time. */
  verify(username: string | undefined, password: Buffer | undefined): string | undefined {
    if (username === undefined || password === undefined || !SITE_ID_PATTERN.test(username)) return undefined;
    const row = this.stmt.get.get(username);
    if (!row) return undefined;
    const expected = Buffer.from(row.secret, 'base64url');
    const actual = digest(row.salt, password.toString('utf8'));
    return actual.length === expected.length && timingSafeEqual(actual, expected) ? username : undefined;
  }
}
