import { get } from '../api.js';
import { fill, h } from '../dom.js';
import { formatLocalDate, formatMoney, formatMonth, formatNumber, t } from '../i18n.js';
import { documentLinks, failure } from './billing.js';
import { renderBookingList } from './my-bookings.js';

/**
 * An employer's manager's pages: their staff's days this month, their staff's bookings, their invoices.
 * @typedef {import('../api.js').Failure} Failure
 * @typedef {import('../../../../shared/protocol/api/hub-self-service.js').StaffPage} StaffPage GET /employer/staff
 * @typedef {StaffPage['staff'][number]} StaffMember
 * @typedef {{ invoices: Array<import('../../../../shared/protocol/api/hub-billing.js').InvoiceHeader & { period: string }> }} EmployerInvoices GET /employer/invoices
 */

/**
 * @param {string[]} heads
 * @param {HTMLElement[]} rows
 */
const table = (heads, rows) =>
  h(
    'div.scroll',
    h(
      'table.list',
      h(
        'thead',
        h(
          'tr',
          heads.map((x) => h('th', { scope: 'col' }, x)),
        ),
      ),
      h('tbody', rows),
    ),
  );

/**
 * The staff and their days this month, per site (GET /employer/staff).
 * @param {HTMLElement} view
 */
export function renderStaff(view) {
  let closed = false;
  const head = h('section.card', h('h1', t('staff.title')));
  fill(view, head);
  /** @type {Promise<StaffPage>} */ (get('/employer/staff'))
    .then((page) => {
      if (closed) return;
      fill(
        head,
        h('h1', t('staff.title')),
        h('p.muted', page.employer.name, ' · ', formatMonth(page.month)),
        page.staff.length === 0
          ? h('p.muted', t('staff.none'))
          : table(
              [t('members.name'), t('members.plan'), t('staff.days'), t('staff.sites'), t('staff.lastVisit')],
              page.staff.map(staffRow),
            ),
      );
    })
    .catch((/** @type {Failure} */ err) => fill(head, h('h1', t('staff.title')), failure(err)));
  return () => {
    closed = true;
  };
}

/** @param {StaffMember} m */
const staffRow = (m) =>
  h(
    'tr',
    { dataset: { member: m.id } },
    h('th', { scope: 'row' }, m.name),
    h('td', m.plan),
    h('td.num', formatNumber(m.daysThisMonth)),
    h('td', m.month.map((s) => `${s.name} (${formatNumber(s.days)})`).join(', ') || '–'),
    h('td', m.lastVisit ? formatLocalDate(m.lastVisit) : '–'),
  );

/**
 * The staff's bookings to come, each with its holder's name; the manager may move or cancel them.
 * @param {HTMLElement} view
 */
export const renderStaffBookings = (view) =>
  renderBookingList(view, {
    title: t('staff.bookings'),
    names: /** @type {Promise<StaffPage>} */ (get('/employer/staff')).then(
      (page) => new Map(page.staff.map((m) => [m.id, m.name])),
    ),
  });

/**
 * The employer's closed invoices (GET /employer/invoices), each opening in full.
 * @param {HTMLElement} view
 */
export function renderEmployerInvoices(view) {
  let closed = false;
  const head = h('section.card', h('h1', t('employer.invoices')));
  fill(view, head);
  /** @type {Promise<EmployerInvoices>} */ (get('/employer/invoices'))
    .then(({ invoices }) => {
      if (closed) return;
      const rows = invoices.map((i) =>
        h(
          'tr',
          { dataset: { invoice: i.number ?? '', type: i.type ?? 'invoice' } },
          h('th', { scope: 'row' }, h('a', { href: `#/invoices/${i.number}` }, i.number ?? '')),
          h('td', i.corrects ? t('employer.creditNoteOf', { n: i.corrects.number }) : t('employer.invoice')),
          h('td', formatMonth(i.period)),
          h('td.num', formatMoney(i.totalCents, i.currency)),
          h('td', documentLinks(i.number ?? '', undefined, '/employer/invoices')),
        ),
      );
      fill(
        head,
        h('h1', t('employer.invoices')),
        rows.length === 0
          ? h('p.muted', t('employer.noInvoice'))
          : table(
              [
                t('employer.number'),
                t('employer.kind'),
                t('employer.period'),
                t('employer.total'),
                t('billing.documents'),
              ],
              rows,
            ),
      );
    })
    .catch((/** @type {Failure} */ err) => fill(head, h('h1', t('employer.invoices')), failure(err)));
  return () => {
    closed = true;
  };
}
