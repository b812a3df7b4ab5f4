import type { Badge, Member, Plan } from '../../../shared/directory.js';
import type { Account } from '../auth/account.js';
import type { HubDirectory } from '../directory.js';

/**
 * What an account may see and change in the directory (docs/hub.md "Roles"). An operator:
 * everything. A site manager: the members whose plan opens at least one of their sites (a plan
 * open to `all` sites included), those members' badges, and, read-only, the plans that open one
 * of their sites and every employer. Plans, employers, accounts, the audit log and other sites
 * are the operator's.
 */
export class DirectoryScope {
  constructor(
    private readonly account: Account,
    private readonly directory: HubDirectory,
  ) {}

  get everything(): boolean {
    return this.account.role === 'operator';
  }

  planInScope(plan: Plan): boolean {
    return this.everything || plan.sites === 'all' || plan.sites.some((s) => this.account.sites.includes(s));
  }

  /** The plans whose members this account may see; undefined means all of them. */
  plans(): string[] | undefined {
    if (this.everything) return undefined;
    return this.directory
      .list('plan')
      .filter((p) => this.planInScope(p))
      .map((p) => p.id);
  }

  member(m: Pick<Member, 'plan'>): boolean {
    if (this.everything) return true;
    const plan = this.directory.get('plan', m.plan);
    return plan !== undefined && this.planInScope(plan);
  }

  badge(b: Pick<Badge, 'member'>): boolean {
    if (this.everything) return true;
    const member = this.directory.get('member', b.member);
    return member !== undefined && this.member(member);
  }

  /**
   * Whether this account may export or erase the member: an operator any id, even one no longer
   * in the directory (their events remain); a site manager only a member they see.
   */
  reachesMember(member: Member | undefined): boolean {
    return this.everything || (member !== undefined && this.member(member));
  }

  /** Whether `value` (any directory entity) is visible to this account. */
  sees(entity: 'plan' | 'employer' | 'member' | 'badge', value: unknown): boolean {
    switch (entity) {
      case 'plan':
        return this.planInScope(value as Plan);
      case 'employer':
        return true;
      case 'member':
        return this.member(value as Member);
      case 'badge':
        return this.badge(value as Badge);
    }
  }
}

/** The plans that open `site`: what "members of a site" means. */
export function plansOpening(directory: HubDirectory, site: string): string[] {
  return directory
    .list('plan')
    .filter((p) => p.sites === 'all' || p.sites.includes(site))
    .map((p) => p.id);
}
