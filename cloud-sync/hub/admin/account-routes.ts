import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseOr400, sendError } from '../../../shared/platform/http-errors.js';
import { AccountListQuery, AccountParams as Params, AccountPatch, NewAccountBody, PasswordReset } from '../../../shared/protocol/api/hub-admin-accounts.js';
import { passwordIsUsername } from '../../../shared/protocol/api/hub-password.js';
import { requireOperator } from '../auth/guards.js';
import { AccountAdmin } from './account-admin.js';
import { sendFailure, type AdminDeps } from './deps.js';

function tryRun<T>(reply: FastifyReply, run: () => T) {
  try {
    return run();
  } catch (err) {
    return sendFailure(reply, err);
  }
}

/** The account id of `/accounts/:id`, once the asker is known to be an operator; undefined once answered. */
const idOf = (req: FastifyRequest, reply: FastifyReply) => (requireOperator(req, reply) ? parseOr400(reply, Params, req.params, 'account')?.id : undefined);

/** Accounts, the network operator's alone: list, get, create, change, reset a password (AccountAdmin). */
export function registerAccountRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const admin = new AccountAdmin(deps.db, deps.auth, deps.audit);

  app.get('/accounts', (req, reply) => {
    if (!requireOperator(req, reply)) return reply;
    const q = parseOr400(reply, AccountListQuery, req.query, 'query');
    if (!q) return reply;
    const all = deps.auth.accounts.list().filter((a) => !q.q || a.username.toLowerCase().includes(q.q.toLowerCase()));
    return { items: all.slice(q.offset, q.offset + q.limit), total: all.length, offset: q.offset, limit: q.limit };
  });

  app.get('/accounts/:id', (req, reply) => {
    const id = idOf(req, reply);
    return id === undefined ? reply : tryRun(reply, () => ({ account: admin.get(id) }));
  });

  app.post('/accounts', async (req, reply) => {
    if (!requireOperator(req, reply)) return reply;
    const body = parseOr400(reply, NewAccountBody, req.body, 'account');
    if (!body) return reply;
    const passwordHash = await deps.auth.hashPassword(body.password);
    return tryRun(reply, () => reply.code(201).send({ account: admin.create(req.account, { ...body, passwordHash }) }));
  });

  app.patch('/accounts/:id', (req, reply) => {
    const id = idOf(req, reply);
    const body = id === undefined ? undefined : parseOr400(reply, AccountPatch, req.body, 'account change');
    if (id === undefined || !body) return reply;
    return tryRun(reply, () => ({ account: admin.update(req.account, id, body) }));
  });

  app.post('/accounts/:id/password', async (req, reply) => {
    const id = idOf(req, reply);
    const body = id === undefined ? undefined : parseOr400(reply, PasswordReset, req.body, 'password reset');
    if (id === undefined || !body) return reply;
    const isUsername = passwordIsUsername(body.password, deps.auth.accounts.get(id)?.username ?? '', 'password');
    if (isUsername.length > 0) return sendError(reply, 'request.invalid', 'invalid password reset', isUsername);
    const hash = await deps.auth.hashPassword(body.password);
    return tryRun(reply, () => {
      admin.resetPassword(req.account, id, hash, body.mustChangePassword);
      return reply.code(204).send();
    });
  });
}
