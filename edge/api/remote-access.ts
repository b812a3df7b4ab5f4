import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { TesseraError } from '../../shared/platform/errors.js';

/** 127.0.0.0/8, ::1, and IPv4 loopback mapped into IPv6. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(v4) === 4) return v4.startsWith('127.');
  return address === '::1';
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * The local API drives doors and lockers (docs/security.md): a request from anywhere but the
 * Pi itself needs `Authorization: Bearer <api.token>`; without a token in the config, every
 * non-loopback request is refused, even when `api.host` listens on the network.
 */
export function guardRemoteAccess(app: FastifyInstance, token: string | undefined): void {
  const expected = token === undefined ? undefined : digest(token);
  app.addHook('onRequest', async (req) => {
    if (isLoopback(req.socket.remoteAddress)) return;
    const given = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (expected !== undefined && given !== undefined && timingSafeEqual(digest(given), expected)) return;
    req.log.warn(
      { remote: req.socket.remoteAddress, url: req.url.split('?', 1)[0], withToken: given !== undefined },
      'local API request from the network refused',
    );
    if (expected === undefined)
      throw new TesseraError(
        'auth.forbidden',
        'this API answers only on the site itself: set api.token in the site config to allow other hosts',
      );
    throw new TesseraError(
      given === undefined ? 'auth.required' : 'auth.invalid',
      'a request from the network needs "Authorization: Bearer <api.token>"',
    );
  });
}
