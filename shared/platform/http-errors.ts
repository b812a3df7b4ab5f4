import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { ERROR_CODES, type ErrorCode, type ErrorDetail } from './errors.js';
import { ERROR_TABLE } from './error-table.js';

/** Every error answer has the same shape: a stable code, a sentence, and the paths at fault. */
export const ErrorEnvelope = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  details: z.array(z.object({ path: z.string(), message: z.string() })),
});
export type ErrorEnvelope = z.infer<typeof ErrorEnvelope>;

/**
 * Writes the error envelope with the status the error table gives `code`, and its Retry-After
 * when a retry can help (unless the caller knows a sharper one). The API's error handler calls
 * this; a route or a hook throws a TesseraError instead (a few admin routes still call it).
 */
export function sendError(
  reply: FastifyReply,
  code: ErrorCode,
  message: string,
  details: ErrorDetail[] = [],
  retryAfterSeconds?: number,
) {
  const entry = ERROR_TABLE[code];
  const retry = retryAfterSeconds ?? entry.retryAfterSeconds;
  if (retry !== null && !reply.hasHeader('retry-after'))
    void reply.header('retry-after', String(Math.max(1, Math.ceil(retry))));
  const envelope: ErrorEnvelope = { code, message, details };
  return reply.code(entry.status).type('application/json; charset=utf-8').send(envelope);
}
