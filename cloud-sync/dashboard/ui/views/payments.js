import { get, post } from '../api.js';
import { fill, h, toast } from '../dom.js';
import { formatLocalDate, formatMoney, formatNumber, t } from '../i18n.js';
import { failure } from './billing.js';

/**
 * An invoice's payment: its state (open, partly paid, paid, overdue) and what is still due, the
 * payments recorded against it, and the form an operator records one by hand with
 * (GET /billing/invoices/status, GET and POST /billing/payments).
 * @typedef {import('../../../../shared/protocol/api/hub-billing-payments.js').InvoiceStatus} InvoiceStatus
 * @typedef {import('../../../../shared/protocol/api/hub-billing-payments.js').InvoiceStatusList} InvoiceStatusList
 * @typedef {import('../../../../shared/protocol/api/hub-billing-payments.js').PaymentList} PaymentList
 * @typedef {import('../../../../shared/protocol/api/hub-billing-payments.js').Payment} Payment
 * @typedef {import('../api.js').Failure} Failure
 */

/** How money may come in, as the API names them (PAYMENT_METHODS). */
const METHODS = ['transfer', 'card', 'cash', 'cheque', 'direct-debit', 'other'];

/** Today in Paris, `YYYY-MM-DD`: the day the hub dates payments and states in. */
export const parisToday = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date());

/**
 * An amount as typed, "165,60", "165.6" or "165", in integer cents, read from its digits (no
 * floating point); undefined when it is not one.
 * @param {string} text
 */
