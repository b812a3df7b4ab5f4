import type { FastifyInstance } from 'fastify';
import type { SelfServiceDeps } from './deps.js';
import { registerEmployerRoutes } from './employer-routes.js';
import { registerInvitationRoutes } from './invitation-routes.js';
import { registerMeRoutes } from './me-routes.js';

export type { SelfServiceDeps } from './deps.js';
export { ownEmployer, ownMember } from './deps.js';
export { Mailer, type MailSettings } from './mailer.js';

/** Self-service (docs/hub.md "Roles"): invitations, a member's own page, an employer manager's staff. Auth must already be in front. */
export function registerSelfServiceRoutes(app: FastifyInstance, deps: SelfServiceDeps): void {
  registerInvitationRoutes(app, deps);
  registerMeRoutes(app, deps);
  registerEmployerRoutes(app, deps);
}
