/**
 * Who is asking the hub API. A network operator may do everything; a site manager only what
 * concerns the sites listed in `sites`; a member or an employer's manager only their own pages
 * (the routes whose contract says `selfService`: auth/register.ts). A monitor is no account but
 * a metrics scraper's token (auth/monitor-tokens.ts): it reads `/metrics` and nothing else.
 */
import { SELF_SERVICE_ROLES, type Account as AccountOfRole } from '../../../shared/protocol/api/hub-auth.js';

/** The roles an account has (accounts.ts); a request's may also be `monitor`. */
export type AccountRole = AccountOfRole['role'];
export type Account = AccountOfRole | (Omit<AccountOfRole, 'role'> & { role: 'monitor' });

/** A member or an employer's manager: an account that is never the network's staff. */
export const isSelfService = (role: Account['role']): boolean =>
  (SELF_SERVICE_ROLES as readonly string[]).includes(role);

export function maySeeSite(account: Account, site: string): boolean {
  return account.role === 'operator' || (account.role === 'site_manager' && account.sites.includes(site));
}
