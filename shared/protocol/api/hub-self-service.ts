import { z } from 'zod';
import { defineRoute } from './common.js';
import { Invoice, INVOICE_DOCUMENT, InvoiceHeader } from './hub-billing.js';
import { LoginAnswer, NewPassword, passwordIsUsername, Username } from './hub-auth.js';

/**
 * Self-service (cloud-sync/hub/self-service/): invitations to a member's or an employer's
 * manager's account, a member's own page (`/me`), a manager's view of their staff and invoices
 * (`/employer`). Routes marked `selfService` are the only ones those accounts reach; each shows
 * only what is the caller's own, or their employer's.
 */

const LinkId = z.string().min(1).max(64);
export const InvitationRole = z.enum(['member', 'employer_manager']);
export const MailLanguage = z.enum(['fr', 'en']);

export const NewInvitation = z
  .strictObject({
    role: InvitationRole,
    /** For role member: the directory member the account will be (one account per member). */
    member: LinkId.optional(),
    /** For role employer_manager: the employer whose staff and invoices the account will see. */
    employer: LinkId.optional(),
    /** Where the link is sent, when the hub has SMTP settings; else the link is only answered. */
    email: z.email().max(254).optional(),
    /** The email's language. */
    language: MailLanguage.default('fr'),
  })
  .superRefine((a, ctx) => {
    const need = a.role === 'member' ? 'member' : 'employer';
    const other = a.role === 'member' ? 'employer' : 'member';
    if (a[need] === undefined)
      ctx.addIssue({ code: 'custom', path: [need], message: `an invitation of role ${a.role} needs its ${need}` });
    if (a[other] !== undefined)
      ctx.addIssue({ code: 'custom', path: [other], message: `an invitation of role ${a.role} has no ${other}` });
  })
  .meta({ title: 'invitation' });
export type NewInvitation = z.infer<typeof NewInvitation>;

export const InvitationCreated = z.object({
  /** The one-time link: the hub's public address and `/#/invite/<token>`. Shown once: the hub keeps only the token's hash. */
  link: z.string(),
  expiresAt: z.string(),
  /** Whether the email went out; false without SMTP settings, without an address, or when sending failed. */
  emailed: z.boolean(),
});
export type InvitationCreated = z.infer<typeof InvitationCreated>;

/** Any string: a token of the wrong shape is answered as an unknown one, never told apart. */
export const InvitationParams = z.strictObject({ token: z.string().max(200) }).meta({ title: 'invitation' });

/** What a valid invitation is for, to whoever holds its link. */
export const InvitationInfo = z.object({
  role: InvitationRole,
  /** The member's name, or the employer's. */
  name: z.string(),
  /** A username that is free now, to offer. */
  username: z.string(),
  expiresAt: z.string(),
});
export type InvitationInfo = z.infer<typeof InvitationInfo>;

export const AcceptInvitation = z
  .strictObject({ username: Username, password: NewPassword })
  .superRefine((a, ctx) => {
    for (const d of passwordIsUsername(a.password, a.username, 'password'))
      ctx.addIssue({ code: 'custom', path: [d.path], message: d.message });
  })
  .meta({ title: 'account' });

/** A badge as its owner sees it: never its whole UID. */
export const MyBadge = z.object({
  uid: z.string(),
  status: z.enum(['active', 'revoked']),
  type: z.enum(['uid', 'ntag424']),
});

/** Distinct site-local days at one site. */
export const SiteDays = z.object({
  site: z.string(),
  name: z.string(),
  days: z.number().int(),
  dates: z.array(z.string()),
});

export const MyPage = z.object({
  member: z.object({
    id: z.string(),
    name: z.string(),
    status: z.enum(['active', 'suspended']),
    plan: z.object({ id: z.string(), name: z.string(), daysPerWeek: z.number().int().nullable() }),
    employer: z.object({ id: z.string(), name: z.string() }).nullable(),
  }),
  badges: z.array(MyBadge),
  locker: z.object({ bank: z.string(), number: z.number().int() }).nullable(),
  /** Days at each site over the last 30 days (a visit: a check-in or a granted entry that day). */
  visits: z.array(SiteDays),
  /**
   * This ISO week (Monday to Sunday, in `zone`: the time zone of the plan's first declared site,
   * else Europe/Paris): distinct days used, and left under the plan's days per week (null: no limit).
   */
  week: z.object({
    start: z.string(),
    zone: z.string(),
    used: z.number().int(),
    left: z.number().int().nullable(),
  }),
});
export type MyPage = z.infer<typeof MyPage>;

