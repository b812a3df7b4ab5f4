import { get } from '../api.js';
import { fill, h } from '../dom.js';
import { formatDateTime, formatLocalDate, formatMoney, formatMonth, formatNumber, t } from '../i18n.js';

/**
 * @typedef {import('../../../../shared/protocol/api/hub-billing.js').PeriodList} PeriodList GET /billing/periods
 * @typedef {import('../../../../shared/protocol/api/hub-billing.js').PeriodSummary} PeriodSummary
 * @typedef {import('../../../../shared/protocol/api/hub-billing.js').PeriodView} PeriodView GET /billing/periods/:period
 * @typedef {import('../../../../shared/protocol/api/hub-billing.js').InvoiceHeader} InvoiceHeader
 * @typedef {import('../../../../shared/protocol/api/hub-billing.js').UnpricedUse} UnpricedUse
 * @typedef {import('../../../../shared/protocol/api/hub-billing.js').Invoice} Invoice
 * @typedef {import('../../../../shared/protocol/api/hub-billing.js').CreditNoteList} CreditNoteList GET /billing/periods/:period/credit-notes
 */
/**
 * @typedef {import('../api.js').Failure} Failure
 * @typedef {{ subtotalCents: number, vatCents: number, totalCents: number }} Totals
 */

/** @param {Failure} err */
export const failure = (err) =>
  h('p.error', err.status === 403 ? t('error.forbidden') : t('error.generic', { m: err.message }));

/**
 * The three totals of a period or an invoice, each with its cents in a data attribute.
 * @param {Totals} x
 * @param {string} currency
 */
export function totalsLine(x, currency) {
  return h(
    'span.totals',
    /** @type {[string, number][]} */ ([
      ['subtotal', x.subtotalCents],
      ['vat', x.vatCents],
      ['total', x.totalCents],
    ]).map(([key, cents]) =>
      h(
        `span.${key}`,
        { dataset: { cents: String(cents) } },
        `${t(`billing.${key}`)} `,
        h('strong', formatMoney(cents, currency)),
      ),
    ),
  );
}

/**
 * Billing, for network operators: the closed months newest first, the month that closes next, each month's invoices on demand.
 * @param {HTMLElement} view
 */
export function renderBilling(view) {
  let closed = false;
  const head = h(
    'section.card',
    h('h1', t('billing.title')),
    h(
      'p.billing-links',
      h('a', { href: '#/billing/receivables' }, t('receivables.link')),
      ' · ',
      h('a', { href: '#/billing/seller' }, t('seller.link')),
      ' · ',
      h('a', { href: '#/billing/buyers' }, t('buyers.link')),
    ),
  );
  const list = h('div.periods');
  fill(view, head, list);
  /** @type {Promise<PeriodList>} */ (get('/billing/periods'))
    .then(({ periods, next }) => {
      if (closed) return;
      head.append(
        h('p', next === null ? t('billing.first') : t('billing.next', { p: formatMonth(next) })),
        next === null ? '' : previewButton(next, list),
      );
      fill(list, periods.length === 0 ? h('p.muted', t('billing.none')) : [...periods].reverse().map(periodCard));
    })
    .catch((/** @type {Failure} */ err) => head.append(failure(err)));
  return () => {
    closed = true;
  };
}

/**
 * A preview rates the open month inside the hub (a big network waits seconds): only when asked.
 * @param {string} period
 * @param {HTMLElement} list
 */
function previewButton(period, list) {
  const button = h('button.link', t('billing.preview', { p: formatMonth(period) }));
  button.addEventListener('click', () => {
    button.remove();
    const card = periodCard({ period, status: 'open' });
    list.prepend(card);
    card.open = true;
  });
  return button;
}

/**
 * One month: a summary line; opened, its totals, exports and invoice headers (GET /billing/periods/:period).
 * @param {PeriodSummary | { period: string, status: 'open' }} p a closed month, or the open one to preview
 */
