import { randomBytes } from 'node:crypto';
import type { Sql } from '../db.js';
import { tokenHash } from '../auth/sessions.js';

/** An invitation is good for 7 days, and for one account. */
export const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export interface Invitation {
  /** The SHA-256 of its token, hex: all the hub keeps of the token. */
  tokenHash: string;
  role: 'member' | 'employer_manager';
  member: string | null;
  employer: string | null;
  email: string | null;
  createdBy: string;
  createdAt: number;
  expiresAt: number;
}

interface Row {
  token_hash: string;
  role: Invitation['role'];
  member: string | null;
  employer: string | null;
  email: string | null;
  created_by: string;
  created_at: number;
  expires_at: number;
}

const COLUMNS = 'token_hash, role, member, employer, email, created_by, created_at, expires_at';

const toInvitation = (r: Row): Invitation => ({
  tokenHash: r.token_hash,
  role: r.role,
  member: r.member,
  employer: r.employer,
  email: r.email,
  createdBy: r.created_by,
  createdAt: Number(r.created_at),
  expiresAt: Number(r.expires_at),
});

/**
 * Invitations (table `invitations`). The token is 256 random bits, base64url, handed out once in
 * the link; the hub keeps only its SHA-256, so a copy of the database accepts no invitation.
 * Unknown, used and expired tokens read alike: undefined.
 */
export class InvitationStore {
  /** Stores a new invitation; its token, to put in the link, is returned once and never again. */
  async create(
    q: Sql,
    input: Pick<Invitation, 'role' | 'member' | 'employer' | 'email' | 'createdBy'>,
    at: number,
  ): Promise<{ token: string; invitation: Invitation }> {
    const token = randomBytes(32).toString('base64url');
    const invitation: Invitation = {
      ...input,
      tokenHash: tokenHash(token),
      createdAt: at,
      expiresAt: at + INVITATION_TTL_MS,
    };
    await q.run(
      `INSERT INTO invitations (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, CAST(? AS BIGINT), CAST(? AS BIGINT))`,
      [
        invitation.tokenHash,
        invitation.role,
        invitation.member,
        invitation.employer,
        invitation.email,
        invitation.createdBy,
        invitation.createdAt,
        invitation.expiresAt,
      ],
    );
    return { token, invitation };
  }

  /** The invitation of `token` if it is still good at `at` (unused, not expired). */
  async valid(q: Sql, token: string, at: number): Promise<Invitation | undefined> {
    const row = await q.get<Row>(
      `SELECT ${COLUMNS} FROM invitations WHERE token_hash = ? AND used_at IS NULL AND expires_at > CAST(? AS BIGINT)`,
      [tokenHash(token), at],
    );
    return row ? toInvitation(row) : undefined;
  }

  /**
   * Marks the invitation of `token` used, if it is still good: in one statement, so that of two
   * accepts at once exactly one gets it (PostgreSQL makes the second wait for the first's row
   * lock, then finds it used). Call it in the transaction that makes the account.
   */
  async use(tx: Sql, token: string, at: number): Promise<Invitation | undefined> {
    const row = await tx.get<Row>(
      `UPDATE invitations SET used_at = CAST(@at AS BIGINT)
        WHERE token_hash = @hash AND used_at IS NULL AND expires_at > CAST(@at AS BIGINT)
        RETURNING ${COLUMNS}`,
      { hash: tokenHash(token), at },
    );
    return row ? toInvitation(row) : undefined;
  }
}
