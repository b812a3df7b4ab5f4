import { get, post } from '../api.js';
import { fill, h, toast } from '../dom.js';
import {
  formatDateTime,
  formatLocalDate,
  formatMoney,
  formatMonth,
  formatNumber,
  formatVatPercent,
  t,
  tOr,
} from '../i18n.js';
import { state } from '../live.js';
import { creditNoteTable, documentLinks, downloads, failure, totalsLine } from './billing.js';
import { ask } from './confirm.js';
import { errorWords, paymentCard } from './payments.js';

/**
 * @typedef {import('../../../../shared/protocol/api/hub-billing.js').Invoice} Invoice null number and close time: a preview's
 * @typedef {import('../../../../shared/protocol/api/hub-billing.js').InvoiceLine} InvoiceLine
 */
/**
 * @typedef {import('../../../../shared/protocol/api/hub-billing.js').CreditNoteList} CreditNoteList GET /billing/periods/:period/credit-notes
 * @typedef {Invoice & { number: string, closedAt: string }} ClosedInvoice GET /billing/invoices/:number, which knows closed ones only
 * @typedef {import('../api.js').Failure} Failure
 * @typedef {(cents: number) => HTMLElement} MoneyCell
 */

/**
 * One closed invoice (GET /billing/invoices/:number): its lines, per-site and per-member breakdowns, VAT per rate, totals, downloads.
 * An employer's manager reads theirs from `/employer/invoices` (`from`).
 * @param {HTMLElement} view
 * @param {string} number
 * @param {{ api: string, back: string }} [from] where the invoice is read, and the page to go back to
 */
export function renderInvoice(view, number, from = { api: BILLING, back: '#/billing' }) {
  let closed = false;
  const back = h('p', h('a', { href: from.back }, t('billing.back')));
  fill(view, back);
  const load = () =>
    /** @type {Promise<ClosedInvoice>} */ (get(`${from.api}/${number}`))
      .then((invoice) => !closed && fill(view, back, ...invoiceCards(invoice, from, load)))
      .catch((/** @type {Failure} */ err) => fill(view, back, h('section.card', failure(err))));
  void load();
  return () => {
    closed = true;
  };
}

/** The operators' invoices, whose CSV and JSON exports are there too. */
const BILLING = '/billing/invoices';

/** @param {string | null} site none for what belongs to the whole network */
const siteName = (site) => (site === null ? t('invoice.network') : (state.occupancy.get(site)?.name ?? site));
/**
 * @param {[string, boolean?][]} heads each column's title, and whether it holds numbers
 * @param {HTMLElement[]} rows
 * @param {string} [cls] more classes of the table, `.a.b`
 */
const table = (heads, rows, cls = '') =>
  h(
    `div.scroll`,
    h(
      `table.list${cls}`,
      h(
        'thead',
        h(
          'tr',
          heads.map(([text, num]) => h(num ? 'th.num' : 'th', text)),
        ),
      ),
      h('tbody', rows),
    ),
  );

/**
 * @param {ClosedInvoice} inv
 * @param {{ api: string, back: string }} from where it is read: an operator's page also has its CSV and JSON, its payment and credit notes
 * @param {() => Promise<unknown>} reload reads the invoice again and redraws the page (once a credit note changes what is due)
 */
function invoiceCards(inv, from, reload) {
  const exports = from.api === BILLING;
  /** @type {MoneyCell} */
  const money = (cents) => h('td.num', { dataset: { cents: String(cents) } }, formatMoney(cents, inv.currency));
  return [
    h(
      'section.card.invoice',
      { dataset: { invoice: inv.number } },
      h('h1', t(inv.type === 'credit-note' ? 'creditNote.title' : 'invoice.title', { n: inv.number })),
      h(
        'p',
        h('strong', inv.account.name),
        h('span.muted', ` · ${t(`invoice.${inv.account.kind}`)} ${inv.account.id}`),
      ),
      h('p', t('invoice.periodOf', { p: formatMonth(inv.period), at: formatDateTime(inv.closedAt) })),
      inv.corrects
        ? h(
            'p.corrects',
            t('creditNote.corrects'),
            ' ',
            h(
              'a',
              { href: `${exports ? '#/billing/invoices' : from.back}/${inv.corrects.number}` },
              inv.corrects.number,
            ),
          )
        : null,
      documentLinks(inv.number, t('invoice.documents'), from.api),
      exports ? downloads(`${BILLING}/${inv.number}`, `invoice-${inv.number}`, t('invoice.download')) : null,
    ),
    exports && inv.type !== 'credit-note' ? paymentCard(inv) : null,
    exports && inv.type !== 'credit-note' ? creditNotesCard(inv, reload) : null,
    h('section.card', h('h2', t('invoice.lines')), linesTable(inv, money)),
    h(
      'div.forms',
      h(
        'section.card',
        h('h2', t('invoice.bySite')),
        table(
          [[t('invoice.site')], [t('invoice.days'), true], [t('invoice.amount'), true]],
          inv.bySite.map((s) =>
            h(
              'tr',
              { dataset: { site: s.site ?? '' } },
              h('td', siteName(s.site)),
              h('td.num', formatNumber(s.days)),
              money(s.amountCents),
            ),
          ),
        ),
      ),
      h(
        'section.card',
        h('h2', t('invoice.byMember')),
        table(
          [[t('invoice.member')], [t('invoice.days'), true], [t('invoice.amount'), true]],
          inv.byMember.map((m) =>
            h(
              'tr',
              { dataset: { member: m.member } },
              h('td', m.name ?? m.member),
              h('td.num', formatNumber(m.days)),
              money(m.amountCents),
            ),
          ),
        ),
      ),
    ),
    h('section.card.summary', vatTable(inv, money), h('p', totalsLine(inv, inv.currency))),
  ];
}

