import { get, post } from '../api.js';
import { fill, h, toast } from '../dom.js';
import { formatNumber, t } from '../i18n.js';
import { loadBookable, today } from './bookable.js';
import { failure } from './billing.js';

/**
 * @typedef {import('../api.js').Failure} Failure
 * @typedef {import('./bookable.js').Bookable} Bookable
 * @typedef {import('./bookable.js').Availability} Availability
 * @typedef {import('./bookable.js').SiteAvailability} SiteAvailability
 * @typedef {import('../../../../shared/protocol/api/hub-bookings.js').NewBooking} NewBooking
 * @typedef {{ date: string, from: string, to: string }} When a window of a site-local day
 */

/** The next whole hour and the one after, as a default window. */
function nextHour() {
  const hour = Math.min(new Date().getHours() + 1, 22);
  const hh = (/** @type {number} */ n) => `${String(n).padStart(2, '0')}:00`;
  return { from: hh(hour), to: hh(hour + 1) };
}

/**
 * Book (a member, for themselves): a date and a window, then each site's free desks and rooms
 * for it across the network (GET /availability), and a button per room or desk that books it.
 * @param {HTMLElement} view
 */
export function renderBook(view) {
  let closed = false;
  const { from, to } = nextHour();
  const date = h('input', { type: 'date', name: 'date', required: true, value: today(), min: today() });
  const start = h('input', { type: 'time', name: 'from', required: true, value: from, step: 900 });
  const end = h('input', { type: 'time', name: 'to', required: true, value: to, step: 900 });
  const results = h('div.availability', { 'aria-live': 'polite' });
  /** @type {Promise<Bookable>} */
  const bookable = loadBookable();
  // Its failure shows when the availability is asked for, not before.
  bookable.catch(() => {});
  const search = async () => {
    const when = { date: date.value, from: start.value, to: end.value };
    const query = Object.entries(when)
      .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
      .join('&');
    /** @type {[Availability, Bookable]} */
    const [availability, known] = await Promise.all([get(`/availability?${query}`), bookable]);
    if (closed) return;
    const sites = availability.sites.filter((s) => s.freeDesks > 0 || s.freeRooms.length > 0);
    fill(
      results,
      h('h2', t('book.results')),
      sites.length === 0 ? h('p.muted', t('book.nothing')) : sites.map((s) => siteCard(s, when, known, search)),
    );
  };
  /** @param {SubmitEvent} e */
  const onsubmit = (e) => {
    e.preventDefault();
    search().catch((/** @type {Failure} */ err) => fill(results, failure(err)));
  };
  fill(
    view,
    h(
      'form.card.inline.when',
      { onsubmit },
      h('h1', t('book.title')),
      h('label', t('book.date'), date),
      h('div.row.times', h('label', t('book.from'), start), h('label', t('book.to'), end)),
      h('button', { type: 'submit' }, t('book.search')),
    ),
    results,
  );
  return () => {
    closed = true;
  };
}

/**
 * One site's free rooms and desks for the window, each with its button.
 * @param {SiteAvailability} s
 * @param {When} when
 * @param {Bookable} known
 * @param {() => Promise<void>} again redraws the availability once booked
 */
function siteCard(s, when, known, again) {
  const desks = [...known.resources.values()].filter((r) => r.site === s.site && r.kind !== 'room');
  /**
   * @param {string} resource
   * @param {string} name
   */
  const book = (resource, name) =>
    h(
      'button',
      {
        type: 'button',
        dataset: { resource },
        'aria-label': t('book.bookThis', { name, site: s.name }),
        onclick: () => bookIt({ resource, ...when }, name, again),
      },
      t('book.book'),
    );
  return h(
    'section.card.site-availability',
    { dataset: { site: s.site } },
    h('h3', s.name),
    h('p.muted', t('book.present', { n: formatNumber(s.occupancy.present) })),
    s.freeRooms.length
      ? h(
          'ul.people',
          s.freeRooms.map((r) =>
            h('li.row', h('span', h('strong', r.name), ' ', t('book.seats', { n: r.capacity })), book(r.id, r.name)),
          ),
        )
      : null,
    s.freeDesks > 0
      ? h(
          'ul.people',
          h('li.muted', t('book.freeDesks', { n: formatNumber(s.freeDesks) })),
          desks.map((r) => h('li.row', h('strong', r.name), book(r.id, r.name))),
        )
      : null,
  );
}

/**
 * @param {NewBooking} booking
 * @param {string} name
 * @param {() => Promise<void>} again
 */
async function bookIt(booking, name, again) {
  try {
    // No `member`: a member's booking is their own, the hub takes it from the session.
    await post('/bookings', booking);
    toast(t('book.done', { name }));
    await again();
  } catch (err) {
    const e = /** @type {Failure} */ (err);
    toast(e.code === 'conflict' ? t('book.taken', { name }) : t('error.generic', { m: e.message }), 'error');
  }
}
