import { z } from 'zod';
import { TimeZone } from '../schedule.js';
import { SITE_ID_PATTERN } from '../topics.js';
import { defineRoute } from './common.js';
import { PAGE_QUERY, pageOf } from './hub-admin-page.js';

/**
 * The sites the network operator declares (`/directory/sites`): name, time zone and, until the
 * site reports its own, a capacity. A site manager sees and changes their own sites only.
 */
export const SiteRecord = z.strictObject({
  id: z.string().regex(SITE_ID_PATTERN, { error: 'expected a site id of lowercase letters, digits and "-"' }),
  name: z.string().min(1).max(200),
  timeZone: TimeZone,
  /**
   * Deprecated: the site's config file is the one source of its capacity, which it reports in its
   * status and which the hub shows. This is only shown until a site has reported its own.
   */
  capacity: z.number().int().positive().optional(),
});
export type SiteRecord = z.infer<typeof SiteRecord>;

/** `/directory/sites/:id`; an id out of these bounds is refused 400 ("invalid site"). */
export const DeclaredSiteParams = z.strictObject({ id: z.string().min(1).max(64) }).meta({ title: 'site' });

export const SiteListQuery = z.strictObject({
  /** A site whose id, or name ignoring case, contains this. */
  q: z.string().max(200).optional(),
  ...PAGE_QUERY,
});
export type SiteListQuery = z.infer<typeof SiteListQuery>;

/**
 * PUT: the site without its id (the path's); PATCH: the fields to change. Any JSON object passes
 * here; the merged site is then checked against SiteRecord, each field at fault named.
 */
export const SiteBody = z
  .record(z.string(), z.unknown())
  .describe('name, timeZone, capacity: all on PUT, those to change on PATCH');

/** `GET /directory/sites`. */
export const SitePage = pageOf(SiteRecord);
export type SitePage = z.infer<typeof SitePage>;

/** `GET`, `PUT` and `PATCH /directory/sites/:id`: the site as stored. (`DELETE` answers 204, no body.) */
export const SiteItem = z.strictObject({ item: SiteRecord });
export type SiteItem = z.infer<typeof SiteItem>;

export const HubDeclaredSiteRoutes = {
  list: defineRoute({
    method: 'GET',
    url: '/directory/sites',
    operationId: 'listDeclaredSites',
    tags: ['sites'],
    summary: 'The declared sites (a site manager: their own)',
    querystring: SiteListQuery,
    response: { 200: SitePage },
  }),
  get: defineRoute({
    method: 'GET',
    url: '/directory/sites/:id',
    operationId: 'getDeclaredSite',
    tags: ['sites'],
    summary: 'One declared site',
    params: DeclaredSiteParams,
    response: { 200: SiteItem },
    errors: ['not_found'],
  }),
  put: defineRoute({
    method: 'PUT',
    url: '/directory/sites/:id',
    operationId: 'putDeclaredSite',
    tags: ['sites'],
    summary: 'Declare or replace a site (operator; a manager may change their own)',
    params: DeclaredSiteParams,
    body: SiteBody,
    response: { 200: SiteItem },
  }),
  patch: defineRoute({
    method: 'PATCH',
    url: '/directory/sites/:id',
    operationId: 'patchDeclaredSite',
    tags: ['sites'],
    summary: 'Change some fields of a site',
    params: DeclaredSiteParams,
    body: SiteBody,
    response: { 200: SiteItem },
    errors: ['not_found'],
  }),
  remove: defineRoute({
    method: 'DELETE',
    url: '/directory/sites/:id',
    operationId: 'deleteDeclaredSite',
    tags: ['sites'],
    summary: 'Forget a declared site (operator; its events stay)',
    params: DeclaredSiteParams,
    response: { 204: null },
    errors: ['not_found'],
  }),
};
