import { get, put } from '../api.js';
import { fill, h, toast } from '../dom.js';
import { t } from '../i18n.js';
import { failure } from './billing.js';
import { errorWords } from './payments.js';

/**
 * The network's operator as seller on every invoice and credit note (GET and PUT /billing/seller):
 * its identity, SIREN, SIRET and VAT number (the hub checks their keys and that they agree), its
 * address, bank details and terms. The API's refusals show by field, in words.
 * @typedef {import('../../../../shared/protocol/api/hub-billing.js').Seller} Seller
 * @typedef {import('../api.js').Failure} Failure
 */

/** The text fields, by the seller's key: the label's message, whether required, the input's extras. */
const TEXT = /** @type {const} */ ([
  ['name', true, {}],
  ['legalForm', true, {}],
  ['shareCapital', false, {}],
  ['siren', true, { inputMode: 'numeric' }],
  ['siret', true, { inputMode: 'numeric' }],
  ['vatNumber', false, {}],
  ['vatExemption', false, {}],
  ['rcs', false, {}],
  ['email', false, { type: 'email' }],
  ['phone', false, { type: 'tel' }],
  ['iban', false, {}],
  ['bic', false, {}],
]);

/**
 * The labels of a party's address and payment terms by the path the API names them with in its
 * refusals: the seller's form and the buyers' share them.
 */
export function addressAndTermsLabels() {
  return {
    address: t('seller.address'),
    'address.lines': t('seller.address'),
    'address.postcode': t('seller.postcode'),
    'address.city': t('seller.city'),
    'address.country': t('seller.country'),
    paymentTermsDays: t('seller.paymentTermsDays'),
  };
}

/**
 * @param {HTMLElement} view
 */
export function renderSeller(view) {
  let closed = false;
  const head = h(
    'section.card',
    h('p', h('a', { href: '#/billing' }, t('billing.back'))),
    h('h1', t('seller.title')),
    h('p.muted', t('seller.explain')),
  );
  const holder = h('div');
  fill(view, head, holder);
  /** @type {Promise<Seller | null>} */ (
    get('/billing/seller').catch((/** @type {Failure} */ err) => {
      if (err.status === 404) return null;
      throw err;
    })
  )
    .then((seller) => {
      if (closed) return;
      if (seller === null) head.append(h('p.warning.no-seller', t('seller.none')));
      fill(holder, sellerForm(seller));
    })
    .catch((/** @type {Failure} */ err) => head.append(failure(err)));
  return () => {
    closed = true;
  };
}

/**
 * @param {Seller | null} seller
 */
function sellerForm(seller) {
  const messages = h('div', { 'aria-live': 'polite' });
  /** @type {Record<string, string>} */
  const labels = {
    ...Object.fromEntries(TEXT.map(([key]) => [key, t(`seller.${key}`)])),
    ...addressAndTermsLabels(),
    latePenaltyPercent: t('seller.latePenaltyPercent'),
  };
  /** @param {string} key @param {boolean} required @param {Record<string, unknown>} [extra] */
  const text = (key, required, extra = {}) =>
    h(
      'label',
      labels[key],
      h('input', {
        name: key,
        required,
        autocomplete: 'off',
        value: String(/** @type {Record<string, unknown>} */ (seller ?? {})[key] ?? ''),
        ...extra,
      }),
    );
  const lines = seller?.address.lines ?? [];
  /** @param {SubmitEvent} e */
  const onsubmit = async (e) => {
    e.preventDefault();
    const data = new FormData(/** @type {HTMLFormElement} */ (e.target));
    const value = (/** @type {string} */ key) => String(data.get(key) ?? '').trim();
    /** @type {Record<string, unknown>} */
    const body = {};
    for (const [key] of TEXT) if (value(key) !== '') body[key] = value(key);
    body.address = {
      lines: [value('line1'), value('line2'), value('line3')].filter((l) => l !== ''),
      postcode: value('postcode'),
      city: value('city'),
      country: value('country').toUpperCase(),
    };
    body.paymentTermsDays = Number(value('paymentTermsDays'));
    body.latePenaltyPercent = Number(value('latePenaltyPercent').replace(',', '.'));
    try {
      await put('/billing/seller', body);
      fill(messages);
      document.querySelector('.no-seller')?.remove();
      toast(t('seller.saved'));
    } catch (err) {
      fill(messages, errorWords(/** @type {Failure} */ (err), labels, t('seller.refused')));
    }
  };
  return h(
    'form.card.seller-form',
    { onsubmit, 'aria-labelledby': 'seller-form-title' },
    h('h2', { id: 'seller-form-title' }, t('seller.identity')),
    h(
      'div.forms',
      TEXT.map(([key, required, extra]) => text(key, required, extra)),
      h('label', `${labels.address} (1)`, h('input', { name: 'line1', required: true, value: lines[0] ?? '' })),
      h('label', `${labels.address} (2)`, h('input', { name: 'line2', value: lines[1] ?? '' })),
      h('label', `${labels.address} (3)`, h('input', { name: 'line3', value: lines[2] ?? '' })),
      h(
        'label',
        labels['address.postcode'],
        h('input', { name: 'postcode', required: true, value: seller?.address.postcode ?? '' }),
      ),
      h(
        'label',
        labels['address.city'],
        h('input', { name: 'city', required: true, value: seller?.address.city ?? '' }),
      ),
      h(
        'label',
        labels['address.country'],
        h('input', { name: 'country', required: true, maxLength: 2, value: seller?.address.country ?? 'FR' }),
      ),
      h(
        'label',
        labels.paymentTermsDays,
        h('input', {
          name: 'paymentTermsDays',
          type: 'number',
          min: '0',
          max: '60',
          required: true,
          value: String(seller?.paymentTermsDays ?? 30),
        }),
      ),
      h(
        'label',
        labels.latePenaltyPercent,
        h('input', {
          name: 'latePenaltyPercent',
          inputMode: 'decimal',
          required: true,
          value: seller ? String(seller.latePenaltyPercent) : '',
        }),
      ),
    ),
    messages,
    h('button', { type: 'submit' }, t('seller.save')),
  );
}
