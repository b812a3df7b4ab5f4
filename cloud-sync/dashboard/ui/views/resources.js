import { get, remove } from '../api.js';
import { fill, h, toast } from '../dom.js';
import { formatMoney, t } from '../i18n.js';
import { failure } from './billing.js';
import { ask } from './confirm.js';
import { showForm } from './resource-form.js';

/**
 * @typedef {import('../api.js').Failure} Failure
 * @typedef {import('./bookable.js').Resource} Resource
 * @typedef {import('./bookable.js').ResourceList} ResourceList
 * @typedef {import('./resource-form.js').FormPage} FormPage
 * @typedef {import('../../../../shared/protocol/api/hub-occupancy.js').NetworkOccupancy} NetworkOccupancy GET /occupancy: the sites in scope
 */

/** Prices shown in euros: the network's price list is in one currency, euros for every network so far. */
const CURRENCY = 'EUR';

/**
 * Resources (operators, site managers): the desk pools, desks and rooms of each site in scope,
 * to add, edit or remove (GET, PUT, DELETE /resources).
 * @param {HTMLElement} view
 */
export function renderResources(view) {
  let closed = false;
  const list = h('div.resources');
  const holder = h('div');
  const panel = h('div');
  const errors = h('ul.errors');
  /** @type {FormPage} */
  const page = {
    sites: [],
    async saved() {
      fill(errors);
      showForm(holder, page);
      await draw();
    },
    report(err) {
      fill(
        errors,
        (err.details ?? []).map((d) => h('li', d.path ? `${d.path}: ${d.message}` : d.message)),
      );
      toast(t('error.generic', { m: err.message }), 'error');
    },
  };
  const draw = async () => {
    /** @type {[ResourceList, NetworkOccupancy]} */
    const [{ items }, occupancy] = await Promise.all([get('/resources'), get('/occupancy')]);
    if (closed) return;
    const first = page.sites.length === 0;
    page.sites = occupancy.sites
      .map((o) => ({ id: o.site, name: o.name }))
      .sort((a, b) => a.name.localeCompare(b.name));
    if (first) showForm(holder, page);
    const bySite = page.sites.map((s) => ({ ...s, items: items.filter((r) => r.site === s.id) }));
    fill(
      list,
      bySite.map((s) =>
        siteResources(s, { edit: (r) => showForm(holder, page, r), remove: (r) => askRemove(panel, r, draw) }),
      ),
    );
  };
  fill(
    view,
    h('section.card', h('h1', t('resources.title')), h('p.muted', t('resources.explain')), panel, errors),
    list,
    holder,
  );
  draw().catch((/** @type {Failure} */ err) => fill(list, h('section.card', failure(err))));
  return () => {
    closed = true;
  };
}

/**
 * @param {{ id: string, name: string, items: Resource[] }} site
 * @param {{ edit: (r: Resource) => void, remove: (r: Resource) => void }} act
 */
function siteResources(site, act) {
  return h(
    'section.card',
    { dataset: { site: site.id } },
    h('h2', site.name),
    site.items.length === 0
      ? h('p.muted', t('resources.none'))
      : h(
          'ul.people',
          site.items.map((r) =>
            h(
              'li.resource',
              { dataset: { resource: r.id } },
              h('p', h('strong', r.name), ' · ', t(`resource.kind.${r.kind}`), ' · ', facts(r)),
              h('p.muted', hoursText(r), ' · ', r.plans === 'all' ? t('resource.allPlans') : r.plans.join(', ')),
              h(
                'div.row',
                h(
                  'button.link',
                  {
                    type: 'button',
                    'aria-label': t('resource.editThis', { name: r.name }),
                    onclick: () => act.edit(r),
                  },
                  t('resource.editButton'),
                ),
                h(
                  'button.danger',
                  {
                    type: 'button',
                    'aria-label': t('resource.removeThis', { name: r.name }),
                    onclick: () => act.remove(r),
                  },
                  t('resource.remove'),
                ),
              ),
            ),
          ),
        ),
  );
}

/** @param {Resource} r */
function facts(r) {
  const p = r.prices;
  return [
    r.size !== undefined ? t('resource.places', { n: r.size }) : null,
    r.capacity !== undefined ? t('book.seats', { n: r.capacity }) : null,
    r.reader ? t('resource.readerIs', { reader: r.reader }) : null,
    p?.hourCents !== undefined ? t('resource.perHour', { p: formatMoney(p.hourCents, CURRENCY) }) : null,
    p?.halfDayCents !== undefined ? t('resource.perHalfDay', { p: formatMoney(p.halfDayCents, CURRENCY) }) : null,
    p?.dayCents !== undefined ? t('resource.perDay', { p: formatMoney(p.dayCents, CURRENCY) }) : null,
  ]
    .filter(Boolean)
    .join(' · ');
}

/** @param {Resource} r */
const hoursText = (r) =>
  r.hours.map((w) => `${w.days.map((d) => t(`day.short.${d}`)).join(' ')} ${w.from}–${w.to}`).join(', ');

/**
 * @param {HTMLElement} panel
 * @param {Resource} r
 * @param {() => Promise<void>} redraw
 */
function askRemove(panel, r, redraw) {
  ask(panel, {
    title: t('resource.remove'),
    message: t('resource.removeConfirm', { name: r.name }),
    yes: t('resource.remove'),
    onYes: async () => {
      try {
        await remove(`/resources/${encodeURIComponent(r.id)}`);
        toast(t('resource.removed', { name: r.name }));
        await redraw();
      } catch (err) {
        const e = /** @type {Failure} */ (err);
        toast(
          e.code === 'conflict' ? t('resource.inUse', { name: r.name }) : t('error.generic', { m: e.message }),
          'error',
        );
      }
    },
  });
}
