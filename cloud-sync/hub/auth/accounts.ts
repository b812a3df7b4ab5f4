import { randomUUID } from 'node:crypto';
import { TesseraError } from '../../../shared/platform/errors.js';
import type { HubDb } from '../db.js';
import type { AccountRole } from './account.js';

/** An account as the API shows it: never its password. */
// An account as the API shows it (never its password), and the rules of its fields: shared/protocol/api/hub-auth.ts.
import { SiteList, type AccountRecord } from '../../../shared/protocol/api/hub-auth.js';

export { Username, type AccountRecord } from '../../../shared/protocol/api/hub-auth.js';

interface Row {
  id: string;
  username: string;
  role: AccountRole;
  sites: string;
  password: string;
  must_change_password: number;
  disabled: number;
  created_at: number;
  updated_at: number;
}

const COLUMNS = 'id, username, role, sites, password, must_change_password, disabled, created_at, updated_at';

function toRecord(r: Row): AccountRecord {
  const sites = SiteList.safeParse(JSON.parse(r.sites));
  return {
    id: r.id,
    username: r.username,
    role: r.role,
    sites: r.role === 'site_manager' && sites.success ? sites.data : [],
    mustChangePassword: r.must_change_password === 1,
    disabled: r.disabled === 1,
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}

export interface NewAccount {
  username: string;
  role: AccountRole;
  sites: string[];
  passwordHash: string;
  mustChangePassword: boolean;
}

export interface AccountChange {
  role?: AccountRole;
  sites?: string[];
  disabled?: boolean;
}

/** The hub's accounts (table `accounts`). Passwords go in hashed; the hash never comes out but for login. */
export class AccountStore {
  constructor(
    private readonly db: HubDb,
    private readonly now: () => number,
  ) {}

  count(): number {
    return this.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM accounts').get()?.n ?? 0;
  }

  list(): AccountRecord[] {
    return this.db
      .prepare<[], Row>(`SELECT ${COLUMNS} FROM accounts ORDER BY lower(username), username`)
      .all()
      .map(toRecord);
  }

  get(id: string): AccountRecord | undefined {
    const row = this.db.prepare<[string], Row>(`SELECT ${COLUMNS} FROM accounts WHERE id = ?`).get(id);
    return row ? toRecord(row) : undefined;
  }

  /** The account and its password hash, by username (case-insensitive), for login. */
  credentials(username: string): { account: AccountRecord; passwordHash: string } | undefined {
    const row = this.db
      .prepare<[string], Row>(`SELECT ${COLUMNS} FROM accounts WHERE lower(username) = lower(?)`)
      .get(username);
    return row ? { account: toRecord(row), passwordHash: row.password } : undefined;
  }

  passwordHash(id: string): string | undefined {
    return this.db.prepare<[string], { password: string }>('SELECT password FROM accounts WHERE id = ?').get(id)
      ?.password;
  }

  /** Adds an account; `passwordHash` from auth/password.ts (hashing is slow: do it before any transaction). */
  create(input: NewAccount): AccountRecord {
    if (this.credentials(input.username))
      throw new TesseraError('conflict', `the username ${JSON.stringify(input.username)} is taken`);
    const id = randomUUID();
    const at = this.now();
    const sites = input.role === 'site_manager' ? input.sites : [];
    this.db
      .prepare(`INSERT INTO accounts (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)`)
      .run(
        id,
        input.username,
        input.role,
        JSON.stringify(sites),
        input.passwordHash,
        input.mustChangePassword ? 1 : 0,
        at,
        at,
      );
    return this.get(id) as AccountRecord;
  }

  update(id: string, change: AccountChange): AccountRecord {
    const before = this.get(id);
    if (!before) throw new TesseraError('not_found', `no account ${JSON.stringify(id)}`);
    const role = change.role ?? before.role;
    const sites = role === 'site_manager' ? (change.sites ?? before.sites) : [];
    const disabled = change.disabled ?? before.disabled;
    this.db
      .prepare('UPDATE accounts SET role = ?, sites = ?, disabled = ?, updated_at = ? WHERE id = ?')
      .run(role, JSON.stringify(sites), disabled ? 1 : 0, this.now(), id);
    return this.get(id) as AccountRecord;
  }

  /** Sets a password already hashed; `oneTime` makes the account change it at its next login. */
  setPasswordHash(id: string, hash: string, oneTime: boolean): void {
    this.db
      .prepare('UPDATE accounts SET password = ?, must_change_password = ?, updated_at = ? WHERE id = ?')
      .run(hash, oneTime ? 1 : 0, this.now(), id);
  }
}
