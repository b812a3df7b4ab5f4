import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { Badge, Employer, Member, Plan } from '../../shared/protocol/directory.js';
import { CommandRequest } from '../../shared/protocol/commands.js';
import { PriceList } from '../billing/prices.js';
import { DeadLettersQuery, EventsQuery } from '../hub/api.js';
import { Login, PasswordChange } from '../hub/auth/register.js';
import { AlarmsQuery, HistoryQuery } from '../hub/occupancy/routes.js';
import { AccountListQuery, AccountPatch, NewAccountBody, PasswordReset } from '../../shared/protocol/api/hub-admin-accounts.js';
import { AuditQuery } from '../../shared/protocol/api/hub-admin-audit.js';
import { DirectoryListQuery as ListQuery } from '../../shared/protocol/api/hub-admin-directory.js';
import { MemberCsvQuery as ExportQuery, MemberImportQuery as ImportQuery } from '../../shared/protocol/api/hub-admin-members-csv.js';
import { EraseBody } from '../../shared/protocol/api/hub-admin-privacy.js';
import { SiteListQuery, SiteRecord } from '../../shared/protocol/api/hub-admin-sites.js';

interface RouteDoc {
  summary: string;
  query?: z.ZodType;
  body?: z.ZodType;
  /** The body is CSV text, not JSON. */
  csv?: boolean;
  /** What a success answers when it is not JSON. */
  returns?: 'text/csv' | 'text/event-stream' | 'text/plain' | 'text/html' | 'a static file';
  public?: boolean;
}

const Entity = z.union([Plan, Employer, Member, Badge]);
/** billing/api.ts's `format` query (not exported there): json by default, or a CSV file. */
const BillingFormat = z.strictObject({ format: z.enum(['json', 'csv']).default('json') });
const Partial = z.record(z.string(), z.unknown()).describe('the fields to change; null removes an optional field');

/** What each route does, by `METHOD /path` as registered. Routes not listed still appear, summarised as such. */
export const CATALOG: Readonly<Record<string, RouteDoc>> = {
  'GET /health': { summary: 'Health: MQTT connection, uptime, ingest counters', public: true },
  'POST /auth/login': { summary: 'Log in: the account, a token, and the session cookie', body: Login, public: true },
  'POST /auth/logout': { summary: 'End this session' },
  'GET /auth/me': { summary: 'The account of this session' },
  'POST /auth/password': { summary: 'Set your own password (ends your other sessions)', body: PasswordChange },
  'GET /directory': { summary: 'Directory revision and the hub public key' },
  'GET /directory/:entity': { summary: 'List plans, employers, members or badges: search, filters, paging', query: ListQuery },
  'GET /directory/:entity/:id': { summary: 'One plan, employer, member or badge (by UID)' },
  'PUT /directory/:entity/:id': { summary: 'Create or replace one (a new directory revision, sent to every site)', body: Entity },
  'PATCH /directory/:entity/:id': { summary: 'Change some fields of one', body: Partial },
  'DELETE /directory/:entity/:id': { summary: 'Delete one no longer referenced' },
  'POST /directory/badges/:uid/revoke': { summary: 'Revoke a badge at every site' },
  'GET /directory/sites': { summary: 'The declared sites', query: SiteListQuery },
  'GET /directory/sites/:id': { summary: 'One declared site' },
  'PUT /directory/sites/:id': { summary: 'Declare or replace a site (operator; a manager may change their own)', body: SiteRecord },
  'PATCH /directory/sites/:id': { summary: 'Change some fields of a site', body: Partial },
  'DELETE /directory/sites/:id': { summary: 'Forget a declared site (operator)' },
  'POST /directory/members/import': { summary: 'Import members with plans and badges from CSV: all or nothing unless mode=valid', query: ImportQuery, csv: true },
  'GET /directory/members.csv': { summary: 'Export members with their active badges as CSV', query: ExportQuery, returns: 'text/csv' },
  'GET /directory/members/:id/export': { summary: 'Everything the hub holds about one member, as one JSON document (audited)' },
  'POST /directory/members/:id/erase': { summary: 'Erase a member: pseudonymised at the hub and every site, badges deleted; invoices kept (audited)', body: EraseBody },
  'GET /accounts': { summary: 'Accounts (operator)', query: AccountListQuery },
  'POST /accounts': { summary: 'Create an account (operator)', body: NewAccountBody },
  'GET /accounts/:id': { summary: 'One account (operator)' },
  'PATCH /accounts/:id': { summary: 'Change role, sites or disabled (operator)', body: AccountPatch },
  'POST /accounts/:id/password': { summary: 'Reset a password, one-time by default (operator)', body: PasswordReset },
  'GET /audit': { summary: 'The audit log, newest first (operator)', query: AuditQuery },
  'GET /sites': { summary: 'Sites heard from: online, highest contiguous seq, missing seqs, last event, backlog, last status' },
  'GET /sites/:site/events': { summary: 'A site\'s stored events in seq order, after a seq', query: EventsQuery },
  'POST /sites/:site/commands': { summary: 'Send a site a signed command valid 60 s: unlock a door, lockdown, lift it, re-send events from a seq (operator; audited); 202 once the broker took it, 503 if not', body: CommandRequest },
  'GET /dead-letters': { summary: 'Messages ingest rejected, newest first, with why (operator)', query: DeadLettersQuery },
  'GET /occupancy': { summary: 'Live occupancy of each site (present, capacity, rate) and the network total' },
  'GET /occupancy/:site': { summary: 'Live occupancy of one site and who is in, since when' },
  'GET /occupancy/:site/history': { summary: 'Occupancy in 15-minute points over 24 h or 7 days, in UTC ms with the site time zone', query: HistoryQuery },
  'GET /site-health': { summary: 'Health of each site: online, state, problems, last event, backlog, directory, clock, open alarms' },
  'GET /site-health/:site': { summary: 'Health of one site, with its doors and readers from recent events' },
  'GET /alarms': { summary: 'Alarms newest first: open ones (active or unacknowledged), closed ones, or all', query: AlarmsQuery },
  'POST /alarms/:id/ack': { summary: 'Acknowledge an alarm (who and when; the first acknowledgement stays)' },
  'GET /events/stream': { summary: 'Live server-sent events: hello, then occupancy, event, alarm and health messages', returns: 'text/event-stream' },
  'GET /metrics': { summary: 'Prometheus metrics: occupancy, health, alarms, decisions, ingest', returns: 'text/plain' },
  'GET /docs': { summary: 'This documentation as a page', returns: 'text/html' },
  'GET /docs/openapi.json': { summary: 'This documentation, OpenAPI 3.1' },
  'GET /': { summary: 'The dashboard page', returns: 'text/html', public: true },
  'GET /ui/*': { summary: 'The dashboard\'s scripts, styles and chart library', returns: 'a static file', public: true },
  'GET /billing/prices': { summary: 'The price list (operator)' },
  'PUT /billing/prices': { summary: 'Set the price list: a tariff per plan, a price per consumable (operator)', body: PriceList },
  'GET /billing/periods': { summary: 'Billing periods, closed and open, and the month a close accepts next (operator)' },
  'GET /billing/periods/:period': { summary: 'One month: frozen if closed, else a preview; its invoice headers (operator)' },
  'GET /billing/periods/:period/invoices': { summary: 'The invoices of a month, in JSON or CSV (operator)', query: BillingFormat },
  'POST /billing/periods/:period/close': { summary: 'Close a month: number its invoices, freeze them (operator)' },
  'GET /billing/periods/:period/verify': { summary: 'Rate a closed month again and compare with what was frozen (operator)' },
  'GET /billing/invoices/:number': { summary: 'One invoice by number, in JSON or CSV (operator)', query: BillingFormat },
};

