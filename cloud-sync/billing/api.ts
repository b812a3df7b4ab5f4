import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseOr400, sendError } from '../../shared/platform/http-errors.js';
import { invoicesCsv } from './export.js';
import type { Invoice } from './invoice.js';
import type { BillingLedger } from './ledger.js';
import { nextPeriod, PeriodId } from './period.js';
import { requireOperator } from '../hub/auth/index.js';

const PeriodParams = z.strictObject({ period: PeriodId });
const InvoiceParams = z.strictObject({ number: z.string().regex(/^\d{4}-\d{6}$/, { error: 'expected an invoice number "YYYY-NNNNNN"' }) });
const Format = z.strictObject({ format: z.enum(['json', 'csv']).default('json') });

/**
 * The billing API, for network operators only (a site manager gets 403 `auth.forbidden`): the price list, periods (open ones are previews,
 * closed ones frozen), the close, and exports of an invoice or a period in JSON or CSV.
 */
export function registerBillingRoutes(app: FastifyInstance, ledger: BillingLedger): void {
  const guarded = (handler: (req: FastifyRequest, reply: FastifyReply) => unknown) => (req: FastifyRequest, reply: FastifyReply) => {
    if (!requireOperator(req, reply)) return reply;
    return handler(req, reply);
  };
  const invoicesOf = (period: string) => (ledger.closed(period) ? ledger.invoices(period) : ledger.preview(period).invoices);

  app.get('/billing/prices', guarded((_req, reply) => ledger.prices() ?? sendError(reply, 'not_found', 'no price list yet: PUT /billing/prices')));
  app.put('/billing/prices', guarded((req) => ledger.setPrices(req.body)));
  app.get(
    '/billing/periods',
    guarded(() => {
      const periods = ledger.periods();
      const last = periods.at(-1)?.period;
      // The month a close would accept next (null before the first close: any month may start the ledger).
      return { periods, next: last === undefined ? null : nextPeriod(last) };
    }),
  );
  app.get(
    '/billing/periods/:period',
    guarded((req, reply) => {
      const p = parseOr400(reply, PeriodParams, req.params, 'period');
      if (!p) return reply;
      const closed = ledger.closed(p.period);
      const invoices = closed ? ledger.invoices(p.period) : undefined;
      const view = closed && invoices ? { summary: closed, invoices } : ledger.preview(p.period);
      return { ...view.summary, invoices: view.invoices.map(header) };
    }),
  );
  app.get(
    '/billing/periods/:period/invoices',
    guarded((req, reply) => {
      const p = parseOr400(reply, PeriodParams, req.params, 'period');
      const q = p && parseOr400(reply, Format, req.query, 'query');
      if (!p || !q) return reply;
      return send(reply, invoicesOf(p.period), q.format, `invoices-${p.period}`);
    }),
  );
  app.post(
    '/billing/periods/:period/close',
    guarded((req, reply) => {
      const p = parseOr400(reply, PeriodParams, req.params, 'period');
      return p ? ledger.close(p.period) : reply;
    }),
  );
  app.get(
    '/billing/periods/:period/verify',
    guarded((req, reply) => {
      const p = parseOr400(reply, PeriodParams, req.params, 'period');
      return p ? ledger.verify(p.period) : reply;
    }),
  );
  app.get(
    '/billing/invoices/:number',
    guarded((req, reply) => {
      const p = parseOr400(reply, InvoiceParams, req.params, 'invoice number');
      const q = p && parseOr400(reply, Format, req.query, 'query');
      if (!p || !q) return reply;
      const invoice = ledger.invoice(p.number);
      if (!invoice) return sendError(reply, 'not_found', `no invoice ${p.number}`);
      return q.format === 'csv' ? send(reply, [invoice], 'csv', `invoice-${p.number}`) : invoice;
    }),
  );
}

function header(i: Invoice) {
  return { number: i.number, account: i.account, currency: i.currency, lines: i.lines.length, subtotalCents: i.subtotalCents, vatCents: i.vatCents, totalCents: i.totalCents };
}

function send(reply: FastifyReply, invoices: Invoice[], format: 'json' | 'csv', name: string) {
  if (format === 'json') return { invoices };
  return reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}.csv"`).send(invoicesCsv(invoices));
}
