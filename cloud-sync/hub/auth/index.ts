/** The hub's authentication (docs/hub.md "Accounts and authentication"): what routes and createHub use. */
export { maySeeSite, type Account, type AccountRole } from './account.js';
export type { AccountRecord } from './accounts.js';
export { ensureOperator, ensureSite, operatorOnly, requireOperator, requireSite } from './guards.js';
export { HubAuth, type InitialAdmin } from './hub-auth.js';
export { registerAuth, SESSION_COOKIE } from './register.js';
