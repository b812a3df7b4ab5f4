/**
 * Who is asking the hub API. A network operator may do everything; a site manager only what
 * concerns the sites listed in `sites`.
 */
import type { Account } from '../../../shared/protocol/api/hub-auth.js';

export type AccountRole = Account['role'];
export type { Account };

export function maySeeSite(account: Account, site: string): boolean {
  return account.role === 'operator' || account.sites.includes(site);
}
