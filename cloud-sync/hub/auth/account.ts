/**
 * Who is asking the hub API. A network operator may do everything; a site manager only what
 * concerns the sites listed in `sites`; a member or an employer's manager only their own pages
 * (the routes whose contract says `selfService`: auth/register.ts).
 */
import { SELF_SERVICE_ROLES, type Account } from '../../../shared/protocol/api/hub-auth.js';

export type AccountRole = Account['role'];
export type { Account };

/** A member or an employer's manager: an account that is never the network's staff. */
export const isSelfService = (role: AccountRole): boolean => (SELF_SERVICE_ROLES as readonly string[]).includes(role);

export function maySeeSite(account: Account, site: string): boolean {
  return account.role === 'operator' || (account.role === 'site_manager' && account.sites.includes(site));
}
