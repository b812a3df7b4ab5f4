import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseOr400, sendError } from '../../../shared/platform/http-errors.js';
import type { AccountRecord } from './accounts.js';
import type { HubAuth } from './hub-auth.js';
import { NewPassword, passwordIsUsername } from './password.js';
import './guards.js';
import { registerHardening } from './hardening.js';

export const SESSION_COOKIE = 'tessera_session';

export const Login = z.strictObject({ username: z.string().min(1).max(64), password: z.string().min(1).max(200) });
export const PasswordChange = z.strictObject({ currentPassword: z.string().min(1).max(200), newPassword: NewPassword });

/** What needs no session: health, logging in, and the dashboard's static files (they hold no data). */
function isPublic(req: FastifyRequest): boolean {
  const path = req.url.split('?', 1)[0] ?? '';
  if (req.method === 'POST') return path === '/auth/login';
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  return path === '/health' || path === '/' || path.startsWith('/ui/');
}

/** Where an account with a one-time password may still go: to set its own, or leave. */
const PASSWORD_CHANGE_PATHS = new Set(['/auth/me', '/auth/password', '/auth/logout']);

export function sessionToken(req: FastifyRequest): string | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (bearer) return bearer;
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    // Tokens are base64url: taken as sent, never URI-decoded (a stray % must not be a 500).
    if (name === SESSION_COOKIE && value.length > 0) return value.join('=');
  }
  return undefined;
}

const cookie = (token: string, maxAgeSeconds: number) => `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeSeconds}`;

/**
 * Puts the cross-site refusal and authentication in front of every route registered on `app`
 * (call it before any other route), adds security headers to every answer, and adds
 * `/auth/login`, `/auth/logout`, `/auth/me` and `/auth/password`.
 */
export function registerAuth(app: FastifyInstance, auth: HubAuth): void {
  registerHardening(app);
  app.decorateRequest('account', null as unknown as FastifyRequest['account']);
  app.addHook('onRequest', async (req, reply) => {
    if (isPublic(req)) return;
    const token = sessionToken(req);
    if (token === undefined) return sendError(reply, 'auth.required', 'log in first: POST /auth/login, then send the session cookie or "Authorization: Bearer <token>"');
    const account = auth.authenticate(token);
    if (!account) return sendError(reply, 'auth.invalid', 'this session is unknown or has expired: log in again');
    if (account.mustChangePassword && !PASSWORD_CHANGE_PATHS.has(req.url.split('?', 1)[0] ?? '')) {
      return sendError(reply, 'auth.password_change_required', 'this account has a one-time password: set your own with POST /auth/password first');
    }
    req.account = { id: account.id, username: account.username, role: account.role, sites: account.sites };
  });

  app.post('/auth/login', async (req, reply) => {
    const body = parseOr400(reply, Login, req.body, 'login');
    if (!body) return reply;
    const r = await auth.login(body.username, body.password, req.ip);
    if (r.ok) {
      void reply.header('set-cookie', cookie(r.token, Math.floor(auth.sessions.ttlMs / 1000)));
      return { account: r.account, token: r.token, expiresAt: new Date(r.expiresAt).toISOString() };
    }
    if (r.reason === 'invalid') return sendError(reply, 'auth.invalid', 'wrong username or password');
    return tooMany(reply, r.retryAfterMs);
  });
  app.post('/auth/logout', (req, reply) => {
    const token = sessionToken(req);
    if (token !== undefined) auth.sessions.close(token);
    return reply.header('set-cookie', cookie('', 0)).code(204).send();
  });
  app.get('/auth/me', (req) => ({ account: auth.accounts.get(req.account.id) as AccountRecord }));
  app.post('/auth/password', async (req, reply) => {
    const body = parseOr400(reply, PasswordChange, req.body, 'password change');
    if (!body) return reply;
    if (body.newPassword === body.currentPassword) return sendError(reply, 'request.invalid', 'the new password must differ from the current one', [{ path: 'newPassword', message: 'same as the current password' }]);
    const isUsername = passwordIsUsername(body.newPassword, req.account.username, 'newPassword');
    if (isUsername.length > 0) return sendError(reply, 'request.invalid', 'invalid password change', isUsername);
    const r = await auth.changeOwnPassword(req.account, sessionToken(req) ?? '', body.currentPassword, body.newPassword, req.ip);
    if (r === 'throttled') return tooMany(reply, auth.throttle.retryAfterMs(req.account.username, req.ip));
    // 400, not 401: the session is fine, and a client that takes 401 for "log in again" must not.
    if (r === 'wrong_password') return sendError(reply, 'request.invalid', 'the current password is wrong', [{ path: 'currentPassword', message: 'wrong password' }]);
    return reply.code(204).send();
  });
}

function tooMany(reply: FastifyReply, retryAfterMs: number) {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  void reply.header('retry-after', String(seconds));
  return sendError(reply, 'auth.rate_limited', `too many failed logins: try again in ${seconds} s`);
}