export function centsOf(text) {
  const m = /^\s*(\d{1,9})(?:[.,](\d{1,2}))?\s*$/.exec(text.replace(/[\s\u00a0\u202f]/g, ''));
  if (!m) return undefined;
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

/**
 * Messages of the API the dashboard has words for in both languages (the others show as the API gives them).
 * @type {[RegExp, string][]}
 */
const KNOWN = [
  [/^a payment cannot be received after today/, 'payment.future'],
  [/^expected a SIREN/, 'seller.badSiren'],
  [/^expected a SIRET/, 'seller.badSiret'],
  [/^the SIRET must start with the SIREN/, 'seller.siretOfSiren'],
  [/^expected a French VAT number/, 'seller.badVat'],
  [/^the VAT number must be that of the SIREN/, 'seller.vatOfSiren'],
  [/^a seller without a VAT number states its exemption/, 'seller.needsExemption'],
  [/^a business buyer in France has a SIREN/, 'buyers.needsSiren'],
  [/^a consumer has no /, 'buyers.consumerHasNone'],
  [/^expected a VAT number/, 'buyers.badVat'],
];

/**
 * The words for an API error: why, by its code, then each field the API names, by its label.
 * @param {Failure} err
 * @param {Record<string, string>} labels each field's label, by the path the API gives it
 * @param {string} refused the message of a refused request
 */
export function errorWords(err, labels, refused) {
  const lead =
    err.code === 'request.invalid'
      ? refused
      : err.code === 'not_found'
        ? t('error.notFound', { m: err.message })
        : err.status === 403
          ? t('error.forbidden')
          : t('error.generic', { m: err.message });
  const details = (err.details ?? []).map((d) => {
    const label =
      labels[d.path] ?? labels[d.path.replace(/\[\d+\]/g, '')] ?? labels[d.path.split(/[.[]/)[0] ?? ''] ?? d.path;
    const known = KNOWN.find(([pattern]) => pattern.test(d.message));
    const message = known ? t(known[1]) : d.message;
    return h('li', { dataset: { path: d.path } }, label ? t('error.field', { f: label, m: message }) : message);
  });
  return [h('p.error', lead), details.length ? h('ul.errors', details) : null];
}

/** @param {InvoiceStatus} s */
const stateWords = (s) =>
  s.status === 'overdue'
    ? t('payment.state.overdueSince', { d: formatNumber(s.daysOverdue), due: formatLocalDate(s.dueDate) })
    : t(`payment.state.${s.status}`);

/**
 * The card of an invoice's payment, drawn once its state is read; redrawn after each payment recorded.
 * @param {{ number: string, account: { kind: string, id: string }, currency: string }} inv
 */
export function paymentCard(inv) {
  const card = h('section.card.payment', { dataset: { invoice: inv.number } }, h('h2', t('payment.title')));
  const state = h('div.state', { role: 'status' });
  const list = h('div.payments');
  const messages = h('div', { 'aria-live': 'polite' });
  const money = (/** @type {number} */ cents) => formatMoney(cents, inv.currency);
  const draw = async () => {
    /** @type {[InvoiceStatusList, PaymentList]} */
    const [statuses, payments] = await Promise.all([
      get(`/billing/invoices/status?account=${encodeURIComponent(`${inv.account.kind}:${inv.account.id}`)}`),
      get(`/billing/payments?invoice=${encodeURIComponent(inv.number)}`),
    ]);
    const s = statuses.invoices.find((x) => x.number === inv.number);
    if (!s) {
      fill(state, h('p.muted', t('payment.unknown')));
      return;
    }
    card.dataset.status = s.status;
    fill(
      state,
      h(
        'p',
        h('strong.status', { dataset: { status: s.status } }, stateWords(s)),
        ' · ',
        h(
          'span.due',
          { dataset: { cents: String(s.dueCents) } },
          t('payment.due', { a: money(Math.max(0, s.dueCents)) }),
        ),
      ),
      h(
        'p.muted',
        [
          t('payment.dueDate', { d: formatLocalDate(s.dueDate) }),
          t('payment.paid', { a: money(s.paidCents) }),
          s.creditedCents ? t('payment.credited', { a: money(s.creditedCents) }) : null,
          s.dueCents < 0 ? t('payment.overpaid', { a: money(-s.dueCents) }) : null,
        ]
          .filter(Boolean)
          .join(' · '),
      ),
    );
    fill(list, payments.payments.length ? paymentTable(payments.payments, money) : null);
  };
  const form = paymentForm(inv, messages, () => draw());
  card.append(state, list, form, messages);
  draw().catch((/** @type {Failure} */ err) => fill(state, failure(err)));
  return card;
}

/**
 * @param {Payment[]} payments
 * @param {(cents: number) => string} money
 */
const paymentTable = (payments, money) =>
  h(
    'div.scroll',
    h(
      'table.list',
      h('caption.visually-hidden', t('payment.recorded')),
      h(
        'thead',
        h(
          'tr',
          h('th', { scope: 'col' }, t('payment.date')),
          h('th.num', { scope: 'col' }, t('payment.amount')),
          h('th', { scope: 'col' }, t('payment.method')),
          h('th', { scope: 'col' }, t('payment.reference')),
        ),
      ),
      h(
        'tbody',
        payments.map((p) =>
          h(
            'tr',
            { dataset: { payment: p.id } },
            h('td', formatLocalDate(p.date)),
            h('td.num', money(p.amountCents)),
            h('td', t(`payment.method.${p.method}`)),
            h('td', p.reference || '–'),
          ),
        ),
      ),
    ),
  );

/**
 * The form that records a payment received by hand (POST /billing/payments), its errors in words.
 * @param {{ number: string }} inv
 * @param {HTMLElement} messages
 * @param {() => Promise<void>} recorded
 */
function paymentForm(inv, messages, recorded) {
  const today = parisToday();
  const labels = {
    amountCents: t('payment.amount'),
    date: t('payment.date'),
    method: t('payment.method'),
    reference: t('payment.reference'),
  };
  /** @param {SubmitEvent} e */
  const onsubmit = async (e) => {
    e.preventDefault();
    const form = /** @type {HTMLFormElement} */ (e.target);
    const data = new FormData(form);
    const amount = String(data.get('amount'));
    const amountCents = centsOf(amount);
    if (amountCents === undefined) {
      fill(messages, h('p.error', t('payment.badAmount', { a: amount })));
      return;
    }
    try {
      await post('/billing/payments', {
        invoice: inv.number,
        amountCents,
        date: String(data.get('date')),
        method: String(data.get('method')),
        reference: String(data.get('reference')).trim(),
      });
      form.reset();
      fill(messages);
      toast(t('payment.done'));
      await recorded();
    } catch (err) {
      fill(messages, errorWords(/** @type {Failure} */ (err), labels, t('payment.refused')));
    }
  };
  return h(
    'form.inline.record-payment',
    { onsubmit, 'aria-labelledby': `record-${inv.number}` },
    h('h3', { id: `record-${inv.number}` }, t('payment.record')),
    h(
      'label',
      labels.amountCents,
      h('input', { name: 'amount', required: true, inputMode: 'decimal', autocomplete: 'off' }),
    ),
    h('label', labels.date, h('input', { name: 'date', type: 'date', required: true, value: today })),
    h(
      'label',
      labels.method,
      h(
        'select',
        { name: 'method' },
        METHODS.map((m) => h('option', { value: m }, t(`payment.method.${m}`))),
      ),
    ),
    h('label', labels.reference, h('input', { name: 'reference', maxLength: 200, autocomplete: 'off' })),
    h('button', { type: 'submit' }, t('payment.submit')),
  );
}
