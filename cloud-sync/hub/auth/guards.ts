import type { FastifyRequest } from 'fastify';
import { TesseraError } from '../../../shared/platform/errors.js';
import type { Account as AccountOfRole } from '../../../shared/protocol/api/hub-auth.js';
import { maySeeSite, type Account } from './account.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is asking: set by the auth hook on every route but the public ones (auth/register.ts). */
    account: Account;
  }
}

/** Lets a network operator through; throws 403 `auth.forbidden` for anyone else. */
export function ensureOperator(req: FastifyRequest): void {
  if (req.account.role !== 'operator') throw new TesseraError('auth.forbidden', 'only a network operator may do this');
}

/** Lets through an operator or a manager of `site`; throws 403 `auth.forbidden` otherwise. */
export function ensureSite(req: FastifyRequest, site: string): void {
  if (!maySeeSite(req.account, site))
    throw new TesseraError('auth.forbidden', `this account does not manage the site ${JSON.stringify(site)}`);
}

/**
 * The account of a login session: throws 403 `auth.forbidden` for a monitor token (which the
 * auth hook lets through to `/metrics` only: this is for code that needs a real account).
 */
export function sessionAccount(req: FastifyRequest): AccountOfRole {
  const account = req.account;
  if (account.role === 'monitor') throw new TesseraError('auth.forbidden', 'a monitor token reads /metrics only');
  return account;
}

/** A hook for `serve`'s `preValidation`: an operator-only route refuses others before looking at their input. */
export const operatorOnly = async (req: FastifyRequest): Promise<void> => ensureOperator(req);
