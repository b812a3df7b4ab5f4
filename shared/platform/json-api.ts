import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { TesseraError } from './errors.js';
import { sendError } from './http-errors.js';

/** The largest body any route takes unless it says otherwise (the hub's members import does), refused before parsing. */
export const API_BODY_LIMIT = 1024 * 1024;

/** A fastify app whose every error answer is `{code, message, details}`: the edge's and the hub's APIs. */
export function createJsonApi(log: Logger): FastifyInstance {
  const app = Fastify({
    bodyLimit: API_BODY_LIMIT,
    loggerInstance: log.child({ module: 'api' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // A path fastify cannot even decode (`/badges/%C0%AF`) is refused before routing: in our shape too.
    frameworkErrors: (err, _req, reply) => void sendError(reply, 400, 'request.invalid', err.message),
  });
  app.setErrorHandler((err: { statusCode?: number; message: string }, _req, reply) => {
    // Bad input found below the route (the store refusing a value): the caller's error, with its code.
    if (err instanceof TesseraError && err.code === 'request.invalid') return sendError(reply, 400, err.code, err.message, err.details);
    const status = err.statusCode ?? 500;
    if (status >= 500) log.error({ err }, 'api error');
    return sendError(reply, status, status < 500 ? 'request.invalid' : 'internal', status < 500 ? err.message : 'internal error');
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, 404, 'not_found', `no route ${req.method} ${req.url}`));
  app.addHook('onSend', async (req, reply, payload) => {
    // Refused before its body was read (no session, too large): close rather than let the client
    // go on sending, since Node would otherwise read and discard the rest to keep the connection.
    if (reply.statusCode >= 400 && !req.raw.complete) void reply.header('connection', 'close');
    return payload;
  });
  return app;
}
