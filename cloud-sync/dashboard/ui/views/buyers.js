import { get, put, remove } from '../api.js';
import { fill, h, toast } from '../dom.js';
import { t } from '../i18n.js';
import { failure } from './billing.js';
import { ask } from './confirm.js';
import { errorWords } from './payments.js';
import { addressAndTermsLabels } from './seller.js';

/**
 * The buyers: who each billed account's invoices are addressed to (GET /billing/buyers, PUT and
 * DELETE /billing/buyers/:account). An invoice is frozen with its buyer as it was at the close.
 * @typedef {import('../../../../shared/protocol/api/hub-billing.js').Buyer} Buyer
 * @typedef {import('../../../../shared/protocol/api/hub-billing.js').BuyerList} BuyerList
 * @typedef {import('../../../../shared/protocol/api/hub-billing.js').BuyerEntry} BuyerEntry
 * @typedef {import('../api.js').Failure} Failure
 */

/** The optional text fields, by the buyer's key. */
const OPTIONAL = /** @type {const} */ (['siren', 'siret', 'vatNumber', 'email', 'reference']);

/**
 * @param {HTMLElement} view
 */
export function renderBuyers(view) {
  let closed = false;
  const list = h('div', h('p.muted', '…'));
  const holder = h('div');
  const panel = h('div');
  const draw = async () => {
    /** @type {BuyerList} */
    const { buyers } = await get('/billing/buyers');
    if (closed) return;
    fill(list, buyers.length ? buyerTable(buyers, { edit, drop }) : h('p.muted', t('buyers.none')));
  };
  /** @param {BuyerEntry} [entry] */
  const edit = (entry) => {
    fill(
      holder,
      buyerForm(entry, async () => {
        await draw();
        edit();
      }),
    );
    holder.querySelector('input')?.focus();
  };
  /** @param {BuyerEntry} entry */
  const drop = (entry) =>
    ask(panel, {
      title: t('buyers.delete'),
      message: t('buyers.confirmDelete', { name: entry.buyer.name, a: entry.account }),
      yes: t('buyers.delete'),
      onYes: async () => {
        try {
          await remove(`/billing/buyers/${encodeURIComponent(entry.account)}`);
          toast(t('buyers.deleted', { name: entry.buyer.name }));
          await draw();
        } catch (err) {
          toast(t('error.generic', { m: /** @type {Failure} */ (err).message }), 'error');
        }
      },
    });
  fill(
    view,
    h(
      'section.card',
      h('p', h('a', { href: '#/billing' }, t('billing.back'))),
      h('h1', t('buyers.title')),
      h('p.muted', t('buyers.explain')),
      panel,
      list,
    ),
    holder,
  );
  edit();
  draw().catch((/** @type {Failure} */ err) => fill(list, failure(err)));
  return () => {
    closed = true;
  };
}

/**
 * @param {BuyerEntry[]} buyers
 * @param {{ edit: (e: BuyerEntry) => void, drop: (e: BuyerEntry) => void }} act
 */
const buyerTable = (buyers, act) =>
  h(
    'div.scroll',
    h(
      'table.list.buyers',
      h(
        'thead',
        h(
          'tr',
          [t('buyers.account'), t('buyers.name'), t('buyers.kind'), t('seller.siren'), t('seller.city')].map((x) =>
            h('th', { scope: 'col' }, x),
          ),
          h('th', { scope: 'col' }, h('span.visually-hidden', t('members.actions'))),
        ),
      ),
      h(
        'tbody',
        buyers.map((e) =>
          h(
            'tr',
            { dataset: { account: e.account } },
            h('th', { scope: 'row' }, h('code', e.account)),
            h('td', e.buyer.name),
            h('td', t(`buyers.kind.${e.buyer.kind}`)),
            h('td', e.buyer.siren ?? '–'),
            h('td', e.buyer.address.city),
            h(
              'td',
              h(
                'button.link',
                {
                  type: 'button',
                  'aria-label': t('buyers.editOf', { name: e.buyer.name }),
                  onclick: () => act.edit(e),
                },
                t('buyers.edit'),
              ),
              ' ',
              h(
                'button.link',
                {
                  type: 'button',
                  'aria-label': t('buyers.deleteOf', { name: e.buyer.name }),
                  onclick: () => act.drop(e),
                },
                t('buyers.delete'),
              ),
            ),
          ),
        ),
      ),
    ),
  );

