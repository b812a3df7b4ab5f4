import { randomUUID } from 'node:crypto';
import type { Resource } from '../../../shared/protocol/bookings.js';
import type { BookingMove, NewBooking } from '../../../shared/protocol/api/hub-bookings.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import type { Account } from '../auth/account.js';
import type { HubDb, Sql, Tx } from '../db.js';
import type { HubDirectory } from '../directory.js';
import type { HubSites } from '../sites.js';
import { sqlDialect } from '../storage/dialect.js';
import { holderFor, mayActFor } from './access.js';
import { checkHolder, checkHorizon, conflictOf, isLateCancellation, overlaps, wallSpan, withinHours } from './rules.js';
import type { Span } from './rules.js';
import { bookingEntity } from './site-view.js';
import type { BookingStore, BookingRow } from './store.js';

export interface BookingDeps {
  db: HubDb;
  directory: HubDirectory;
  sites: HubSites;
  store: BookingStore;
  /** The hub clock's now, in ms. */
  now: () => number;
  /** Called after each committed change: sends every site its delta (a cancellation reaches the door). */
  onDirectoryChange: () => void;
}

const notFound = (id: string) => new TesseraError('not_found', `no booking ${JSON.stringify(id)}`);

/**
 * Bookings made, moved and cancelled by an account. Each change is one transaction: the
 * resource's directory row is locked first (PostgreSQL: FOR UPDATE, so that two hub instances
 * booking the same resource take turns; SQLite has one writer), then the confirmed bookings
 * overlapping the time are read and checked, then the row and the directory entity are written
 * as one directory revision. Every site then gets its delta.
 */
export class HubBookings {
  constructor(private readonly deps: BookingDeps) {}

  async book(account: Account, input: NewBooking): Promise<BookingRow> {
    const row = await this.deps.db.transaction(async (tx) => {
      const resource = await this.locked(tx, [input.resource]).then((r) => r[0] as Resource);
      const member = await holderFor(tx, this.deps.directory, account, input.member, resource.site);
      const span = await this.checkedSpan(tx, resource, member.id, input);
      const now = this.deps.now();
      const b: BookingRow = {
        id: randomUUID(),
        resource: resource.id,
        site: resource.site,
        member: member.id,
        ...span,
        status: 'confirmed',
        createdBy: account.id,
        createdAt: now,
        updatedAt: now,
        cancelledAt: null,
        lateCancellation: false,
      };
      await this.deps.store.insert(tx, b);
      await this.deps.directory.upsert(tx, 'booking', bookingEntity(b));
      return b;
    });
    this.deps.onDirectoryChange();
    return row;
  }

  async move(account: Account, id: string, input: BookingMove): Promise<BookingRow> {
    const row = await this.deps.db.transaction(async (tx) => {
      const before = await this.actionable(tx, account, id);
      const target = input.resource ?? before.resource;
      const resources = await this.locked(tx, [before.resource, target]);
      const resource = resources.find((r) => r.id === target) as Resource;
      const member = await holderFor(tx, this.deps.directory, account, before.member, resource.site);
      const span = await this.checkedSpan(tx, resource, member.id, input, id);
      const b: BookingRow = {
        ...before,
        resource: resource.id,
        site: resource.site,
        ...span,
        updatedAt: this.deps.now(),
      };
      await this.deps.store.update(tx, b);
      await this.deps.directory.upsert(tx, 'booking', bookingEntity(b));
      return b;
    });
    this.deps.onDirectoryChange();
    return row;
  }

  async cancel(account: Account, id: string): Promise<BookingRow> {
    const row = await this.deps.db.transaction(async (tx) => {
      const before = await this.actionable(tx, account, id);
      const resource = (await this.locked(tx, [before.resource]))[0] as Resource;
      const now = this.deps.now();
      const b: BookingRow = {
        ...before,
        status: 'cancelled',
        updatedAt: now,
        cancelledAt: now,
        lateCancellation: isLateCancellation(resource, before.startMs, now),
      };
      await this.deps.store.update(tx, b);
      await this.deps.directory.remove(tx, 'booking', id);
      return b;
    });
    this.deps.onDirectoryChange();
    return row;
  }

  /**
   * The resources named, read and locked in id order (two moves between the same resources
   * never wait for each other in a circle); a missing one is 404.
   */
  private async locked(tx: Tx, ids: readonly string[]): Promise<Resource[]> {
    const out: Resource[] = [];
    for (const id of [...new Set(ids)].sort()) {
      const value = id.includes('\u0000')
        ? undefined
        : await tx.value<string | null>(
            `SELECT value FROM directory_entities WHERE entity = 'resource' AND id = ? AND deleted = 0${sqlDialect(tx).forUpdate}`,
            [id],
          );
      if (!value) throw new TesseraError('not_found', `no resource ${JSON.stringify(id)}`);
      out.push(JSON.parse(value) as Resource);
    }
    return out;
  }

  /** A confirmed booking the account may change, or 404 (not there, or not the account's). */
  private async actionable(tx: Tx, account: Account, id: string): Promise<BookingRow> {
    const b = await this.deps.store.get(tx, id);
    if (b === undefined) throw notFound(id);
    const member = await this.deps.directory.get(tx, 'member', b.member);
    if (member === undefined || !(await mayActFor(tx, this.deps.directory, account, member, b.site)))
      throw notFound(id);
    if (b.status !== 'confirmed') throw new TesseraError('conflict', `booking ${id} is ${b.status.replace('_', '-')}`);
    if (b.endMs <= this.deps.now()) throw new TesseraError('conflict', `booking ${id} is over`);
    return b;
  }

  /** The instants asked for, once every rule holds: hours, horizon, holder, and no conflict (`self` left out). */
  private async checkedSpan(
    tx: Sql,
    resource: Resource,
    memberId: string,
    when: { date: string; from: string; to: string },
    self?: string,
  ): Promise<Span> {
    const site = await this.deps.sites.get(tx, resource.site);
    if (site === undefined) throw new TesseraError('not_found', `no declared site ${JSON.stringify(resource.site)}`);
    const span = wallSpan(when, site.timeZone);
    checkHorizon(span, this.deps.now());
    if (!withinHours(resource.hours, span, site.timeZone))
      throw new TesseraError('request.invalid', `${resource.name} may not be booked at that time`, [
        { path: 'from', message: 'outside the bookable hours' },
      ]);
    const member = await this.deps.directory.get(tx, 'member', memberId);
    if (member === undefined) throw new TesseraError('not_found', `no member ${JSON.stringify(memberId)}`);
    checkHolder(member, await this.deps.directory.get(tx, 'plan', member.plan), resource, when.date);
    const others = (await this.deps.store.confirmedOn(tx, resource.id, span.startMs, span.endMs)).filter(
      (o) => o.id !== self,
    );
    if (others.some((o) => o.member === memberId && overlaps(o, span)))
      throw new TesseraError('conflict', `${member.id} already holds ${resource.name} at that time`);
    const conflict = conflictOf(resource, span, others);
    if (conflict !== undefined) throw new TesseraError('conflict', conflict);
    return span;
  }
}