function periodCard(p) {
  const body = h('div');
  const status = p.status === 'closed' ? t('billing.closed') : t('billing.open');
  const facts =
    p.status === 'closed'
      ? [t('billing.invoices', { n: formatNumber(p.invoices) }), formatMoney(p.totalCents, p.currency)]
      : [];
  const card = h(
    'details.card.period',
    { dataset: { period: p.period, status: p.status } },
    h(
      'summary',
      h('strong', formatMonth(p.period)),
      ` · ${status}`,
      facts.map((f) => ` · ${f}`),
    ),
    body,
  );
  let loaded = false;
  card.addEventListener('toggle', () => {
    if (!card.open || loaded) return;
    loaded = true;
    /** @type {Promise<[PeriodView, CreditNoteList | null]>} */ (
      Promise.all([
        get(`/billing/periods/${p.period}`),
        p.status === 'closed' ? get(`/billing/periods/${p.period}/credit-notes`) : null,
      ])
    )
      .then(([full, notes]) => fill(body, periodBody(full), notes ? creditNotesOfMonth(notes.creditNotes) : null))
      .catch((/** @type {Failure} */ err) => ((loaded = false), fill(body, failure(err))));
  });
  return card;
}

/** @param {PeriodView} p */
function periodBody(p) {
  const when =
    p.status === 'closed'
      ? [
          t('billing.closedAt', { at: formatDateTime(p.closedAt) }),
          t('billing.cutoff', { at: formatDateTime(p.cutoff) }),
        ]
      : [];
  const exports =
    p.status === 'closed'
      ? downloads(`/billing/periods/${p.period}/invoices`, `invoices-${p.period}`, t('billing.export'))
      : null;
  return [
    h('p', totalsLine(p, p.currency)),
    when.length ? h('p.muted', when.join(' · ')) : null,
    p.unbilled.length ? h('p.error', t('billing.unbilled', { n: formatNumber(p.unbilled.length) })) : null,
    p.unpriced?.length ? unpricedList(p.unpriced) : null,
    p.status === 'closed' && p.missing?.seller
      ? h(
          'p.error.missing-seller',
          t('billing.missingSeller'),
          ' ',
          h('a', { href: '#/billing/seller' }, t('seller.link')),
        )
      : null,
    p.status === 'closed' && p.missing?.buyers.length
      ? h(
          'p.error.missing-buyers',
          t('billing.missingBuyers', { a: p.missing.buyers.join(', ') }),
          ' ',
          h('a', { href: '#/billing/buyers' }, t('buyers.link')),
        )
      : null,
    exports,
    invoiceTable(p.invoices),
  ];
}

/**
 * Uses of items without a price: not charged, listed so the operator can price the item before the close.
 * @param {UnpricedUse[]} unpriced
 */
function unpricedList(unpriced) {
  /** @param {UnpricedUse} u */
  const row = (u) =>
    h(
      'li',
      { dataset: { item: u.item, site: u.site } },
      t('billing.unpricedUse', {
        item: u.item,
        site: u.site,
        p: formatMonth(u.period),
        uses: formatNumber(u.uses),
        q: formatNumber(u.quantity),
      }),
    );
  return h(
    'div.unpriced',
    h('p.error', t('billing.unpriced', { n: formatNumber(unpriced.length) })),
    h('ul', unpriced.map(row)),
  );
}

/**
 * Links that download the CSV (also for Excel in French) and the JSON of `path` (the session cookie goes with them).
 * @param {string} path
 * @param {string} name the file's name, without its extension
 * @param {string} label
 */
export function downloads(path, name, label) {
  return h(
    'p.downloads',
    `${label} `,
    h('a', { href: `${path}?format=csv`, download: `${name}.csv` }, 'CSV'),
    ' · ',
    h('a', { href: `${path}?format=csv&dialect=excel-fr`, download: `${name}.csv` }, 'Excel'),
    ' · ',
    h('a', { href: `${path}?format=json`, download: `${name}.json` }, 'JSON'),
  );
}

/** The legal documents of an invoice or a credit note, each with the extension of the file it is. */
const DOCUMENTS = /** @type {const} */ ([
  ['pdf', 'PDF', 'pdf'],
  ['facturx', 'Factur-X', 'facturx.pdf'],
  ['ubl', 'UBL', 'ubl.xml'],
  ['cii', 'CII', 'cii.xml'],
]);

