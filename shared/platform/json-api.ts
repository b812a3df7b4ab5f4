import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifySchemaCompiler } from 'fastify';
import { serializerCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ERROR_CODES, TesseraError, type ErrorCode } from './errors.js';
import { ERROR_TABLE } from './error-table.js';
import { sendError } from './http-errors.js';
import { collectRoutes } from './api-contract.js';
import { checkUntrusted } from './check-untrusted.js';
import { describeIssues } from './validation.js';

/** The largest body any route takes unless it says otherwise (the hub's members import does), refused before parsing. */
export const API_BODY_LIMIT = 1024 * 1024;

/** How a request part is named in "invalid ..." when its schema has no title of its own. */
const PART_NAMES: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'headers' };

/**
 * Checks a request part against its route's zod schema (api-contract.ts) and hands the route the
 * parsed value (coerced, defaults filled); a failure is `request.invalid` with every problem at
 * its path, as the hand parses before it answered.
 */
const validatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => {
  const title = z.globalRegistry.get(schema)?.title;
  const what = title ?? PART_NAMES[httpPart ?? ''] ?? 'request';
  return (data: unknown) => {
    const r = checkUntrusted(schema, data ?? {});
    if (r.success) return { value: r.data };
    return { error: new TesseraError('request.invalid', `invalid ${what}`, describeIssues(r.error, data)) };
  };
};

const isErrorCode = (code: unknown): code is ErrorCode =>
  typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code);

/** fastify's own refusals (body too large, not JSON, bad content type or length) by the code of the table they are. */
function frameworkCode(status: number): ErrorCode {
  if (status === 413) return 'request.too_large';
  if (status === 415) return 'request.unsupported_type';
  if (status === 404) return 'not_found';
  return status < 500 ? 'request.invalid' : 'internal';
}

/**
 * The one error handler of the edge's and the hub's APIs: a TesseraError is answered with its
 * code's status from the error table (and Retry-After when a retry can help); fastify's own
 * refusals are mapped to a code first; anything else is a 500 `internal`, logged, its message kept
 * from the caller.
 */
function answerError(log: Logger, err: unknown, reply: FastifyReply) {
  if (err instanceof TesseraError) {
    if (ERROR_TABLE[err.code].status >= 500) log.warn({ code: err.code, msg: err.message }, 'api request failed');
    return sendError(reply, err.code, err.message, err.details, err.retryAfterSeconds);
  }
  const e = err as { statusCode?: number; code?: unknown; message?: string };
  const status = e.statusCode ?? 500;
  const code = isErrorCode(e.code) ? e.code : frameworkCode(status);
  if (ERROR_TABLE[code].status >= 500) {
    log.error({ err }, 'api error');
    return sendError(reply, code, 'internal error');
  }
  return sendError(reply, code, e.message ?? code);
}

/**
 * A fastify app whose every error answer is `{code, message, details}` with its status from the
 * error table: the edge's and the hub's APIs. Routes declared with `serve` (api-contract.ts) have
 * their requests checked and their answers serialised with their zod schemas, and are listed for
 * the OpenAPI document (openapi.ts).
 */
export function createJsonApi(log: Logger): FastifyInstance {
  const app = Fastify({
    bodyLimit: API_BODY_LIMIT,
    loggerInstance: log.child({ module: 'api' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // A path fastify cannot even decode (`/badges/%C0%AF`) is refused before routing: in our shape too.
    frameworkErrors: (err, _req, reply) => void sendError(reply, 'request.invalid', err.message),
  });
  collectRoutes(app);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((err, _req, reply) => answerError(log, err, reply));
  app.setNotFoundHandler((req, reply) => sendError(reply, 'not_found', `no route ${req.method} ${req.url}`));
  app.addHook('onSend', async (req, reply, payload) => {
    // Refused before its body was read (no session, too large): close rather than let the client
    // go on sending, since Node would otherwise read and discard the rest to keep the connection.
    if (reply.statusCode >= 400 && !req.raw.complete) void reply.header('connection', 'close');
    return payload;
  });
  return app;
}
