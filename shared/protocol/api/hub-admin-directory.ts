import { z } from 'zod';
import { NORMALISED_UID_PATTERN } from '../badge.js';
import { Badge, Employer, Member, Plan } from '../directory.js';
import { defineRoute } from './common.js';
import { PAGE_QUERY, pageOf } from './hub-admin-page.js';

/**
 * The hub's directory API (`/directory`, `/directory/:entity`, `/directory/:entity/:id`,
 * `/directory/badges/:uid/revoke`, `/directory/badges/:uid/enrol`): plans, employers, members and badges, each change one
 * revision sent to every site. A path naming no collection, or an id no entity can have, is
 * answered 404 `not_found` (never 400): the path names something that is not there.
 */

export const DIRECTORY_COLLECTIONS = ['plans', 'employers', 'members', 'badges'] as const;
export const DirectoryCollection = z.enum(DIRECTORY_COLLECTIONS);
export type DirectoryCollection = z.infer<typeof DirectoryCollection>;

/** `/directory/:entity`: any text reaches the route, which answers 404 for what is not a collection. */
export const DirectoryCollectionParams = z.object({
  entity: z.string().describe('plans, employers, members or badges; anything else is 404'),
});
/** `/directory/:entity/:id`: a badge by its UID in any usual spelling (`04:a1:…`), normalised. */
export const DirectoryEntityParams = DirectoryCollectionParams.extend({
  id: z.string().describe("the id, or a badge's UID; one no entity can have is 404"),
});
export const BadgeRevokeParams = z.object({ uid: z.string().describe('the badge UID, in any usual spelling') });

/**
 * `POST /directory/badges/:uid/enrol`: gives the badge to a member, as `tessera badge enrol`
 * does once the card is in hand. Never takes a badge from another member (409 `conflict`).
 */
export const BadgeEnrolBody = z.strictObject({
  member: z.string().min(1).max(64),
  type: Badge.shape.type,
});
export type BadgeEnrolBody = z.infer<typeof BadgeEnrolBody>;

export const DirectoryListQuery = z.strictObject({
  /** Case-insensitive substring of the id (a badge: its UID) or name (a badge: its member id). */
  q: z.string().max(200).optional(),
  ...PAGE_QUERY,
  /** Members and badges: only those of this site (members whose plan opens it, and their badges). */
  site: z.string().max(64).optional(),
  plan: z.string().max(64).optional(),
  employer: z.string().max(64).optional(),
  member: z.string().max(64).optional(),
  status: z.enum(['active', 'suspended', 'revoked']).optional(),
});
export type DirectoryListQuery = z.infer<typeof DirectoryListQuery>;

/**
 * PUT and PATCH bodies: a JSON object, checked against the collection's schema (Plan, Employer,
 * Member, Badge) once the key from the path is added (PUT) or merged over the stored value
 * (PATCH, where `null` removes an optional field). A refusal names the field at fault.
 */
export const DirectoryEntityBody = z
  .record(z.string(), z.unknown())
  .describe(
    'the entity without its key (taken from the path); on PATCH, the fields to change, null removing an optional one',
  );

/**
 * A badge as stored and answered: its UID already normalised. (Badge's own UID normalises what a
 * request sends, a one-way step an answer cannot be checked through.)
 */
export const StoredBadge = Badge.extend({ uid: z.string().regex(NORMALISED_UID_PATTERN) });
export type StoredBadge = z.infer<typeof StoredBadge>;

/** Any stored entity, as its collection's schema gives it back (defaults filled in). */
export const DirectoryEntity = z.union([Plan, Employer, Member, StoredBadge]);
export type DirectoryEntity = z.infer<typeof DirectoryEntity>;

/** `GET /directory`: what a site pins and where the directory stands. */
export const DirectoryInfo = z.strictObject({
  revision: z.number().int().nonnegative(),
  publicKey: z.string().describe("the hub's Ed25519 public key, PEM"),
});
export type DirectoryInfo = z.infer<typeof DirectoryInfo>;

/** `GET /directory/:entity`: a page of one collection, with the revision it was read at. */
export const DirectoryPage = z.strictObject({
  revision: z.number().int().nonnegative(),
  ...pageOf(DirectoryEntity).shape,
});
export type DirectoryPage = z.infer<typeof DirectoryPage>;

