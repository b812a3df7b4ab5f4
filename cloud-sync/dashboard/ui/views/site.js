import { get } from '../api.js';
import { fill, h } from '../dom.js';
import { formatDateTime, formatNumber, t, tOr } from '../i18n.js';
import { onChange } from '../live.js';
import { gauge, onlineBadge } from './overview.js';
import { commandButton, commandsCard, mayCommand } from './site-commands.js';
import { enrolButton, watchEnrolments } from './site-enrol.js';

/**
 * @typedef {import('../../../../shared/protocol/api/hub-occupancy.js').SiteOccupancyDetail} SiteOccupancyDetail GET /occupancy/:site
 * @typedef {import('../../../../shared/protocol/api/hub-occupancy.js').PresentMember} PresentMember
 * @typedef {import('../../../../shared/protocol/api/hub-occupancy.js').OccupancyHistory} OccupancyHistory GET /occupancy/:site/history
 * @typedef {import('../../../../shared/protocol/api/hub-occupancy.js').HistoryPoint} HistoryPoint
 * @typedef {import('../../../../shared/protocol/api/hub-occupancy.js').SiteHealthDetail} SiteHealthDetail GET /site-health/:site
 * @typedef {import('../../../../shared/protocol/api/hub-occupancy.js').DoorState} DoorState
 * @typedef {import('../../../../shared/protocol/api/hub-occupancy.js').ReaderState} ReaderState
 * @typedef {OccupancyHistory['range']} Range
 */
/**
 * @typedef {import('../api.js').Failure} Failure
 * @typedef {import('./chart.js').OccupancyChart} OccupancyChart
 * @typedef {import('./site-commands.js').CommandPage & import('./site-enrol.js').EnrolPage & { zone: string | undefined, range: Range, chart: OccupancyChart | undefined, closed: boolean }} SitePage
 * @typedef {{ head: HTMLElement, chart: HTMLElement, who: HTMLElement, health: HTMLElement, devices: HTMLElement }} Parts
 */

/**
 * A site page: occupancy now and its chart (24 h, 7 days), who is in, site health, doors and readers; an operator's commands.
 * @param {HTMLElement} view
 * @param {string} site
 */
export function renderSite(view, site) {
  /** @type {SitePage} */
  const page = { site, zone: undefined, range: '24h', chart: undefined, closed: false };
  /** @type {Parts} */
  const parts = {
    head: h('section.card'),
    chart: h('div.chart'),
    who: h('section.card'),
    health: h('section.card'),
    devices: h('section.card'),
  };
  /** @type {Range[]} */
  const ranges = ['24h', '7d'];
  /** @type {HTMLButtonElement[]} */
  const rangeButtons = ranges.map((r) =>
    h(
      'button.link',
      { dataset: { range: r }, onclick: () => ((page.range = r), drawHistory(page, parts, rangeButtons).catch(fail)) },
      t(`site.${r}`),
    ),
  );
  fill(
    view,
    parts.head,
    h('section.card', h('div.row', h('h2', t('site.chart')), h('span', rangeButtons)), parts.chart),
    parts.who,
    parts.health,
    parts.devices,
    mayCommand() ? commandsCard(page) : null,
  );
  /** @param {Failure} err */
  const fail = (err) =>
    fill(parts.head, h('p.error', err.status === 403 ? t('error.forbidden') : t('error.generic', { m: err.message })));
  const redraw = {
    occupancy: () => [drawNow(page, parts), drawHistory(page, parts, rangeButtons)],
    health: () => [drawHealth(page, parts)],
  };

  drawNow(page, parts)
    .then(() => Promise.all([...redraw.occupancy().slice(1), ...redraw.health()]))
    .catch(fail);
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let pending;
  /** @type {Set<keyof typeof redraw>} */
  const due = new Set();
  const off = onChange(({ kind, data }) => {
    // News of this site only: the page's first state, the stream's hello and the connection's state are of no site.
    if (kind === 'start' || kind === 'hello' || kind === 'connection' || data.site !== site || page.closed) return;
    due.add(kind === 'occupancy' ? 'occupancy' : 'health');
    clearTimeout(pending);
    // Coalesced: a burst of taps redraws once.
    pending = setTimeout(() => {
      const work = [...due].flatMap((d) => redraw[d]());
      due.clear();
      Promise.all(work).catch(fail);
    }, 150);
  });
  const offEnrol = mayCommand() ? watchEnrolments(page) : () => {};
  return () => {
    page.closed = true;
    clearTimeout(pending);
    off();
    offEnrol();
    page.chart?.destroy();
  };
}

