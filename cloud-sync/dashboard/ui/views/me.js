import { get, post } from '../api.js';
import { fill, h, toast } from '../dom.js';
import { formatLocalDate, formatNumber, t } from '../i18n.js';
import { failure } from './billing.js';
import { ask } from './confirm.js';

/**
 * @typedef {import('../api.js').Failure} Failure
 * @typedef {import('../../../../shared/protocol/api/hub-self-service.js').MyPage} MyPage GET /me
 * @typedef {MyPage['badges'][number]} MyBadge
 */

/**
 * A member's own space (GET /me): this week's days used and left, visits of the last 30 days
 * per site, their locker, their badges, each of which they may declare lost (confirmed first).
 * @param {HTMLElement} view
 */
export function renderMe(view) {
  let closed = false;
  const panel = h('div', { id: 'me-confirm' });
  const draw = async () => {
    /** @type {MyPage} */
    const me = await get('/me');
    if (closed) return;
    fill(view, ...meCards(me, panel, draw), panel);
  };
  fill(view, h('section.card', h('h1', t('me.title'))));
  draw().catch((/** @type {Failure} */ err) => fill(view, h('section.card', h('h1', t('me.title')), failure(err))));
  return () => {
    closed = true;
  };
}

/**
 * @param {MyPage} me
 * @param {HTMLElement} panel
 * @param {() => Promise<void>} redraw
 */
function meCards(me, panel, redraw) {
  const { week } = me;
  return [
    h(
      'section.card.week',
      h('h1', t('me.hello', { name: me.member.name })),
      h('p.muted', me.member.plan.name, me.member.employer ? ` · ${me.member.employer.name}` : ''),
      h(
        'p.figure',
        { dataset: { left: week.left === null ? '' : String(week.left) } },
        week.left === null ? t('me.unlimited') : t('me.daysLeft', { n: formatNumber(week.left) }),
      ),
      h('p', t('me.daysUsed', { n: formatNumber(week.used), since: formatLocalDate(week.start) })),
    ),
    h(
      'section.card',
      h('h2', t('me.visits')),
      me.visits.length === 0
        ? h('p.muted', t('me.noVisit'))
        : h(
            'ul.people',
            me.visits.map((v) => h('li', { dataset: { site: v.site } }, t('me.visitsAt', { site: v.name, n: v.days }))),
          ),
    ),
    h(
      'section.card',
      h('h2', t('me.locker')),
      h('p', me.locker ? t('me.lockerIs', { bank: me.locker.bank, n: me.locker.number }) : t('me.noLocker')),
    ),
    h(
      'section.card',
      h('h2', t('me.badges')),
      me.badges.length === 0
        ? h('p.muted', t('me.noBadge'))
        : h(
            'ul.people',
            me.badges.map((b) => badgeItem(b, panel, redraw)),
          ),
    ),
  ];
}

/**
 * @param {MyBadge} b
 * @param {HTMLElement} panel
 * @param {() => Promise<void>} redraw
 */
function badgeItem(b, panel, redraw) {
  const shown = b.uid.replace(/^…/, '');
  const lost = () =>
    ask(panel, {
      title: t('me.lost'),
      message: t('me.lostConfirm', { b: `…${shown}` }),
      yes: t('me.lostYes'),
      onYes: async () => {
        try {
          await post(`/me/badges/${encodeURIComponent(shown)}/lost`);
          toast(t('me.lostDone', { b: `…${shown}` }));
          await redraw();
        } catch (err) {
          toast(t('error.generic', { m: /** @type {Failure} */ (err).message }), 'error');
        }
      },
    });
  return h(
    'li.row',
    { dataset: { badge: shown } },
    h('span', h('code', `…${shown}`), ' ', b.status === 'revoked' ? t('members.revoked') : t('members.active')),
    b.status === 'active'
      ? h(
          'button.danger',
          { type: 'button', onclick: lost, 'aria-label': t('me.lostOf', { b: `…${shown}` }) },
          t('me.lost'),
        )
      : null,
  );
}
