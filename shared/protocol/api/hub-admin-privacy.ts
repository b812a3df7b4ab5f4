import { z } from 'zod';
import { Employer, Member, Plan } from '../directory.js';
import { defineRoute } from './common.js';
import { AuditEntry } from './hub-admin-audit.js';
import { StoredBadge } from './hub-admin-directory.js';
import { Buyer } from './hub-billing.js';
import { BookingRecord } from './hub-bookings.js';

/**
 * A member's personal data (`/directory/members/:id/export` and `/erase`): everything the hub
 * holds about them, and their erasure at the hub and, through the directory, at every site. A
 * member the account does not see, or one neither in the directory nor named by any event, is
 * 404 `not_found`; one whose plan reaches a site a manager does not manage, 403.
 */

/** An id out of these bounds is refused 400 ("invalid path"). */
export const MemberParams = z.object({ id: z.string().min(1).max(64) });

/** The member's id again, typed by the operator: an erasure cannot be undone, so it is never a slip. */
export const EraseBody = z.strictObject({
  confirm: z.string().max(64).describe('the id of the member to erase, as in the path'),
});
export type EraseBody = z.infer<typeof EraseBody>;

/** What a closed invoice says of one account, as billing froze it. */
const InvoiceAccount = z.strictObject({ kind: z.enum(['employer', 'member']), id: z.string(), name: z.string() });

/** `GET /directory/members/:id/export`, sent as the attachment `member-<id>.json` (and audited). */
export const MemberExport = z.strictObject({
  memberId: z.string(),
  exportedAt: z.iso.datetime(),
  /** The directory record; null for a member deleted from the directory whose events remain. */
  member: Member.nullable(),
  plan: Plan.nullable(),
  employer: Employer.nullable(),
  /** Their badges with the whole UID: their own data, for an authorised account. */
  badges: z.array(StoredBadge),
  /** The live projection: at which sites they count as in, since when (site-local time). */
  presence: z.array(z.strictObject({ site: z.string(), present: z.boolean(), since: z.string().nullable() })),
  /** Every stored event about them, as the site sent it, by site and seq. */
  events: z.array(z.unknown()),
  /** Admin changes about them or their badges (and this export), oldest first. */
  audit: z.array(AuditEntry),
  /** The lines of closed invoices and credit notes (`AV-…`) that name them, with the document they are on. */
  invoices: z.array(
    z.strictObject({
      number: z.string(),
      period: z.string(),
      account: InvoiceAccount,
      currency: z.string(),
      /** The invoice's lines about this member, every field as frozen. */
      lines: z.array(z.looseObject({ member: z.string() })),
      byMember: z.array(
        z.strictObject({ member: z.string(), name: z.string().nullable(), days: z.number(), amountCents: z.number() }),
      ),
    }),
  ),
  /** Their buyer identity for the invoices billed to them, when they are billed on their own and it is set. */
  billingIdentity: Buyer.nullable().optional(),
  /** Their bookings, of every status, oldest first. */
  bookings: z.array(BookingRecord),
  /** Refused messages that name them (kept for the operator), without the payload. */
  deadLetters: z.array(
    z.strictObject({ id: z.number().int(), topic: z.string(), reason: z.string(), at: z.iso.datetime() }),
  ),
});
export type MemberExport = z.infer<typeof MemberExport>;

/** `POST /directory/members/:id/erase`. Running it again changes nothing and says so. */
export const ErasureResult = z.strictObject({
  /** What the member is called from now on, everywhere. */
  pseudonym: z.string(),
  /** The directory revision that tells the sites (the current one when already erased). */
  revision: z.number().int().nonnegative(),
  /** Stored events rewritten under the pseudonym. */
  events: z.number().int().nonnegative(),
  /** Badges deleted from the directory. */
  badges: z.number().int().nonnegative(),
  /** Earlier audit rows whose mentions of the member were replaced. */
  auditRows: z.number().int().nonnegative(),
  /** True when the member had been erased before: nothing named them any more, nothing was changed. */
  alreadyErased: z.boolean(),
});
export type ErasureResult = z.infer<typeof ErasureResult>;

export const HubMemberPrivacyRoutes = {
  export: defineRoute({
    method: 'GET',
    url: '/directory/members/:id/export',
    operationId: 'exportMember',
    tags: ['members'],
    summary: 'Everything the hub holds about one member, as one JSON document (audited)',
    params: MemberParams,
    response: { 200: MemberExport },
    errors: ['not_found'],
  }),
  erase: defineRoute({
    method: 'POST',
    url: '/directory/members/:id/erase',
    operationId: 'eraseMember',
    tags: ['members'],
    summary: 'Erase a member: pseudonymised at the hub and every site, badges deleted; invoices kept (audited)',
    params: MemberParams,
    body: EraseBody,
    response: { 200: ErasureResult },
    errors: ['not_found', 'conflict'],
  }),
};
