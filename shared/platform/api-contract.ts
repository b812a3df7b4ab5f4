import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { z } from 'zod';
import type { ErrorCode } from './errors.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What an answer that is not JSON holds (a CSV file, a page, a stream), by content type. */
export interface OtherContent {
  description: string;
  /** For a stream of server-sent events: the schema of each event's data, by event name. */
  events?: Readonly<Record<string, z.ZodType>>;
}

/**
 * One route of an API, as the wire sees it: its path, what it takes, what it answers, and the
 * error codes it may answer besides those every route of its API may (the API's own list:
 * openapi.ts). Declared in shared/protocol/api/, served with `serve`, documented from the same.
 */
export interface RouteContract {
  method: HttpMethod;
  /** fastify's form: `/sites/:site/events`, a trailing `*` for the rest of the path. */
  url: string;
  operationId: string;
  tags: readonly string[];
  summary: string;
  description?: string;
  params?: z.ZodType;
  querystring?: z.ZodType;
  body?: z.ZodType;
  /** The request body's content type when it is not JSON (`text/csv`). */
  consumes?: string;
  /** JSON answers by success status, checked and serialised with their schema; null for no body (204). */
  response: Readonly<Partial<Record<200 | 201 | 202 | 204 | 304, z.ZodType | null>>>;
  /** Answers sent as is rather than JSON, by content type (documented only). */
  produces?: Readonly<Record<string, OtherContent>>;
  /** Error codes this route answers itself; their statuses come from the error table. */
  errors?: readonly ErrorCode[];
  /** Needs no session or token. */
  public?: boolean;
  /**
   * Members' and employers' managers' accounts may call it too (the handler shows them only what
   * is theirs). Without it a route is for the network's staff alone: the hub's auth refuses those
   * accounts before the handler runs.
   */
  selfService?: boolean;
}

/** Declares a route contract, keeping its schemas' types for `serve`. */
export const defineRoute = <const C extends RouteContract>(contract: C): C => contract;

type Parsed<S> = S extends z.ZodType ? z.output<S> : unknown;
type JsonAnswer<C extends RouteContract> = {
  [K in keyof C['response']]: C['response'][K] extends z.ZodType ? z.output<C['response'][K]> : never;
}[keyof C['response']];

/** The request as a route handler sees it: params, query and body already parsed by its schemas. */
export type RouteRequest<C extends RouteContract> = FastifyRequest & {
  params: Parsed<C['params']>;
  query: Parsed<C['querystring']>;
  body: Parsed<C['body']>;
};

/** A handler answers its JSON success value, or the reply once it sent something else (CSV, 204), or nothing once it took the socket (a stream). */
type Answer<C extends RouteContract> = JsonAnswer<C> | FastifyReply | void;
export type RouteHandler<C extends RouteContract> = (
  req: RouteRequest<C>,
  reply: FastifyReply,
) => Answer<C> | Promise<Answer<C>>;

/** Route options besides the contract: hooks before validation (an operator check), a larger body limit. */
export type RouteExtras = Omit<RouteOptions, 'method' | 'url' | 'schema' | 'handler'>;

const CONTRACT = Symbol('route contract');

/**
 * Registers `handler` for `contract`: fastify checks params, query and body with its schemas
 * (a failure is 400 `request.invalid` with paths) and serialises JSON answers with its response
 * schemas. Errors are thrown as TesseraError; the API's error handler picks the status.
 */
export function serve<C extends RouteContract>(
  app: FastifyInstance,
  contract: C,
  handler: RouteHandler<C>,
  extras: RouteExtras = {},
): void {
  const response: Record<number, z.ZodType> = {};
  for (const [status, schema] of Object.entries(contract.response)) if (schema) response[Number(status)] = schema;
  app.route({
    ...extras,
    method: contract.method,
    url: contract.url,
    schema: {
      ...(contract.params ? { params: contract.params } : {}),
      ...(contract.querystring ? { querystring: contract.querystring } : {}),
      ...(contract.body ? { body: contract.body } : {}),
      response,
    },
    config: { ...(extras.config as object | undefined), [CONTRACT]: contract } as RouteOptions['config'],
    handler: handler as unknown as RouteOptions['handler'],
  });
}

/** A registered route: its method and path, and its contract when it was served with one. */
export interface ApiRoute {
  method: string;
  url: string;
  contract: RouteContract | undefined;
}

const ROUTES = new WeakMap<FastifyInstance, ApiRoute[]>();

/** Records every route registered on `app` from now on (an onRoute hook: none can be left out). createJsonApi calls it. */
export function collectRoutes(app: FastifyInstance): void {
  const routes: ApiRoute[] = [];
  ROUTES.set(app, routes);
  app.addHook('onRoute', (r) => {
    const contract = (r.config as Record<symbol, RouteContract | undefined> | undefined)?.[CONTRACT];
    for (const method of [r.method].flat()) if (method !== 'HEAD') routes.push({ method, url: r.url, contract });
  });
}

/** The contract a request's route was served with, if it was (read by the auth hook). */
export function contractOf(req: FastifyRequest): RouteContract | undefined {
  return (req.routeOptions.config as unknown as Record<symbol, RouteContract | undefined> | undefined)?.[CONTRACT];
}

/** The routes registered on an app made by createJsonApi. */
export const routesOf = (app: FastifyInstance): readonly ApiRoute[] => ROUTES.get(app) ?? [];
