import type { Member } from '../../shared/protocol/directory.js';
import type { Sql } from './db.js';

/**
 * Accounts whose members the doors refuse for an unpaid bill (table `access_holds`). An account
 * is who a member's usage is billed to: `employer:<id>` for a member with an employer,
 * `member:<id>` for one billed on their own. Billing decides which accounts are held
 * (cloud-sync/billing/payments/service.ts); the directory adds `billingHold: true` to their
 * members in what it sends the sites, and sends those members again whenever the set changes.
 * The hold is never stored with the member: an operator's edit of a member cannot drop it, nor
 * set it.
 */

/** The roles whose usage is billed, and so held: staff and cleaners are never billed, never held. */
const HELD_ROLES: ReadonlySet<Member['role']> = new Set(['member', 'visitor']);

/** The account a member's usage is billed to. */
export const billedAccountOf = (m: Pick<Member, 'id' | 'employer'>): string =>
  m.employer !== undefined ? `employer:${m.employer}` : `member:${m.id}`;

/** The accounts held, as `q` sees them. */
export async function heldAccounts(q: Sql): Promise<Set<string>> {
  return new Set(await q.column<string>('SELECT account FROM access_holds'));
}

/** The member as a site gets it: with `billingHold: true` when its account is held. */
export function memberAsSent(m: Member, held: ReadonlySet<string>): Member {
  return held.has(billedAccountOf(m)) && HELD_ROLES.has(m.role) ? { ...m, billingHold: true } : m;
}

/** A change of the held accounts: what `HubDirectory.setHolds` did. */
export interface HoldsChange {
  revision: number;
  added: string[];
  removed: string[];
}
