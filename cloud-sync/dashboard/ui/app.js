import { get, post, whenUnauthorized } from './api.js';
import { byId, fill, h } from './dom.js';
import { locale, setLocale, t } from './i18n.js';
import { connect, disconnect, onChange, state } from './live.js';
import { renderAlarms } from './views/alarms.js';
import { renderBilling } from './views/billing.js';
import { renderInvoice } from './views/invoice.js';
import { renderLogin } from './views/login.js';
import { renderMembers } from './views/members.js';
import { renderOverview } from './views/overview.js';
import { renderSite } from './views/site.js';

/**
 * @typedef {import('./api.js').Failure} Failure
 * @typedef {import('./live.js').Account} Account
 * @typedef {import('./views/login.js').Me} Me
 */

const view = byId('view');
let leaveView = () => {};

/**
 * Hash routes: #/ (network), #/sites/:id, #/alarms, #/members, #/billing, #/billing/invoices/:number.
 * @returns {() => (() => void) | undefined} that draws the page, and returns what leaving it undoes
 */
function route() {
  const path = location.hash.replace(/^#/, '') || '/';
  const site = /^\/sites\/([a-z0-9][a-z0-9-]*)$/.exec(path);
  if (site) return () => renderSite(view, /** @type {string} */ (site[1]));
  if (path === '/alarms') return () => renderAlarms(view);
  if (path === '/members') return () => renderMembers(view);
  const invoice = /^\/billing\/invoices\/(\d{4}-\d{6})$/.exec(path);
  if (invoice) return () => renderInvoice(view, /** @type {string} */ (invoice[1]));
  if (path === '/billing') return () => renderBilling(view);
  return () => renderOverview(view);
}

function show() {
  leaveView();
  leaveView = () => {};
  if (!state.account) return;
  const path = location.hash.replace(/^#/, '');
  for (const a of navLinks()) {
    const href = (a.getAttribute('href') ?? '').slice(1);
    a.classList.toggle(
      'current',
      path === href ||
        (href !== '/' && path.startsWith(`${href}/`)) ||
        (a.dataset.nav === 'overview' && !location.hash),
    );
  }
  leaveView = route()() ?? (() => {});
}

/** The links of the nav bar (index.html), each with its page in `data-nav`. */
const navLinks = () => /** @type {NodeListOf<HTMLAnchorElement>} */ (document.querySelectorAll('[data-nav]'));
const localeSelect = () => /** @type {HTMLSelectElement} */ (byId('locale'));

function translateShell() {
  for (const a of navLinks()) a.textContent = t(`nav.${a.dataset.nav}`);
  byId('logout').textContent = t('logout');
  localeSelect().value = locale();
  document.documentElement.lang = locale();
  showLive(state.connected);
}

/** @param {boolean} on */
function showLive(on) {
  const el = byId('live');
  el.textContent = on ? t('live.on') : t('live.off');
  el.classList.toggle('off', !on);
}

/** @param {Account} account */
function signedIn(account) {
  state.account = account;
  byId('nav').hidden = false;
  // Billing is for network operators: the API refuses it to a site manager, the nav does not offer it.
  /** @type {HTMLElement} */ (document.querySelector('[data-nav="billing"]')).hidden = account.role !== 'operator';
  byId('logout').hidden = false;
  byId('live').hidden = false;
  connect();
  show();
}

function signedOut() {
  state.account = null;
  disconnect();
  leaveView();
  leaveView = () => {};
  byId('nav').hidden = true;
  byId('logout').hidden = true;
  byId('live').hidden = true;
  renderLogin(view, signedIn);
}

async function start() {
  translateShell();
  whenUnauthorized(signedOut);
  localeSelect().addEventListener('change', () => {
    setLocale(localeSelect().value);
    translateShell();
    if (state.account) show();
    else renderLogin(view, signedIn);
  });
  byId('logout').addEventListener('click', async () => {
    await post('/auth/logout').catch(() => {});
    signedOut();
  });
  window.addEventListener('hashchange', show);
  onChange((change) => change.kind === 'connection' && showLive(change.data));
  try {
    /** @type {Me} */
    const me = await get('/auth/me');
    // A one-time password must be replaced first: the login page leads there.
    if (me.account.mustChangePassword) return signedOut();
    signedIn(me.account);
  } catch (caught) {
    const err = /** @type {Failure} */ (caught);
    if (err.status !== 401) fill(view, h('p.error', t('error.generic', { m: err.message })));
  }
}

void start();
