import type { FastifyInstance } from 'fastify';
import { serve } from '../../../shared/platform/api-contract.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import { HubCommandRoutes as Routes } from '../../../shared/protocol/api/hub-admin-commands.js';
import { operatorOnly } from '../auth/guards.js';
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
 * lockdown, lift, re-send or enrol request to one site (site managers get 403: operatorOnly). Each command is in the audit log (entity
 * `command`, the site as its id) before it is published; the answer says whether the broker took it.
 */
export function registerCommandRoutes(app: FastifyInstance, deps: CommandRouteDeps): void {
  serve(
    app,
    Routes.send,
    async (req, reply) => {
      const { site } = req.params;
      const request = req.body;
      if (!(await deps.sites.get(deps.db, site)) && !(await deps.store.progress(site)))
        throw new TesseraError('not_found', `no site "${site}" is declared or has been heard from`);
      if (request.kind === 'unlock' || request.kind === 'enrol') {
        const status = (await deps.store.site(site))?.status;
        if (request.kind === 'unlock') refuseUnknown(site, 'door', request.door, status?.doors);
        else refuseUnknown(site, 'reader', request.reader, status?.readers);
      }
      const signed = deps.commands.prepare(site, request);
      await deps.db.transaction((tx) =>
        deps.audit.record(tx, req.account, 'create', 'command', site, null, signed.body),
      );
      const result = await deps.commands.send(signed);
      if (!result.published) {
        throw new TesseraError(
          'sync.rejected',
          `command ${result.command.nonce} was not taken by the broker: ${result.reason}; it expires at ${result.command.expiresAt}`,
        );
      }
      reply.code(202);
      return { item: result.command, published: true as const };
    },
    { preValidation: operatorOnly },
  );
}

/**
 * Refuses an unlock of a door, or an enrol on a reader, unless the site named it in its last
 * status (its config file). A site that has not named its doors (readers) gets no unlock (enrol)
 * either: the hub would otherwise answer 202 for a device the site may not have (a site running
 * an older edge, or one never connected since, which would not get the command in time anyway).
 */
function refuseUnknown(site: string, what: 'door' | 'reader', id: string, known: readonly string[] | undefined): void {
  if (known === undefined)
    throw new TesseraError(
      'conflict',
      `site "${site}" has not reported its ${what}s yet: the hub cannot check ${what} ${JSON.stringify(id)}; try again once it is online`,
    );
  if (!known.includes(id))
    throw new TesseraError(
      'not_found',
      `site "${site}" has no ${what} ${JSON.stringify(id)} (its ${what}s: ${known.join(', ') || 'none'})`,
    );
}
