import { get, put } from '../api.js';
import { fill, h, toast } from '../dom.js';
import { formatDateTime, formatLocalDate, formatMoney, formatNumber, t } from '../i18n.js';
import { failure } from './billing.js';
import { errorWords } from './payments.js';

/**
 * What the network is owed (operators): each account's balance and overdue amount, the overdue
 * invoices with the reminder stage each has reached, and the accounts whose doors are closed for
 * them, each with the override that lets them in (GET /billing/receivables, /billing/reminders,
 * /billing/holds; PUT /billing/holds/:account).
 * @typedef {import('../../../../shared/protocol/api/hub-billing-payments.js').Receivables} Receivables
 * @typedef {import('../../../../shared/protocol/api/hub-billing-payments.js').ReminderList} ReminderList
 * @typedef {import('../../../../shared/protocol/api/hub-billing-payments.js').HoldList} HoldList
 * @typedef {import('../../../../shared/protocol/api/hub-billing-payments.js').HoldView} HoldView
 * @typedef {import('../api.js').Failure} Failure
 */

/** Amounts in euros: the network's price list is in one currency, euros for every network so far. */
const CURRENCY = 'EUR';
/** @param {number} cents */
const money = (cents) => formatMoney(cents, CURRENCY);

/**
 * @param {[string, boolean?][]} heads each column's title, and whether it holds numbers
 * @param {HTMLElement[]} rows
 * @param {string} caption
 */
const table = (heads, rows, caption) =>
  h(
    'div.scroll',
    h(
      'table.list',
      h('caption.visually-hidden', caption),
      h(
        'thead',
        h(
          'tr',
          heads.map(([text, num]) => h(num ? 'th.num' : 'th', { scope: 'col' }, text)),
        ),
      ),
      h('tbody', rows),
    ),
  );

/** @param {string} account `employer:<id>` or `member:<id>` */
const kindOf = (account) => t(`invoice.${account.split(':')[0]}`);

/**
 * @param {HTMLElement} view
 */
export function renderReceivables(view) {
  let closed = false;
  const head = h(
    'section.card',
    h('p', h('a', { href: '#/billing' }, t('billing.back'))),
    h('h1', t('receivables.title')),
  );
  const accounts = h('section.card.receivables', h('h2', t('receivables.accounts')));
  const reminders = h('section.card.reminders', h('h2', t('receivables.reminders')));
  const holds = h('section.card.holds', h('h2', t('receivables.holds')));
  fill(view, head, accounts, reminders, holds);
  const draw = async () => {
    /** @type {[Receivables, ReminderList, HoldList]} */
    const [r, m, hl] = await Promise.all([
      get('/billing/receivables'),
      get('/billing/reminders'),
      get('/billing/holds'),
    ]);
    if (closed) return;
    fill(
      accounts,
      h('h2', t('receivables.accounts')),
      h('p.muted', t('receivables.today', { d: formatLocalDate(r.today) })),
      accountTable(r),
    );
    fill(reminders, h('h2', t('receivables.reminders')), reminderTable(m));
    fill(holds, h('h2', t('receivables.holds')), holdsBody(hl, draw));
  };
  draw().catch((/** @type {Failure} */ err) => head.append(failure(err)));
  return () => {
    closed = true;
  };
}

/** @param {Receivables} r */
function accountTable(r) {
  if (r.accounts.length === 0) return h('p.muted', t('receivables.noneOwed'));
  const rows = r.accounts.map((a) =>
    h(
      'tr',
      { dataset: { account: a.account, held: String(a.held) } },
      h('th', { scope: 'row' }, a.name, h('span.muted', ` (${kindOf(a.account)})`)),
      h('td.num', formatNumber(a.unpaidInvoices)),
      h('td.num', { dataset: { cents: String(a.balanceCents) } }, money(a.balanceCents)),
      h('td.num', { dataset: { cents: String(a.overdueCents) } }, money(a.overdueCents)),
      h('td.num', a.maxDaysOverdue ? formatNumber(a.maxDaysOverdue) : '–'),
      h('td', a.held ? h('strong.error', t('receivables.held')) : '–'),
    ),
  );
  return table(
    [
      [t('billing.account')],
      [t('receivables.unpaid'), true],
      [t('receivables.balance'), true],
      [t('receivables.overdue'), true],
      [t('receivables.daysOverdue'), true],
      [t('receivables.doors')],
    ],
    rows,
    t('receivables.accounts'),
  );
}

