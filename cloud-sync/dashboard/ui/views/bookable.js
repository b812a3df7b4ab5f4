import { get } from '../api.js';
import { h } from '../dom.js';
import { formatDay, formatHour, t } from '../i18n.js';

/**
 * What the booking pages share: the network's sites (names, time zones) and resources as this
 * account may see them, and a booking's times in its site's own wall-clock time.
 * @typedef {import('../../../../shared/protocol/bookings.js').Resource} Resource
 * @typedef {import('../../../../shared/protocol/api/hub-bookings.js').BookingRecord} BookingRecord
 * @typedef {import('../../../../shared/protocol/api/hub-bookings.js').Availability} Availability GET /availability
 * @typedef {import('../../../../shared/protocol/api/hub-bookings.js').SiteAvailability} SiteAvailability
 * @typedef {{ items: Resource[] }} ResourceList GET /resources
 * @typedef {{ items: BookingRecord[] }} BookingList GET /bookings
 * @typedef {{ name: string, timeZone: string }} SiteInfo
 * @typedef {{ sites: Map<string, SiteInfo>, resources: Map<string, Resource> }} Bookable
 */

/** Today in the browser's calendar, `YYYY-MM-DD` (the sites of a network share their day, near enough for a default). */
export const today = () => wallClock(new Date().toISOString(), Intl.DateTimeFormat().resolvedOptions().timeZone).date;

/**
 * An instant as a site's wall clock reads it: its date `YYYY-MM-DD` and time `HH:MM`.
 * @param {string} instant ISO 8601
 * @param {string} timeZone
 */
export function wallClock(instant, timeZone) {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(instant));
  /** @param {Intl.DateTimeFormatPartTypes} type */
  const part = (type) => parts.find((p) => p.type === type)?.value ?? '';
  return { date: `${part('year')}-${part('month')}-${part('day')}`, time: `${part('hour')}:${part('minute')}` };
}

/**
 * The sites and resources this account sees. The sites' names and zones come from the
 * availability of today, which every role may ask for.
 * @returns {Promise<Bookable>}
 */
export async function loadBookable() {
  /** @type {[Availability, ResourceList]} */
  const [availability, resources] = await Promise.all([
    get(`/availability?date=${today()}&from=00:00&to=24:00`),
    get('/resources'),
  ]);
  return {
    sites: new Map(availability.sites.map((s) => [s.site, { name: s.name, timeZone: s.timeZone }])),
    resources: new Map(resources.items.map((r) => [r.id, r])),
  };
}

/**
 * A booking in words: its day, hours, resource and site, in the site's time zone.
 * @param {BookingRecord} b
 * @param {Bookable} bookable
 */
export function bookingLine(b, bookable) {
  const site = bookable.sites.get(b.site);
  const zone = site?.timeZone;
  return [
    h('strong', formatDay(b.start, zone)),
    ' ',
    h('span', `${formatHour(b.start, zone)}–${formatHour(b.end, zone)}`),
    h('br'),
    bookable.resources.get(b.resource)?.name ?? b.resource,
    ' · ',
    site?.name ?? b.site,
  ];
}

/**
 * Whether cancelling now is late (billed): within the resource's free-cancellation hours before the start.
 * @param {BookingRecord} b
 * @param {Resource | undefined} resource
 */
export const lateIfCancelledNow = (b, resource) =>
  Date.now() > Date.parse(b.start) - (resource?.freeCancellationHours ?? 24) * 3_600_000;

/** @param {BookingRecord['status']} status */
export const statusText = (status) => t(`booking.status.${status}`);
