import { z } from 'zod';
import { defineRoute } from './common.js';
import { PAGE_QUERY, pageOf } from './hub-admin-page.js';

/** The audit log (`GET /audit`, the network operator's): who changed what, when, before and after. */

/** What an audit row says was done. */
export const AUDIT_ACTIONS = [
  'create',
  'update',
  'delete',
  'revoke',
  'import',
  'reset_password',
  'change_password',
  'export',
  'erase',
] as const;
export const AuditAction = z.enum(AUDIT_ACTIONS);
export type AuditAction = z.infer<typeof AuditAction>;

export const AuditQuery = z.strictObject({
  entity: z.string().max(32).optional(),
  entityId: z.string().max(128).optional(),
  /** The acting account's username. */
  actor: z.string().max(64).optional(),
  action: AuditAction.optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  ...PAGE_QUERY,
});
export type AuditQuery = z.infer<typeof AuditQuery>;

export const AuditEntry = z.strictObject({
  id: z.number().int().positive(),
  at: z.iso.datetime(),
  actor: z.strictObject({ id: z.string(), username: z.string() }),
  action: AuditAction,
  /** `plan`, `employer`, `member`, `badge`, `site`, `account`, `command`… */
  entity: z.string(),
  entityId: z.string(),
  /** The entity before and after the change, as JSON; null when it did not exist (or no longer does). */
  before: z.unknown(),
  after: z.unknown(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

/** `GET /audit`: newest first. */
export const AuditPage = pageOf(AuditEntry);
export type AuditPage = z.infer<typeof AuditPage>;

export const HubAuditRoutes = {
  list: defineRoute({
    method: 'GET',
    url: '/audit',
    operationId: 'listAuditEntries',
    tags: ['audit'],
    summary: 'The audit log, newest first (operator)',
    querystring: AuditQuery,
    response: { 200: AuditPage },
    errors: ['auth.forbidden'],
  }),
};
