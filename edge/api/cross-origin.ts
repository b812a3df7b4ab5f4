import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TesseraError } from '../../shared/platform/errors.js';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** `application/json`, parameters such as `; charset=utf-8` allowed, nothing else. */
function isJson(contentType: string | undefined): boolean {
  return contentType?.split(';', 1)[0]?.trim().toLowerCase() === 'application/json';
}

/** The API's own origin as the browser addressed it: `http://` and the Host header. */
const ownOrigin = (req: FastifyRequest) => (req.headers.host === undefined ? undefined : `http://${req.headers.host}`);

/**
 * The local API opens doors and releases lockers, and a web page in a browser on the site's
 * network can make that browser post to 127.0.0.1. A browser lets another origin send a form or a
 * no-cors request (form, text or multipart body, or none) but never `application/json` without a
 * CORS preflight, which this API does not answer; and it names the page's origin in `Origin`.
 * So a request that changes anything must say it comes from this API's own origin, or else carry
 * a JSON body and no other origin. Programs (curl, the simulator, printers) send JSON.
 */
export function refuseCrossOriginWrites(app: FastifyInstance): void {
  app.addHook('onRequest', async (req) => {
    if (!UNSAFE.has(req.method)) return;
    const origin = req.headers.origin;
    if (origin !== undefined ? origin === ownOrigin(req) : isJson(req.headers['content-type'])) return;
    req.log.warn(
      { method: req.method, url: req.url.split('?', 1)[0], origin: origin?.slice(0, 100) ?? null },
      'local API write from another origin refused',
    );
    throw new TesseraError(
      'auth.forbidden',
      `${req.method} needs a JSON body ("content-type: application/json") and no Origin but this API's own`,
    );
  });
}