/**
 * Links that download the legal documents of an invoice or a credit note
 * (GET /billing/invoices/:number/document): the readable PDF, Factur-X (a PDF/A-3 carrying the CII),
 * and the EN 16931 XML as UBL and as CII.
 * @param {string} number
 * @param {string} [label] what goes before the links; none: the links alone (a table cell's)
 * @param {string} [base] where the invoices are read: an employer's manager reads theirs from `/employer/invoices`
 */
export function documentLinks(number, label, base = '/billing/invoices') {
  const links = DOCUMENTS.map(([format, name, extension], i) => [
    i === 0 ? null : ' · ',
    h(
      'a',
      {
        href: `${base}/${number}/document?format=${format}`,
        download: `${number}.${extension}`,
        dataset: { format },
        'aria-label': t('invoice.documentOf', { format: name, n: number }),
      },
      name,
    ),
  ]);
  return label === undefined ? h('span.documents', links) : h('p.documents', `${label} `, links);
}

/** @param {InvoiceHeader[]} invoices */
function invoiceTable(invoices) {
  /** @param {InvoiceHeader} i */
  const row = (i) =>
    h(
      'tr',
      { dataset: { invoice: i.number ?? '' } },
      h('td', i.number === null ? '–' : h('a', { href: `#/billing/invoices/${i.number}` }, i.number)),
      h('td', i.account.name, h('span.muted', ` (${t(`invoice.${i.account.kind}`)})`)),
      h('td.num', formatNumber(i.lines)),
      h('td.num', formatMoney(i.subtotalCents, i.currency)),
      h('td.num', formatMoney(i.vatCents, i.currency)),
      h('td.num', formatMoney(i.totalCents, i.currency)),
      h('td', i.number === null ? '–' : documentLinks(i.number)),
    );
  const heads = [
    h('th', t('billing.number')),
    h('th', t('billing.account')),
    ...['lines', 'subtotal', 'vat', 'total'].map((k) => h('th.num', t(`billing.${k}`))),
    h('th', t('billing.documents')),
  ];
  const rows = invoices.length ? invoices.map(row) : h('tr', h('td.muted', { colSpan: 7 }, t('billing.noInvoice')));
  return h('div.scroll', h('table.list', h('thead', h('tr', heads)), h('tbody', rows)));
}

/**
 * Credit notes: number, the invoice each corrects, its customer, its total, its documents.
 * @param {Invoice[]} notes
 * @param {boolean} withCustomer whether to show the invoice corrected and the customer (a month's list)
 */
export function creditNoteTable(notes, withCustomer) {
  /** @param {Invoice} c */
  const row = (c) => {
    const number = c.number ?? '';
    return h(
      'tr',
      { dataset: { creditNote: number, corrects: c.corrects?.number ?? '' } },
      h('th', { scope: 'row' }, h('a', { href: `#/billing/invoices/${number}` }, number)),
      withCustomer
        ? [
            h('td', c.corrects ? h('a', { href: `#/billing/invoices/${c.corrects.number}` }, c.corrects.number) : '–'),
            h('td', c.account.name),
          ]
        : null,
      h('td', c.issueDate ? formatLocalDate(c.issueDate) : '–'),
      h('td.num', { dataset: { cents: String(c.totalCents) } }, formatMoney(c.totalCents, c.currency)),
      h('td', documentLinks(number)),
    );
  };
  /** @type {[string, boolean?][]} */
  const heads = [
    [t('billing.number')],
    ...(withCustomer ? /** @type {[string][]} */ ([[t('creditNote.corrects')], [t('billing.account')]]) : []),
    [t('creditNote.issued')],
    [t('billing.total'), true],
    [t('billing.documents')],
  ];
  return h(
    'div.scroll',
    h(
      'table.list.credit-notes',
      h(
        'thead',
        h(
          'tr',
          heads.map(([text, num]) => h(num ? 'th.num' : 'th', { scope: 'col' }, text)),
        ),
      ),
      h('tbody', notes.map(row)),
    ),
  );
}

/**
 * The credit notes correcting a closed month, whenever issued.
 * @param {Invoice[]} notes
 */
const creditNotesOfMonth = (notes) =>
  h(
    'div.month-credit-notes',
    h('h2', t('creditNote.ofMonth')),
    notes.length ? creditNoteTable(notes, true) : h('p.muted', t('creditNote.none')),
  );
