import { createHash, randomBytes } from 'node:crypto';
import type { Sql } from '../db.js';
import { sqlDialect } from '../storage/dialect.js';

/** A session lasts 12 hours from login (a working day), then the user logs in again. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/** What the hub keeps of a session token: its SHA-256, in hex. */
export const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Login sessions (table `sessions`). The token is 256 random bits handed to the client once;
 * the hub keeps only its SHA-256, so a leaked database copy opens no session. Every method takes
 * the SQL handle first: the database, or the transaction it is part of.
 */
export class SessionStore {
  constructor(
    private readonly now: () => number,
    readonly ttlMs = SESSION_TTL_MS,
  ) {}

  /**
   * Opens a session for an account whose password was just checked against `passwordHash`: only
   * if that is still its password and it is still enabled (a reset or a disabling that landed
   * during the check leaves no session behind). Returns its token and when it expires (ms), or
   * undefined. Drops expired sessions on the way.
   */
  async open(
    q: Sql,
    accountId: string,
    passwordHash: string,
  ): Promise<{ token: string; expiresAt: number } | undefined> {
    const token = randomBytes(32).toString('base64url');
    const at = this.now();
    const expiresAt = at + this.ttlMs;
    await q.run('DELETE FROM sessions WHERE expires_at <= ?', [at]);
    // The account's row is read locked (PostgreSQL): a change of password or a disabling
    // under way is waited for, then seen, and its closing of sessions sees this one.
    const { changes } = await q.run(
      `INSERT INTO sessions (token_hash, account_id, created_at, expires_at)
        SELECT ?, id, CAST(? AS BIGINT), CAST(? AS BIGINT) FROM accounts
        WHERE id = ? AND password = ? AND disabled = 0${sqlDialect(q).forUpdate}`,
      [tokenHash(token), at, expiresAt, accountId, passwordHash],
    );
    return changes > 0 ? { token, expiresAt } : undefined;
  }

  /** Whether `token` is a live session of `accountId`. */
  async live(q: Sql, accountId: string, token: string): Promise<boolean> {
    const found = await q.value(
      'SELECT 1 FROM sessions WHERE token_hash = ? AND account_id = ? AND expires_at > CAST(? AS BIGINT)',
      [tokenHash(token), accountId, this.now()],
    );
    return found !== undefined;
  }

  async close(q: Sql, token: string): Promise<void> {
    await q.run('DELETE FROM sessions WHERE token_hash = ?', [tokenHash(token)]);
  }

  /** Ends every session of an account, but `keep` (the one changing its own password). */
  async closeAll(q: Sql, accountId: string, keep?: string): Promise<void> {
    await q.run('DELETE FROM sessions WHERE account_id = ? AND token_hash != ?', [
      accountId,
      keep === undefined ? '' : tokenHash(keep),
    ]);
  }
}
