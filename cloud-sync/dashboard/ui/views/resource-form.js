import { put } from '../api.js';
import { fill, h, toast } from '../dom.js';
import { t } from '../i18n.js';

/**
 * The form that declares or replaces a resource (PUT /resources/:id): its site, kind, name,
 * size or capacity, a room's reader, its bookable hours (one weekly window), the plans that
 * may book it, its prices, and its cancellation and no-show rules.
 * @typedef {import('../api.js').Failure} Failure
 * @typedef {import('./bookable.js').Resource} Resource
 * @typedef {{ sites: Array<{ id: string, name: string }>, saved: () => Promise<void>, report: (err: Failure) => void }} FormPage
 */

const DAYS = /** @type {const} */ (['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
/** A new resource is bookable on weekdays until told otherwise. */
const WEEKEND = ['sat', 'sun'];

/** @param {string} text a price as typed, "12,50" or "12.50"; empty: none */
const cents = (text) => (text.trim() === '' ? undefined : Math.round(Number(text.replace(',', '.')) * 100));
/** @param {number | undefined} c */
const units = (c) => (c === undefined ? '' : (c / 100).toFixed(2));
/** @param {string} text */
const whole = (text) => (text.trim() === '' ? undefined : Number(text));

/**
 * @param {string} label
 * @param {string} name
 * @param {Record<string, unknown>} [props]
 */
const field = (label, name, props = {}) => h('label', label, h('input', { name, ...props }));

/**
 * The form, empty or filled with `resource` to edit it.
 * @param {FormPage} page
 * @param {Resource} [resource]
 */
export function resourceForm(page, resource) {
  const r = resource;
  const window = r?.hours[0];
  const kind = h(
    'select',
    { name: 'kind', required: true },
    ['room', 'desk-pool', 'desk'].map((k) =>
      h('option', { value: k, selected: r?.kind === k }, t(`resource.kind.${k}`)),
    ),
  );
  const days = h(
    'fieldset.days',
    h('legend', t('resource.days')),
    DAYS.map((d) =>
      h(
        'label.check',
        h('input', {
          type: 'checkbox',
          name: 'days',
          value: d,
          checked: window ? window.days.includes(d) : !WEEKEND.includes(d),
        }),
        t(`day.${d}`),
      ),
    ),
  );
  /** @param {SubmitEvent} e */
  const onsubmit = async (e) => {
    e.preventDefault();
    const form = /** @type {HTMLFormElement} */ (e.target);
    const data = new FormData(form);
    const id = String(data.get('id'));
    try {
      await put(`/resources/${encodeURIComponent(id)}`, resourceBody(data));
      toast(t('resource.saved', { name: String(data.get('name')) }));
      form.reset();
      await page.saved();
    } catch (err) {
      page.report(/** @type {Failure} */ (err));
    }
  };
  return h(
    'form.card.inline.resource-form',
    { onsubmit },
    h('h2', r ? t('resource.edit', { name: r.name }) : t('resource.add')),
    field(t('resource.id'), 'id', {
      required: true,
      value: r?.id ?? '',
      readOnly: Boolean(r),
      pattern: '[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}',
    }),
    h(
      'label',
      t('resource.site'),
      h(
        'select',
        { name: 'site', required: true },
        page.sites.map((s) => h('option', { value: s.id, selected: r?.site === s.id }, s.name)),
      ),
    ),
    h('label', t('resource.kindLabel'), kind),
    field(t('resource.name'), 'name', { required: true, value: r?.name ?? '' }),
    field(t('resource.size'), 'size', { type: 'number', min: 1, value: r?.size ?? '', inputMode: 'numeric' }),
    field(t('resource.capacity'), 'capacity', { type: 'number', min: 1, value: r?.capacity ?? '' }),
    field(t('resource.reader'), 'reader', { value: r?.reader ?? '' }),
    days,
    h(
      'div.row.times',
      field(t('book.from'), 'from', { type: 'time', required: true, value: window?.from ?? '08:00' }),
      field(t('book.to'), 'to', { type: 'time', required: true, value: window?.to ?? '19:00' }),
    ),
    field(t('resource.plans'), 'plans', { value: r && r.plans !== 'all' ? r.plans.join(', ') : '' }),
    field(t('resource.hourPrice'), 'hourCents', { inputMode: 'decimal', value: units(r?.prices?.hourCents) }),
    field(t('resource.halfDayPrice'), 'halfDayCents', { inputMode: 'decimal', value: units(r?.prices?.halfDayCents) }),
    field(t('resource.dayPrice'), 'dayCents', { inputMode: 'decimal', value: units(r?.prices?.dayCents) }),
    field(t('resource.freeCancellation'), 'freeCancellationHours', {
      type: 'number',
      min: 0,
      value: r?.freeCancellationHours ?? 24,
    }),
    field(t('resource.noShow'), 'noShowMinutes', { type: 'number', min: 5, value: r?.noShowMinutes ?? 15 }),
    h('p.muted', t('resource.hint')),
    h('button', { type: 'submit' }, t('members.save')),
  );
}

/**
 * The PUT body from the form: what is left empty is left out, as the schema's defaults apply.
 * @param {FormData} data
 */
function resourceBody(data) {
  const text = (/** @type {string} */ name) => String(data.get(name) ?? '').trim();
  const plans = text('plans')
    .split(/[\s,]+/)
    .filter(Boolean);
  const prices = {
    hourCents: cents(text('hourCents')),
    halfDayCents: cents(text('halfDayCents')),
    dayCents: cents(text('dayCents')),
  };
  const kind = text('kind');
  return {
    site: text('site'),
    kind,
    name: text('name'),
    size: kind === 'desk-pool' ? whole(text('size')) : undefined,
    capacity: kind === 'room' ? whole(text('capacity')) : undefined,
    reader: kind === 'room' && text('reader') ? text('reader') : undefined,
    hours: [{ days: data.getAll('days').map(String), from: text('from'), to: text('to') }],
    plans: plans.length ? plans : 'all',
    prices: Object.values(prices).some((p) => p !== undefined) ? prices : undefined,
    freeCancellationHours: whole(text('freeCancellationHours')),
    noShowMinutes: whole(text('noShowMinutes')),
  };
}

/**
 * Puts the form, empty or for `resource`, in `holder`.
 * @param {HTMLElement} holder
 * @param {FormPage} page
 * @param {Resource} [resource]
 */
export function showForm(holder, page, resource) {
  fill(holder, resourceForm(page, resource));
  // Editing: the form comes into view with the cursor in it; an empty one stays where it is.
  if (resource) /** @type {HTMLInputElement | null} */ (holder.querySelector('input[name="name"]'))?.focus();
}
