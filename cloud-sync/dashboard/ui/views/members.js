import { api, get, post, put } from '../api.js';
import { fill, h, toast } from '../dom.js';
import { t } from '../i18n.js';
import { employersCard, openInvitation } from './invitations.js';

/**
 * @typedef {import('../api.js').Failure} Failure
 * @typedef {import('../../../../shared/protocol/directory.js').Member} Member
 * @typedef {import('../../../../shared/protocol/api/hub-admin-directory.js').StoredBadge} Badge
 * @typedef {import('../../../../shared/protocol/directory.js').Plan} Plan
 * @typedef {import('../../../../shared/protocol/api/hub-admin-directory.js').DirectoryPage} DirectoryPage
 * @typedef {import('../../../../shared/protocol/api/hub-admin-members-csv.js').MemberImportResult} MemberImportResult
 */
/**
 * `GET /directory/:entity` pages one collection, whose items are all of that collection's kind.
 * @template T
 * @typedef {Omit<DirectoryPage, 'items'> & { items: T[] }} PageOf
 */
/**
 * The page's redraw, and how it shows an outcome.
 * @typedef {{ draw(): Promise<void>, report(err: Failure): void, done(message: string): Promise<void> }} MembersPage
 */

/** Admin's CSV import (docs/hub.md "Members CSV"): all or nothing, each bad row with its line number. */
const IMPORT_PATH = '/directory/members/import';

/**
 * Members and badges: search, add a member or a badge, revoke a badge, import and export the CSV.
 * @param {HTMLElement} view
 */
export function renderMembers(view) {
  let closed = false;
  const search = h('input', { type: 'search', placeholder: t('members.search'), 'aria-label': t('members.search') });
  const members = h('tbody');
  const badges = h('tbody');
  const errors = h('ul.errors');
  const invitation = h('div.invitation-panel');
  /** @type {MembersPage} */
  const page = {
    async draw() {
      const q = search.value.trim();
      const query = q ? `?q=${encodeURIComponent(q)}&limit=50` : '?limit=50';
      /** @type {[PageOf<Member>, PageOf<Badge>]} */
      const [m, b] = await Promise.all([get(`/directory/members${query}`), get(`/directory/badges${query}`)]);
      if (closed) return;
      fill(members, m.items.length ? m.items.map((x) => memberRow(x, invitation)) : emptyRow(5));
      fill(badges, b.items.length ? b.items.map((x) => badgeRow(x, page)) : emptyRow(4));
    },
    /** Shows an API error: each detail (a CSV line, a field) in the list, the message in a toast. */
    report(err) {
      fill(
        errors,
        (err.details ?? []).map((d) => h('li', d.path ? `${d.path}: ${d.message}` : d.message)),
      );
      toast(t('error.generic', { m: err.message }), 'error');
    },
    async done(message) {
      fill(errors);
      toast(message);
      await page.draw();
    },
  };
  /**
   * @param {(string | HTMLElement)[]} heads
   * @param {HTMLElement} body
   */
  const table = (heads, body) =>
    h(
      'table.list',
      h(
        'thead',
        h(
          'tr',
          heads.map((x) => h('th', x)),
        ),
      ),
      body,
    );
  fill(
    view,
    h('section.card', h('h1', t('members.title')), search, errors),
    invitation,
    h(
      'section.card',
      table(
        [
          t('members.name'),
          t('members.id'),
          t('members.plan'),
          t('members.status'),
          h('span.visually-hidden', t('members.actions')),
        ],
        members,
      ),
    ),
    h(
      'section.card',
      h('h2', t('members.badges')),
      table(
        [t('members.uid'), t('members.member'), t('members.status'), h('span.visually-hidden', t('members.actions'))],
        badges,
      ),
    ),
    h('div.forms', memberForm(page), badgeForm(page), importForm(page)),
    employersCard(invitation),
  );
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let typing;
  search.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => page.draw().catch(page.report), 200);
  });
  page.draw().catch(page.report);
  return () => {
    closed = true;
  };
}

/** @param {number} columns */
const emptyRow = (columns) => h('tr', h('td.muted', { colSpan: columns }, t('members.none')));
/**
 * @param {Member} m
 * @param {HTMLElement} invitation where the invitation form opens
 */
const memberRow = (m, invitation) =>
  h(
    'tr',
    { dataset: { member: m.id } },
    h('td', m.name),
    h('td.muted', m.id),
    h('td', m.plan),
    h('td', m.status === 'suspended' ? t('members.suspended') : t('members.active')),
    h(
      'td',
      h(
        'button.link',
        {
          type: 'button',
          'aria-label': t('invite.member', { name: m.name }),
          onclick: () => openInvitation(invitation, { role: 'member', member: m.id }, m.name),
        },
        t('invite.button'),
      ),
    ),
  );

