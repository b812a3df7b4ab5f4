import type { FastifyInstance } from 'fastify';
import { serve } from '../../../shared/platform/api-contract.js';
import { HubAuditRoutes } from '../../../shared/protocol/api/hub-admin-audit.js';
import { operatorOnly } from '../auth/guards.js';
import { registerAccountRoutes } from './account-routes.js';
import type { AdminDeps } from './deps.js';
import { registerMemberCsvRoutes } from './csv-routes.js';
import { registerDirectoryRoutes } from './directory-routes.js';
import { registerMemberPrivacyRoutes } from './privacy-routes.js';
import { registerMonitorTokenRoutes } from './monitor-token-routes.js';
import { registerSiteRoutes } from './site-routes.js';

export { AuditLog } from './audit.js';
export type { AdminDeps } from './deps.js';

/** The admin API (docs/hub.md "Admin API"): directory, sites, accounts, monitor tokens, audit, members CSV, export and erasure. Auth must already be in front. */
export function registerAdminRoutes(app: FastifyInstance, deps: AdminDeps): void {
  registerDirectoryRoutes(app, deps);
  registerSiteRoutes(app, deps);
  registerAccountRoutes(app, deps);
  registerMonitorTokenRoutes(app, deps);
  registerMemberCsvRoutes(app, deps);
  registerMemberPrivacyRoutes(app, deps);
  serve(
    app,
    HubAuditRoutes.list,
    async (req) => {
      const q = req.query;
      const { entries, total } = await deps.audit.query(q);
      return { items: entries, total, offset: q.offset, limit: q.limit };
    },
    { preValidation: operatorOnly },
  );
}
