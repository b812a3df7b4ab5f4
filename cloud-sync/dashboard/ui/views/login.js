import { get, post } from '../api.js';
import { fill, h } from '../dom.js';
import { t } from '../i18n.js';

/**
 * @typedef {import('../api.js').Failure} Failure
 * @typedef {import('../live.js').Account} Account
 * @typedef {import('../../../../shared/protocol/api/hub-auth.js').LoginAnswer} LoginAnswer POST /auth/login
 * @typedef {import('../../../../shared/protocol/api/hub-auth.js').MyAccount} Me GET /auth/me
 * @typedef {(account: Account) => void} SignedIn
 */

/** @param {Failure} err */
const errorText = (err) =>
  err.status === 429
    ? t('login.rate_limited', { s: err.retryAfter || 60 })
    : err.status === 401
      ? t('login.invalid')
      : t('error.generic', { m: err.message });

/**
 * The login form: POST /auth/login; the hub sets the session cookie.
 * @param {HTMLElement} view
 * @param {SignedIn} signedIn
 */
export function renderLogin(view, signedIn) {
  const message = h('p.error', { role: 'alert' });
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  /** @param {SubmitEvent} e */
  const submit = async (e) => {
    e.preventDefault();
    message.textContent = '';
    try {
      /** @type {LoginAnswer} */
      const r = await post('/auth/login', { username: username.value, password: password.value });
      if (r.account.mustChangePassword) renderPasswordChange(view, password.value, signedIn);
      else signedIn(r.account);
    } catch (err) {
      message.textContent = errorText(/** @type {Failure} */ (err));
    }
  };
  fill(
    view,
    h(
      'form.card.login',
      { onsubmit: submit },
      h('h1', t('login.title')),
      h('label', t('login.username'), username),
      h('label', t('login.password'), password),
      h('button', { type: 'submit' }, t('login.submit')),
      message,
    ),
  );
}

/**
 * A one-time password (first start, or set by an operator) must be replaced before anything else: POST /auth/password.
 * @param {HTMLElement} view
 * @param {string} currentPassword
 * @param {SignedIn} signedIn
 */
function renderPasswordChange(view, currentPassword, signedIn) {
  const message = h('p.error', { role: 'alert' });
  const next = h('input', {
    name: 'new-password',
    type: 'password',
    autocomplete: 'new-password',
    required: true,
    minLength: 10,
  });
  const again = h('input', {
    name: 'confirm-password',
    type: 'password',
    autocomplete: 'new-password',
    required: true,
    minLength: 10,
  });
  /** @param {SubmitEvent} e */
  const submit = async (e) => {
    e.preventDefault();
    if (next.value !== again.value) {
      message.textContent = t('password.mismatch');
      return;
    }
    try {
      await post('/auth/password', { currentPassword, newPassword: next.value });
      signedIn(/** @type {Me} */ (await get('/auth/me')).account);
    } catch (caught) {
      const err = /** @type {Failure} */ (caught);
      message.textContent =
        err.code === 'request.invalid' ? (err.details?.[0]?.message ?? err.message) : errorText(err);
    }
  };
  fill(
    view,
    h(
      'form.card.login',
      { onsubmit: submit },
      h('h1', t('password.title')),
      h('p.muted', t('password.why')),
      h('label', t('password.new'), next),
      h('label', t('password.again'), again),
      h('button', { type: 'submit' }, t('password.submit')),
      message,
    ),
  );
}
