import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/platform/clock.js';
import type { HubAuth } from '../hub/auth/index.js';
import { sessionToken } from '../hub/auth/register.js';
import type { HubLive } from '../hub/occupancy/live.js';
import { registerDashboardFiles, type DashboardAssets } from './static.js';
import { registerEventStream } from './stream.js';

/** The operator's dashboard on the hub API: its static files at `/` and `/ui/`, and the live stream. */
export function registerDashboard(
  app: FastifyInstance,
  deps: { live: HubLive; auth: HubAuth; clock: Clock; log: Logger; assets: DashboardAssets },
): void {
  registerDashboardFiles(app, deps.assets);
  registerEventStream(app, {
    ...deps,
    sessionValid: async (req) => {
      const token = sessionToken(req);
      return token !== undefined && (await deps.auth.sessionAccount(token)) !== undefined;
    },
  });
}