/**
 * @param {SitePage} page
 * @param {Parts} parts
 */
async function drawNow(page, parts) {
  /** @type {[SiteOccupancyDetail, SiteHealthDetail | undefined]} */
  const [o, health] = await Promise.all([
    get(`/occupancy/${page.site}`),
    get(`/site-health/${page.site}`).catch(() => undefined),
  ]);
  if (page.closed) return;
  page.zone = o.timeZone ?? undefined;
  page.name = o.name;
  fill(parts.head, h('div.row', h('h1', o.name), onlineBadge(health)), gauge(o.present, o.capacity, o.rate));
  /** @param {PresentMember} p */
  const person = (p) =>
    h(
      'li',
      h('strong', p.name ?? p.memberId),
      ' ',
      h('span.muted', `${t('site.since')} ${formatDateTime(p.since, page.zone)}`),
    );
  fill(
    parts.who,
    h('h2', t('site.whoIsIn')),
    o.whoIsIn.length === 0 ? h('p.muted', t('site.nobody')) : h('ul.people', o.whoIsIn.map(person)),
  );
}

/**
 * @param {SitePage} page
 * @param {Parts} parts
 * @param {HTMLButtonElement[]} rangeButtons
 */
async function drawHistory(page, parts, rangeButtons) {
  for (const b of rangeButtons) b.classList.toggle('current', b.dataset.range === page.range);
  /** @type {[OccupancyHistory, typeof import('./chart.js')]} */
  const [history, { occupancyChart }] = await Promise.all([
    get(`/occupancy/${page.site}/history?range=${page.range}`),
    import('./chart.js'),
  ]);
  if (page.closed) return;
  page.chart ??= occupancyChart(parts.chart, history.timeZone, {
    time: t('site.time'),
    present: t('site.present'),
    capacity: t('site.capacity', { c: '' }).trim(),
  });
  page.chart.update(history.points, history.capacity);
}

/**
 * @param {SitePage} page
 * @param {Parts} parts
 */
async function drawHealth(page, parts) {
  /** @type {SiteHealthDetail} */
  const s = await get(`/site-health/${page.site}`);
  if (page.closed) return;
  const zone = page.zone;
  /**
   * @param {string} label
   * @param {string} value
   */
  const row = (label, value) => h('tr', h('th', label), h('td', value));
  fill(
    parts.health,
    h('h2', t('site.health')),
    h(
      'table.facts',
      row(t('health.lastEvent'), formatDateTime(s.lastEventAt, zone)),
      row(t('health.status'), formatDateTime(s.statusAt, zone)),
      row(t('health.backlog'), s.backlog === null ? '–' : formatNumber(s.backlog)),
      row(t('health.missing'), formatNumber(s.missing)),
      row(t('health.directory'), s.directory ? `${s.directory.revision}, ${s.directory.ageSeconds ?? '–'} s` : '–'),
      row(t('health.clock'), s.clock ? (s.clock.synced ? t('health.synced') : t('health.unsynced')) : '–'),
      row(t('health.timeZone'), zone ?? '–'),
    ),
  );
  /** @param {DoorState} d */
  const unlock = (d) => (mayCommand() ? [' ', commandButton(page, { kind: 'unlock', door: d.door })] : []);
  /** @param {DoorState} d */
  const door = (d) =>
    h(
      'li',
      h('strong', d.door),
      ' ',
      [d.mode && t(`door.${d.mode}`), d.alarm && t(`door.${d.alarm}`)].filter(Boolean).join(', '),
      unlock(d),
    );
  /** @param {ReaderState} r */
  const lastTap = (r) =>
    r.lastTap
      ? h(
          'span.muted',
          ` · ${t('reader.lastTap')} ${formatDateTime(r.lastTap.at, zone)} (${tOr(`reason.${r.lastTap.reason}`, r.lastTap.reason)})`,
        )
      : '';
  /** @param {ReaderState} r */
  const reader = (r) =>
    h(
      'li',
      h('strong', r.reader),
      ' ',
      r.connected ? t('reader.connected') : t('reader.lost'),
      lastTap(r),
      mayCommand() ? [' ', enrolButton(page, r.reader)] : [],
    );
  /**
   * @template T
   * @param {T[]} items
   * @param {(item: T) => HTMLElement} one
   */
  const list = (items, one) => (items.length === 0 ? h('p.muted', t('site.none')) : h('ul', items.map(one)));
  fill(
    parts.devices,
    h('h2', t('site.doors')),
    list(s.doors, door),
    h('h2', t('site.readers')),
    list(s.readers, reader),
  );
}
