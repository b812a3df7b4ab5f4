import { get, post, whenUnauthorized } from './api.js';
import { fill, h } from './dom.js';
import { locale, setLocale, t } from './i18n.js';
import { connect, disconnect, onChange, state } from './live.js';
import { renderAlarms } from './views/alarms.js';
import { renderBilling } from './views/billing.js';
import { renderInvoice } from './views/invoice.js';
import { renderLogin } from './views/login.js';
import { renderMembers } from './views/members.js';
import { renderOverview } from './views/overview.js';
import { renderSite } from './views/site.js';

const view = document.getElementById('view');
let leaveView = () => {};

/** Hash routes: #/ (network), #/sites/:id, #/alarms, #/members, #/billing, #/billing/invoices/:number. */
function route() {
  const path = location.hash.replace(/^#/, '') || '/';
  const site = /^\/sites\/([a-z0-9][a-z0-9-]*)$/.exec(path);
  if (site) return () => renderSite(view, site[1]);
  if (path === '/alarms') return () => renderAlarms(view);
  if (path === '/members') return () => renderMembers(view);
  const invoice = /^\/billing\/invoices\/(\d{4}-\d{6})$/.exec(path);
  if (invoice) return () => renderInvoice(view, invoice[1]);
  if (path === '/billing') return () => renderBilling(view);
  return () => renderOverview(view);
}

function show() {
  leaveView();
  leaveView = () => {};
  if (!state.account) return;
  const path = location.hash.replace(/^#/, '');
  for (const a of document.querySelectorAll('[data-nav]')) {
    const href = a.getAttribute('href').slice(1);
    a.classList.toggle('current', path === href || (href !== '/' && path.startsWith(`${href}/`)) || (a.dataset.nav === 'overview' && !location.hash));
  }
  leaveView = route()() ?? (() => {});
}

function translateShell() {
  for (const a of document.querySelectorAll('[data-nav]')) a.textContent = t(`nav.${a.dataset.nav}`);
  document.getElementById('logout').textContent = t('logout');
  document.getElementById('locale').value = locale();
  document.documentElement.lang = locale();
  showLive(state.connected);
}

function showLive(on) {
  const el = document.getElementById('live');
  el.textContent = on ? t('live.on') : t('live.off');
  el.classList.toggle('off', !on);
}

function signedIn(account) {
  state.account = account;
  document.getElementById('nav').hidden = false;
  // Billing is for network operators: the API refuses it to a site manager, the nav does not offer it.
  document.querySelector('[data-nav="billing"]').hidden = account.role !== 'operator';
  document.getElementById('logout').hidden = false;
  document.getElementById('live').hidden = false;
  connect();
  show();
}

function signedOut() {
  state.account = null;
  disconnect();
  leaveView();
  leaveView = () => {};
  document.getElementById('nav').hidden = true;
  document.getElementById('logout').hidden = true;
  document.getElementById('live').hidden = true;
  renderLogin(view, signedIn);
}

async function start() {
  translateShell();
  whenUnauthorized(signedOut);
  document.getElementById('locale').addEventListener('change', (e) => {
    setLocale(e.target.value);
    translateShell();
    if (state.account) show();
    else renderLogin(view, signedIn);
  });
  document.getElementById('logout').addEventListener('click', async () => {
    await post('/auth/logout').catch(() => {});
    signedOut();
  });
  window.addEventListener('hashchange', show);
  onChange((kind, on) => kind === 'connection' && showLive(on));
  try {
    const me = await get('/auth/me');
    // A one-time password must be replaced first: the login page leads there.
    if (me.account.mustChangePassword) return signedOut();
    signedIn(me.account);
  } catch (err) {
    if (err.status !== 401) fill(view, h('p.error', t('error.generic', { m: err.message })));
  }
}

void start();
