import type { FastifyInstance, FastifyReply } from 'fastify';
import { serve } from '../../shared/platform/api-contract.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { BillingRoutes, type InvoiceHeader } from '../../shared/protocol/api/hub-billing.js';
import { invoicesCsv } from './export.js';
import type { Invoice } from './invoice.js';
import type { BillingLedger } from './ledger.js';
import type { BillingPacks } from './packs.js';
import { nextPeriod } from './period.js';
import { operatorOnly } from '../hub/auth/index.js';
import { SelfServiceRoutes } from '../../shared/protocol/api/hub-self-service.js';
import { ownEmployer } from '../hub/self-service/index.js';

/** Every billing route is for network operators: a site manager gets 403 before anything is read. */
const operator = { preValidation: operatorOnly };

/**
 * The billing API, for network operators only (a site manager gets 403 `auth.forbidden`): the price list, periods (open ones are previews,
 * closed ones frozen), the close, exports of an invoice or a period in JSON or CSV, and the packs of days sold.
 */
export function registerBillingRoutes(app: FastifyInstance, ledger: BillingLedger, packs: BillingPacks): void {
  const invoicesOf = async (period: string) =>
    (await ledger.closed(period)) ? ledger.invoices(period) : (await ledger.preview(period)).invoices;

  serve(
    app,
    BillingRoutes.prices,
    async () => {
      const prices = await ledger.prices();
      if (!prices) throw new TesseraError('not_found', 'no price list yet: PUT /billing/prices');
      return prices;
    },
    operator,
  );
  serve(app, BillingRoutes.setPrices, (req) => ledger.setPrices(req.body), operator);
  serve(
    app,
    BillingRoutes.periods,
    async () => {
      const periods = await ledger.periods();
      const last = periods.at(-1)?.period;
      // The month a close would accept next (null before the first close: any month may start the ledger).
      return { periods, next: last === undefined ? null : nextPeriod(last) };
    },
    operator,
  );
  serve(
    app,
    BillingRoutes.period,
    async (req) => {
      const { period } = req.params;
      const closed = await ledger.closed(period);
      const invoices = closed ? await ledger.invoices(period) : undefined;
      const view = closed && invoices ? { summary: closed, invoices } : await ledger.preview(period);
      return { ...view.summary, invoices: view.invoices.map(header) };
    },
    operator,
  );
  serve(
    app,
    BillingRoutes.periodInvoices,
    async (req, reply) => {
      const invoices = await invoicesOf(req.params.period);
      return req.query.format === 'csv' ? sendCsv(reply, invoices, `invoices-${req.params.period}`) : { invoices };
    },
    operator,
  );
  serve(app, BillingRoutes.close, (req) => ledger.close(req.params.period), operator);
  serve(app, BillingRoutes.verify, (req) => ledger.verify(req.params.period), operator);
  serve(app, BillingRoutes.sellPack, async (req, reply) => reply.code(201).send(await packs.sell(req.body)), operator);
  serve(app, BillingRoutes.packs, async (req) => ({ purchases: await packs.list(req.query.member) }), operator);
  serve(
    app,
    BillingRoutes.invoice,
    async (req, reply) => {
      const { number } = req.params;
      const invoice = await ledger.invoice(number);
      if (!invoice) throw new TesseraError('not_found', `no invoice ${number}`);
      return req.query.format === 'csv' ? sendCsv(reply, [invoice], `invoice-${number}`) : invoice;
    },
    operator,
  );
}

/**
 * An employer's manager's invoices (self-service routes): the closed ones whose account is their
 * own employer, never a preview. Another employer's invoice number is "not found", as one that
 * does not exist.
 */
export function registerEmployerInvoiceRoutes(app: FastifyInstance, ledger: BillingLedger): void {
  serve(app, SelfServiceRoutes.invoices, async (req) => ({
    invoices: (await ledger.employerInvoices(ownEmployer(req))).map((i) => ({ ...header(i), period: i.period })),
  }));
  serve(app, SelfServiceRoutes.invoice, async (req) => {
    const employer = ownEmployer(req);
    const { number } = req.params;
    const invoice = await ledger.invoice(number);
    if (!invoice || invoice.account.kind !== 'employer' || invoice.account.id !== employer)
      throw new TesseraError('not_found', `no invoice ${number} of yours`);
    return invoice;
  });
}

function header(i: Invoice): InvoiceHeader {
  return {
    number: i.number,
    account: i.account,
    currency: i.currency,
    lines: i.lines.length,
    subtotalCents: i.subtotalCents,
    vatCents: i.vatCents,
    totalCents: i.totalCents,
  };
}

function sendCsv(reply: FastifyReply, invoices: Invoice[], name: string) {
  return reply
    .header('content-type', 'text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${name}.csv"`)
    .send(invoicesCsv(invoices));
}
