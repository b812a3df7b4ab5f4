import type { FastifyInstance } from 'fastify';
import { parseOr400, sendError } from '../../../shared/platform/http-errors.js';
import { CommandSiteParams as Params } from '../../../shared/protocol/api/hub-admin-commands.js';
import { CommandRequest } from '../../../shared/protocol/commands.js';
import { requireOperator } from '../auth/guards.js';
import type { CommandSender } from '../commands.js';
import type { HubDb } from '../db.js';
import type { HubSites } from '../sites.js';
import type { HubStore } from '../store.js';
import type { AuditLog } from './audit.js';

export interface CommandRouteDeps {
  db: HubDb;
  commands: CommandSender;
  audit: AuditLog;
  sites: HubSites;
  store: HubStore;
}

/**
 * `POST /sites/:site/commands` (docs/hub.md "Commands"): a network operator's remote unlock,
 * lockdown, lift or re-send request to one site. Each command is in the audit log (entity
 * `command`, the site as its id) before it is published; the answer says whether the broker took it.
 */
export function registerCommandRoutes(app: FastifyInstance, deps: CommandRouteDeps): void {
  app.post('/sites/:site/commands', async (req, reply) => {
    if (!requireOperator(req, reply)) return reply;
    const p = parseOr400(reply, Params, req.params, 'site');
    const request = p && parseOr400(reply, CommandRequest, req.body, 'command');
    if (!p || !request) return reply;
    if (!deps.sites.get(p.site) && !deps.store.progress(p.site)) return sendError(reply, 'not_found', `no site "${p.site}" is declared or has been heard from`);
    const status = request.kind === 'unlock' ? deps.store.sites().find((s) => s.site === p.site)?.status : undefined;
    const doorRefusal = request.kind === 'unlock' ? unknownDoor(p.site, request.door, status?.doors) : undefined;
    if (doorRefusal) return sendError(reply, doorRefusal.code, doorRefusal.message);
    const signed = deps.commands.prepare(p.site, request);
    deps.db.transaction(() => deps.audit.record(req.account, 'create', 'command', p.site, null, signed.body))();
    const result = await deps.commands.send(signed);
    if (!result.published) {
      return sendError(reply, 'sync.rejected', `command ${result.command.nonce} was not taken by the broker: ${result.reason}; it expires at ${result.command.expiresAt}`);
    }
    return reply.code(202).send({ item: result.command, published: true });
  });
}

/**
 * Why an unlock of `door` is refused, if it is: the doors are those the site named in its last
 * status (its config file). A site that has not named them gets no unlock either: the hub would
 * otherwise answer 202 for a door the site may not have (a site running an older edge, or one
 * never connected since, which would not get the command in time anyway).
 */
function unknownDoor(site: string, door: string, doors: readonly string[] | undefined) {
  if (doors === undefined) return { code: 'conflict' as const, message: `site "${site}" has not reported its doors yet: the hub cannot check door ${JSON.stringify(door)}; try again once it is online` };
  if (!doors.includes(door)) return { code: 'not_found' as const, message: `site "${site}" has no door ${JSON.stringify(door)} (its doors: ${doors.join(', ') || 'none'})` };
  return undefined;
}
