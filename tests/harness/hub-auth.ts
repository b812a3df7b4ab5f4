import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { testHubDb } from './hub-db.js';

/** The operator every test hub starts with: pass it as `createHub({ initialAdmin: TEST_ADMIN })`. */
export const TEST_ADMIN = { username: 'admin', password: 'tessera-test-admin' } as const;

/**
 * A cheap scrypt cost for tests that make many login attempts (`createHub({ passwordCost })`):
 * the shipped cost takes a few hundred ms per attempt on a loaded machine.
 */
export const FAST_PASSWORD_COST = { N: 2 ** 10, r: 8, p: 1 } as const;

// A type alias, not an interface: it then fits `app.inject`'s and fetch's header records as is.
export type AuthHeaders = {
  /** `tessera_session=<token>`, for a `cookie` header. */
  cookie: string;
  /** `Bearer <token>`, for an `authorization` header. */
  authorization: string;
};

/** Logs in through `POST /auth/login`; throws with the answer when refused. */
export async function login(app: FastifyInstance, username: string, password: string): Promise<AuthHeaders> {
  const r = await app.inject({ method: 'POST', url: '/auth/login', payload: { username, password } });
  if (r.statusCode !== 200) throw new Error(`login as ${username} refused: ${r.statusCode} ${r.body}`);
  const { token } = r.json<{ token: string }>();
  return { cookie: `tessera_session=${token}`, authorization: `Bearer ${token}` };
}

/** The same over HTTP, for a hub listening at `apiUrl` (another process, or a real socket). */
export async function loginOver(apiUrl: string, username: string, password: string): Promise<AuthHeaders> {
  const res = await fetch(`${apiUrl}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status !== 200)
    throw new Error(`login as ${username} at ${apiUrl} refused: ${res.status} ${await res.text()}`);
  const { token } = (await res.json()) as { token: string };
  return { cookie: `tessera_session=${token}`, authorization: `Bearer ${token}` };
}

/**
 * Creates an account through `POST /accounts` (as an operator, with a password that is not
 * one-time) and logs it in: a site manager for role tests, in two lines.
 */
export async function loginAs(
  app: FastifyInstance,
  operator: AuthHeaders,
  account: { username: string; role: 'operator' | 'site_manager'; sites?: string[]; password?: string },
): Promise<AuthHeaders> {
  const password = account.password ?? `${account.username}-password`;
  const r = await app.inject({
    method: 'POST',
    url: '/accounts',
    headers: operator,
    payload: { sites: [], ...account, password, mustChangePassword: false },
  });
  if (r.statusCode !== 201) throw new Error(`account ${account.username} refused: ${r.statusCode} ${r.body}`);
  return login(app, account.username, password);
}

/** A hub on the test run's store with the test operator signed in, for route tests: stop it after each test. */
export async function signedInHub(
  log: Logger,
  clock = new ManualClock('2026-11-23T08:00:00Z'),
): Promise<{ hub: Hub; admin: AuthHeaders }> {
  const hub = await createHub({
    dbPath: await testHubDb(),
    clock,
    log,
    initialAdmin: TEST_ADMIN,
    passwordCost: FAST_PASSWORD_COST,
  });
  return { hub, admin: await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password) };
}

/** A signed-in hub (see signedInHub) with the 24/7 plan `always` and, on it, `members` (id → name); throws unless each PUT answers 200. */
export async function signedInHubWithMembers(
  log: Logger,
  members: Record<string, string>,
): Promise<{ hub: Hub; admin: AuthHeaders }> {
  const { hub, admin } = await signedInHub(log);
  const put = async (url: string, payload: object) => {
    const r = await hub.api.inject({ method: 'PUT', url, headers: admin, payload });
    if (r.statusCode !== 200) throw new Error(`PUT ${url} answered ${r.statusCode}: ${r.body}`);
  };
  await put('/directory/plans/always', { name: '24/7', access: 'always' });
  for (const [id, name] of Object.entries(members)) await put(`/directory/members/${id}`, { name, plan: 'always' });
  return { hub, admin };
}
