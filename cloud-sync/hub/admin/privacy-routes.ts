import type { FastifyInstance, FastifyReply } from 'fastify';
import { parseOr400, sendError } from '../../../shared/platform/http-errors.js';
import { EraseBody, MemberParams } from '../../../shared/protocol/api/hub-admin-privacy.js';
import { sendFailure, type AdminDeps } from './deps.js';
import { MemberErasure } from './member-erasure.js';
import { exportMember } from './member-export.js';


/**
 * A member's personal data (docs/hub.md "Members' personal data"): the export of everything the
 * hub holds about them, and their erasure at the hub and, through the directory, at every site.
 * An operator may do both for any member, a site manager for the members they see.
 */
export function registerMemberPrivacyRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const erasure = new MemberErasure({ db: deps.db, directory: deps.directory, audit: deps.audit, now: deps.now });
  const memberId = (params: unknown, reply: FastifyReply) => parseOr400(reply, MemberParams, params, 'path')?.id;

  app.get('/directory/members/:id/export', (req, reply) => {
    const id = memberId(req.params, reply);
    if (id === undefined) return reply;
    try {
      const doc = exportMember({ db: deps.db, directory: deps.directory, audit: deps.audit, now: deps.now }, req.account, id);
      return reply.header('content-disposition', `attachment; filename="member-${id}.json"`).send(doc);
    } catch (err) {
      return sendFailure(reply, err);
    }
  });

  app.post('/directory/members/:id/erase', (req, reply) => {
    const id = memberId(req.params, reply);
    if (id === undefined) return reply;
    const body = parseOr400(reply, EraseBody, req.body, 'body');
    if (!body) return reply;
    if (body.confirm !== id) return sendError(reply, 'request.invalid', 'an erasure cannot be undone: confirm it with { "confirm": "<the member id>" }', [{ path: 'confirm', message: `expected ${JSON.stringify(id)}` }]);
    try {
      const result = erasure.erase(req.account, id);
      if (!result.alreadyErased) {
        deps.log.info({ pseudonym: result.pseudonym, events: result.events, badges: result.badges, by: req.account.username }, 'member erased');
        deps.onMemberErased?.();
        deps.onDirectoryChange();
      }
      return result;
    } catch (err) {
      return sendFailure(reply, err);
    }
  });
}
