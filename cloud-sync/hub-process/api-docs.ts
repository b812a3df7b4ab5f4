import type { FastifyInstance } from 'fastify';
import { serve, routesOf, type RouteContract } from '../../shared/platform/api-contract.js';
import type { ErrorCode } from '../../shared/platform/errors.js';
import { openApiDocument } from '../../shared/platform/openapi.js';
import { HubDocsRoutes } from '../../shared/protocol/api/hub-docs.js';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * What any hub route may answer besides its own errors: the authentication in front of every
 * route but the public ones (cloud-sync/hub/auth/register.ts), the cross-site refusal of a
 * state-changing request, and the database being away.
 */
function hubCommonErrors(c: RouteContract): ErrorCode[] {
  const auth: ErrorCode[] = c.public
    ? []
    : ['auth.required', 'auth.invalid', 'auth.password_change_required', 'store.unavailable'];
  return [...auth, ...(UNSAFE.has(c.method) ? (['auth.forbidden'] as const) : [])];
}

/** The hub's OpenAPI 3.1 document, from the contracts of every route registered on `app`. */
export function hubOpenApi(app: FastifyInstance) {
  return openApiDocument(routesOf(app), {
    title: 'Tessera hub API',
    version: '1',
    description:
      'Errors are JSON `{ code, message, details: [{ path, message }] }`; a code always answers with the same status.',
    securitySchemes: {
      session: { type: 'apiKey', in: 'cookie', name: 'tessera_session' },
      bearer: { type: 'http', scheme: 'bearer' },
    },
    commonErrors: hubCommonErrors,
  });
}

/** Serves, authenticated like the rest, the document at `/docs/openapi.json` and a plain page of it at `/docs`. */
export function registerApiDocs(app: FastifyInstance): void {
  let document: ReturnType<typeof hubOpenApi> | undefined;
  // Made once, on first ask: every route is registered by then (the app is ready).
  const current = () => (document ??= hubOpenApi(app));
  serve(app, HubDocsRoutes.document, () => current());
  serve(app, HubDocsRoutes.page, (_req, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .send(page(current().paths as unknown as Record<string, Record<string, Operation>>)),
  );
}

interface Operation {
  summary: string;
  operationId?: string;
  parameters?: unknown;
  requestBody?: unknown;
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** A plain page: each operation, its summary, and its parameters and body folded. */
function page(paths: Record<string, Record<string, Operation>>): string {
  const items = Object.entries(paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, o]) => {
      const detail =
        o.parameters || o.requestBody
          ? `<details><summary>schema</summary><pre>${escape(JSON.stringify({ parameters: o.parameters, requestBody: o.requestBody }, null, 2))}</pre></details>`
          : '';
      return `<li><code>${method.toUpperCase()} ${escape(path)}</code> ${escape(o.summary)}${detail}</li>`;
    }),
  );
  return `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Tessera hub API</title><body style="font-family:system-ui;max-width:60rem;margin:auto"><h1>Tessera hub API</h1><p>OpenAPI 3.1: <a href="/docs/openapi.json">/docs/openapi.json</a></p><ul>${items.join('')}</ul></body></html>`;
}
