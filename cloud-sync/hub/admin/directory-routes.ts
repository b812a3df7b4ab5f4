import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { serve } from '../../../shared/platform/api-contract.js';
import {
  DirectoryCollection,
  HubDirectoryRoutes as Routes,
  type DirectoryEntity,
} from '../../../shared/protocol/api/hub-admin-directory.js';
import { normalizeUid } from '../../../shared/protocol/badge.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import { ensureSite } from '../auth/guards.js';
import type { CollectionEntity as Entity } from '../directory.js';
import type { AdminDeps } from './deps.js';
import { DirectoryChanges } from './directory-changes.js';
import { searchDirectory } from './directory-search.js';
import { DirectoryScope, plansOpening } from './scope.js';

const ENTITY = { plans: 'plan', employers: 'employer', members: 'member', badges: 'badge' } as const satisfies Record<
  string,
  Entity
>;
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

/** One answer for a path naming nothing and for an entity not there (or not the account's to see). */
const nothingThere = () => new TesseraError('not_found', 'no such directory collection or entity');

/** The target of a path, or 404 `not_found` when it names no collection or no possible id. */
function targetOf(params: unknown): { entity: Entity; id: string } {
  const t = target(params);
  if (!t) throw nothingThere();
  return t;
}

/** Before the query or body is looked at: a path naming nothing is 404, whatever else is wrong. */
const namesSomething = { preValidation: async (req: FastifyRequest) => void targetOf(req.params) };
const keyField = (entity: Entity) => (entity === 'badge' ? 'uid' : 'id');

/**
 * Plans, employers, members and badges: list (search, paging), get, create or replace (PUT),
 * update (PATCH), delete, revoke a badge, and enrol one (never taking it from another member). Each change is one revision, sent at once to every
 * site, and one audit row in the same transaction.
 */
export function registerDirectoryRoutes(app: FastifyInstance, deps: AdminDeps): void {
  registerDirectoryReads(app, deps);
  registerDirectoryWrites(app, deps);
}

function registerDirectoryReads(app: FastifyInstance, deps: AdminDeps): void {
  const { directory, db } = deps;
  serve(app, Routes.info, async () => ({ revision: await directory.revision(db), publicKey: deps.publicKeyPem }));

  serve(
    app,
    Routes.list,
    async (req) => {
      const t = targetOf(req.params);
      const q = req.query;
      let plans = t.entity === 'employer' ? undefined : await new DirectoryScope(req.account, directory, db).plans();
      if (q.site !== undefined && t.entity !== 'employer') {
        ensureSite(req, q.site);
        const opening = await plansOpening(db, directory, q.site);
        plans = plans ? plans.filter((p) => opening.includes(p)) : opening;
      }
      const { values, total } = await searchDirectory(db, t.entity, { ...q, plans });
      // Stored values, each written through its collection's schema: the answer's schema checks them again.
      return {
        revision: await directory.revision(db),
        items: values as DirectoryEntity[],
        total,
        offset: q.offset,
        limit: q.limit,
      };
    },
    namesSomething,
  );

  serve(app, Routes.get, async (req) => {
    const t = targetOf(req.params);
    const item = await directory.get(db, t.entity, t.id);
    if (item === undefined || !(await new DirectoryScope(req.account, directory, db).sees(t.entity, item)))
      throw nothingThere();
    return { item };
  });
}

function registerDirectoryWrites(app: FastifyInstance, deps: AdminDeps): void {
  const changes = new DirectoryChanges(deps.db, deps.directory, deps.audit);
  /** Runs a change, then, once it committed, sends every site its delta. */
  const changed = async <T>(run: () => Promise<T>): Promise<T> => {
    const r = await run();
    deps.onDirectoryChange();
    return r;
  };
  const missing = (t: { entity: Entity; id: string }) =>
    new TesseraError('not_found', `no ${t.entity} ${JSON.stringify(t.id)}`);

  serve(
    app,
    Routes.put,
    (req) => {
      const t = targetOf(req.params);
      return changed(() =>
        changes.upsert(req.account, t.entity, t.id, () => ({ ...req.body, [keyField(t.entity)]: t.id })),
      );
    },
    namesSomething,
  );

  serve(
    app,
    Routes.patch,
    (req) => {
      const t = targetOf(req.params);
      return changed(() =>
        changes.upsert(req.account, t.entity, t.id, (before) => {
          if (before === undefined) throw missing(t);
          return { ...merge(before, req.body), [keyField(t.entity)]: t.id };
        }),
      );
    },
    namesSomething,
  );

  serve(app, Routes.revoke, (req) => {
    const uid = normalizeUid(req.params.uid);
    if (uid === undefined) throw new TesseraError('not_found', 'no such badge');
    const revoked = (before: unknown) => {
      if (before === undefined) throw new TesseraError('not_found', `no badge …${uid.slice(-4)}`);
      return { ...(before as object), status: 'revoked' };
    };
    return changed(() => changes.upsert(req.account, 'badge', uid, revoked, 'revoke'));
  });

  serve(app, Routes.enrol, (req) => {
    const uid = normalizeUid(req.params.uid);
    if (uid === undefined) throw new TesseraError('not_found', 'no such badge');
    return changed(() => changes.enrol(req.account, uid, req.body.member, req.body.type));
  });

  serve(app, Routes.remove, (req) => {
    const t = targetOf(req.params);
    return changed(() => changes.remove(req.account, t.entity, t.id));
  });
}