/**
 * @param {Invoice} inv
 * @param {MoneyCell} money
 */
function linesTable(inv, money) {
  /** @type {[string, boolean?][]} */
  const heads = [
    [t('invoice.member')],
    [t('invoice.site')],
    [t('invoice.item')],
    [t('invoice.dates')],
    [t('invoice.quantity'), true],
    [t('invoice.unit'), true],
    [t('invoice.amount'), true],
    [t('billing.vat'), true],
  ];
  /** @param {InvoiceLine} l */
  const row = (l) =>
    h(
      'tr',
      { dataset: { kind: l.kind } },
      h('td', l.memberName ?? l.member),
      h('td', siteName(l.site)),
      h(
        'td',
        h('strong', tOr(`line.${l.kind}`, l.kind)),
        h('div.muted', l.description),
        l.adjusts ? h('div.muted', t('invoice.adjusts', { p: formatMonth(l.adjusts) })) : null,
      ),
      h('td.dates', l.dates.map(formatLocalDate).join(', ')),
      h('td.num', formatNumber(l.quantity)),
      h('td.num', formatMoney(l.unitCents, inv.currency)),
      money(l.amountCents),
      h('td.num', formatMoney(l.vatCents, inv.currency), h('div.muted', formatVatPercent(l.vatPercent))),
    );
  return table(heads, inv.lines.map(row));
}

/**
 * @param {Invoice} inv
 * @param {MoneyCell} money
 */
function vatTable(inv, money) {
  const rows = inv.vat.map((v) =>
    h(
      'tr',
      h(
        'td',
        t('invoice.vatRate', { r: formatVatPercent(v.vatPercent) }),
        h('span.muted', ` ${t('invoice.vatOn', { b: formatMoney(v.baseCents, inv.currency) })}`),
      ),
      money(v.vatCents),
    ),
  );
  return table([[t('billing.vat')], [t('invoice.vatAmount'), true]], rows, '.vat');
}

/**
 * The credit notes that correct an invoice (GET /billing/periods/:period/credit-notes, those naming it), each with its
 * documents, and the form that cancels what is left of it by a new one (POST /billing/invoices/:number/credit-note), asked first.
 * @param {ClosedInvoice} inv
 * @param {() => Promise<unknown>} reload
 */
function creditNotesCard(inv, reload) {
  const body = h('div', h('p.muted', '…'));
  const panel = h('div');
  const messages = h('div', { 'aria-live': 'polite' });
  const draw = () =>
    /** @type {Promise<CreditNoteList>} */ (get(`/billing/periods/${inv.period}/credit-notes`))
      .then(({ creditNotes }) => {
        const mine = creditNotes.filter((c) => c.corrects?.number === inv.number);
        fill(body, mine.length ? creditNoteTable(mine, false) : h('p.muted', t('creditNote.none')));
      })
      .catch((/** @type {Failure} */ err) => fill(body, failure(err)));
  /** @param {SubmitEvent} e */
  const onsubmit = (e) => {
    e.preventDefault();
    const form = /** @type {HTMLFormElement} */ (e.target);
    const reason = String(new FormData(form).get('reason')).trim();
    ask(panel, {
      title: t('creditNote.issue'),
      message: t('creditNote.confirm', { n: inv.number }),
      yes: t('creditNote.issue'),
      onYes: async () => {
        try {
          /** @type {Invoice} */
          const note = await post(`/billing/invoices/${inv.number}/credit-note`, { reason });
          form.reset();
          fill(messages);
          toast(t('creditNote.issued.done', { n: note.number ?? '' }));
          // The amount due changes with it: the page is read again.
          await reload();
        } catch (caught) {
          const err = /** @type {Failure} */ (caught);
          fill(
            messages,
            err.code === 'conflict'
              ? h('p.error', t('creditNote.full'))
              : errorWords(err, { reason: t('creditNote.reason') }, t('creditNote.refused')),
          );
        }
      },
    });
  };
  void draw();
  return h(
    'section.card.credit-notes',
    h('h2', t('creditNote.ofInvoice')),
    body,
    h(
      'form.inline.credit-form',
      { onsubmit, 'aria-labelledby': `credit-${inv.number}` },
      h('h3', { id: `credit-${inv.number}` }, t('creditNote.issueTitle')),
      h('p.muted', t('creditNote.explain')),
      h(
        'label',
        t('creditNote.reason'),
        h('input', { name: 'reason', required: true, maxLength: 500, autocomplete: 'off' }),
      ),
      h('button', { type: 'submit' }, t('creditNote.issue')),
    ),
    panel,
    messages,
  );
}