const json = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });

function operation(method: string, url: string) {
  const doc = CATALOG[`${method} ${url}`] ?? { summary: `${method} ${url} (no description yet)` };
  const params = [...url.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
  const query = doc.query ? Object.entries((json(doc.query) as { properties?: Record<string, object> }).properties ?? {}).map(([name, schema]) => ({ name, in: 'query', schema })) : [];
  const body = doc.body ? { content: { 'application/json': { schema: json(doc.body) } } } : doc.csv ? { content: { 'text/csv': { schema: { type: 'string' } } } } : undefined;
  return {
    summary: doc.summary,
    tags: [url.split('/')[1] ?? ''],
    ...(params.length + query.length > 0 ? { parameters: [...params, ...query] } : {}),
    ...(body ? { requestBody: { required: true, ...body } } : {}),
    ...(doc.public ? { security: [] } : {}),
    responses: { default: { description: `${doc.returns ?? 'JSON'}; errors are JSON { code, message, details: [{ path, message }] }` } },
  };
}

export interface ApiRoutes {
  list: Array<{ method: string; url: string }>;
}

/** Records every route registered from now on (an onRoute hook: none can be left out). Call it before any route. */
export function collectApiRoutes(app: FastifyInstance): ApiRoutes {
  const routes: ApiRoutes = { list: [] };
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) if (method !== 'HEAD') routes.list.push({ method, url: r.url });
  });
  return routes;
}

/**
 * OpenAPI 3.1 of the collected routes, with zod's JSON Schema for the bodies and queries in
 * CATALOG. Served, authenticated like the rest, at `/docs` (a page) and `/docs/openapi.json`.
 */
export function registerApiDocs(app: FastifyInstance, routes: ApiRoutes): void {
  const document = () => {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const r of routes.list) (paths[r.url.replace(/:(\w+)/g, '{$1}')] ??= {})[r.method.toLowerCase()] = operation(r.method, r.url);
    return {
      openapi: '3.1.0',
      info: { title: 'Tessera hub API', version: '1' },
      components: { securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'tessera_session' }, bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ session: [] }, { bearer: [] }],
      paths,
    };
  };
  app.get('/docs/openapi.json', () => document());
  app.get('/docs', (_req, reply) => reply.type('text/html; charset=utf-8').send(page(document().paths)));
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** A plain page: each route, its summary, and its schemas folded. */
function page(paths: Record<string, Record<string, unknown>>): string {
  const items = Object.entries(paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => {
      const o = op as { summary: string; parameters?: unknown; requestBody?: unknown };
      const detail = o.parameters || o.requestBody ? `<details><summary>schema</summary><pre>${escape(JSON.stringify({ parameters: o.parameters, requestBody: o.requestBody }, null, 2))}</pre></details>` : '';
      return `<li><code>${method.toUpperCase()} ${escape(path)}</code> ${escape(o.summary)}${detail}</li>`;
    }),
  );
  return `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Tessera hub API</title><body style="font-family:system-ui;max-width:60rem;margin:auto"><h1>Tessera hub API</h1><p>OpenAPI 3.1: <a href="/docs/openapi.json">/docs/openapi.json</a></p><ul>${items.join('')}</ul></body></html>`;
}
