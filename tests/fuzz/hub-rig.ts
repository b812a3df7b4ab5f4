import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { ERROR_CODES } from '../../shared/platform/errors.js';
import { login, FAST_PASSWORD_COST, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { testHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';

/** A hub in memory, not listening (every request through `app.inject`), with a small directory. */
export interface HubRig {
  hub: Hub;
  admin: AuthHeaders;
  /** Everything a refused request must leave as it was. */
  stored(): Promise<unknown>;
  stop(): Promise<void>;
}

export const SEED = {
  plan: { id: 'always', name: '24/7', access: 'always', sites: 'all', lockers: true, printQuota: 1000 },
  staffed: {
    id: 'staffed',
    name: 'Staffed',
    access: [{ days: ['mon', 'tue'], from: '08:30', to: '18:30' }],
    sites: ['murat'],
    daysPerWeek: 2,
  },
  employer: { id: 'acme', name: 'ACME' },
  member: {
    id: 'alice',
    name: 'Alice Martin',
    role: 'member',
    plan: 'always',
    employer: 'acme',
    status: 'active',
    validFrom: '2026-01-01',
    validUntil: '2026-12-31',
    locker: { bank: 'bank-b', number: 2 },
  },
  badge: { uid: '04A1A1A1A1A1A1', member: 'alice', status: 'active', type: 'ntag424' },
} as const;

export async function startHubRig(): Promise<HubRig> {
  const hub = await createHub({
    dbPath: await testHubDb(),
    clock: new ManualClock('2026-11-23T08:00:00Z'),
    log: silent,
    initialAdmin: TEST_ADMIN,
    passwordCost: FAST_PASSWORD_COST,
  });
  const admin = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
  const put = async (url: string, payload: object) =>
    expect((await hub.api.inject({ method: 'PUT', url, headers: admin, payload })).statusCode).toBe(200);
  await put('/directory/plans/always', SEED.plan);
  await put('/directory/plans/staffed', SEED.staffed);
  await put('/directory/employers/acme', SEED.employer);
  await put('/directory/members/alice', SEED.member);
  await put(`/directory/badges/${SEED.badge.uid}`, SEED.badge);
  const db = hub.store.db;
  const stored = async () => ({
    ...(await db.get<object>(
      `SELECT (SELECT revision FROM directory_revision) AS revision,
              (SELECT count(*) || ':' || COALESCE(SUM(revision), 0) FROM directory_entities) AS entities,
              (SELECT count(*) FROM audit_log) AS audit,
              (SELECT count(*) FROM sessions) AS sessions,
              (SELECT value FROM billing_prices) AS prices,
              (SELECT count(*) FROM events) AS events`,
    )),
    accounts: await db.all('SELECT id, password, role, sites, disabled FROM accounts ORDER BY id'),
  });
  return { hub, admin, stored, stop: () => hub.stop() };
}

/** An error answer: the shape every route gives (`{code, message, details}`), never a 500. */
export function expectRefusal(r: LightMyRequestResponse, codes: readonly string[]): string {
  expect(r.statusCode, r.body.slice(0, 300)).toBeGreaterThanOrEqual(400);
  expect(r.statusCode, r.body.slice(0, 300)).toBeLessThan(500);
  const body = r.json<{ code: string; message: string; details: unknown[] }>();
  expect(ERROR_CODES).toContain(body.code);
  expect(codes, `${r.statusCode} ${r.body.slice(0, 300)}`).toContain(body.code);
  expect(typeof body.message).toBe('string');
  expect(Array.isArray(body.details)).toBe(true);
  return body.code;
}

/**
 * A generated id as a URL path segment: each UTF-8 byte percent-encoded (a lone surrogate
 * becomes the bytes a broken client would send), or one of the malformed escapes as is.
 */
export const MALFORMED_ESCAPES = ['%', '%zz', '%ED%A0%80', '%C0%AF', '%FF', '..', '%2e%2e', '%00'];
export const segment = (id: string) =>
  MALFORMED_ESCAPES.includes(id)
    ? id
    : [...Buffer.from(id, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
