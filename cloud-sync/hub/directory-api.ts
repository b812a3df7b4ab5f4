import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { TesseraError } from '../../shared/errors.js';
import { sendError } from '../../edge/api/errors.js';
import type { Entity, HubDirectory } from './directory.js';

const PLURAL: Record<string, Entity> = { plans: 'plan', employers: 'employer', members: 'member', badges: 'badge' };
const Params = z.strictObject({ entity: z.enum(['plans', 'employers', 'members', 'badges']), id: z.string().min(1).max(64) });

/**
 * The directory part of the hub API: create, update, delete, and revoke badges. Each change is a
 * new revision, sent at once to every site (`onChange`).
 */
export function registerDirectoryRoutes(app: FastifyInstance, directory: HubDirectory, onChange: () => void, publicKeyPem: string): void {
  const fail = (reply: FastifyReply, err: unknown) => {
    if (!(err instanceof TesseraError)) throw err;
    return sendError(reply, err.code === 'not_found' ? 404 : 400, err.code, err.message, err.details);
  };
  const entityOf = (params: unknown) => {
    const p = Params.partial({ id: true }).safeParse(params);
    return p.success ? { entity: PLURAL[p.data.entity] as Entity, id: p.data.id } : undefined;
  };

  app.get('/directory', () => ({ revision: directory.revision(), publicKey: publicKeyPem }));
  app.get('/directory/:entity', (req, reply) => {
    const e = entityOf(req.params);
    return e ? { revision: directory.revision(), items: directory.list(e.entity) } : sendError(reply, 404, 'not_found', 'no such directory collection');
  });
  app.put('/directory/:entity/:id', (req, reply) => {
    const e = entityOf(req.params);
    if (!e?.id) return sendError(reply, 404, 'not_found', 'no such directory collection');
    const body = req.body as Record<string, unknown> | undefined;
    const key = e.entity === 'badge' ? 'uid' : 'id';
    try {
      const r = directory.upsert(e.entity, { ...body, [key]: e.id });
      onChange();
      return r;
    } catch (err) {
      return fail(reply, err);
    }
  });
  app.post('/directory/badges/:id/revoke', (req, reply) => {
    const { id } = req.params as { id: string };
    const badge = directory.get('badge', id.replace(/[\s:-]/g, '').toUpperCase());
    if (!badge) return sendError(reply, 404, 'not_found', `no badge ${id}`);
    const r = directory.upsert('badge', { ...badge, status: 'revoked' });
    onChange();
    return r;
  });
  app.delete('/directory/:entity/:id', (req, reply) => {
    const e = entityOf(req.params);
    if (!e?.id) return sendError(reply, 404, 'not_found', 'no such directory collection');
    try {
      const revision = directory.remove(e.entity, e.id);
      onChange();
      return { revision };
    } catch (err) {
      return fail(reply, err);
    }
  });
}