/**
 * The form that sets an account's buyer (PUT /billing/buyers/:account), empty or filled to edit.
 * @param {BuyerEntry | undefined} entry
 * @param {() => Promise<void>} saved
 */
function buyerForm(entry, saved) {
  const b = entry?.buyer;
  const messages = h('div', { 'aria-live': 'polite' });
  const labels = {
    account: t('buyers.account'),
    kind: t('buyers.kind'),
    name: t('buyers.name'),
    siren: t('seller.siren'),
    siret: t('seller.siret'),
    vatNumber: t('seller.vatNumber'),
    email: t('seller.email'),
    reference: t('buyers.reference'),
    ...addressAndTermsLabels(),
    language: t('buyers.language'),
  };
  /** @param {string} name @param {string} label @param {Record<string, unknown>} [props] */
  const input = (name, label, props = {}) => h('label', label, h('input', { name, autocomplete: 'off', ...props }));
  /** @param {SubmitEvent} e */
  const onsubmit = async (e) => {
    e.preventDefault();
    const data = new FormData(/** @type {HTMLFormElement} */ (e.target));
    const value = (/** @type {string} */ key) => String(data.get(key) ?? '').trim();
    const account = value('account');
    /** @type {Record<string, unknown>} */
    const body = {
      kind: value('kind'),
      name: value('name'),
      address: {
        lines: [value('line1'), value('line2')].filter((l) => l !== ''),
        postcode: value('postcode'),
        city: value('city'),
        country: value('country').toUpperCase(),
      },
      language: value('language'),
    };
    for (const key of OPTIONAL) if (value(key) !== '') body[key] = value(key);
    if (value('paymentTermsDays') !== '') body.paymentTermsDays = Number(value('paymentTermsDays'));
    try {
      await put(`/billing/buyers/${encodeURIComponent(account)}`, body);
      toast(t('buyers.saved', { name: String(body.name) }));
      await saved();
    } catch (err) {
      fill(messages, errorWords(/** @type {Failure} */ (err), labels, t('buyers.refused')));
    }
  };
  return h(
    'form.card.buyer-form',
    { onsubmit, 'aria-labelledby': 'buyer-form-title' },
    h('h2', { id: 'buyer-form-title' }, entry ? t('buyers.editOf', { name: b?.name ?? '' }) : t('buyers.add')),
    h(
      'div.forms',
      input('account', labels.account, {
        required: true,
        value: entry?.account ?? '',
        readOnly: entry !== undefined,
        placeholder: 'employer:acme',
        pattern: '(employer|member):[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}',
      }),
      h(
        'label',
        labels.kind,
        h(
          'select',
          { name: 'kind' },
          ['business', 'consumer'].map((k) =>
            h('option', { value: k, selected: b?.kind === k }, t(`buyers.kind.${k}`)),
          ),
        ),
      ),
      input('name', labels.name, { required: true, value: b?.name ?? '' }),
      input('siren', labels.siren, { inputMode: 'numeric', value: b?.siren ?? '' }),
      input('siret', labels.siret, { inputMode: 'numeric', value: b?.siret ?? '' }),
      input('vatNumber', labels.vatNumber, { value: b?.vatNumber ?? '' }),
      input('line1', `${labels.address} (1)`, { required: true, value: b?.address.lines[0] ?? '' }),
      input('line2', `${labels.address} (2)`, { value: b?.address.lines[1] ?? '' }),
      input('postcode', labels['address.postcode'], { required: true, value: b?.address.postcode ?? '' }),
      input('city', labels['address.city'], { required: true, value: b?.address.city ?? '' }),
      input('country', labels['address.country'], { required: true, maxLength: 2, value: b?.address.country ?? 'FR' }),
      input('email', labels.email, { type: 'email', value: b?.email ?? '' }),
      input('reference', labels.reference, { value: b?.reference ?? '' }),
      input('paymentTermsDays', labels.paymentTermsDays, {
        type: 'number',
        min: '0',
        max: '60',
        value: b?.paymentTermsDays === undefined ? '' : String(b.paymentTermsDays),
      }),
      h(
        'label',
        labels.language,
        h(
          'select',
          { name: 'language' },
          ['fr', 'en'].map((l) =>
            h('option', { value: l, selected: (b?.language ?? 'fr') === l }, t(`buyers.lang.${l}`)),
          ),
        ),
      ),
    ),
    messages,
    h('button', { type: 'submit' }, t('buyers.save')),
  );
}
