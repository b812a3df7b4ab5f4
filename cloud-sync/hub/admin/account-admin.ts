import { TesseraError } from '../../../shared/platform/errors.js';
import type { Account } from '../auth/account.js';
import type { AccountChange, AccountRecord, NewAccount } from '../auth/accounts.js';
import type { HubAuth } from '../auth/hub-auth.js';
import type { HubDb } from '../db.js';
import type { AuditLog } from './audit.js';

/** A site manager needs sites; an operator has none. */
function checkSites(role: string, sites: string[]): void {
  if (role === 'site_manager' && sites.length === 0)
    throw new TesseraError('request.invalid', 'a site manager needs at least one site', [
      { path: 'sites', message: 'expected at least one site id' },
    ]);
}

/**
 * What an operator does to accounts, each with its audit row in the same transaction (never a
 * password or its hash). Disabling an account or resetting its password ends its sessions. The
 * last enabled operator cannot be disabled or demoted: the network would have no one to run it.
 */
export class AccountAdmin {
  constructor(
    private readonly db: HubDb,
    private readonly auth: HubAuth,
    private readonly audit: AuditLog,
  ) {}

  get(id: string): AccountRecord {
    const a = this.auth.accounts.get(id);
    if (!a) throw new TesseraError('not_found', `no account ${JSON.stringify(id)}`);
    return a;
  }

  create(actor: Account, input: NewAccount): AccountRecord {
    checkSites(input.role, input.sites);
    return this.db.transaction(() => {
      const created = this.auth.accounts.create(input);
      this.audit.record(actor, 'create', 'account', created.id, null, created);
      return created;
    })();
  }

  update(actor: Account, id: string, change: AccountChange): AccountRecord {
    return this.db.transaction(() => {
      const before = this.get(id);
      const after = this.auth.accounts.update(id, change);
      checkSites(after.role, after.sites);
      const wasOperator = before.role === 'operator' && !before.disabled;
      if (wasOperator && (after.role !== 'operator' || after.disabled) && this.enabledOperators() === 0) {
        throw new TesseraError('conflict', 'this is the last enabled operator: make another one first');
      }
      if (after.disabled) this.auth.sessions.closeAll(id);
      this.audit.record(actor, 'update', 'account', id, before, after);
      return after;
    })();
  }

  /** `passwordHash` from auth/password.ts, computed before (hashing is slow). */
  resetPassword(actor: Account, id: string, passwordHash: string, oneTime: boolean): void {
    this.db.transaction(() => {
      this.get(id);
      this.auth.accounts.setPasswordHash(id, passwordHash, oneTime);
      this.auth.sessions.closeAll(id);
      this.audit.record(actor, 'reset_password', 'account', id, null, { mustChangePassword: oneTime });
    })();
  }

  private enabledOperators(): number {
    return this.auth.accounts.list().filter((a) => a.role === 'operator' && !a.disabled).length;
  }
}
