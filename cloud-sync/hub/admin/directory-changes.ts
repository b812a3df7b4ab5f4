import type { Badge, Member } from '../../../shared/protocol/directory.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import type { Account } from '../auth/account.js';
import type { CollectionEntity as Entity, HubDirectory } from '../directory.js';
import type { HubDb, Sql } from '../db.js';
import type { AuditLog } from './audit.js';
import { forbidden } from './deps.js';
import { DirectoryScope } from './scope.js';

/** Builds an entity's new value from what it was (undefined when new). */
export type NextValue = (before: unknown) => unknown;

/**
 * Directory changes made by an account: within its scope (DirectoryScope), each with its audit
 * row, in one transaction. What a site manager may not see is "not found"; what they may see but
 * not change (a member whose plan also opens another site, and its badges) is "forbidden", as is
 * a plan, employer or member they may not give, whether it exists or not.
 */
export class DirectoryChanges {
  constructor(
    private readonly db: HubDb,
    private readonly directory: HubDirectory,
    private readonly audit: AuditLog,
  ) {}

  upsert(account: Account, entity: Entity, id: string, next: NextValue, action?: 'revoke') {
    return this.db.transaction(async (tx) => {
      const { scope, before } = await this.changeable(tx, account, entity, id, 'change');
      const value = next(before);
      await mayGive(scope, entity, value);
      const r = await this.directory.upsert(tx, entity, value);
      await mayChange(scope, entity, r.value);
      await this.audit.record(
        tx,
        account,
        action ?? (before === undefined ? 'create' : 'update'),
        entity,
        id,
        before,
        r.value,
      );
      return r;
    });
  }

  /**
   * Gives badge `uid` to `member` (`tessera badge enrol`): created, or, when it is already that
   * member's, made active with this type. A badge of another member is refused (`conflict`)
   * whatever the account may see, checked in the same transaction as the write: an enrolment
   * never takes a badge from someone.
   */
  enrol(account: Account, uid: string, member: string, type: Badge['type']) {
    return this.db.transaction(async (tx) => {
      const held = (await this.directory.get(tx, 'badge', uid)) as Badge | undefined;
      if (held !== undefined && held.member !== member) {
        const seen = await new DirectoryScope(account, this.directory, tx).sees('badge', held);
        throw new TesseraError(
          'conflict',
          `badge …${uid.slice(-4)} is already registered to ${seen ? `member ${JSON.stringify(held.member)}` : 'another member'}: remove it from them first`,
        );
      }
      const { scope, before } = await this.changeable(tx, account, 'badge', uid, 'change');
      const value = { uid, member, status: 'active', type };
      await mayGive(scope, 'badge', value);
      const r = await this.directory.upsert(tx, 'badge', value);
      await mayChange(scope, 'badge', r.value);
      await this.audit.record(tx, account, before === undefined ? 'create' : 'update', 'badge', uid, before, r.value);
      return r;
    });
  }

  remove(account: Account, entity: Entity, id: string): Promise<{ revision: number }> {
    return this.db.transaction(async (tx) => {
      const { before } = await this.changeable(tx, account, entity, id, 'delete');
      if (before === undefined) throw new TesseraError('not_found', `no ${entity} ${JSON.stringify(id)}`);
      const revision = await this.directory.remove(tx, entity, id);
      await this.audit.record(tx, account, 'delete', entity, id, before, null);
      return { revision };
    });
  }

  /** The entity as it is, if the account may change it: not seen is "not found", seen but reaching another site "forbidden". */
  private async changeable(tx: Sql, account: Account, entity: Entity, id: string, verb: string) {
    const scope = new DirectoryScope(account, this.directory, tx);
    if (!scope.everything && (entity === 'plan' || entity === 'employer'))
      throw forbidden(`only a network operator may ${verb} ${entity}s`);
    const before = await this.directory.get(tx, entity, id);
    if (before !== undefined && !(await scope.sees(entity, before)))
      throw new TesseraError('not_found', `no ${entity} ${JSON.stringify(id)}`);
    if (before !== undefined) await mayChange(scope, entity, before);
    return { scope, before };
  }
}

/** Refuses a member or badge the account may not change: one that reaches a site not its own. */
async function mayChange(scope: DirectoryScope, entity: Entity, value: unknown): Promise<void> {
  if (entity === 'member' && !(await scope.changes(value as Member)))
    throw forbidden(
      `member ${(value as Member).id}'s plan opens sites you do not manage: only a network operator may change it`,
    );
  if (entity === 'badge' && !(await scope.changesBadge(value as Badge)))
    throw forbidden(
      `badge …${(value as Badge).uid.slice(-4)} belongs to a member whose plan opens sites you do not manage`,
    );
}

/**
 * Refuses, before the value is checked against the directory, a plan, employer or member a
 * site manager may not give: with one answer whether it exists elsewhere or not at all, so
 * that a refusal never tells them what is outside their sites.
 */
async function mayGive(scope: DirectoryScope, entity: Entity, value: unknown): Promise<void> {
  if (scope.everything || value === null || typeof value !== 'object') return;
  const v = value as Record<string, unknown>;
  if (entity === 'member' && typeof v.plan === 'string' && !(await scope.planGiven(v.plan)))
    throw forbidden(`plan ${JSON.stringify(v.plan)} is not one of your sites' own plans`);
  if (entity === 'member' && typeof v.employer === 'string' && !(await scope.bills(v.employer)))
    throw forbidden(`employer ${JSON.stringify(v.employer)} is not one your sites bill`);
  if (entity === 'badge' && typeof v.member === 'string' && !(await scope.changesBadge({ member: v.member })))
    throw forbidden(`member ${JSON.stringify(v.member)} is not one of your sites' own members`);
}
