import type { FastifyInstance, FastifyRequest } from 'fastify';
import { contractOf, serve, type RouteContract } from '../../../shared/platform/api-contract.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import { AuthRoutes } from '../../../shared/protocol/api/hub-auth.js';
import { SelfServiceRoutes } from '../../../shared/protocol/api/hub-self-service.js';
import { HubSiteRoutes } from '../../../shared/protocol/api/hub-sites.js';
import { isSelfService, type Account } from './account.js';
import type { AccountRecord } from './accounts.js';
import type { HubAuth } from './hub-auth.js';
import { isMonitorToken } from './monitor-tokens.js';
import { passwordIsUsername } from './password.js';
import './guards.js';
import { registerHardening } from './hardening.js';

export { Login } from '../../../shared/protocol/api/hub-auth.js';

export const SESSION_COOKIE = 'tessera_session';

/** Reading and accepting an invitation: whoever holds the link (the token is the secret, checked by the route). */
const INVITATION_ROUTES: ReadonlySet<RouteContract> = new Set([SelfServiceRoutes.invitation, SelfServiceRoutes.accept]);

/**
 * What needs no session: health, logging in, the dashboard's page and files (the files hold no
 * data; the page carries only what the visitor's own cookie reads through the routes that need a
 * session: dashboard/static.ts), and an invitation's two routes, by the route matched. Decided
 * from the request alone: this never waits for the database.
 */
function isPublic(req: FastifyRequest): boolean {
  const contract = contractOf(req);
  if (contract !== undefined && INVITATION_ROUTES.has(contract)) return true;
  const path = req.url.split('?', 1)[0] ?? '';
  if (req.method === 'POST') return path === '/auth/login';
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (/^\/calendar\/[A-Za-z0-9_-]{43}\.ics$/.test(path)) return true; // a calendar feed: its token is the key
  return path === '/health' || path === '/' || path.startsWith('/ui/');
}

/** Where an account with a one-time password may still go: to set its own, or leave. */
const PASSWORD_CHANGE_PATHS = new Set(['/auth/me', '/auth/password', '/auth/logout']);

/** What a member's or an employer's manager's session may reach besides the self-service routes: its own account. */
const OWN_ACCOUNT_ROUTES: ReadonlySet<RouteContract> = new Set([AuthRoutes.me, AuthRoutes.password, AuthRoutes.logout]);

/**
 * The role gate: a self-service account (a member, an employer's manager) reaches only the
 * routes whose contract says `selfService` and its own account's. Decided from the route
 * matched, before any hook or handler reads the request: a route served without a contract, or
 * no route at all, is refused too, so a route added later is staff-only unless it says otherwise.
 */
function selfServiceMayReach(req: FastifyRequest): boolean {
  const contract = contractOf(req);
  return contract !== undefined && (contract.selfService === true || OWN_ACCOUNT_ROUTES.has(contract));
}

/**
 * What a monitor token may reach: the metrics, and nothing else. Decided from the route
 * matched, like the self-service gate: anything else, a route added later included, is 403.
 */
const MONITOR_ROUTES: ReadonlySet<RouteContract> = new Set([HubSiteRoutes.metrics]);

function monitorMayReach(req: FastifyRequest): boolean {
  const contract = contractOf(req);
  return contract !== undefined && MONITOR_ROUTES.has(contract);
}

/** Who is asking, as the handlers see it: a member's or a manager's link only when it is one. */
function requestAccount(a: AccountRecord): Account {
  return {
    id: a.id,
    username: a.username,
    role: a.role,
    sites: a.sites,
    ...(a.role === 'member' && a.member !== undefined ? { member: a.member } : {}),
    ...(a.role === 'employer_manager' && a.employer !== undefined ? { employer: a.employer } : {}),
  };
}

export function sessionToken(req: FastifyRequest): string | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  return bearer || cookieToken(req.headers.cookie);
}

