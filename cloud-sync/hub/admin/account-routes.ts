import type { FastifyInstance } from 'fastify';
import { serve } from '../../../shared/platform/api-contract.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import { HubAccountRoutes as Routes } from '../../../shared/protocol/api/hub-admin-accounts.js';
import { passwordIsUsername } from '../../../shared/protocol/api/hub-auth.js';
import { operatorOnly } from '../auth/guards.js';
import { AccountAdmin } from './account-admin.js';
import type { AdminDeps } from './deps.js';

/** Every account route: anyone but an operator is refused 403 before their input is looked at. */
const OPERATOR = { preValidation: operatorOnly };

/** Accounts, the network operator's alone: list, get, create, change, reset a password (AccountAdmin). */
export function registerAccountRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const admin = new AccountAdmin(deps.db, deps.auth, deps.audit, deps.directory);

  serve(
    app,
    Routes.list,
    async (req) => {
      const q = req.query;
      const all = (await deps.auth.accounts.list(deps.db)).filter(
        (a) => !q.q || a.username.toLowerCase().includes(q.q.toLowerCase()),
      );
      return { items: all.slice(q.offset, q.offset + q.limit), total: all.length, offset: q.offset, limit: q.limit };
    },
    OPERATOR,
  );

  serve(app, Routes.get, async (req) => ({ account: await admin.get(deps.db, req.params.id) }), OPERATOR);

  serve(
    app,
    Routes.create,
    async (req, reply) => {
      const passwordHash = await deps.auth.hashPassword(req.body.password);
      const account = await admin.create(req.account, { ...req.body, passwordHash });
      reply.code(201);
      return { account };
    },
    OPERATOR,
  );

  serve(
    app,
    Routes.update,
    async (req) => ({ account: await admin.update(req.account, req.params.id, req.body) }),
    OPERATOR,
  );

  serve(
    app,
    Routes.resetPassword,
    async (req, reply) => {
      const { id } = req.params;
      const isUsername = passwordIsUsername(
        req.body.password,
        (await deps.auth.accounts.get(deps.db, id))?.username ?? '',
        'password',
      );
      if (isUsername.length > 0) throw new TesseraError('request.invalid', 'invalid password reset', isUsername);
      const hash = await deps.auth.hashPassword(req.body.password);
      await admin.resetPassword(req.account, id, hash, req.body.mustChangePassword);
      return reply.code(204).send();
    },
    OPERATOR,
  );
}
