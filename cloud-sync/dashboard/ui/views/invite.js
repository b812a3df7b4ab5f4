import { get, post } from '../api.js';
import { fill, h } from '../dom.js';
import { formatDateTime, t } from '../i18n.js';

/**
 * @typedef {import('../api.js').Failure} Failure
 * @typedef {import('./login.js').SignedIn} SignedIn
 * @typedef {import('./login.js').LoginAnswer} LoginAnswer
 * @typedef {import('../../../../shared/protocol/api/hub-self-service.js').InvitationInfo} InvitationInfo GET /invitations/:token
 */

/**
 * The page an invitation link opens (`#/invite/<token>`), before any login: whom it is for,
 * then a username and a password; accepted, the hub makes the account and the session.
 * @param {HTMLElement} view
 * @param {string} token
 * @param {SignedIn} signedIn
 */
export function renderInvite(view, token, signedIn) {
  const card = h('section.card.login', h('h1', t('invite.welcomeTitle')));
  fill(view, card);
  /** @type {Promise<InvitationInfo>} */ (get(`/invitations/${encodeURIComponent(token)}`))
    .then((info) => fill(card, acceptForm(token, info, signedIn)))
    .catch((/** @type {Failure} */ err) =>
      fill(
        card,
        h('h1', t('invite.welcomeTitle')),
        h(
          'p.error',
          { role: 'alert' },
          err.status === 404 ? t('invite.invalid') : t('error.generic', { m: err.message }),
        ),
        h('p', h('a', { href: '#/' }, t('invite.toLogin'))),
      ),
    );
}

/**
 * @param {string} token
 * @param {InvitationInfo} info
 * @param {SignedIn} signedIn
 */
function acceptForm(token, info, signedIn) {
  const message = h('p.error', { role: 'alert' });
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, value: info.username });
  /** @param {string} name */
  const password = (name) =>
    h('input', { name, type: 'password', autocomplete: 'new-password', required: true, minLength: 12 });
  const next = password('new-password');
  const again = password('confirm-password');
  /** @param {SubmitEvent} e */
  const onsubmit = async (e) => {
    e.preventDefault();
    if (next.value !== again.value) {
      message.textContent = t('password.mismatch');
      return;
    }
    try {
      /** @type {LoginAnswer} */
      const r = await post(`/invitations/${encodeURIComponent(token)}/accept`, {
        username: username.value,
        password: next.value,
      });
      // The token is spent: the address bar no longer shows it.
      window.history.replaceState(null, '', '#/');
      signedIn(r.account);
    } catch (caught) {
      const err = /** @type {Failure} */ (caught);
      message.textContent = err.details?.length
        ? err.details.map((d) => d.message).join(' ; ')
        : err.status === 404
          ? t('invite.invalid')
          : t('error.generic', { m: err.message });
    }
  };
  return h(
    'form.inline',
    { onsubmit },
    h('h1', t('invite.welcome', { name: info.name })),
    h(
      'p.muted',
      info.role === 'member' ? t('invite.asMember') : t('invite.asManager'),
      ' ',
      t('invite.until', { at: formatDateTime(info.expiresAt) }),
    ),
    h('label', t('login.username'), username),
    h('label', t('password.new'), next),
    h('label', t('password.again'), again),
    h('p.muted', t('invite.passwordRule')),
    h('button', { type: 'submit' }, t('invite.accept')),
    message,
  );
}
