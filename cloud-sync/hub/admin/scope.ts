import type { Badge, Member, Plan } from '../../../shared/protocol/directory.js';
import type { Account } from '../auth/account.js';
import type { HubDirectory } from '../directory.js';

/**
 * What an account may see and change in the directory (docs/hub.md "Roles"). An operator:
 * everything. A site manager sees the members whose plan opens at least one of their sites (a
 * plan open to `all` sites included), those members' badges, and, read-only, the plans that open
 * one of their sites and every employer. They change only what cannot reach another site: members
 * on a plan that opens none but their sites, and those members' badges; they put a member only on
 * such a plan, and bill only an employer their sites already bill. Plans, employers, accounts,
 * the audit log and other sites are the operator's.
 */
export class DirectoryScope {
  private billable: Set<string> | undefined;

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

  /** Whether the plan opens no site but this account's: one a site manager may give a member. */
  planWithin(plan: Plan): boolean {
    return this.everything || (plan.sites !== 'all' && plan.sites.every((s) => this.account.sites.includes(s)));
  }

  /** Plan `id` if this account may put a member on it; undefined if it may not, or if there is no such plan. */
  planGiven(id: string): Plan | undefined {
    const plan = this.directory.get('plan', id);
    return plan !== undefined && this.planWithin(plan) ? plan : undefined;
  }

  /** Whether this account may change the member, give it badges or take them: its plan opens none but the account's sites. */
  changes(m: Pick<Member, 'plan'>): boolean {
    return this.everything || this.planGiven(m.plan) !== undefined;
  }

  /** Whether this account may change the badge: its member is one it may change. */
  changesBadge(b: Pick<Badge, 'member'>): boolean {
    if (this.everything) return true;
    const member = this.directory.get('member', b.member);
    return member !== undefined && this.changes(member);
  }

  /**
   * Whether this account may bill `employer` for a member (undefined: the member pays). A site
   * manager: only an employer already billed for a member they may change, so that no one can
   * put their own staff on another company's invoice. A new employer at a site is the operator's.
   */
  bills(employer: string | undefined): boolean {
    if (this.everything || employer === undefined) return true;
    if (!this.billable) {
      const within = new Set(
        this.directory
          .list('plan')
          .filter((p) => this.planWithin(p))
          .map((p) => p.id),
      );
      this.billable = new Set(
        this.directory
          .list('member')
          .flatMap((m) => (m.employer !== undefined && within.has(m.plan) ? [m.employer] : [])),
      );
    }
    return this.billable.has(employer);
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
