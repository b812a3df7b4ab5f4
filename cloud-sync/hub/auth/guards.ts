import type { FastifyRequest } from 'fastify';
import { TesseraError } from '../../../shared/platform/errors.js';
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

/** A hook for `serve`'s `preValidation`: an operator-only route refuses others before looking at their input. */
export const operatorOnly = async (req: FastifyRequest): Promise<void> => ensureOperator(req);
