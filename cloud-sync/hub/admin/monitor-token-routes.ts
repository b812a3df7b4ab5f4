import type { FastifyInstance } from 'fastify';
import { serve } from '../../../shared/platform/api-contract.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import { MonitorTokenRoutes as Routes } from '../../../shared/protocol/api/hub-monitor-tokens.js';
import { operatorOnly } from '../auth/guards.js';
import type { AdminDeps } from './deps.js';

const OPERATOR = { preValidation: operatorOnly };

/**
 * Monitor tokens, the network operator's alone: list, make (the token is in the answer and
 * nowhere else), revoke. Each change has its audit row (never the token), in its transaction.
 */
export function registerMonitorTokenRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const tokens = deps.auth.monitorTokens;

  serve(app, Routes.list, async () => ({ tokens: await tokens.list(deps.db) }), OPERATOR);

  serve(
    app,
    Routes.create,
    async (req, reply) => {
      const made = await deps.db.transaction(async (tx) => {
        const m = await tokens.create(tx, req.body.name, req.account.username);
        await deps.audit.record(tx, req.account, 'create', 'monitor_token', m.record.id, null, m.record);
        return m;
      });
      reply.code(201);
      return { token: made.token, monitorToken: made.record };
    },
    OPERATOR,
  );

  serve(
    app,
    Routes.revoke,
    async (req, reply) => {
      const { id } = req.params;
      await deps.db.transaction(async (tx) => {
        const gone = await tokens.revoke(tx, id);
        if (!gone) throw new TesseraError('not_found', `no monitor token ${JSON.stringify(id)}`);
        await deps.audit.record(tx, req.account, 'revoke', 'monitor_token', id, gone, null);
      });
      return reply.code(204).send();
    },
    OPERATOR,
  );
}
