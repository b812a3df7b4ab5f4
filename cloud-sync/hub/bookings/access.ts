import type { Member } from '../../../shared/protocol/directory.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import type { Account } from '../auth/account.js';
import { maySeeSite } from '../auth/account.js';
import type { Sql } from '../db.js';
import type { HubDirectory } from '../directory.js';
import { DirectoryScope } from '../admin/scope.js';
import { sqlDialect } from '../storage/dialect.js';

/**
 * Who may book for whom (docs/bookings.md "Who books"): a member for themselves; an employer's
 * manager for the employer's members; a site manager for the members they see, at their own
 * sites; an operator for anyone. A member an account may not act for is "not found" (it learns
 * nothing of members that are not its own).
 */
export async function mayActFor(
  q: Sql,
  directory: HubDirectory,
  account: Account,
  member: Member,
  site: string,
): Promise<boolean> {
  switch (account.role) {
    case 'operator':
      return true;
    case 'member':
      return account.member !== undefined && account.member === member.id;
    case 'employer_manager':
      return account.employer !== undefined && member.employer === account.employer;
    case 'site_manager':
      return maySeeSite(account, site) && new DirectoryScope(account, directory, q).member(member);
    case 'monitor':
      return false;
  }
}

/** The member a booking is for: the one given, or the account's own member; refused when it may not act for them. */
export async function holderFor(
  q: Sql,
  directory: HubDirectory,
  account: Account,
  memberId: string | undefined,
  site: string,
): Promise<Member> {
  const id = memberId ?? account.member;
  if (id === undefined)
    throw new TesseraError('request.invalid', 'say whom the booking is for', [
      { path: 'member', message: 'required for an account that is not a member' },
    ]);
  const member = await directory.get(q, 'member', id);
  if (member === undefined || !(await mayActFor(q, directory, account, member, site)))
    throw new TesseraError('not_found', `no member ${JSON.stringify(id)} you may book for`);
  return member;
}

/** What an account may list, as a query and a last check of each row. */
export interface Visible {
  by: { sites: string[] } | { members: string[] };
  keeps: (b: { site: string; member: string }) => boolean;
}

/**
 * Which bookings an account may list: by sites (a site manager's, an operator's declared ones)
 * or by members (a member's own, an employer's staff). `site` and `member` narrow it.
 */
export async function visibleBookings(
  q: Sql,
  account: Account,
  allSites: readonly string[],
  asked: { site?: string | undefined; member?: string | undefined },
): Promise<Visible> {
  const keeps = (b: { site: string; member: string }) =>
    (asked.site === undefined || b.site === asked.site) &&
    (asked.member === undefined || b.member === asked.member) &&
    (account.role !== 'site_manager' || maySeeSite(account, b.site));
  const members = (ids: readonly string[]) => ({
    by: { members: asked.member === undefined ? [...ids] : ids.filter((i) => i === asked.member) },
    keeps,
  });
  switch (account.role) {
    case 'member':
      return members(account.member === undefined ? [] : [account.member]);
    case 'employer_manager':
      return members(
        account.employer === undefined
          ? []
          : await q.column<string>(
              `SELECT id FROM directory_entities WHERE entity = 'member' AND deleted = 0 AND ${sqlDialect(q).jsonText('value', 'employer')} = ?`,
              [account.employer],
            ),
      );
    case 'site_manager':
    case 'operator': {
      if (asked.member !== undefined && asked.site === undefined) return members([asked.member]);
      const sites = allSites.filter((s) => maySeeSite(account, s) && (asked.site === undefined || s === asked.site));
      return { by: { sites }, keeps };
    }
    case 'monitor':
      return members([]);
  }
}
