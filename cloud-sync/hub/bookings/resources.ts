import type { Resource } from '../../../shared/protocol/bookings.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import type { Account } from '../auth/account.js';
import { maySeeSite } from '../auth/account.js';
import type { AuditLog } from '../admin/audit.js';
import type { HubDb, Sql } from '../db.js';
import type { HubDirectory } from '../directory.js';
import { sqlDialect } from '../storage/dialect.js';
import { MAX_BOOKING_MS } from './store.js';

const noResource = (id: string) => new TesseraError('not_found', `no resource ${JSON.stringify(id)}`);
const forbidden = (site: string) =>
  new TesseraError('auth.forbidden', `this account does not manage the site ${JSON.stringify(site)}`);

/** Whether the resource has a confirmed booking not over at `nowMs`. */
async function hasBookingsToCome(q: Sql, id: string, nowMs: number): Promise<boolean> {
  const one = await q.value(
    "SELECT 1 AS one FROM bookings WHERE resource = ? AND start_ms >= ? AND end_ms > ? AND status = 'confirmed' LIMIT 1",
    [id, nowMs - MAX_BOOKING_MS, nowMs],
  );
  return one !== undefined;
}

/**
 * The sites' resources, as directory entities (each change one revision, with its audit row).
 * An operator declares any; a site manager those of their sites. A member sees the resources
 * their plan may book at the sites it opens; an employer's manager sees them all (read-only).
 */
export class HubResources {
  constructor(
    private readonly db: HubDb,
    private readonly directory: HubDirectory,
    private readonly audit: AuditLog,
    private readonly now: () => number,
  ) {}

  async list(account: Account, site: string | undefined): Promise<Resource[]> {
    const all = (await this.directory.list(this.db, 'resource')).filter((r) => site === undefined || r.site === site);
    switch (account.role) {
      case 'operator':
      case 'employer_manager':
        return all;
      case 'site_manager':
        return all.filter((r) => maySeeSite(account, r.site));
      case 'member': {
        const member =
          account.member === undefined ? undefined : await this.directory.get(this.db, 'member', account.member);
        const plan = member && (await this.directory.get(this.db, 'plan', member.plan));
        if (plan === undefined) return [];
        return all.filter(
          (r) =>
            (r.plans === 'all' || r.plans.includes(plan.id)) && (plan.sites === 'all' || plan.sites.includes(r.site)),
        );
      }
      case 'monitor':
        return [];
    }
  }

  /** Creates or replaces resource `id`; a site manager only at their sites, and not one that has bookings to come elsewhere. */
  put(account: Account, id: string, body: Record<string, unknown>): Promise<{ item: Resource; revision: number }> {
    return this.db.transaction(async (tx) => {
      const before = await this.directory.get(tx, 'resource', id);
      if (before !== undefined && !maySeeSite(account, before.site)) throw noResource(id);
      const input: Record<string, unknown> = { ...body, id };
      const site = input.site;
      if (typeof site === 'string' && !maySeeSite(account, site)) throw forbidden(site);
      const { revision, value } = await this.directory.upsert(tx, 'resource', input);
      if (before !== undefined && before.site !== value.site && (await hasBookingsToCome(tx, id, this.now())))
        throw new TesseraError('conflict', `resource ${id} has bookings to come at ${before.site}: it cannot move`);
      await this.audit.record(tx, account, before ? 'update' : 'create', 'resource', id, before ?? null, value);
      return { item: value, revision };
    });
  }

  /**
   * Removes resource `id`, refused while it has bookings to come. Its bookings' directory
   * entities go with it in the same revision: no site keeps a booking of a resource it no longer has.
   */
  remove(account: Account, id: string): Promise<number> {
    return this.db.transaction(async (tx) => {
      const before = await this.directory.get(tx, 'resource', id);
      if (before === undefined || !maySeeSite(account, before.site)) throw noResource(id);
      if (await hasBookingsToCome(tx, id, this.now()))
        throw new TesseraError('conflict', `resource ${id} has bookings to come: cancel them first`);
      const revision = await this.directory.remove(tx, 'resource', id);
      // The tombstone keeps its last value: site views send its delete to its own site only.
      await tx.run("UPDATE directory_entities SET value = ? WHERE entity = 'resource' AND id = ?", [
        JSON.stringify(before),
        id,
      ]);
      await tx.run(
        `UPDATE directory_entities SET value = NULL, deleted = 1, revision = ? WHERE entity = 'booking' AND deleted = 0 AND ${sqlDialect(tx).jsonText('value', 'resource')} = ?`,
        [revision, id],
      );
      await this.audit.record(tx, account, 'delete', 'resource', id, before, null);
      return revision;
    });
  }
}