/** `:uid`: the badge's whole UID, or its last four hex digits as `GET /me` shows them (`…A1B2` or `A1B2`). */
export const MyBadgeParams = z.strictObject({ uid: z.string().min(1).max(40) }).meta({ title: 'badge' });
export const BadgeLost = z.object({ badge: MyBadge });

export const StaffMember = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(['active', 'suspended']),
  plan: z.string(),
  /** This month's days at each site: the site-local dates that fall in `month`. */
  month: z.array(SiteDays),
  /** Distinct days this month, all sites together. */
  daysThisMonth: z.number().int(),
  /** The last day with a visit in the last 30 days, or null. */
  lastVisit: z.string().nullable(),
});
export const StaffPage = z.object({
  employer: z.object({ id: z.string(), name: z.string() }),
  /** `YYYY-MM`, in Europe/Paris. */
  month: z.string(),
  staff: z.array(StaffMember),
});
export type StaffPage = z.infer<typeof StaffPage>;

/** The employer's closed invoices, then the credit notes correcting them (`type: 'credit-note'`, `corrects`). */
export const EmployerInvoiceList = z.object({ invoices: z.array(InvoiceHeader.extend({ period: z.string() })) });
const EmployerInvoiceParams = z.strictObject({ number: z.string().max(32) }).meta({ title: 'invoice' });

const tags = ['self-service'];

export const SelfServiceRoutes = {
  invite: defineRoute({
    method: 'POST',
    url: '/invitations',
    operationId: 'createInvitation',
    tags,
    summary: 'Invite a member or an employer’s manager (operator; a site manager for members they may change)',
    body: NewInvitation,
    response: { 201: InvitationCreated },
    errors: ['auth.forbidden', 'conflict', 'not_found'],
  }),
  invitation: defineRoute({
    method: 'GET',
    url: '/invitations/:token',
    operationId: 'getInvitation',
    tags,
    summary: 'What an invitation link is for (public: the link is the secret)',
    params: InvitationParams,
    response: { 200: InvitationInfo },
    errors: ['not_found', 'auth.rate_limited'],
    public: true,
  }),
  accept: defineRoute({
    method: 'POST',
    url: '/invitations/:token/accept',
    operationId: 'acceptInvitation',
    tags,
    summary: 'Accept an invitation: make the account and log in (public: the link is the secret)',
    params: InvitationParams,
    body: AcceptInvitation,
    response: { 200: LoginAnswer },
    errors: ['not_found', 'conflict', 'auth.rate_limited'],
    public: true,
  }),
  me: defineRoute({
    method: 'GET',
    url: '/me',
    operationId: 'getMyPage',
    tags,
    summary: 'A member’s own entry, badges, locker, visits and week (member)',
    response: { 200: MyPage },
    errors: ['auth.forbidden', 'not_found'],
    selfService: true,
  }),
  badgeLost: defineRoute({
    method: 'POST',
    url: '/me/badges/:uid/lost',
    operationId: 'declareMyBadgeLost',
    tags,
    summary: 'Declare one of your badges lost: revoked at once at every site (member)',
    params: MyBadgeParams,
    response: { 200: BadgeLost },
    errors: ['auth.forbidden', 'not_found', 'conflict'],
    selfService: true,
  }),
  staff: defineRoute({
    method: 'GET',
    url: '/employer/staff',
    operationId: 'getEmployerStaff',
    tags,
    summary: 'The employer’s staff and their days this month (employer manager)',
    response: { 200: StaffPage },
    errors: ['auth.forbidden', 'not_found'],
    selfService: true,
  }),
  invoices: defineRoute({
    method: 'GET',
    url: '/employer/invoices',
    operationId: 'listEmployerInvoices',
    tags,
    summary: 'The employer’s closed invoices and the credit notes correcting them (employer manager)',
    response: { 200: EmployerInvoiceList },
    errors: ['auth.forbidden'],
    selfService: true,
  }),
  invoice: defineRoute({
    method: 'GET',
    url: '/employer/invoices/:number',
    operationId: 'getEmployerInvoice',
    tags,
    summary: 'One of the employer’s closed invoices or credit notes (employer manager)',
    params: EmployerInvoiceParams,
    response: { 200: Invoice },
    errors: ['auth.forbidden', 'not_found'],
    selfService: true,
  }),
  invoiceDocument: defineRoute({
    method: 'GET',
    url: '/employer/invoices/:number/document',
    operationId: 'getEmployerInvoiceDocument',
    tags,
    summary:
      'The legal document of one of the employer’s invoices or credit notes: PDF, Factur-X, CII or UBL (employer manager)',
    params: EmployerInvoiceParams,
    ...INVOICE_DOCUMENT,
    selfService: true,
  }),
};
