import type { FastifyInstance, FastifyRequest } from 'fastify';
import { serve } from '../../../shared/platform/api-contract.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import { HubDeclaredSiteRoutes as Routes, type SiteItem } from '../../../shared/protocol/api/hub-admin-sites.js';
import { maySeeSite } from '../auth/account.js';
import { ensureOperator } from '../auth/guards.js';
import { forbidden, type AdminDeps } from './deps.js';

const noSite = (id: string) => new TesseraError('not_found', `no site ${JSON.stringify(id)}`);

/**
 * The declared sites (HubSites: name, time zone, capacity) at `/directory/sites`. An operator
 * declares, changes and removes sites; a site manager sees and may change their own sites
 * (name, time zone, capacity), and no other.
 */
export function registerSiteRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const { sites, audit, db } = deps;

  /** Stores `next(before)` as site `id`, with its audit row, if the account may change it. */
  const save = (req: FastifyRequest, id: string, next: (before: object | undefined) => unknown): Promise<SiteItem> =>
    db.transaction(async (tx) => {
      const before = await sites.get(tx, id);
      if (!maySeeSite(req.account, id)) throw forbidden(`this account does not manage the site ${JSON.stringify(id)}`);
      if (!before && req.account.role !== 'operator') throw forbidden('only a network operator may declare a site');
      const { value } = await sites.upsert(tx, next(before));
      await audit.record(tx, req.account, before ? 'update' : 'create', 'site', id, before ?? null, value);
      return { item: value };
    });

  serve(app, Routes.list, async (req) => {
    const q = req.query;
    const needle = q.q?.toLowerCase();
    const all = (await sites.list(db)).filter(
      (s) =>
        maySeeSite(req.account, s.id) && (!needle || s.id.includes(needle) || s.name.toLowerCase().includes(needle)),
    );
    return { items: all.slice(q.offset, q.offset + q.limit), total: all.length, offset: q.offset, limit: q.limit };
  });

  serve(app, Routes.get, async (req) => {
    const { id } = req.params;
    const item = await sites.get(db, id);
    if (!item || !maySeeSite(req.account, id)) throw noSite(id);
    return { item };
  });

  serve(app, Routes.put, (req) => save(req, req.params.id, () => ({ ...req.body, id: req.params.id })));

  serve(app, Routes.patch, (req) =>
    save(req, req.params.id, (before) => {
      if (!before) throw noSite(req.params.id);
      return { ...before, ...req.body, id: req.params.id };
    }),
  );

  serve(app, Routes.remove, async (req, reply) => {
    // The id is checked first (400), then the role (403): a delete is the operator's alone.
    ensureOperator(req);
    const { id } = req.params;
    await db.transaction(async (tx) =>
      audit.record(tx, req.account, 'delete', 'site', id, await sites.remove(tx, id), null),
    );
    return reply.code(204).send();
  });
}
