import type { FastifyInstance, FastifyRequest } from 'fastify';
import { serve } from '../../../shared/platform/api-contract.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import { PaymentRoutes } from '../../../shared/protocol/api/hub-billing-payments.js';
import { operatorOnly } from '../../hub/auth/index.js';
import { MAX_STATEMENT_BYTES } from './statement.js';
import type { Payments } from './service.js';

/** Every route is for network operators: anyone else gets 403 before anything is read. */
const operator = { preValidation: operatorOnly };

/** A statement is sent as CSV (or plain text): 415 otherwise, before its body is looked at. */
const csvOnly = async (req: FastifyRequest) => {
  await operatorOnly(req);
  if (typeof req.body !== 'string')
    throw new TesseraError('request.unsupported_type', 'send the statement as text/csv');
};

/** Payments, receivables, reminders, the overdue policy and holds (docs/billing.md "Payments"). */
export function registerPaymentRoutes(app: FastifyInstance, payments: Payments): void {
  // The hub's members import reads CSV bodies as text; an app without it (a test's) gets the same.
  if (!app.hasContentTypeParser('text/csv'))
    app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body));

  serve(
    app,
    PaymentRoutes.record,
    async (req, reply) => reply.code(201).send(await payments.record(req.account, req.body)),
    operator,
  );
  serve(app, PaymentRoutes.list, async (req) => ({ payments: await payments.list(req.query) }), operator);
  serve(app, PaymentRoutes.remove, (req) => payments.remove(req.account, req.params.id), operator);
  serve(
    app,
    PaymentRoutes.importStatement,
    (req) => payments.importStatement(req.account, req.body, { dryRun: req.query.dryRun }),
    { bodyLimit: MAX_STATEMENT_BYTES, preValidation: csvOnly },
  );
  serve(app, PaymentRoutes.statuses, (req) => payments.statuses(req.query), operator);
  serve(app, PaymentRoutes.receivables, () => payments.receivables(), operator);
  serve(app, PaymentRoutes.reminders, (req) => payments.reminders(req.query.stage), operator);
  serve(app, PaymentRoutes.policy, () => payments.policy(), operator);
  serve(app, PaymentRoutes.setPolicy, (req) => payments.setPolicy(req.account, req.body), operator);
  serve(app, PaymentRoutes.holds, () => payments.holds(), operator);
  serve(app, PaymentRoutes.setHold, (req) => payments.setOverride(req.account, req.params.account, req.body), operator);
}
