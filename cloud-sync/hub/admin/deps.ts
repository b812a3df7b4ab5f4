import type { Logger } from 'pino';
import { TesseraError } from '../../../shared/platform/errors.js';
import type { HubAuth } from '../auth/hub-auth.js';
import type { BookingRecord } from '../../../shared/protocol/api/hub-bookings.js';
import type { HubDb, Sql } from '../db.js';
import type { HubDirectory } from '../directory.js';
import type { HubSites } from '../sites.js';
import type { AuditLog } from './audit.js';

/** What the admin routes work on (wired in createHub). */
export interface AdminDeps {
  db: HubDb;
  directory: HubDirectory;
  sites: HubSites;
  audit: AuditLog;
  auth: HubAuth;
  /** Called after each committed directory change: sends every site its delta. */
  onDirectoryChange: () => void;
  /** The hub's public key, PEM, that sites pin. */
  publicKeyPem: string;
  log: Logger;
  /** The hub clock's now, in ms. */
  now: () => number;
  /**
   * Called after a member's erasure committed: live projections read their state again; the
   * erasure answers once they have (what a client reads next no longer names the member). Never rejects.
   */
  onMemberErased?: () => Promise<void> | void;
  /** A member's bookings, every status, oldest first: what their export shows (the bookings module, wired in createHub). */
  memberBookings: (q: Sql, member: string) => Promise<BookingRecord[]>;
  /** Who runs an import, recorded with it: this hub instance's name, '' for a single hub. */
  importOwner?: string;
  /** Aborted when the hub stops: a members import under way stops at its next slice. */
  stopping?: AbortSignal;
}

/** Thrown inside a change to refuse it for the account's role; answered 403 `auth.forbidden`. */
export const forbidden = (message: string) => new TesseraError('auth.forbidden', message);
