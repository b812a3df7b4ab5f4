import { get, post } from '../api.js';
import { fill, h, toast } from '../dom.js';
import { formatDateTime, locale, t } from '../i18n.js';

/**
 * Invitations (operators, site managers): a one-time link that lets a member, or an employer's
 * manager, set up their own account (POST /invitations). The link is shown once, to be handed
 * over; the hub also emails it when it can and an address is given.
 * @typedef {import('../api.js').Failure} Failure
 * @typedef {import('../../../../shared/protocol/api/hub-self-service.js').NewInvitation} NewInvitation
 * @typedef {import('../../../../shared/protocol/api/hub-self-service.js').InvitationCreated} InvitationCreated
 * @typedef {{ role: 'member', member: string } | { role: 'employer_manager', employer: string }} Invitee
 * @typedef {import('../../../../shared/protocol/directory.js').Employer} Employer
 */

/**
 * Opens, in `panel`, the invitation form for `invitee` (named `name`): an optional email, then the link.
 * @param {HTMLElement} panel
 * @param {Invitee} invitee
 * @param {string} name
 */
export function openInvitation(panel, invitee, name) {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'off' });
  const result = h('div', { 'aria-live': 'polite' });
  /** @param {SubmitEvent} e */
  const onsubmit = async (e) => {
    e.preventDefault();
    try {
      /** @type {InvitationCreated} */
      const made = await post('/invitations', {
        ...invitee,
        ...(email.value ? { email: email.value } : {}),
        language: locale(),
      });
      fill(result, linkShown(made));
    } catch (err) {
      toast(t('error.generic', { m: /** @type {Failure} */ (err).message }), 'error');
    }
  };
  const title = invitee.role === 'member' ? t('invite.member', { name }) : t('invite.manager', { name });
  fill(
    panel,
    h(
      'form.card.inline.invitation',
      { onsubmit, 'aria-label': title, dataset: { role: invitee.role } },
      h('h2', title),
      h('label', t('invite.email'), email),
      h(
        'div.row',
        h('button', { type: 'submit' }, t('invite.create')),
        h('button.link', { type: 'button', onclick: () => fill(panel) }, t('invite.close')),
      ),
      result,
    ),
  );
  email.focus();
}

/** @param {InvitationCreated} made */
function linkShown(made) {
  const link = h('input.link-value', { readOnly: true, value: made.link, name: 'link' });
  const copy = async () => {
    link.select();
    try {
      await window.navigator.clipboard.writeText(made.link);
      toast(t('invite.copied'));
    } catch {
      // No clipboard without a secure context (plain http): the link is selected, to copy by hand.
    }
  };
  return [
    h('label', t('invite.link'), link),
    h(
      'p.muted',
      t('invite.expires', { at: formatDateTime(made.expiresAt) }),
      ' · ',
      made.emailed ? t('invite.emailed') : t('invite.notEmailed'),
    ),
    h('button', { type: 'button', onclick: copy }, t('invite.copy')),
  ];
}

/**
 * The employers, each with a button that invites their manager.
 * @param {HTMLElement} panel where the invitation form opens
 */
export function employersCard(panel) {
  const list = h('ul.people');
  /** @type {Promise<{ items: Employer[] }>} */ (get('/directory/employers?limit=500'))
    .then(({ items }) =>
      fill(
        list,
        items.length === 0
          ? h('li.muted', t('invite.noEmployer'))
          : items.map((e) =>
              h(
                'li.row',
                { dataset: { employer: e.id } },
                h('span', e.name),
                h(
                  'button.link',
                  {
                    type: 'button',
                    'aria-label': t('invite.manager', { name: e.name }),
                    onclick: () => openInvitation(panel, { role: 'employer_manager', employer: e.id }, e.name),
                  },
                  t('invite.button'),
                ),
              ),
            ),
      ),
    )
    .catch((/** @type {Failure} */ err) => fill(list, h('li.error', t('error.generic', { m: err.message }))));
  return h('section.card', h('h2', t('invite.employers')), list);
}
