import type { FastifyInstance } from 'fastify';
import { serve } from '../../../shared/platform/api-contract.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import { HubMemberPrivacyRoutes as Routes } from '../../../shared/protocol/api/hub-admin-privacy.js';
import type { AdminDeps } from './deps.js';
import { MemberErasure } from './member-erasure.js';
import { exportMember } from './member-export.js';

/**
 * A member's personal data (docs/hub.md "Members' personal data"): the export of everything the
 * hub holds about them, and their erasure at the hub and, through the directory, at every site.
 * An operator may do both for any member, a site manager for the members they see.
 */
export function registerMemberPrivacyRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const erasure = new MemberErasure({ db: deps.db, directory: deps.directory, audit: deps.audit, now: deps.now });

  serve(app, Routes.export, async (req, reply) => {
    const { id } = req.params;
    const doc = await exportMember(deps, req.account, id);
    void reply.header('content-disposition', `attachment; filename="member-${id}.json"`);
    return doc;
  });

  serve(app, Routes.erase, async (req) => {
    const { id } = req.params;
    if (req.body.confirm !== id) {
      throw new TesseraError(
        'request.invalid',
        'an erasure cannot be undone: confirm it with { "confirm": "<the member id>" }',
        [{ path: 'confirm', message: `expected ${JSON.stringify(id)}` }],
      );
    }
    const result = await erasure.erase(req.account, id);
    if (!result.alreadyErased) {
      deps.log.info(
        { pseudonym: result.pseudonym, events: result.events, badges: result.badges, by: req.account.username },
        'member erased',
      );
      await deps.onMemberErased?.();
      deps.onDirectoryChange();
    }
    return result;
  });
}
