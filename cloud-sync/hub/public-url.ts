import type { FastifyRequest } from 'fastify';

/**
 * Where people reach the hub, for the links it hands out (an invitation, a calendar feed): the
 * configured public URL, else the scheme and host the request came in by.
 */
export const publicBase = (req: FastifyRequest, configured: string | undefined): string =>
  configured ?? `${req.protocol}://${req.host}`;
