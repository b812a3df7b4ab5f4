import { z } from 'zod';
import type { ApiRoute, RouteContract } from './api-contract.js';
import type { ErrorCode } from './errors.js';
import { ERROR_TABLE } from './error-table.js';
import { ErrorEnvelope } from './http-errors.js';

type Json = Record<string, unknown>;

export interface OpenApiDoc {
  openapi: string;
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Json>>;
  [key: string]: unknown;
}

export interface OpenApiOptions {
  title: string;
  version: string;
  description?: string;
  /** Security schemes of the API, and the one every non-public route needs. */
  securitySchemes?: Record<string, Json>;
  /** Error codes any route of this API may answer (authentication in front of it), besides its own. */
  commonErrors?: (contract: RouteContract) => readonly ErrorCode[];
}

/** JSON Schema 2020-12 (OpenAPI 3.1's dialect) of a zod schema, as a request takes it or a response gives it. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output', defs: Record<string, unknown>): Json {
  const {
    $schema: _dialect,
    $defs,
    ...rest
  } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
  // Shared or recursive parts zod lifted out go to components, where `#/...` references resolve in a document.
  for (const [name, def] of Object.entries(($defs ?? {}) as Record<string, unknown>)) {
    if (defs[name] !== undefined && JSON.stringify(defs[name]) !== JSON.stringify(def))
      throw new Error(`two schemas named ${name} in the API document`);
    defs[name] = def;
  }
  return JSON.parse(JSON.stringify(rest).replaceAll('"#/$defs/', '"#/components/schemas/')) as Json;
}

/** `/sites/:site/events` → `/sites/{site}/events`; a trailing wildcard becomes `{path}`. */
export const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}').replace(/\*$/, '{path}');
const pathNames = (url: string) => [...url.matchAll(/:(\w+)|\*$/g)].map((m) => m[1] ?? '*');

function parameters(c: RouteContract, defs: Record<string, unknown>): Json[] {
  const params = c.params ? jsonSchema(c.params, 'input', defs) : {};
  const paramProps = (params.properties ?? {}) as Record<string, Json>;
  const path = pathNames(c.url).map((name) => ({
    name: name === '*' ? 'path' : name,
    in: 'path',
    required: true,
    schema: paramProps[name] ?? { type: 'string' },
  }));
  if (!c.querystring) return path;
  const query = jsonSchema(c.querystring, 'input', defs);
  const required = new Set((query.required ?? []) as string[]);
  const queryParams = Object.entries((query.properties ?? {}) as Record<string, Json>).map(([name, schema]) => ({
    name,
    in: 'query',
    required: required.has(name),
    schema,
  }));
  return [...path, ...queryParams];
}

function requestBody(c: RouteContract, defs: Record<string, unknown>): Json | undefined {
  if (!c.body) return undefined;
  // The API parses a missing body as `{}`: a body whose every field may be left out is optional.
  return {
    required: !c.body.safeParse({}).success,
    content: { [c.consumes ?? 'application/json']: { schema: jsonSchema(c.body, 'input', defs) } },
  };
}

/** The codes a route may answer, grouped by their status in the error table. */
function errorResponses(c: RouteContract, common: readonly ErrorCode[]): Record<string, Json> {
  const codes = new Set<ErrorCode>([...common, ...(c.errors ?? []), 'internal']);
  if (c.params || c.querystring || c.body) codes.add('request.invalid');
  if (c.body) for (const code of ['request.too_large', 'request.unsupported_type'] as const) codes.add(code);
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes)
    byStatus.set(ERROR_TABLE[code].status, [...(byStatus.get(ERROR_TABLE[code].status) ?? []), code]);
  const out: Record<string, Json> = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    const retry = list.some((code) => ERROR_TABLE[code].retryAfterSeconds !== null);
    out[String(status)] = {
      description: list.map((code) => `\`${code}\`: ${ERROR_TABLE[code].meaning}`).join('; '),
      ...(retry
        ? {
            headers: {
              'Retry-After': {
                description: 'seconds after which the same request may succeed',
                schema: { type: 'integer', minimum: 1 },
              },
            },
          }
        : {}),
      content: {
        'application/json': {
          schema: { allOf: [{ $ref: '#/components/schemas/ErrorEnvelope' }, { properties: { code: { enum: list } } }] },
        },
      },
    };
  }
  return out;
}

function successResponses(c: RouteContract, defs: Record<string, unknown>): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [status, schema] of Object.entries(c.response)) {
    out[status] = schema
      ? { description: c.summary, content: { 'application/json': { schema: jsonSchema(schema, 'output', defs) } } }
      : { description: c.summary };
  }
  if (c.produces) {
    const status = Object.keys(out).find((s) => s.startsWith('2')) ?? '200';
    const content = (out[status]?.content ?? {}) as Json;
    for (const [type, other] of Object.entries(c.produces)) {
      const events = other.events
        ? {
            'x-events': Object.fromEntries(
              Object.entries(other.events).map(([name, s]) => [name, jsonSchema(s, 'output', defs)]),
            ),
          }
        : {};
      content[type] = { schema: { type: 'string', description: other.description }, ...events };
    }
    out[status] = { description: c.summary, content };
  }
  return out;
}

function operation(c: RouteContract, options: OpenApiOptions, defs: Record<string, unknown>): Json {
  const params = parameters(c, defs);
  const body = requestBody(c, defs);
  return {
    operationId: c.operationId,
    tags: [...c.tags],
    summary: c.summary,
    ...(c.description ? { description: c.description } : {}),
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(body ? { requestBody: body } : {}),
    ...(c.public ? { security: [] } : {}),
    responses: { ...successResponses(c, defs), ...errorResponses(c, options.commonErrors?.(c) ?? []) },
  };
}

/** A route registered without a contract: its path and parameters only, and no operationId. */
function undocumented(r: ApiRoute): Json {
  const path = pathNames(r.url).map((name) => ({
    name: name === '*' ? 'path' : name,
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  return {
    summary: `${r.method} ${r.url} (no contract yet)`,
    ...(path.length > 0 ? { parameters: path } : {}),
    responses: { default: { description: 'undocumented' } },
  };
}

/**
 * The OpenAPI 3.1 document of an API, made from its routes' contracts: every registered route,
 * with its parameters, body, answers and error answers. A route registered without a contract
 * still appears, with no operationId, so the test over this document catches it.
 */
export function openApiDocument(routes: readonly ApiRoute[], options: OpenApiOptions): OpenApiDoc {
  const defs: Record<string, unknown> = { ErrorEnvelope: jsonSchema(ErrorEnvelope, 'output', {}) };
  const paths: Record<string, Record<string, Json>> = {};
  for (const r of routes) {
    const op = r.contract ? operation(r.contract, options, defs) : undocumented(r);
    (paths[openApiPath(r.url)] ??= {})[r.method.toLowerCase()] = op;
  }
  const schemes = options.securitySchemes ?? {};
  return {
    openapi: '3.1.0',
    info: {
      title: options.title,
      version: options.version,
      ...(options.description ? { description: options.description } : {}),
    },
    ...(Object.keys(schemes).length > 0 ? { security: Object.keys(schemes).map((name) => ({ [name]: [] })) } : {}),
    paths,
    components: { schemas: defs, ...(Object.keys(schemes).length > 0 ? { securitySchemes: schemes } : {}) },
  };
}
