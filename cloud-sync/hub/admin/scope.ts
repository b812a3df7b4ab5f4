import type { Badge, Member, Plan } from '../../../shared/protocol/directory.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import { isSelfService, type Account } from '../auth/account.js';
import type { Sql } from '../db.js';
import type { HubDirectory } from '../directory.js';
import { sqlDialect } from '../storage/dialect.js';

/**
 * What an account may see and change in the directory (docs/hub.md "Roles"). An operator:
 * everything. A site manager sees the members whose plan opens at least one of their sites (a
 * plan open to `all` sites included), those members' badges, and, read-only, the plans that open
 * one of their sites and every employer. They change only what cannot reach another site: members
 * on a plan that opens none but their sites, and those members' badges; they put a member only on
 * such a plan, and bill only an employer their sites already bill. Plans, employers, accounts,
 * the audit log and other sites are the operator's.
 *
 * It reads the directory through `q` (the caller's transaction, or the database), each plan
 * once: a scope lives for one request or one import.
 */
export class DirectoryScope {
  private billable: Promise<Set<string>> | undefined;
  private readonly plansRead = new Map<string, Promise<Plan | undefined>>();

  constructor(
    private readonly account: Account,
    private readonly directory: HubDirectory,
    private readonly q: Sql,
  ) {
    // Every account but an operator is scoped like a site manager here, whose empty site list
    // would still see every member of a network-wide plan: a member or an employer's manager
    // must never get this far (the role gate refuses them first; this is the second lock).
    if (isSelfService(account.role))
      throw new TesseraError('auth.forbidden', 'this account may use its own self-service pages only');
  }

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
  async planGiven(id: string): Promise<Plan | undefined> {
    const plan = await this.plan(id);
    return plan !== undefined && this.planWithin(plan) ? plan : undefined;
  }

  /** Whether this account may change the member, give it badges or take them: its plan opens none but the account's sites. */
  async changes(m: Pick<Member, 'plan'>): Promise<boolean> {
    return this.everything || (await this.planGiven(m.plan)) !== undefined;
  }

  /** Whether this account may change the badge: its member is one it may change. */
  async changesBadge(b: Pick<Badge, 'member'>): Promise<boolean> {
    if (this.everything) return true;
    const member = await this.directory.get(this.q, 'member', b.member);
    return member !== undefined && (await this.changes(member));
  }

  /**
   * Whether this account may bill `employer` for a member (undefined: the member pays). A site
   * manager: only an employer already billed for a member they may change, so that no one can
   * put their own staff on another company's invoice. A new employer at a site is the operator's.
   */
  async bills(employer: string | undefined): Promise<boolean> {
    if (this.everything || employer === undefined) return true;
    this.billable ??= this.billedWithin();
    return (await this.billable).has(employer);
  }

  /** The employers billed for members on the plans this account may give. */
  private async billedWithin(): Promise<Set<string>> {
    const within = (await this.directory.list(this.q, 'plan')).filter((p) => this.planWithin(p)).map((p) => p.id);
    if (within.length === 0) return new Set();
    const d = sqlDialect(this.q);
    const employer = d.jsonText('value', 'employer');
    const employers = await this.q.column<string>(
      `SELECT DISTINCT ${employer} FROM directory_entities WHERE entity = 'member' AND deleted = 0 AND ${d.jsonText('value', 'plan')} IN ${d.jsonArrayValues('?')} AND ${employer} IS NOT NULL`,
      [JSON.stringify(within)],
    );
    return new Set(employers);
  }

  /** The plans whose members this account may see; undefined means all of them. */
  async plans(): Promise<string[] | undefined> {
    if (this.everything) return undefined;
    return (await this.directory.list(this.q, 'plan')).filter((p) => this.planInScope(p)).map((p) => p.id);
  }

  async member(m: Pick<Member, 'plan'>): Promise<boolean> {
    if (this.everything) return true;
    const plan = await this.plan(m.plan);
    return plan !== undefined && this.planInScope(plan);
  }

  async badge(b: Pick<Badge, 'member'>): Promise<boolean> {
    if (this.everything) return true;
    const member = await this.directory.get(this.q, 'member', b.member);
    return member !== undefined && (await this.member(member));
  }

  /**
   * Whether this account may export or erase the member: an operator any id, even one no longer
   * in the directory (their events remain); a site manager only a member they see.
   */
  async reachesMember(member: Member | undefined): Promise<boolean> {
    return this.everything || (member !== undefined && (await this.member(member)));
  }

  /** Whether `value` (any directory entity) is visible to this account. */
  async sees(entity: 'plan' | 'employer' | 'member' | 'badge', value: unknown): Promise<boolean> {
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

  private plan(id: string): Promise<Plan | undefined> {
    let read = this.plansRead.get(id);
    if (!read) this.plansRead.set(id, (read = this.directory.get(this.q, 'plan', id)));
    return read;
  }
}

/** The plans that open `site`: what "members of a site" means. */
export async function plansOpening(q: Sql, directory: HubDirectory, site: string): Promise<string[]> {
  return (await directory.list(q, 'plan')).filter((p) => p.sites === 'all' || p.sites.includes(site)).map((p) => p.id);
}
