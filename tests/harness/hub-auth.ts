import type { FastifyInstance } from 'fastify';

/** The operator every test hub starts with: pass it as `createHub({ initialAdmin: TEST_ADMIN })`. */
export const TEST_ADMIN = { username: 'admin', password: 'tessera-test-admin' } as const;

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
  const res = await fetch(`${apiUrl}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }), signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) throw new Error(`login as ${username} at ${apiUrl} refused: ${res.status} ${await res.text()}`);
  const { token } = (await res.json()) as { token: string };
  return { cookie: `tessera_session=${token}`, authorization: `Bearer ${token}` };
}
