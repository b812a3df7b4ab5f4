import { get, patch, post } from '../api.js';
import { fill, h, toast } from '../dom.js';
import { formatDateTime, t } from '../i18n.js';
import { bookingLine, lateIfCancelledNow, loadBookable, statusText, wallClock } from './bookable.js';
import { failure } from './billing.js';
import { ask } from './confirm.js';

/**
 * @typedef {import('../api.js').Failure} Failure
 * @typedef {import('./bookable.js').Bookable} Bookable
 * @typedef {import('./bookable.js').BookingRecord} BookingRecord
 * @typedef {import('./bookable.js').BookingList} BookingList
 * @typedef {{ item: BookingRecord }} BookingItem POST /bookings/:id/cancel, PATCH /bookings/:id
 * @typedef {{ title: string, names?: Promise<Map<string, string>> | undefined }} ListOptions `names`: the holders', shown when given
 * @typedef {{ bookable: Bookable, panel: HTMLElement, redraw: () => Promise<void>, names?: Map<string, string> | undefined }} ListPage
 */

/**
 * The bookings to come that this account sees (GET /bookings: a member's own, a manager's
 * staff's), each of which it may move or cancel; cancelling within the resource's
 * free-cancellation hours says first that it will be billed.
 * @param {HTMLElement} view
 * @param {ListOptions} options
 */
export function renderBookingList(view, options) {
  let closed = false;
  const panel = h('div');
  const list = h('ul.bookings');
  fill(view, h('section.card', h('h1', options.title), panel, list));
  /** @type {Promise<Bookable>} */
  const bookable = loadBookable();
  // Its failure shows in the list, through redraw.
  bookable.catch(() => {});
  const redraw = async () => {
    /** @type {[BookingList, Bookable, Map<string, string> | undefined]} */
    const [bookings, known, names] = await Promise.all([get('/bookings'), bookable, options.names]);
    if (closed) return;
    const page = { bookable: known, panel, redraw, names };
    const items = bookings.items.filter((b) => b.status === 'confirmed');
    fill(list, items.length ? items.map((b) => bookingItem(b, page)) : h('li.muted', t('bookings.none')));
  };
  redraw().catch((/** @type {Failure} */ err) => fill(list, h('li', failure(err))));
  return () => {
    closed = true;
  };
}

/** @param {HTMLElement} view */
export const renderMyBookings = (view) => renderBookingList(view, { title: t('bookings.title') });

/**
 * @param {BookingRecord} b
 * @param {ListPage} page
 */
function bookingItem(b, page) {
  const mover = h('div.move');
  const resource = page.bookable.resources.get(b.resource);
  const name = resource?.name ?? b.resource;
  const cancel = () => {
    const late = lateIfCancelledNow(b, resource);
    const until = Date.parse(b.start) - (resource?.freeCancellationHours ?? 24) * 3_600_000;
    ask(page.panel, {
      title: t('bookings.cancel'),
      message: t('bookings.cancelConfirm', { name }),
      warning: late
        ? t('bookings.lateWarning', { h: resource?.freeCancellationHours ?? 24 })
        : t('bookings.freeUntil', { at: formatDateTime(until, page.bookable.sites.get(b.site)?.timeZone) }),
      yes: t('bookings.cancelYes'),
      onYes: () =>
        send(
          () => post(`/bookings/${encodeURIComponent(b.id)}/cancel`),
          (/** @type {BookingItem} */ r) =>
            r.item.lateCancellation ? t('bookings.cancelledLate') : t('bookings.cancelled'),
          page,
        ),
    });
  };
  const holder = page.names ? h('span.holder', page.names.get(b.member) ?? b.member) : null;
  return h(
    'li.booking',
    { dataset: { booking: b.id, resource: b.resource } },
    holder,
    h('p', bookingLine(b, page.bookable), ' ', h('span.muted', statusText(b.status))),
    h(
      'div.row',
      h(
        'button.link',
        { type: 'button', 'aria-label': t('bookings.moveThis', { name }), onclick: () => moveForm(mover, b, page) },
        t('bookings.move'),
      ),
      h(
        'button.danger',
        { type: 'button', 'aria-label': t('bookings.cancelThis', { name }), onclick: cancel },
        t('bookings.cancel'),
      ),
    ),
    mover,
  );
}

/**
 * The move form, under its booking: the same fields as booking, filled with its current times.
 * @param {HTMLElement} mover
 * @param {BookingRecord} b
 * @param {ListPage} page
 */
function moveForm(mover, b, page) {
  const zone = page.bookable.sites.get(b.site)?.timeZone ?? 'UTC';
  const start = wallClock(b.start, zone);
  const end = wallClock(b.end, zone);
  const date = h('input', { type: 'date', name: 'date', required: true, value: start.date });
  const from = h('input', { type: 'time', name: 'from', required: true, value: start.time, step: 900 });
  const to = h('input', { type: 'time', name: 'to', required: true, value: end.time, step: 900 });
  /** @param {SubmitEvent} e */
  const onsubmit = async (e) => {
    e.preventDefault();
    const when = { date: date.value, from: from.value, to: to.value };
    await send(
      () => patch(`/bookings/${encodeURIComponent(b.id)}`, when),
      () => t('bookings.moved'),
      page,
    );
  };
  fill(
    mover,
    h(
      'form.inline',
      { onsubmit },
      h('label', t('book.date'), date),
      h('div.row.times', h('label', t('book.from'), from), h('label', t('book.to'), to)),
      h(
        'div.row',
        h('button', { type: 'submit' }, t('bookings.moveSave')),
        h('button.link', { type: 'button', onclick: () => fill(mover) }, t('confirm.no')),
      ),
    ),
  );
  date.focus();
}

/**
 * @param {() => Promise<BookingItem>} call
 * @param {(answer: BookingItem) => string} done what to say once it is done
 * @param {ListPage} page
 */
async function send(call, done, page) {
  try {
    toast(done(await call()));
    await page.redraw();
  } catch (err) {
    const e = /** @type {Failure} */ (err);
    toast(e.code === 'conflict' ? t('bookings.conflict') : t('error.generic', { m: e.message }), 'error');
  }
}