/** @param {ReminderList} m */
function reminderTable(m) {
  if (m.reminders.length === 0) return h('p.muted', t('receivables.noReminder'));
  const rows = m.reminders.map((r) =>
    h(
      'tr',
      { dataset: { invoice: r.invoice, stage: r.stage } },
      h('th', { scope: 'row' }, h('a', { href: `#/billing/invoices/${r.invoice}` }, r.invoice)),
      h('td', r.name, r.email ? h('div.muted', r.email) : null),
      h('td', formatLocalDate(r.dueDate)),
      h('td.num', formatNumber(r.daysOverdue)),
      h('td.num', { dataset: { cents: String(r.dueCents) } }, money(r.dueCents)),
      h(
        'td',
        t(`reminder.${r.stage}`),
        h('div.muted', t('receivables.since', { d: formatLocalDate(r.stageReachedOn) })),
      ),
      h('td', r.held ? h('strong.error', t('receivables.held')) : '–'),
    ),
  );
  return table(
    [
      [t('billing.number')],
      [t('billing.account')],
      [t('receivables.dueDate')],
      [t('receivables.daysOverdue'), true],
      [t('receivables.due'), true],
      [t('receivables.stage')],
      [t('receivables.doors')],
    ],
    rows,
    t('receivables.reminders'),
  );
}

/**
 * The policy, then each account held, overdue, or let in by an override, with the form that lifts its hold or ends the override.
 * @param {HoldList} hl
 * @param {() => Promise<void>} redraw
 */
function holdsBody(hl, redraw) {
  const days = hl.policy.suspendAfterDaysOverdue;
  return [
    h('p.policy', days === null ? t('holds.never') : t('holds.after', { d: formatNumber(days) })),
    policyForm(days, redraw),
    hl.holds.length === 0
      ? h('p.muted', t('holds.none'))
      : h(
          'ul.holds',
          hl.holds.map((x) => holdItem(x, redraw)),
        ),
  ];
}

/**
 * @param {HoldView} x
 * @param {() => Promise<void>} redraw
 */
function holdItem(x, redraw) {
  const lifting = x.override === null;
  const messages = h('div', { 'aria-live': 'polite' });
  const labels = { reason: t('holds.reason'), until: t('holds.until') };
  /** @param {SubmitEvent} e */
  const onsubmit = async (e) => {
    e.preventDefault();
    const data = new FormData(/** @type {HTMLFormElement} */ (e.target));
    const until = String(data.get('until') ?? '');
    try {
      await put(`/billing/holds/${encodeURIComponent(x.account)}`, {
        override: lifting ? 'lift' : null,
        reason: String(data.get('reason')).trim(),
        ...(lifting && until ? { until } : {}),
      });
      toast(lifting ? t('holds.lifted', { name: x.name }) : t('holds.restored', { name: x.name }));
      await redraw();
    } catch (err) {
      fill(messages, errorWords(/** @type {Failure} */ (err), labels, t('holds.refused')));
    }
  };
  const o = x.override;
  const id = `hold-${x.account.replace(/[^A-Za-z0-9-]/g, '-')}`;
  return h(
    'li.hold',
    { dataset: { account: x.account, held: String(x.held), override: o ? o.override : '' } },
    h('h3', { id }, x.name, h('span.muted', ` (${kindOf(x.account)})`)),
    h(
      'p',
      x.held ? h('strong.error', t('holds.heldSince', { at: formatDateTime(x.since) })) : t('holds.open'),
      x.overdueInvoices.length
        ? ` · ${t('holds.overdue', { n: x.overdueInvoices.join(', '), d: formatNumber(x.maxDaysOverdue) })}`
        : null,
    ),
    o
      ? h(
          'p.override',
          t(o.until ? 'holds.overrideUntil' : 'holds.override', {
            until: o.until ? formatLocalDate(o.until) : '',
            by: o.setBy,
            reason: o.reason,
          }),
        )
      : null,
    h(
      'form.inline.hold-form',
      { onsubmit, 'aria-labelledby': id },
      h('label', labels.reason, h('input', { name: 'reason', required: true, maxLength: 500, autocomplete: 'off' })),
      lifting ? h('label', labels.until, h('input', { name: 'until', type: 'date' })) : null,
      h('button', { type: 'submit' }, lifting ? t('holds.lift') : t('holds.restore')),
    ),
    messages,
  );
}

/**
 * The overdue policy (PUT /billing/overdue-policy): after how many days overdue the doors close; empty, never.
 * @param {number | null} days
 * @param {() => Promise<void>} redraw
 */
function policyForm(days, redraw) {
  const messages = h('div', { 'aria-live': 'polite' });
  const label = t('holds.policyDays');
  /** @param {SubmitEvent} e */
  const onsubmit = async (e) => {
    e.preventDefault();
    const text = String(new FormData(/** @type {HTMLFormElement} */ (e.target)).get('days') ?? '').trim();
    try {
      await put('/billing/overdue-policy', { suspendAfterDaysOverdue: text === '' ? null : Number(text) });
      toast(t('holds.policySaved'));
      await redraw();
    } catch (err) {
      fill(messages, errorWords(/** @type {Failure} */ (err), { suspendAfterDaysOverdue: label }, t('holds.refused')));
    }
  };
  return h(
    'form.inline.policy-form',
    { onsubmit, 'aria-labelledby': 'policy-title' },
    h('h3', { id: 'policy-title' }, t('holds.policy')),
    h(
      'label',
      label,
      h('input', { name: 'days', type: 'number', min: '0', max: '365', value: days === null ? '' : String(days) }),
    ),
    h('button', { type: 'submit' }, t('holds.policySave')),
    messages,
  );
}
