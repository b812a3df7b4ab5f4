import { get, post } from '../api.js';
import { fill, h, toast } from '../dom.js';
import { formatTime, t } from '../i18n.js';
import { onChange } from '../live.js';

/**
 * @typedef {import('../api.js').Failure} Failure
 * @typedef {import('../../../../shared/protocol/api/hub-admin-commands.js').CommandSent} CommandSent
 * @typedef {import('../../../../shared/protocol/events.js').SiteEvent} SiteEvent
 * @typedef {Extract<SiteEvent, { type: 'badge.presented' }>} Presented
 * @typedef {import('../../../../shared/protocol/directory.js').Member} Member
 * @typedef {import('../../../../shared/protocol/directory.js').Badge} Badge
 * @typedef {{ site: string, name?: string | undefined, zone?: string | undefined, enrol?: HTMLElement }} EnrolPage
 */

/** How long a presented card stays offered: after that the operator taps it again. */
const OFFER_MS = 5 * 60_000;

/**
 * The enrol commands this tab sent, by nonce: the cards presented for them are offered here,
 * and only here (another operator's enrol is theirs).
 * @type {Map<string, { reader: string, line: HTMLElement }>}
 */
const waiting = new Map();

/**
 * The button that puts `reader` in enrol mode (docs/badges.md "Enrolling at a site's reader").
 * @param {EnrolPage} page
 * @param {string} reader
 */
export function enrolButton(page, reader) {
  return h(
    'button',
    {
      type: 'button',
      dataset: { enrol: reader },
      'aria-label': t('enrol.buttonFor', { reader }),
      onclick: () => start(page, reader),
    },
    t('enrol.button'),
  );
}

/**
 * The panel where waiting readers and presented cards show, in the commands card.
 * @param {EnrolPage} page
 */
export function enrolPanel(page) {
  page.enrol = h('div.enrol-panel', { 'aria-live': 'polite' });
  return page.enrol;
}

/**
 * Listens for the cards presented at this site for this tab's enrol commands; returns the
 * function that stops listening.
 * @param {EnrolPage} page
 */
export function watchEnrolments(page) {
  return onChange((change) => {
    if (change.kind !== 'event' || change.data.site !== page.site) return;
    const e = change.data;
    if (e.type !== 'badge.presented' && e.type !== 'enrol.expired') return;
    const w = waiting.get(e.data.command);
    if (!w) return;
    waiting.delete(e.data.command);
    if (e.type === 'enrol.expired') fill(w.line, h('p.muted', t('enrol.unused', { reader: e.data.reader })));
    else fill(w.line, offer(page, e));
  });
}

/**
 * @param {EnrolPage} page
 * @param {string} reader
 */
async function start(page, reader) {
  const panel = page.enrol;
  if (!panel) return;
  try {
    /** @type {CommandSent} */
    const sent = await post(`/sites/${page.site}/commands`, { kind: 'enrol', reader });
    const line = h(
      'div.enrol',
      h('p', t('enrol.waiting', { reader, until: formatTime(sent.item.expiresAt, page.zone) })),
    );
    waiting.set(sent.item.nonce, { reader, line });
    panel.prepend(line);
  } catch (err) {
    toast(t('command.failed', { m: /** @type {Failure} */ (err).message }), 'error');
  }
}

/**
 * A presented card, offered for OFFER_MS: its UID, and a member picker unless it is a badge already.
 * @param {EnrolPage} page
 * @param {Presented} e
 */
function offer(page, e) {
  const { reader, uid, badge, card, known, memberId } = e.data;
  const id = `enrol-${e.id}`;
  const box = h('section.offer', { role: 'group', 'aria-labelledby': `${id}-title` });
  const title = h('h3', { id: `${id}-title` }, t('enrol.presented', { reader }));
  const facts = h('p', t('enrol.uid'), ' ', h('code', uid ?? badge), ' · ', t(`enrol.card.${card}`));
  const timer = setTimeout(() => fill(box, title, h('p.muted', t('enrol.offerExpired'))), OFFER_MS);
  const dismiss = h(
    'button.link',
    { type: 'button', onclick: () => (clearTimeout(timer), box.remove()) },
    t('enrol.dismiss'),
  );
  if (known || uid === undefined) {
    fill(box, title, facts, h('p.error', t('enrol.known', { member: memberId ?? '?' })), dismiss);
    return box;
  }
  const select = h('select', { id: `${id}-member`, required: true }, h('option', { value: '' }, t('enrol.choose')));
  const outcome = h('p', { role: 'status' });
  const assign = h(
    'button',
    {
      type: 'button',
      onclick: async () => {
        if (!select.value) return void fill(outcome, h('span.error', t('enrol.chooseFirst')));
        assign.disabled = true;
        const result = await register(uid, select.value).catch((/** @type {Failure} */ err) => ({
          error: t('enrol.failed', { m: err.message }),
        }));
        if ('error' in result) {
          assign.disabled = false;
          return void fill(outcome, h('span.error', result.error));
        }
        clearTimeout(timer);
        const name = select.selectedOptions[0]?.textContent ?? select.value;
        fill(box, title, h('p', { role: 'status' }, t('enrol.done', { badge, member: name })));
      },
    },
    t('enrol.assign'),
  );
  fill(
    box,
    title,
    facts,
    h('p.muted', t('enrol.cloneable')),
    h('div.row', h('label', { for: `${id}-member` }, t('enrol.member')), select, assign, ' ', dismiss),
    outcome,
  );
  membersOf(page.site).then(
    (members) =>
      select.append(...members.map((m) => h('option', { value: m.id }, m.name ? `${m.name} (${m.id})` : m.id))),
    (/** @type {Failure} */ err) => fill(outcome, h('span.error', t('error.generic', { m: err.message }))),
  );
  return box;
}

/**
 * The members whose plan opens the site.
 * @param {string} site
 * @returns {Promise<Member[]>}
 */
async function membersOf(site) {
  /** @type {{ items: Member[] }} */
  const page = await get(`/directory/members?site=${encodeURIComponent(site)}&limit=500`);
  return page.items;
}

/**
 * Registers the UID as a UID-only badge of `member`, unless it is already a badge: the hub's enrol
 * route never takes another member's badge (409, even when another operator gave it away a moment
 * ago), and a badge already the member's is left as it is (its type included).
 * @param {string} uid
 * @param {string} member
 * @returns {Promise<{ member: string } | { error: string }>}
 */
async function register(uid, member) {
  const path = `/directory/badges/${encodeURIComponent(uid)}`;
  /** @returns {Promise<{ item: Badge } | undefined>} */
  const current = () =>
    get(path).catch((/** @type {Failure} */ err) => {
      if (err.status === 404) return undefined;
      throw err;
    });
  const taken = (/** @type {{ item: Badge } | undefined} */ badge) =>
    badge && badge.item.member !== member ? { error: t('enrol.taken', { member: badge.item.member }) } : undefined;
  const before = await current();
  const refused = taken(before);
  if (refused) return refused;
  if (before) return { member };
  try {
    await post(`${path}/enrol`, { member, type: 'uid' });
  } catch (err) {
    if (/** @type {Failure} */ (err).status !== 409) throw err;
    return taken(await current()) ?? { error: t('enrol.taken', { member: '?' }) };
  }
  return { member };
}
