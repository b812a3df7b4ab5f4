import type { FastifyInstance } from 'fastify';
import { serve } from '../../shared/platform/api-contract.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { BillingRoutes, type InvoiceHeader, type MissingParties } from '../../shared/protocol/api/hub-billing.js';
import { invoicesCsv } from './export.js';
import { invoiceDocument } from './documents/index.js';
import type { Invoice } from './invoice.js';
import type { BillingLedger } from './ledger.js';
import type { BillingPacks } from './packs.js';
import { nextPeriod } from './period.js';
import { operatorOnly } from '../hub/auth/index.js';
import { SelfServiceRoutes } from '../../shared/protocol/api/hub-self-service.js';
import { ownEmployer } from '../hub/self-service/index.js';
import { sendCsvFile } from '../hub/csv-reply.js';

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
      const frozen = closed ? await ledger.invoices(period) : [];
      const view = closed
        ? {
            summary: { ...closed, missing: missingOf(frozen) },
            invoices: frozen,
            creditNotes: await ledger.creditNotesIssuedIn(period),
          }
        : await ledger.preview(period);
      const { creditNotes: _count, ...summary } = view.summary;
      return { ...summary, invoices: view.invoices.map(header), creditNotes: view.creditNotes.map(header) };
    },
    operator,
  );
  serve(
    app,
    BillingRoutes.periodInvoices,
    async (req, reply) => {
      const invoices = await invoicesOf(req.params.period);
      const { format, dialect } = req.query;
      return format === 'csv'
        ? sendCsvFile(reply, `invoices-${req.params.period}.csv`, invoicesCsv(invoices, dialect))
        : { invoices };
    },
    operator,
  );
  serve(app, BillingRoutes.close, (req) => ledger.close(req.params.period), operator);
  serve(
    app,
    BillingRoutes.periodCreditNotes,
    async (req) => ({ creditNotes: await ledger.creditNotesOf(req.params.period) }),
    operator,
  );
  serve(
    app,
    BillingRoutes.creditNote,
    async (req, reply) => {
      const note = await ledger.creditInvoice(req.account, req.params.number, req.body.reason);
      reply.code(201);
      return note;
    },
    operator,
  );
  serve(
    app,
    BillingRoutes.seller,
    async () => {
      const seller = await ledger.parties.seller();
      if (!seller) throw new TesseraError('not_found', 'no seller yet: PUT /billing/seller');
      return seller;
    },
    operator,
  );
  serve(app, BillingRoutes.setSeller, (req) => ledger.parties.setSeller(req.account, req.body), operator);
  serve(app, BillingRoutes.buyers, async () => ({ buyers: await ledger.parties.buyers() }), operator);
  serve(
    app,
    BillingRoutes.buyer,
    async (req) => {
      const buyer = await ledger.parties.buyer(req.params.account);
      if (!buyer) throw new TesseraError('not_found', `no buyer identity for ${req.params.account}`);
      return buyer;
    },
    operator,
  );
  serve(
    app,
    BillingRoutes.setBuyer,
    (req) => ledger.parties.setBuyer(req.account, req.params.account, req.body),
    operator,
  );
  serve(
    app,
    BillingRoutes.deleteBuyer,
    async (req, reply) => {
      if (!(await ledger.parties.deleteBuyer(req.account, req.params.account)))
        throw new TesseraError('not_found', `no buyer identity for ${req.params.account}`);
      return reply.code(204).send();
    },
    operator,
  );
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
      const { format, dialect } = req.query;
      return format === 'csv' ? sendCsvFile(reply, `invoice-${number}.csv`, invoicesCsv([invoice], dialect)) : invoice;
    },
    operator,
  );
  serve(
    app,
    BillingRoutes.invoiceDocument,
    async (req, reply) => {
      const { number } = req.params;
      const invoice = await ledger.invoice(number);
      if (!invoice) throw new TesseraError('not_found', `no invoice or credit note ${number}`);
      const document = await invoiceDocument(invoice, req.query.format);
      return reply
        .header('content-type', document.type)
        .header('content-disposition', `attachment; filename="${number}.${document.extension}"`)
        .send(document.bytes);
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
  serve(app, SelfServiceRoutes.invoices, async (req) => {
    const employer = ownEmployer(req);
    const [invoices, creditNotes] = await Promise.all([
      ledger.employerInvoices(employer),
      ledger.employerCreditNotes(employer),
    ]);
    return { invoices: [...invoices, ...creditNotes].map((i) => ({ ...header(i), period: i.period })) };
  });
  /** The employer's own invoice or credit note; another's is "not found", as one that does not exist. */
  const own = async (employer: string, number: string) => {
    const invoice = await ledger.invoice(number);
    if (!invoice || invoice.account.kind !== 'employer' || invoice.account.id !== employer)
      throw new TesseraError('not_found', `no invoice ${number} of yours`);
    return invoice;
  };
  serve(app, SelfServiceRoutes.invoice, (req) => own(ownEmployer(req), req.params.number));
  serve(app, SelfServiceRoutes.invoiceDocument, async (req, reply) => {
    const invoice = await own(ownEmployer(req), req.params.number);
    const document = await invoiceDocument(invoice, req.query.format);
    return reply
      .header('content-type', document.type)
      .header('content-disposition', `attachment; filename="${req.params.number}.${document.extension}"`)
      .send(document.bytes);
  });
}

/** What a closed month's frozen invoices lack to be lawful documents (invoices frozen before the legal fields lack both). */
function missingOf(invoices: readonly Invoice[]): MissingParties {
  const buyers = invoices.filter((i) => i.buyer === undefined).map((i) => `${i.account.kind}:${i.account.id}`);
  return { seller: invoices.some((i) => i.seller === undefined), buyers: [...new Set(buyers)].sort() };
}

function header(i: Invoice): InvoiceHeader {
  return {
    ...(i.type ? { type: i.type } : {}),
    number: i.number,
    ...(i.corrects ? { corrects: i.corrects } : {}),
    account: i.account,
    currency: i.currency,
    lines: i.lines.length,
    subtotalCents: i.subtotalCents,
    vatCents: i.vatCents,
    totalCents: i.totalCents,
  };
}
