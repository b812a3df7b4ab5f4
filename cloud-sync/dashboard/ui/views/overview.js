import { fill, h } from '../dom.js';
import { formatNumber, formatPercent, formatTime, t, tOr } from '../i18n.js';
import { networkTotal, onChange, state } from '../live.js';

/**
 * @typedef {import('../live.js').SiteOccupancy} SiteOccupancy
 * @typedef {import('../live.js').SiteHealth} SiteHealth
 * @typedef {import('../live.js').SiteEvent} SiteEvent
 */

/**
 * A gauge: a meter of present against capacity, with the figures in words beside it.
 * @param {number} present
 * @param {number | null} capacity none when the site declares none
 * @param {number | null} rate present over capacity
 */
export function gauge(present, capacity, rate) {
  return h(
    'div.gauge',
    h('meter', {
      min: 0,
      max: capacity || Math.max(present, 1),
      low: (capacity || 1) * 0.7,
      high: (capacity || 1) * 0.9,
      optimum: 0,
      value: present,
    }),
    h('span.figure', { dataset: { present: String(present) } }, formatNumber(present)),
    h(
      'span.muted',
      ` / ${capacity === null || capacity === undefined ? '–' : formatNumber(capacity)} · ${formatPercent(rate)}`,
    ),
  );
}

/** @param {SiteHealth | undefined} health none when the hub has not heard of the site yet */
export function onlineBadge(health) {
  const s = health?.state ?? 'unknown';
  const label =
    s === 'ok'
      ? t('site.online')
      : s === 'degraded'
        ? t('site.degraded')
        : s === 'offline'
          ? t('site.offline')
          : t('site.unknown');
  return h(`span.badge.${s}`, label);
}

/** @param {SiteOccupancy} o */
function siteCard(o) {
  const health = state.health.get(o.site);
  const alarms = health?.openAlarms ?? 0;
  return h(
    'a.card.site',
    { href: `#/sites/${o.site}`, dataset: { site: o.site } },
    h('div.row', h('strong', o.name), onlineBadge(health)),
    gauge(o.present, o.capacity, o.rate),
    h(`div.alarms${alarms > 0 ? '.hot' : ''}`, alarms > 0 ? t('site.alarms', { n: alarms }) : t('site.noAlarms')),
  );
}

/**
 * Who or what an event is about: its member, else its door, else its device.
 * @param {SiteEvent['data']} d
 * @returns {string}
 */
const subjectOf = (d) =>
  ('memberId' in d ? d.memberId : undefined) ??
  ('door' in d ? d.door : undefined) ??
  ('device' in d ? d.device : undefined) ??
  '';

/**
 * One line of the live feed: time (site-local), site, what happened.
 * @param {SiteEvent} e
 */
export function feedLine(e) {
  const site = state.occupancy.get(e.site);
  const zone = site?.timeZone ?? undefined;
  const what = tOr(`event.${e.type}`, e.type);
  const who = subjectOf(e.data);
  const why = e.type === 'access.denied' ? ` (${tOr(`reason.${e.data.reason}`, e.data.reason)})` : '';
  return h(
    `li.${e.type.replace('.', '-')}`,
    h('time', formatTime(e.at, zone)),
    ' ',
    h('span.site-id', site?.name ?? e.site),
    ' ',
    `${what}${why} `,
    h('span.muted', who),
  );
}

const DRAWN = 'tessera:overview-drawn';

/** @param {HTMLElement} view */
export function renderOverview(view) {
  const total = h('section.card.total');
  const sites = h('section.sites');
  const feed = h('ol.feed');
  const draw = () => {
    const n = networkTotal();
    fill(
      total,
      h('h1', t('network.total')),
      gauge(n.present, n.capacity, n.rate),
      h('p.muted', t('network.present', { n: formatNumber(n.present), c: formatNumber(n.capacity) })),
    );
    fill(sites, [...state.occupancy.values()].sort((a, b) => a.name.localeCompare(b.name)).map(siteCard));
    // When the page first showed the network, on the browser's clock from the navigation: what the
    // first-load benchmark reads (and any browser's performance panel shows).
    if (state.occupancy.size > 0 && performance.getEntriesByName(DRAWN).length === 0) performance.mark(DRAWN);
  };
  const drawFeed = () => fill(feed, state.feed.length ? state.feed.map(feedLine) : h('li.muted', t('feed.empty')));
  fill(view, total, h('h2', t('network.sites')), sites, h('section.card', h('h2', t('feed.title')), feed));
  draw();
  drawFeed();
  return onChange(({ kind }) => {
    if (kind === 'event') drawFeed();
    else if (kind !== 'connection') draw();
  });
}
