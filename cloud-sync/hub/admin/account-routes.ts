import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseOr400 } from '../../../edge/api/errors.js';
import { TesseraError } from '../../../shared/errors.js';
import { requireOperator } from '../auth/guards.js';
import { Role, SiteList, Username, type AccountRecord } from '../auth/accounts.js';
import { hashPassword, NewPassword } from '../auth/password.js';
import { sendFailure, type AdminDeps } from './deps.js';

export const NewAccountBody = z.strictObject({
  username: Username,
  role: Role,
  sites: SiteList.default([]),
  password: NewPassword,
  /** A password an operator hands over is one-time unless said otherwise. */
  mustChangePassword: z.boolean().default(true),
});
export const AccountPatch = z.strictObject({ role: Role.optional(), sites: SiteList.optional(), disabled: z.boolean().optional() });
export const PasswordReset = z.strictObject({ password: NewPassword, mustChangePassword: z.boolean().default(true) });
const Params = z.strictObject({ id: z.string().min(1).max(64) });
export const AccountListQuery = z.strictObject({
  q: z.string().max(64).optional(),
  offset: z.coerce.number().int().nonnegative().default(0),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

/** A site manager needs sites; an operator has none. */
function checkSites(role: string, sites: string[]): void {
  if (role === 'site_manager' && sites.length === 0) throw new TesseraError('request.invalid', 'a site manager needs at least one site', [{ path: 'sites', message: 'expected at least one site id' }]);
}

/**
 * Accounts, the network operator's alone: create, list, get, change role / sites / disabled,
 * reset a password. Disabling an account or resetting its password ends its sessions. The last
 * enabled operator cannot be disabled or demoted: the network would have no one to run it.
 */
export function registerAccountRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const { auth, audit, db } = deps;
  const { accounts, sessions } = auth;
  const found = (id: string): AccountRecord => {
    const a = accounts.get(id);
    if (!a) throw new TesseraError('not_found', `no account ${JSON.stringify(id)}`);
    return a;
  };
  const idOf = (req: FastifyRequest, reply: FastifyReply) => (requireOperator(req, reply) ? parseOr400(reply, Params, req.params, 'account')?.id : undefined);
  const tryRun = <T>(reply: FastifyReply, run: () => T) => {
    try {
      return run();
    } catch (err) {
      return sendFailure(reply, err);
    }
  };

  app.get('/accounts', (req, reply) => {
    if (!requireOperator(req, reply)) return reply;
    const q = parseOr400(reply, AccountListQuery, req.query, 'query');
    if (!q) return reply;
    const all = accounts.list().filter((a) => !q.q || a.username.toLowerCase().includes(q.q.toLowerCase()));
    return { items: all.slice(q.offset, q.offset + q.limit), total: all.length, offset: q.offset, limit: q.limit };
  });

  app.get('/accounts/:id', (req, reply) => {
    const id = idOf(req, reply);
    return id === undefined ? reply : tryRun(reply, () => ({ account: found(id) }));
  });

  app.post('/accounts', async (req, reply) => {
    if (!requireOperator(req, reply)) return reply;
    const body = parseOr400(reply, NewAccountBody, req.body, 'account');
    if (!body) return reply;
    const passwordHash = await hashPassword(body.password);
    return tryRun(reply, () => {
      checkSites(body.role, body.sites);
      const account = db.transaction(() => {
        const created = accounts.create({ ...body, passwordHash });
        audit.record(req.account, 'create', 'account', created.id, null, created);
        return created;
      })();
      return reply.code(201).send({ account });
    });
  });

  app.patch('/accounts/:id', (req, reply) => {
    const id = idOf(req, reply);
    const body = id === undefined ? undefined : parseOr400(reply, AccountPatch, req.body, 'account change');
    if (id === undefined || !body) return reply;
    return tryRun(reply, () => {
      const account = db.transaction(() => {
        const before = found(id);
        const after = accounts.update(id, body);
        checkSites(after.role, after.sites);
        if (before.role === 'operator' && !before.disabled && (after.role !== 'operator' || after.disabled) && enabledOperators() === 0) {
          throw new TesseraError('conflict', 'this is the last enabled operator: make another one first');
        }
        if (after.disabled) sessions.closeAll(id);
        audit.record(req.account, 'update', 'account', id, before, after);
        return after;
      })();
      return { account };
    });
  });

  app.post('/accounts/:id/password', async (req, reply) => {
    const id = idOf(req, reply);
    const body = id === undefined ? undefined : parseOr400(reply, PasswordReset, req.body, 'password reset');
    if (id === undefined || !body) return reply;
    const hash = await hashPassword(body.password);
    return tryRun(reply, () => {
      db.transaction(() => {
        found(id);
        accounts.setPasswordHash(id, hash, body.mustChangePassword);
        sessions.closeAll(id);
        audit.record(req.account, 'reset_password', 'account', id, null, { mustChangePassword: body.mustChangePassword });
      })();
      return reply.code(204).send();
    });
  });

  const enabledOperators = () => accounts.list().filter((a) => a.role === 'operator' && !a.disabled).length;
}
