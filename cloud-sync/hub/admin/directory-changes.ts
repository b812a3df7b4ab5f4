import { TesseraError } from '../../../shared/errors.js';
import type { Account } from '../auth/account.js';
import type { Entity, HubDirectory } from '../directory.js';
import type { HubDb } from '../db.js';
import type { AuditLog } from './audit.js';
import { forbidden } from './deps.js';
import { DirectoryScope } from './scope.js';

/** Builds an entity's new value from what it was (undefined when new). */
export type NextValue = (before: unknown) => unknown;

/**
 * Directory changes made by an account: within its scope (DirectoryScope), each with its audit
 * row, in one transaction. What a site manager may not see is "not found"; what they may see but
 * not change is "forbidden".
 */
export class DirectoryChanges {
  constructor(
    private readonly db: HubDb,
    private readonly directory: HubDirectory,
    private readonly audit: AuditLog,
  ) {}

  upsert(account: Account, entity: Entity, id: string, next: NextValue, action?: 'revoke') {
    return this.db.transaction(() => {
      const { scope, before } = this.visible(account, entity, id, 'change');
      const r = this.directory.upsert(entity, next(before));
      if (!scope.sees(entity, r.value)) throw forbidden(`this ${entity} would concern none of your sites`);
      this.audit.record(account, action ?? (before === undefined ? 'create' : 'update'), entity, id, before, r.value);
      return r;
    })();
  }

  remove(account: Account, entity: Entity, id: string): { revision: number } {
    return this.db.transaction(() => {
      const { before } = this.visible(account, entity, id, 'delete');
      if (before === undefined) throw new TesseraError('not_found', `no ${entity} ${JSON.stringify(id)}`);
      const revision = this.directory.remove(entity, id);
      this.audit.record(account, 'delete', entity, id, before, null);
      return { revision };
    })();
  }

  private visible(account: Account, entity: Entity, id: string, verb: string) {
    const scope = new DirectoryScope(account, this.directory);
    if (!scope.everything && (entity === 'plan' || entity === 'employer')) throw forbidden(`only a network operator may ${verb} ${entity}s`);
    const before = this.directory.get(entity, id);
    if (before !== undefined && !scope.sees(entity, before)) throw new TesseraError('not_found', `no ${entity} ${JSON.stringify(id)}`);
    return { scope, before };
  }
}