/** `GET /directory/:entity/:id`. */
export const DirectoryItem = z.strictObject({ item: DirectoryEntity });
export type DirectoryItem = z.infer<typeof DirectoryItem>;

/** PUT, PATCH and revoke: the entity as stored and the revision that carries it to the sites. */
export const DirectoryWrite = z.strictObject({ revision: z.number().int().positive(), value: DirectoryEntity });
export type DirectoryWrite = z.infer<typeof DirectoryWrite>;

/** `DELETE /directory/:entity/:id`: the revision that tells the sites. */
export const DirectoryRemoval = z.strictObject({ revision: z.number().int().positive() });
export type DirectoryRemoval = z.infer<typeof DirectoryRemoval>;

const ENTITY_ERRORS = ['not_found'] as const;
/** A change may also be refused for a value at fault or still referenced (400), a member id erased or an import under way (409). */
const WRITE_ERRORS = ['not_found', 'request.invalid', 'conflict'] as const;

export const HubDirectoryRoutes = {
  info: defineRoute({
    method: 'GET',
    url: '/directory',
    operationId: 'getDirectoryInfo',
    tags: ['directory'],
    summary: 'Directory revision and the hub public key',
    response: { 200: DirectoryInfo },
  }),
  list: defineRoute({
    method: 'GET',
    url: '/directory/:entity',
    operationId: 'listDirectoryEntities',
    tags: ['directory'],
    summary: 'List plans, employers, members or badges: search, filters, paging',
    description:
      'A site manager sees the plans opening their sites, and the members on them with their badges; `site` names one of theirs (else 403).',
    params: DirectoryCollectionParams,
    querystring: DirectoryListQuery,
    response: { 200: DirectoryPage },
    errors: ['not_found', 'auth.forbidden'],
  }),
  get: defineRoute({
    method: 'GET',
    url: '/directory/:entity/:id',
    operationId: 'getDirectoryEntity',
    tags: ['directory'],
    summary: 'One plan, employer, member or badge (by UID)',
    params: DirectoryEntityParams,
    response: { 200: DirectoryItem },
    errors: ENTITY_ERRORS,
  }),
  put: defineRoute({
    method: 'PUT',
    url: '/directory/:entity/:id',
    operationId: 'putDirectoryEntity',
    tags: ['directory'],
    summary: 'Create or replace one (a new directory revision, sent to every site)',
    params: DirectoryEntityParams,
    body: DirectoryEntityBody,
    response: { 200: DirectoryWrite },
    errors: WRITE_ERRORS,
  }),
  patch: defineRoute({
    method: 'PATCH',
    url: '/directory/:entity/:id',
    operationId: 'patchDirectoryEntity',
    tags: ['directory'],
    summary: 'Change some fields of one (null removes an optional field)',
    params: DirectoryEntityParams,
    body: DirectoryEntityBody,
    response: { 200: DirectoryWrite },
    errors: WRITE_ERRORS,
  }),
  remove: defineRoute({
    method: 'DELETE',
    url: '/directory/:entity/:id',
    operationId: 'deleteDirectoryEntity',
    tags: ['directory'],
    summary: 'Delete one no longer referenced',
    params: DirectoryEntityParams,
    response: { 200: DirectoryRemoval },
    errors: WRITE_ERRORS,
  }),
  revoke: defineRoute({
    method: 'POST',
    url: '/directory/badges/:uid/revoke',
    operationId: 'revokeBadge',
    tags: ['directory'],
    summary: 'Revoke a badge at every site',
    params: BadgeRevokeParams,
    response: { 200: DirectoryWrite },
    errors: WRITE_ERRORS,
  }),
  enrol: defineRoute({
    method: 'POST',
    url: '/directory/badges/:uid/enrol',
    operationId: 'enrolBadge',
    tags: ['directory'],
    summary: 'Give a badge to a member: created, or made active again when already theirs',
    description:
      'A badge of another member is refused with 409 `conflict` and left as it is: remove it from that member first. The same member enrolling the same badge again is no change but its type and an `active` status.',
    params: BadgeRevokeParams,
    body: BadgeEnrolBody,
    response: { 200: DirectoryWrite },
    errors: WRITE_ERRORS,
  }),
};
