import uPlot from '../vendor/uPlot.esm.js';
import { h } from '../dom.js';
import { LOCALES, locale } from '../i18n.js';

// This module (and uPlot with it) is loaded only when a site page opens: the overview stays light.
document.head.append(h('link', { rel: 'stylesheet', href: '/ui/vendor/uPlot.min.css' }));

/**
 * @typedef {import('../../../../shared/protocol/api/hub-occupancy.js').HistoryPoint} HistoryPoint
 * @typedef {{ update(points: HistoryPoint[], capacity: number | null): void, destroy(): void }} OccupancyChart
 */

/**
 * The occupancy chart of a site (uPlot): people present per 15-minute bucket and the capacity,
 * the time axis in the site's own time zone.
 * @param {HTMLElement} el
 * @param {string | null} timeZone none when the site declares none: the browser's
 * @param {{ time: string, present: string, capacity: string }} labels
 * @returns {OccupancyChart}
 */
export function occupancyChart(el, timeZone, labels) {
  const width = () => Math.max(280, el.clientWidth || 600);
  const zone = timeZone ? { timeZone } : {};
  const fmt = new Intl.DateTimeFormat(LOCALES[locale()], {
    hour: '2-digit',
    minute: '2-digit',
    day: 'numeric',
    month: 'short',
    ...zone,
  });
  const hours = new Intl.DateTimeFormat(LOCALES[locale()], { hour: '2-digit', minute: '2-digit', ...zone });
  const days = new Intl.DateTimeFormat(LOCALES[locale()], { weekday: 'short', day: 'numeric', ...zone });
  // Axis labels through Intl in the site's zone: hours over a day, days over a week, where
  // uPlot may tick twice a day: a day is named once, its other ticks show the hour.
  /** @type {uPlot.Axis.DynamicValues} */
  const timeTicks = (_u, ticks) => {
    if ((ticks.at(-1) ?? 0) - (ticks[0] ?? 0) <= 2 * 86_400)
      return ticks.map((ts) => hours.format(new Date(ts * 1000)));
    return ticks.map((ts, i) => {
      const day = days.format(new Date(ts * 1000));
      return i > 0 && day === days.format(new Date((ticks[i - 1] ?? 0) * 1000))
        ? hours.format(new Date(ts * 1000))
        : day;
    });
  };
  // uPlot's types leave `paths.stepped` optional (a custom build may drop it); the ESM build served here has it.
  const plot = new uPlot(
    {
      width: width(),
      height: 220,
      tzDate: timeZone ? (ts) => uPlot.tzDate(new Date(ts * 1000), timeZone) : undefined,
      scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      series: [
        { label: labels.time, value: (_u, ts) => (ts === null ? '–' : fmt.format(new Date(ts * 1000))) },
        {
          label: labels.present,
          stroke: '#1f6feb',
          fill: 'rgba(31,111,235,0.15)',
          width: 2,
          paths: /** @type {NonNullable<typeof uPlot.paths.stepped>} */ (uPlot.paths.stepped)({ align: 1 }),
        },
        { label: labels.capacity, stroke: '#cf222e', dash: [6, 4], width: 1, points: { show: false } },
      ],
      axes: [
        { values: timeTicks },
        { values: (_u, ticks) => ticks.map((v) => (Number.isInteger(v) ? String(v) : '')) },
      ],
    },
    [[], [], []],
    el,
  );
  const onResize = () => plot.setSize({ width: width(), height: 220 });
  window.addEventListener('resize', onResize);
  return {
    update(points, capacity) {
      plot.setData([points.map((p) => p.start / 1000), points.map((p) => p.present), points.map(() => capacity)]);
    },
    destroy() {
      window.removeEventListener('resize', onResize);
      plot.destroy();
    },
  };
}
