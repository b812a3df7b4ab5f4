import { createHash, randomBytes } from 'node:crypto';
import type { HubDb } from '../db.js';

/** A session lasts 12 hours from login (a working day), then the user logs in again. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Login sessions (table `sessions`). The token is 256 random bits handed to the client once;
 * the hub keeps only its SHA-256, so a leaked database copy opens no session.
 */
export class SessionStore {
  constructor(
    private readonly db: HubDb,
    private readonly now: () => number,
    readonly ttlMs = SESSION_TTL_MS,
  ) {}

  /** Opens a session; returns its token and when it expires (ms). Drops expired sessions on the way. */
  open(accountId: string): { token: string; expiresAt: number } {
    const token = randomBytes(32).toString('base64url');
    const at = this.now();
    const expiresAt = at + this.ttlMs;
    this.db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(at);
    this.db
      .prepare('INSERT INTO sessions (token_hash, account_id, created_at, expires_at) VALUES (?, ?, ?, ?)')
      .run(hashOf(token), accountId, at, expiresAt);
    return { token, expiresAt };
  }

  /** The account id of a live session, or undefined (unknown or expired). */
  accountOf(token: string): string | undefined {
    const row = this.db
      .prepare<[string, number], { account_id: string }>(
        'SELECT account_id FROM sessions WHERE token_hash = ? AND expires_at > ?',
      )
      .get(hashOf(token), this.now());
    return row?.account_id;
  }

  close(token: string): void {
    this.db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(hashOf(token));
  }

  /** Ends every session of an account, but `keep` (the one changing its own password). */
  closeAll(accountId: string, keep?: string): void {
    this.db
      .prepare('DELETE FROM sessions WHERE account_id = ? AND token_hash != ?')
      .run(accountId, keep === undefined ? '' : hashOf(keep));
  }
}
