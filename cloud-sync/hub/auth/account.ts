/**
 * Who is asking the hub API. A network operator may do everything; a site manager only what
 * concerns the sites listed in `sites`.
 */
export type AccountRole = 'operator' | 'site_manager';

export interface Account {
  id: string;
  username: string;
  role: AccountRole;
  /** The sites a site manager manages; empty (and ignored) for an operator. */
  sites: string[];
}

export function maySeeSite(account: Account, site: string): boolean {
  return account.role === 'operator' || account.sites.includes(site);
}
