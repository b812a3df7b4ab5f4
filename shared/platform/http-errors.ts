import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import type { ErrorCode, ErrorDetail } from './errors.js';
import { describeIssues } from './validation.js';

/** Every error answer has the same shape: a stable code, a sentence, and the paths at fault. */
export function sendError(reply: FastifyReply, status: number, code: ErrorCode, message: string, details: ErrorDetail[] = []) {
  return reply.code(status).send({ code, message, details });
}

/** Parses a request part with its schema, or answers 400 with every problem and returns undefined. */
export function parseOr400<T extends z.ZodType>(reply: FastifyReply, schema: T, input: unknown, what: string): z.infer<T> | undefined {
  const r = schema.safeParse(input ?? {});
  if (r.success) return r.data;
  void sendError(reply, 400, 'request.invalid', `invalid ${what}`, describeIssues(r.error, input));
  return undefined;
}
