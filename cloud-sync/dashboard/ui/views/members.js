import { api, get, post, put } from '../api.js';
import { fill, h, toast } from '../dom.js';
import { t } from '../i18n.js';

/** The path of Admin's CSV import (docs/hub.md "Members CSV"): all-or-nothing, per-row errors with line numbers. */
const IMPORT_PATH = '/directory/members/import';

/** Members and badges: search, add a member or a badge, revoke a badge, import a CSV. */
export function renderMembers(view) {
  let closed = false;
  const search = h('input', { type: 'search', placeholder: t('members.search'), 'aria-label': t('members.search') });
  const members = h('tbody');
  const badges = h('tbody');
  const plans = h('select', { name: 'plan', required: true });
  const errors = h('ul.errors');

  const memberRow = (m) => h('tr', { dataset: { member: m.id } }, h('td', m.name), h('td.muted', m.id), h('td', m.plan), h('td', m.status === 'suspended' ? t('members.suspended') : t('members.active')));
  const badgeRow = (b) =>
    h(
      'tr',
      { dataset: { badge: b.uid } },
      h('td', h('code', b.uid)),
      h('td', b.member),
      h('td', b.status === 'revoked' ? t('members.revoked') : t('members.active')),
      h('td', b.status === 'revoked' ? '' : h('button.danger', { onclick: () => revoke(b.uid) }, t('members.revoke'))),
    );

  async function draw() {
    const q = search.value.trim();
    const query = q ? `?q=${encodeURIComponent(q)}&limit=50` : '?limit=50';
    const [m, b] = await Promise.all([get(`/directory/members${query}`), get(`/directory/badges${query}`)]);
    if (closed) return;
    fill(members, m.items.length ? m.items.map(memberRow) : h('tr', h('td.muted', { colSpan: 4 }, t('members.none'))));
    fill(badges, b.items.length ? b.items.map(badgeRow) : h('tr', h('td.muted', { colSpan: 4 }, t('members.none'))));
  }
  const report = (err) => {
    fill(errors, (err.details ?? []).map((d) => h('li', d.path ? `${d.path}: ${d.message}` : d.message)));
    toast(t('error.generic', { m: err.message }), 'error');
  };
  async function revoke(uid) {
    try {
      await post(`/directory/badges/${encodeURIComponent(uid)}/revoke`);
      toast(t('members.badgeRevoked', { b: `…${uid.slice(-4)}` }));
      await draw();
    } catch (err) {
      report(err);
    }
  }
  const submit = (build) => async (e) => {
    e.preventDefault();
    const form = e.target;
    const data = Object.fromEntries(new FormData(form));
    try {
      await build(data);
      form.reset();
      fill(errors);
      toast(t('members.saved'));
      await draw();
    } catch (err) {
      report(err);
    }
  };
  const addMember = h(
    'form.card.inline',
    { onsubmit: submit((d) => put(`/directory/members/${encodeURIComponent(d.id)}`, { name: d.name, plan: d.plan })) },
    h('h2', t('members.add')),
    h('label', t('members.id'), h('input', { name: 'id', required: true, pattern: '[A-Za-z0-9][A-Za-z0-9._-]{0,63}' })),
    h('label', t('members.name'), h('input', { name: 'name', required: true })),
    h('label', t('members.plan'), plans),
    h('button', { type: 'submit' }, t('members.save')),
  );
  const addBadge = h(
    'form.card.inline',
    { onsubmit: submit((d) => put(`/directory/badges/${encodeURIComponent(d.uid)}`, { member: d.member })) },
    h('h2', t('members.addBadge')),
    h('label', t('members.uid'), h('input', { name: 'uid', required: true })),
    h('label', t('members.member'), h('input', { name: 'member', required: true })),
    h('button', { type: 'submit' }, t('members.save')),
  );
  const file = h('input', { type: 'file', accept: '.csv,text/csv' });
  const importer = h(
    'form.card.inline',
    {
      onsubmit: async (e) => {
        e.preventDefault();
        const chosen = file.files?.[0];
        if (!chosen) return;
        try {
          const r = await api('POST', IMPORT_PATH, await chosen.text(), { raw: true });
          toast(t('members.importDone', { n: r.rows ?? r.imported ?? '?' }));
          fill(errors);
          await draw();
        } catch (err) {
          report(err);
        }
      },
    },
    h('h2', t('members.import')),
    file,
    h('button', { type: 'submit' }, t('members.import')),
    h('a', { href: '/directory/members.csv', download: 'members.csv' }, t('members.export')),
  );
  const table = (heads, body) => h('table.list', h('thead', h('tr', heads.map((x) => h('th', x)))), body);
  fill(
    view,
    h('section.card', h('h1', t('members.title')), search, errors),
    h('section.card', table([t('members.name'), t('members.id'), t('members.plan'), t('members.status')], members)),
    h('section.card', h('h2', t('members.badges')), table([t('members.uid'), t('members.member'), t('members.status'), ''], badges)),
    h('div.forms', addMember, addBadge, importer),
  );
  let typing;
  search.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => draw().catch(report), 200);
  });
  get('/directory/plans?limit=500')
    .then((r) => fill(plans, r.items.map((p) => h('option', { value: p.id }, p.name))))
    .catch(() => {});
  draw().catch(report);
  return () => {
    closed = true;
  };
}
