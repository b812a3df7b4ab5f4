import { z } from 'zod';
import { defineRoute } from './common.js';

/**
 * Monitor tokens (`/auth/monitor-tokens`), the network operator's alone: long-lived read-only
 * keys for a Prometheus scraper. Sent as `Authorization: Bearer <token>`, one reaches
 * `GET /metrics` and nothing else (every other route answers 403 `auth.forbidden`). It has no
 * expiry: it lasts until revoked.
 */

/** What a monitor token looks like: a prefix no session token has ('.' is not base64url), then 256 random bits. */
export const MONITOR_TOKEN_PREFIX = 'tessera-monitor.';

/** `/auth/monitor-tokens/:id`. */
export const MonitorTokenParams = z.strictObject({ id: z.string().min(1).max(64) }).meta({ title: 'monitor token' });

export const NewMonitorToken = z
  .strictObject({
    /** What scrapes with it, to tell tokens apart ("prometheus-paris"); unique. */
    name: z
      .string()
      .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/, { error: 'expected 1-64 letters, digits, ".", "_" or "-"' }),
  })
  .meta({ title: 'new monitor token' });
export type NewMonitorToken = z.infer<typeof NewMonitorToken>;

/** A monitor token as listed: never the token itself (the hub keeps only its SHA-256). */
export const MonitorTokenRecord = z.object({
  id: z.string(),
  name: z.string(),
  /** Username of the operator who made it. */
  createdBy: z.string(),
  createdAt: z.string(),
});
export type MonitorTokenRecord = z.infer<typeof MonitorTokenRecord>;

export const MonitorTokenList = z.object({ tokens: z.array(MonitorTokenRecord) });
export type MonitorTokenList = z.infer<typeof MonitorTokenList>;

/** `POST /auth/monitor-tokens` (201): the token, shown this once. */
export const CreatedMonitorToken = z.object({ token: z.string(), monitorToken: MonitorTokenRecord });
export type CreatedMonitorToken = z.infer<typeof CreatedMonitorToken>;

export const MonitorTokenRoutes = {
  list: defineRoute({
    method: 'GET',
    url: '/auth/monitor-tokens',
    operationId: 'listMonitorTokens',
    tags: ['auth'],
    summary: 'Monitor tokens, without their secret (operator)',
    response: { 200: MonitorTokenList },
    errors: ['auth.forbidden'],
  }),
  create: defineRoute({
    method: 'POST',
    url: '/auth/monitor-tokens',
    operationId: 'createMonitorToken',
    tags: ['auth'],
    summary: 'Make a read-only token for a metrics scraper; the token is shown once (operator)',
    body: NewMonitorToken,
    response: { 201: CreatedMonitorToken },
    errors: ['conflict'],
  }),
  revoke: defineRoute({
    method: 'DELETE',
    url: '/auth/monitor-tokens/:id',
    operationId: 'revokeMonitorToken',
    tags: ['auth'],
    summary: 'Revoke a monitor token: it opens nothing from now on (operator)',
    params: MonitorTokenParams,
    response: { 204: null },
    errors: ['not_found'],
  }),
};
