import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseOr400, sendError } from '../../../shared/platform/http-errors.js';
import { DirectoryCollection, DirectoryEntityBody as Body, DirectoryListQuery as ListQuery } from '../../../shared/protocol/api/hub-admin-directory.js';
import { normalizeUid } from '../../../shared/protocol/badge.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import { requireSite } from '../auth/guards.js';
import type { Entity } from '../directory.js';
import { sendFailure, type AdminDeps } from './deps.js';
import { DirectoryChanges } from './directory-changes.js';
import { searchDirectory } from './directory-search.js';
import { DirectoryScope, plansOpening } from './scope.js';

const ENTITY = { plans: 'plan', employers: 'employer', members: 'member', badges: 'badge' } as const satisfies Record<string, Entity>;
/** What `:entity` and `:id` may be for the path to name anything (else 404). */
const Params = z.object({ entity: DirectoryCollection, id: z.string().min(1).max(64) });

/** The collection and the stored key (a badge's UID normalised) of `/directory/:entity/:id`, or undefined (404). */
function target(params: unknown): { entity: Entity; id: string } | undefined {
  const p = Params.partial({ id: true }).safeParse(params);
  if (!p.success) return undefined;
  const entity = ENTITY[p.data.entity];
  if (p.data.id === undefined) return { entity, id: '' };
  const id = entity === 'badge' ? normalizeUid(p.data.id) : p.data.id;
  return id === undefined ? undefined : { entity, id };
}

/** JSON merge patch (RFC 7386) on one level: `null` removes an optional field. */
function merge(before: unknown, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...(before as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

const notFound = (reply: FastifyReply) => sendError(reply, 'not_found', 'no such directory collection or entity');
const keyField = (entity: Entity) => (entity === 'badge' ? 'uid' : 'id');

/**
 * Plans, employers, members and badges: list (search, paging), get, create or replace (PUT),
 * update (PATCH), delete, and revoke a badge. Each change is one revision, sent at once to every
 * site, and one audit row in the same transaction.
 */
export function registerDirectoryRoutes(app: FastifyInstance, deps: AdminDeps): void {
  registerDirectoryReads(app, deps);
  registerDirectoryWrites(app, deps);
}

function registerDirectoryReads(app: FastifyInstance, deps: AdminDeps): void {
  const { directory, db } = deps;
  app.get('/directory', () => ({ revision: directory.revision(), publicKey: deps.publicKeyPem }));

  app.get('/directory/:entity', (req, reply) => {
    const t = target(req.params);
    if (!t) return notFound(reply);
    const q = parseOr400(reply, ListQuery, req.query, 'query');
    if (!q) return reply;
    let plans = t.entity === 'employer' ? undefined : new DirectoryScope(req.account, directory).plans();
    if (q.site !== undefined && t.entity !== 'employer') {
      if (!requireSite(req, reply, q.site)) return reply;
      const opening = plansOpening(directory, q.site);
      plans = plans ? plans.filter((p) => opening.includes(p)) : opening;
    }
    const { values, total } = searchDirectory(db, t.entity, { ...q, plans });
    return { revision: directory.revision(), items: values, total, offset: q.offset, limit: q.limit };
  });

  app.get('/directory/:entity/:id', (req, reply) => {
    const t = target(req.params);
    const item = t && directory.get(t.entity, t.id);
    if (!t || item === undefined || !new DirectoryScope(req.account, directory).sees(t.entity, item)) return notFound(reply);
    return { item };
  });
}

function registerDirectoryWrites(app: FastifyInstance, deps: AdminDeps): void {
  const changes = new DirectoryChanges(deps.db, deps.directory, deps.audit);
  const respond = (reply: FastifyReply, run: () => unknown) => {
    try {
      const r = run();
      deps.onDirectoryChange();
      return r;
    } catch (err) {
      return sendFailure(reply, err);
    }
  };
  /** The target and the JSON object body of a PUT or PATCH, or undefined once answered. */
  const input = (req: FastifyRequest, reply: FastifyReply) => {
    const t = target(req.params);
    if (!t) return void notFound(reply);
    const body = parseOr400(reply, Body, req.body, 'body');
    return body ? { ...t, body } : undefined;
  };
  const missing = (t: { entity: Entity; id: string }) => new TesseraError('not_found', `no ${t.entity} ${JSON.stringify(t.id)}`);

  app.put('/directory/:entity/:id', (req, reply) => {
    const t = input(req, reply);
    return t ? respond(reply, () => changes.upsert(req.account, t.entity, t.id, () => ({ ...t.body, [keyField(t.entity)]: t.id }))) : reply;
  });

  app.patch('/directory/:entity/:id', (req, reply) => {
    const t = input(req, reply);
    if (!t) return reply;
    return respond(reply, () =>
      changes.upsert(req.account, t.entity, t.id, (before) => {
        if (before === undefined) throw missing(t);
        return { ...merge(before, t.body), [keyField(t.entity)]: t.id };
      }),
    );
  });

  app.post('/directory/badges/:uid/revoke', (req, reply) => {
    const uid = normalizeUid((req.params as { uid: string }).uid);
    if (uid === undefined) return sendError(reply, 'not_found', 'no such badge');
    const revoked = (before: unknown) => {
      if (before === undefined) throw new TesseraError('not_found', `no badge …${uid.slice(-4)}`);
      return { ...(before as object), status: 'revoked' };
    };
    return respond(reply, () => changes.upsert(req.account, 'badge', uid, revoked, 'revoke'));
  });

  app.delete('/directory/:entity/:id', (req, reply) => {
    const t = target(req.params);
    return t ? respond(reply, () => changes.remove(req.account, t.entity, t.id)) : notFound(reply);
  });
}
