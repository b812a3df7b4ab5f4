/** The hub's authentication (docs/hub.md "Accounts and authentication"): what routes and createHub use. */
export { maySeeSite } from './account.js';
export { ensureSite, operatorOnly } from './guards.js';
export { HubAuth, type InitialAdmin } from './hub-auth.js';
export { registerAuth } from './register.js';
