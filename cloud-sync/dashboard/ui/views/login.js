import { post } from '../api.js';
import { fill, h } from '../dom.js';
import { t } from '../i18n.js';

/** The login form: POST /auth/login; the hub sets the session cookie. */
export function renderLogin(view, signedIn) {
  const message = h('p.error', { role: 'alert' });
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const form = h(
    'form.card.login',
    {
      onsubmit: async (e) => {
        e.preventDefault();
        message.textContent = '';
        try {
          const r = await post('/auth/login', { username: username.value, password: password.value });
          if (r.account.mustChangePassword) message.textContent = t('login.password_change');
          else signedIn(r.account);
        } catch (err) {
          message.textContent = err.status === 429 ? t('login.rate_limited', { s: err.retryAfter || 60 }) : err.status === 401 ? t('login.invalid') : t('error.generic', { m: err.message });
        }
      },
    },
    h('h1', t('login.title')),
    h('label', t('login.username'), username),
    h('label', t('login.password'), password),
    h('button', { type: 'submit' }, t('login.submit')),
    message,
  );
  fill(view, form);
}
