import { get, post } from '../api.js';
import { fill, h, toast } from '../dom.js';
import { formatDateTime, t } from '../i18n.js';
import { onChange, state } from '../live.js';

/**
 * @typedef {import('../api.js').Failure} Failure
 * @typedef {import('../live.js').Alarm} Alarm
 * @typedef {import('../../../../shared/protocol/api/hub-occupancy.js').AlarmList} AlarmList GET /alarms
 */

/**
 * Alarms: open ones first (or all), each with who acknowledged it and when, or a button to do so.
 * @param {HTMLElement} view
 */
export function renderAlarms(view) {
  let openOnly = true;
  let closed = false;
  const list = h('ul.alarms');
  /** @type {[HTMLButtonElement, HTMLButtonElement]} */
  const tabs = [
    h('button.link', { onclick: () => ((openOnly = true), draw()) }, t('alarms.open')),
    h('button.link', { onclick: () => ((openOnly = false), draw()) }, t('alarms.all')),
  ];
  fill(view, h('section.card', h('div.row', h('h1', t('alarms.title')), h('span', tabs)), list));

  /** @param {Alarm} a */
  const line = (a) => {
    const zone = state.occupancy.get(a.site)?.timeZone ?? undefined;
    const facts = [
      a.clearedAt ? t('alarms.cleared', { at: formatDateTime(a.clearedAt, zone) }) : t('alarms.active'),
      a.acknowledgedAt ? t('alarms.acked', { by: a.acknowledgedBy, at: formatDateTime(a.acknowledgedAt, zone) }) : null,
      a.count > 1 ? t('alarms.count', { n: a.count }) : null,
    ].filter(Boolean);
    return h(
      `li.alarm${a.clearedAt ? '' : '.active'}`,
      { dataset: { alarm: String(a.id) } },
      h(
        'div',
        h('strong', t(`alarm.${a.kind}`)),
        ' · ',
        h('a', { href: `#/sites/${a.site}` }, state.occupancy.get(a.site)?.name ?? a.site),
        ' · ',
        a.subject,
        a.detail ? ` (${a.detail})` : '',
      ),
      h('div.muted', formatDateTime(a.raisedAt, zone), ' — ', facts.join(' · ')),
      a.acknowledgedAt ? null : h('button', { onclick: () => acknowledge(a.id) }, t('alarms.ack')),
    );
  };
  /** @param {number} id */
  async function acknowledge(id) {
    try {
      await post(`/alarms/${id}/ack`);
      await draw();
    } catch (err) {
      toast(t('error.generic', { m: /** @type {Failure} */ (err).message }), 'error');
    }
  }
  async function draw() {
    tabs[0].classList.toggle('current', openOnly);
    tabs[1].classList.toggle('current', !openOnly);
    /** @type {AlarmList} */
    const { alarms } = await get(`/alarms${openOnly ? '?open=true' : ''}`);
    if (closed) return;
    fill(list, alarms.length === 0 ? h('li.muted', t('alarms.none')) : alarms.map(line));
  }
  draw().catch((/** @type {Failure} */ err) => fill(list, h('li.error', t('error.generic', { m: err.message }))));
  const off = onChange(({ kind }) => kind === 'alarm' && draw().catch(() => {}));
  return () => {
    closed = true;
    off();
  };
}
