import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from '../../../shared/platform/http-errors.js';
import { maySeeSite, type Account } from './account.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is asking: set by the auth hook on every route but the public ones (auth/register.ts). */
    account: Account;
  }
}

/** Lets a network operator through; answers 403 `auth.forbidden` to anyone else and returns false. */
export function requireOperator(req: FastifyRequest, reply: FastifyReply): boolean {
  if (req.account.role === 'operator') return true;
  void sendError(reply, 'auth.forbidden', 'only a network operator may do this');
  return false;
}

/** Lets through an operator or a manager of `site`; answers 403 `auth.forbidden` otherwise and returns false. */
export function requireSite(req: FastifyRequest, reply: FastifyReply, site: string): boolean {
  if (maySeeSite(req.account, site)) return true;
  void sendError(reply, 'auth.forbidden', `this account does not manage the site ${JSON.stringify(site)}`);
  return false;
}