/**
 * @param {Badge} b
 * @param {MembersPage} page
 */
function badgeRow(b, page) {
  const revoke = async () => {
    try {
      await post(`/directory/badges/${encodeURIComponent(b.uid)}/revoke`);
      await page.done(t('members.badgeRevoked', { b: `…${b.uid.slice(-4)}` }));
    } catch (err) {
      page.report(/** @type {Failure} */ (err));
    }
  };
  return h(
    'tr',
    { dataset: { badge: b.uid } },
    h('td', h('code', b.uid)),
    h('td', b.member),
    h('td', b.status === 'revoked' ? t('members.revoked') : t('members.active')),
    h('td', b.status === 'revoked' ? '' : h('button.danger', { onclick: revoke }, t('members.revoke'))),
  );
}

/**
 * A form whose fields go to `save`; cleared and the lists redrawn once saved.
 * @template {Record<string, string>} Fields the names of its text inputs
 * @param {string} title
 * @param {HTMLElement[]} fields
 * @param {(fields: Fields) => Promise<unknown>} save
 * @param {MembersPage} page
 */
function form(title, fields, save, page) {
  /** @param {SubmitEvent} e */
  const onsubmit = async (e) => {
    e.preventDefault();
    const target = /** @type {HTMLFormElement} */ (e.target);
    try {
      await save(/** @type {Fields} */ (Object.fromEntries(new FormData(target))));
      target.reset();
      await page.done(t('members.saved'));
    } catch (err) {
      page.report(/** @type {Failure} */ (err));
    }
  };
  return h(
    'form.card.inline',
    { onsubmit },
    h('h2', title),
    fields,
    h('button', { type: 'submit' }, t('members.save')),
  );
}

/** @param {MembersPage} page */
function memberForm(page) {
  const plans = h('select', { name: 'plan', required: true });
  /** @type {Promise<PageOf<Plan>>} */ (get('/directory/plans?limit=500'))
    .then((r) =>
      fill(
        plans,
        r.items.map((p) => h('option', { value: p.id }, p.name)),
      ),
    )
    .catch(() => {});
  const fields = [
    // Browsers compile `pattern` with the v flag: a literal "-" in a class must be escaped there.
    h(
      'label',
      t('members.id'),
      h('input', { name: 'id', required: true, pattern: '[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}' }),
    ),
    h('label', t('members.name'), h('input', { name: 'name', required: true })),
    h('label', t('members.plan'), plans),
  ];
  return form(
    t('members.add'),
    fields,
    (/** @type {{ id: string, name: string, plan: string }} */ d) =>
      put(`/directory/members/${encodeURIComponent(d.id)}`, { name: d.name, plan: d.plan }),
    page,
  );
}

/** @param {MembersPage} page */
function badgeForm(page) {
  const fields = [
    h('label', t('members.uid'), h('input', { name: 'uid', required: true })),
    h('label', t('members.member'), h('input', { name: 'member', required: true })),
  ];
  return form(
    t('members.addBadge'),
    fields,
    (/** @type {{ uid: string, member: string }} */ d) =>
      put(`/directory/badges/${encodeURIComponent(d.uid)}`, { member: d.member }),
    page,
  );
}

/** @param {MembersPage} page */
function importForm(page) {
  const file = h('input', { type: 'file', accept: '.csv,text/csv' });
  /** @param {SubmitEvent} e */
  const onsubmit = async (e) => {
    e.preventDefault();
    const chosen = file.files?.[0];
    if (!chosen) return;
    try {
      /** @type {MemberImportResult} */
      // The file's bytes as they are: the hub reads UTF-8, or Windows-1252 as Excel saves "CSV".
      const r = await api('POST', IMPORT_PATH, chosen, { raw: true });
      await page.done(t('members.importDone', { n: r.rows }));
    } catch (err) {
      page.report(/** @type {Failure} */ (err));
    }
  };
  return h(
    'form.card.inline',
    { onsubmit },
    h('h2', t('members.import')),
    h('label', t('members.csvFile'), file),
    h('button', { type: 'submit' }, t('members.import')),
    h('a', { href: '/directory/members.csv', download: 'members.csv' }, t('members.export')),
    h('a', { href: '/directory/members.csv?dialect=excel-fr', download: 'members.csv' }, t('members.exportExcel')),
  );
}
