import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseOr400, sendError } from '../../../shared/platform/http-errors.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import { SiteBody as Body, SiteListQuery, SiteParams as Params } from '../../../shared/protocol/api/hub-admin-sites.js';
import { maySeeSite } from '../auth/account.js';
import { requireOperator } from '../auth/guards.js';
import { forbidden, sendFailure, type AdminDeps } from './deps.js';

/**
 * The declared sites (HubSites: name, time zone, capacity) at `/directory/sites`. An operator
 * declares, changes and removes sites; a site manager sees and may change their own sites
 * (name, time zone, capacity), and no other.
 */
export function registerSiteRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const { sites, audit, db } = deps;
  const idOf = (req: FastifyRequest, reply: FastifyReply) => parseOr400(reply, Params, req.params, 'site')?.id;

  const save = (req: FastifyRequest, reply: FastifyReply, id: string, next: (before: object | undefined) => unknown) => {
    try {
      return db.transaction(() => {
        const before = sites.get(id);
        if (!maySeeSite(req.account, id)) throw forbidden(`this account does not manage the site ${JSON.stringify(id)}`);
        if (!before && req.account.role !== 'operator') throw forbidden('only a network operator may declare a site');
        const { value } = sites.upsert(next(before));
        audit.record(req.account, before ? 'update' : 'create', 'site', id, before ?? null, value);
        return { item: value };
      })();
    } catch (err) {
      return sendFailure(reply, err);
    }
  };

  app.get('/directory/sites', (req, reply) => {
    const q = parseOr400(reply, SiteListQuery, req.query, 'query');
    if (!q) return reply;
    const needle = q.q?.toLowerCase();
    const all = sites.list().filter((s) => maySeeSite(req.account, s.id) && (!needle || s.id.includes(needle) || s.name.toLowerCase().includes(needle)));
    return { items: all.slice(q.offset, q.offset + q.limit), total: all.length, offset: q.offset, limit: q.limit };
  });

  app.get('/directory/sites/:id', (req, reply) => {
    const id = idOf(req, reply);
    if (id === undefined) return reply;
    const item = sites.get(id);
    if (!item || !maySeeSite(req.account, id)) return sendError(reply, 'not_found', `no site ${JSON.stringify(id)}`);
    return { item };
  });

  app.put('/directory/sites/:id', (req, reply) => {
    const id = idOf(req, reply);
    const body = id === undefined ? undefined : parseOr400(reply, Body, req.body, 'body');
    if (id === undefined || !body) return reply;
    return save(req, reply, id, () => ({ ...body, id }));
  });

  app.patch('/directory/sites/:id', (req, reply) => {
    const id = idOf(req, reply);
    const body = id === undefined ? undefined : parseOr400(reply, Body, req.body, 'body');
    if (id === undefined || !body) return reply;
    return save(req, reply, id, (before) => {
      if (!before) throw new TesseraError('not_found', `no site ${JSON.stringify(id)}`);
      return { ...before, ...body, id };
    });
  });

  app.delete('/directory/sites/:id', (req, reply) => {
    const id = idOf(req, reply);
    if (id === undefined || !requireOperator(req, reply)) return reply;
    try {
      db.transaction(() => audit.record(req.account, 'delete', 'site', id, sites.remove(id), null))();
      return reply.code(204).send();
    } catch (err) {
      return sendFailure(reply, err);
    }
  });
}