/** The session token in a Cookie header, if it holds one. */
export function cookieToken(cookie: string | undefined): string | undefined {
  for (const part of (cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    // Tokens are base64url: taken as sent, never URI-decoded (a stray % must not be a 500).
    if (name === SESSION_COOKIE && value.length > 0) return value.join('=');
  }
  return undefined;
}

/** The session cookie for `token` (an empty token and 0 s clear it): what logging in, or accepting an invitation, sets. */
export const sessionCookie = (token: string, maxAgeSeconds: number) =>
  `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeSeconds}`;

/**
 * Puts the cross-site refusal and authentication in front of every route registered on `app`
 * (call it before any other route), adds security headers to every answer, and adds
 * `/auth/login`, `/auth/logout`, `/auth/me` and `/auth/password`.
 */
export function registerAuth(app: FastifyInstance, auth: HubAuth): void {
  registerHardening(app);
  app.decorateRequest<FastifyRequest['account'], 'account'>('account', null as unknown as FastifyRequest['account']);
  app.addHook('onRequest', async (req) => {
    if (isPublic(req)) return;
    const token = sessionToken(req);
    if (token === undefined)
      throw new TesseraError(
        'auth.required',
        'log in first: POST /auth/login, then send the session cookie or "Authorization: Bearer <token>"',
      );
    if (isMonitorToken(token)) {
      const monitor = await auth.monitorAccount(token);
      if (!monitor) throw new TesseraError('auth.invalid', 'this monitor token is unknown or was revoked');
      if (!monitorMayReach(req)) throw new TesseraError('auth.forbidden', 'a monitor token reads /metrics only');
      req.account = monitor;
      return;
    }
    // A store that cannot answer throws store.unavailable (503): let through as it is, never a 401.
    const account = await auth.sessionAccount(token);
    if (!account) throw new TesseraError('auth.invalid', 'this session is unknown or has expired: log in again');
    if (isSelfService(account.role) && !selfServiceMayReach(req))
      throw new TesseraError('auth.forbidden', 'this account may use its own self-service pages only');
    if (account.mustChangePassword && !PASSWORD_CHANGE_PATHS.has(req.url.split('?', 1)[0] ?? '')) {
      throw new TesseraError(
        'auth.password_change_required',
        'this account has a one-time password: set your own with POST /auth/password first',
      );
    }
    req.account = requestAccount(account);
  });

  serve(app, AuthRoutes.login, async (req, reply) => {
    const r = await auth.login(req.body.username, req.body.password, req.ip);
    if (r.ok) {
      void reply.header('set-cookie', sessionCookie(r.token, Math.floor(auth.sessions.ttlMs / 1000)));
      return { account: r.account, token: r.token, expiresAt: new Date(r.expiresAt).toISOString() };
    }
    if (r.reason === 'invalid') throw new TesseraError('auth.invalid', 'wrong username or password');
    throw tooMany(r.retryAfterMs);
  });
  serve(app, AuthRoutes.logout, async (req, reply) => {
    const token = sessionToken(req);
    if (token !== undefined) await auth.logout(token);
    return reply.header('set-cookie', sessionCookie('', 0)).code(204).send();
  });
  serve(app, AuthRoutes.me, async (req) => ({ account: (await auth.account(req.account.id)) as AccountRecord }));
  serve(app, AuthRoutes.password, async (req, reply) => {
    const body = req.body;
    if (body.newPassword === body.currentPassword)
      throw new TesseraError('request.invalid', 'the new password must differ from the current one', [
        { path: 'newPassword', message: 'same as the current password' },
      ]);
    const isUsername = passwordIsUsername(body.newPassword, req.account.username, 'newPassword');
    if (isUsername.length > 0) throw new TesseraError('request.invalid', 'invalid password change', isUsername);
    const r = await auth.changeOwnPassword(
      req.account,
      sessionToken(req) ?? '',
      body.currentPassword,
      body.newPassword,
      req.ip,
    );
    if (r === 'throttled') throw tooMany(auth.throttle.retryAfterMs(req.account.username, req.ip));
    // 400, not 401: the session is fine, and a client that takes 401 for "log in again" must not.
    if (r === 'wrong_password')
      throw new TesseraError('request.invalid', 'the current password is wrong', [
        { path: 'currentPassword', message: 'wrong password' },
      ]);
    return reply.code(204).send();
  });
}

/** A throttled login or password change: 429 with the seconds the throttle asks in Retry-After. */
function tooMany(retryAfterMs: number): TesseraError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new TesseraError('auth.rate_limited', `too many failed logins: try again in ${seconds} s`, [], seconds);
}
