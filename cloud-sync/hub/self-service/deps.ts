import type { Logger } from 'pino';
import type { FastifyRequest } from 'fastify';
import type { Clock } from '../../../shared/platform/clock.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import type { AuditLog } from '../admin/audit.js';
import type { HubAuth } from '../auth/hub-auth.js';
import type { HubDb } from '../db.js';
import type { HubDirectory } from '../directory.js';
import type { HubSites } from '../sites.js';
import type { Mailer } from './mailer.js';

/** What the self-service routes work on (wired in createHub). */
export interface SelfServiceDeps {
  db: HubDb;
  directory: HubDirectory;
  sites: HubSites;
  audit: AuditLog;
  auth: HubAuth;
  clock: Clock;
  log: Logger;
  /** Called after a badge declared lost is revoked: sends every site its delta. */
  onDirectoryChange: () => void;
  /** Sends invitations by email; without it, the link is only answered. */
  mailer?: Mailer;
  /** The address members open the dashboard at (`https://hub.example.org`); default: the inviting request's own. */
  publicUrl?: string;
}

/** The directory member behind a member's account; 403 for any other account. */
export function ownMember(req: FastifyRequest): string {
  const { role, member } = req.account;
  if (role !== 'member' || member === undefined)
    throw new TesseraError('auth.forbidden', 'this page is a member’s own: only a member’s account has it');
  return member;
}

/** The employer behind an employer's manager's account; 403 for any other account. */
export function ownEmployer(req: FastifyRequest): string {
  const { role, employer } = req.account;
  if (role !== 'employer_manager' || employer === undefined)
    throw new TesseraError('auth.forbidden', 'this page is an employer’s: only its manager’s account has it');
  return employer;
}
