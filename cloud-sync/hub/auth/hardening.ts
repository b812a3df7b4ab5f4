import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TesseraError } from '../../../shared/platform/errors.js';

/** Sent on every answer of the hub; a route may set its own first (the dashboard's CSP). */
const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The origin a browser says the request comes from: Origin, else Referer's origin. */
function claimedOrigin(req: FastifyRequest): string | undefined {
  const origin = req.headers.origin ?? req.headers.referer;
  if (origin === undefined || origin === 'null') return origin;
  try {
    return new URL(origin).host;
  } catch {
    return 'unparseable';
  }
}

/**
 * Cross-site request forgery (docs/security.md): the session cookie is SameSite=Strict, so a
 * browser does not send it from another site; on top of that, a state-changing request that a
 * browser marks as coming from another origin (Origin or Referer, Sec-Fetch-Site) is refused,
 * whatever it carries. Clients that are not browsers (the CLI, curl) send none of these headers.
 */
export function crossSite(req: FastifyRequest): boolean {
  if (!UNSAFE.has(req.method)) return false;
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return true;
  const origin = claimedOrigin(req);
  return origin !== undefined && origin !== req.headers.host;
}

/** Security headers on every answer, and the cross-site refusal. Register before the auth hook. */
export function registerHardening(app: FastifyInstance): void {
  app.addHook('onRequest', async (req) => {
    if (!crossSite(req)) return;
    req.log.warn(
      {
        method: req.method,
        url: req.url.split('?', 1)[0],
        origin: req.headers.origin ?? null,
        fetchSite: req.headers['sec-fetch-site'] ?? null,
      },
      'cross-site request refused',
    );
    throw new TesseraError(
      'auth.forbidden',
      'a state-changing request from another site is refused (cross-site request forgery protection)',
    );
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS))
      if (!reply.hasHeader(name)) void reply.header(name, value);
    return payload;
  });
}
