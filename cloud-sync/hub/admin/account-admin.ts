import { TesseraError } from '../../../shared/platform/errors.js';
import { isSelfService, type Account } from '../auth/account.js';
import type { AccountChange, AccountRecord, NewAccount } from '../auth/accounts.js';
import type { HubAuth } from '../auth/hub-auth.js';
import type { HubDb, Sql } from '../db.js';
import type { HubDirectory } from '../directory.js';
import type { AuditLog } from './audit.js';

/** A site manager needs sites; an operator has none. */
function checkSites(role: string, sites: string[]): void {
  if (role === 'site_manager' && sites.length === 0)
    throw new TesseraError('request.invalid', 'a site manager needs at least one site', [
      { path: 'sites', message: 'expected at least one site id' },
    ]);
}

/** A member's account names a member that exists; an employer's manager's an employer that exists. */
async function checkLink(q: Sql, directory: HubDirectory, input: NewAccount): Promise<void> {
  const link =
    input.role === 'member'
      ? { field: 'member', entity: 'member' as const, id: input.member }
      : input.role === 'employer_manager'
        ? { field: 'employer', entity: 'employer' as const, id: input.employer }
        : undefined;
  if (!link) return;
  if (link.id === undefined || (await directory.get(q, link.entity, link.id)) === undefined)
    throw new TesseraError('request.invalid', `no ${link.entity} ${JSON.stringify(link.id ?? '')} in the directory`, [
      { path: link.field, message: `expected the id of an existing ${link.entity}` },
    ]);
}

/** A self-service account keeps its role, and no other account takes one: the link would be missing. */
function checkRoleChange(before: AccountRecord, role: AccountRecord['role'] | undefined): void {
  if (role === undefined || role === before.role) return;
  if (isSelfService(before.role) || isSelfService(role))
    throw new TesseraError(
      'request.invalid',
      'a member or employer manager account keeps its role: make a new account',
      [{ path: 'role', message: `cannot change ${before.role} to ${role}` }],
    );
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
    private readonly directory: HubDirectory,
  ) {}

  async get(q: Sql, id: string): Promise<AccountRecord> {
    const a = await this.auth.accounts.get(q, id);
    if (!a) throw new TesseraError('not_found', `no account ${JSON.stringify(id)}`);
    return a;
  }

  create(actor: Account, input: NewAccount): Promise<AccountRecord> {
    checkSites(input.role, input.sites);
    return this.db.transaction(async (tx) => {
      await checkLink(tx, this.directory, input);
      const created = await this.auth.accounts.create(tx, input);
      await this.audit.record(tx, actor, 'create', 'account', created.id, null, created);
      return created;
    });
  }

  update(actor: Account, id: string, change: AccountChange): Promise<AccountRecord> {
    return this.db.transaction(async (tx) => {
      const before = await this.get(tx, id);
      checkRoleChange(before, change.role);
      const after = await this.auth.accounts.update(tx, id, change);
      checkSites(after.role, after.sites);
      const wasOperator = before.role === 'operator' && !before.disabled;
      if (wasOperator && (after.role !== 'operator' || after.disabled) && (await this.enabledOperators(tx)) === 0) {
        throw new TesseraError('conflict', 'this is the last enabled operator: make another one first');
      }
      if (after.disabled) await this.auth.sessions.closeAll(tx, id);
      await this.audit.record(tx, actor, 'update', 'account', id, before, after);
      return after;
    });
  }

  /** `passwordHash` from auth/password.ts, computed before (hashing is slow). */
  async resetPassword(actor: Account, id: string, passwordHash: string, oneTime: boolean): Promise<void> {
    await this.db.transaction(async (tx) => {
      await this.get(tx, id);
      await this.auth.accounts.setPasswordHash(tx, id, passwordHash, oneTime);
      await this.auth.sessions.closeAll(tx, id);
      await this.audit.record(tx, actor, 'reset_password', 'account', id, null, { mustChangePassword: oneTime });
    });
  }

  private async enabledOperators(q: Sql): Promise<number> {
    return (await this.auth.accounts.list(q)).filter((a) => a.role === 'operator' && !a.disabled).length;
  }
}
