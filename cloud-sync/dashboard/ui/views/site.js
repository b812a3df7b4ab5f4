import { get } from '../api.js';
import { fill, h } from '../dom.js';
import { formatDateTime, formatNumber, t } from '../i18n.js';
import { onChange } from '../live.js';
import { gauge, onlineBadge } from './overview.js';

/** A site page: occupancy now and its chart (24 h, 7 days), who is in, site health, doors and readers. */
export function renderSite(view, site) {
  let range = '24h';
  let chart;
  let zone;
  let closed = false;
  const head = h('section.card');
  const chartBox = h('div.chart');
  const rangeButtons = ['24h', '7d'].map((r) => h('button.link', { dataset: { range: r }, onclick: () => ((range = r), drawHistory()) }, t(`site.${r}`)));
  const who = h('section.card');
  const health = h('section.card');
  const devices = h('section.card');
  fill(view, head, h('section.card', h('div.row', h('h2', t('site.chart')), h('span', rangeButtons)), chartBox), who, health, devices);

  const fail = (err) => fill(head, h('p.error', err.status === 403 ? t('error.forbidden') : t('error.generic', { m: err.message })));
  async function drawNow() {
    const o = await get(`/occupancy/${site}`);
    zone = o.timeZone ?? undefined;
    if (closed) return;
    fill(head, h('div.row', h('h1', o.name), onlineBadge((await get(`/site-health/${site}`).catch(() => null)) ?? undefined)), gauge(o.present, o.capacity, o.rate));
    fill(
      who,
      h('h2', t('site.whoIsIn')),
      o.whoIsIn.length === 0 ? h('p.muted', t('site.nobody')) : h('ul.people', o.whoIsIn.map((p) => h('li', h('strong', p.name ?? p.memberId), ' ', h('span.muted', `${t('site.since')} ${formatDateTime(p.since, zone)}`)))),
    );
  }
  async function drawHistory() {
    for (const b of rangeButtons) b.classList.toggle('current', b.dataset.range === range);
    const history = await get(`/occupancy/${site}/history?range=${range}`);
    if (closed) return;
    const { occupancyChart } = await import('./chart.js');
    if (closed) return;
    chart ??= occupancyChart(chartBox, history.timeZone, { time: t('site.time'), present: t('site.present'), capacity: t('site.capacity', { c: '' }).trim() });
    chart.update(history.points, history.capacity);
  }
  async function drawHealth() {
    const s = await get(`/site-health/${site}`);
    if (closed) return;
    const row = (label, value) => h('tr', h('th', label), h('td', value));
    fill(
      health,
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
    fill(
      devices,
      h('h2', t('site.doors')),
      s.doors.length === 0 ? h('p.muted', t('site.none')) : h('ul', s.doors.map((d) => h('li', h('strong', d.door), ' ', [d.mode && t(`door.${d.mode}`), d.alarm && t(`door.${d.alarm}`)].filter(Boolean).join(', ')))),
      h('h2', t('site.readers')),
      s.readers.length === 0
        ? h('p.muted', t('site.none'))
        : h('ul', s.readers.map((r) => h('li', h('strong', r.reader), ' ', r.connected ? t('reader.connected') : t('reader.lost'), r.lastTap ? h('span.muted', ` · ${t('reader.lastTap')} ${formatDateTime(r.lastTap.at, zone)} (${r.lastTap.reason})`) : ''))),
    );
  }

  drawNow()
    .then(() => Promise.all([drawHistory(), drawHealth()]))
    .catch(fail);
  let pending;
  const due = new Set();
  const off = onChange((kind, data) => {
    if (data?.site !== site || closed) return;
    due.add(kind === 'occupancy' ? 'occupancy' : 'health');
    clearTimeout(pending);
    // Coalesced: a burst of taps redraws once.
    pending = setTimeout(() => {
      const work = [...due].flatMap((d) => (d === 'occupancy' ? [drawNow(), drawHistory()] : [drawHealth()]));
      due.clear();
      Promise.all(work).catch(fail);
    }, 150);
  });
  return () => {
    closed = true;
    clearTimeout(pending);
    off();
    chart?.destroy();
  };
}
