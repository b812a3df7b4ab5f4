import { randomUUID } from 'node:crypto';
import { TesseraError } from '../../../shared/platform/errors.js';
import type { Sql } from '../db.js';
import { sqlDialect } from '../storage/dialect.js';
import type { AccountRole } from './account.js';
import { tokenHash } from './sessions.js';

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
  member: string | null;
  employer: string | null;
}

const COLUMNS =
  'id, username, role, sites, password, must_change_password, disabled, created_at, updated_at, member, employer';

function toRecord(r: Row): AccountRecord {
  const sites = SiteList.safeParse(JSON.parse(r.sites));
  return {
    id: r.id,
    username: r.username,
    role: r.role,
    sites: r.role === 'site_manager' && sites.success ? sites.data : [],
    ...(r.role === 'member' && r.member !== null ? { member: r.member } : {}),
    ...(r.role === 'employer_manager' && r.employer !== null ? { employer: r.employer } : {}),
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
  /** A member's account: their directory entry (one account per member). */
  member?: string;
  /** An employer's manager: the employer. */
  employer?: string;
}

export interface AccountChange {
  role?: AccountRole;
  sites?: string[];
  disabled?: boolean;
}

/** The other fields kept, those given changed; sites only for a site manager. One statement: no change is lost to another. */
const UPDATE = `UPDATE accounts SET
    role = COALESCE(@role, role),
    sites = CASE WHEN COALESCE(@role, role) = 'site_manager' THEN COALESCE(@sites, sites) ELSE '[]' END,
    disabled = COALESCE(CAST(@disabled AS BIGINT), disabled),
    updated_at = CAST(@at AS BIGINT)
  WHERE id = @id
  RETURNING ${COLUMNS}`;

/**
 * The hub's accounts (table `accounts`). Passwords go in hashed; the hash never comes out but for
 * login. Every method takes the SQL handle first: the database, or the transaction it is part of.
 */
export class AccountStore {
  constructor(private readonly now: () => number) {}

  async count(q: Sql): Promise<number> {
    return Number((await q.value<number>('SELECT count(*) FROM accounts')) ?? 0);
  }

  async list(q: Sql): Promise<AccountRecord[]> {
    return (await q.all<Row>(`SELECT ${COLUMNS} FROM accounts ORDER BY lower(username), username`)).map(toRecord);
  }

  async get(q: Sql, id: string): Promise<AccountRecord | undefined> {
    const row = await q.get<Row>(`SELECT ${COLUMNS} FROM accounts WHERE id = ?`, [id]);
    return row ? toRecord(row) : undefined;
  }

  /** The account and its password hash, by username (case-insensitive), for login. */
  async credentials(q: Sql, username: string): Promise<{ account: AccountRecord; passwordHash: string } | undefined> {
    const row = await q.get<Row>(`SELECT ${COLUMNS} FROM accounts WHERE lower(username) = lower(?)`, [username]);
    return row ? { account: toRecord(row), passwordHash: row.password } : undefined;
  }

  async passwordHash(q: Sql, id: string): Promise<string | undefined> {
    return q.value<string>('SELECT password FROM accounts WHERE id = ?', [id]);
  }

  /** The enabled account behind a live session token (`at`: now, in ms), in one statement. */
  async ofSession(q: Sql, token: string, at: number): Promise<AccountRecord | undefined> {
    const row = await q.get<Row>(
      `SELECT ${COLUMNS.split(', ')
        .map((c) => `a.${c}`)
        .join(', ')} FROM sessions s JOIN accounts a ON a.id = s.account_id
        WHERE s.token_hash = ? AND s.expires_at > ? AND a.disabled = 0`,
      [tokenHash(token), at],
    );
    return row ? toRecord(row) : undefined;
  }

  /**
   * Adds an account; `passwordHash` from auth/password.ts (hashing is slow: do it before any
   * transaction). A username taken, in any case, is a conflict, also when two arrive at once; so
   * is a second account for one member. Whether the member or employer exists is the caller's.
   */
  async create(q: Sql, input: NewAccount): Promise<AccountRecord> {
    const at = this.now();
    const sites = input.role === 'site_manager' ? input.sites : [];
    const member = input.role === 'member' ? (input.member ?? null) : null;
    const employer = input.role === 'employer_manager' ? (input.employer ?? null) : null;
    const row = await q.get<Row>(
      `INSERT INTO accounts (${COLUMNS}) VALUES (?, ?, ?, ?, ?, CAST(? AS BIGINT), 0, CAST(? AS BIGINT), CAST(? AS BIGINT), ?, ?)
        ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
      [
        randomUUID(),
        input.username,
        input.role,
        JSON.stringify(sites),
        input.passwordHash,
        input.mustChangePassword ? 1 : 0,
        at,
        at,
        member,
        employer,
      ],
    );
    if (row) return toRecord(row);
    if (member !== null && (await this.ofMember(q, member)))
      throw new TesseraError('conflict', `member ${JSON.stringify(member)} already has an account`);
    throw new TesseraError('conflict', `the username ${JSON.stringify(input.username)} is taken`);
  }

  /** The account of a directory member, if they have one. */
  async ofMember(q: Sql, member: string): Promise<AccountRecord | undefined> {
    const row = await q.get<Row>(`SELECT ${COLUMNS} FROM accounts WHERE member = ?`, [member]);
    return row ? toRecord(row) : undefined;
  }

  async update(q: Sql, id: string, change: AccountChange): Promise<AccountRecord> {
    const row = await q.get<Row>(UPDATE, {
      id,
      role: change.role ?? null,
      sites: change.sites === undefined ? null : JSON.stringify(change.sites),
      disabled: change.disabled === undefined ? null : change.disabled ? 1 : 0,
      at: this.now(),
    });
    if (!row) throw new TesseraError('not_found', `no account ${JSON.stringify(id)}`);
    return toRecord(row);
  }

  /** Sets a password already hashed; `oneTime` makes the account change it at its next login. */
  async setPasswordHash(q: Sql, id: string, hash: string, oneTime: boolean): Promise<void> {
    await q.run(
      'UPDATE accounts SET password = ?, must_change_password = CAST(? AS BIGINT), updated_at = CAST(? AS BIGINT) WHERE id = ?',
      [hash, oneTime ? 1 : 0, this.now(), id],
    );
  }

  /**
   * Replaces the password hash `expected` with `hash`, only if it is still the account's (and,
   * with `oneTime` given, sets must_change_password): false when the password changed meanwhile,
   * so that a password checked before a slow step is not written over one set since.
   */
  async replacePasswordHash(q: Sql, id: string, expected: string, hash: string, oneTime?: boolean): Promise<boolean> {
    const { changes } = await q.run(
      `UPDATE accounts SET password = @hash, updated_at = CAST(@at AS BIGINT),
          must_change_password = COALESCE(CAST(@oneTime AS BIGINT), must_change_password)
        WHERE id = @id AND password = @expected`,
      { id, expected, hash, at: this.now(), oneTime: oneTime === undefined ? null : oneTime ? 1 : 0 },
    );
    return changes > 0;
  }

  /**
   * The account and its password hash, its row locked until the transaction `tx` ends
   * (PostgreSQL; SQLite has one writer at a time anyway): what a read-then-write decides on.
   */
  async lock(tx: Sql, id: string): Promise<{ account: AccountRecord; passwordHash: string } | undefined> {
    const row = await tx.get<Row>(`SELECT ${COLUMNS} FROM accounts WHERE id = ?${sqlDialect(tx).forUpdate}`, [id]);
    return row ? { account: toRecord(row), passwordHash: row.password } : undefined;
  }
}
