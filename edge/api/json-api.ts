import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { TesseraError } from '../../shared/errors.js';
import { sendError } from './errors.js';

/** A fastify app whose every error answer is `{code, message, details}`: the edge's and the hub's APIs. */
export function createJsonApi(log: Logger): FastifyInstance {
  const app = Fastify({
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
  return app;
}
