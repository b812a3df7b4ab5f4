import { z } from 'zod';
import { defineRoute } from './common.js';
import { PAGE_QUERY, pageOf } from './hub-admin-page.js';
import { AccountRecord, NewPassword, passwordIsUsername, Role, SiteList, Username } from './hub-auth.js';

/** The hub's accounts (`/accounts`), the network operator's alone. An account's fields and password rule: hub-auth.ts. */

/** `/accounts/:id`; an id out of these bounds is refused 400 ("invalid account"). */
export const AccountParams = z.strictObject({ id: z.string().min(1).max(64) }).meta({ title: 'account' });

export const AccountListQuery = z.strictObject({
  /** An account whose username contains this, ignoring case. */
  q: z.string().max(64).optional(),
  ...PAGE_QUERY,
});
export type AccountListQuery = z.infer<typeof AccountListQuery>;

export const NewAccountBody = z
  .strictObject({
    username: Username,
    role: Role,
    /** A site manager needs one at least (refused 400 at `sites` otherwise); ignored for an operator. */
    sites: SiteList.default([]),
    /** A member's account: their directory entry, which must exist and have no account yet. Only for role member. */
    member: z.string().min(1).max(64).optional(),
    /** An employer's manager: the employer, which must exist. Only for role employer_manager. */
    employer: z.string().min(1).max(64).optional(),
    password: NewPassword,
    /** A password an operator hands over is one-time unless said otherwise. */
    mustChangePassword: z.boolean().default(true),
  })
  .superRefine((a, ctx) => {
    for (const d of passwordIsUsername(a.password, a.username, 'password'))
      ctx.addIssue({ code: 'custom', path: [d.path], message: d.message });
    for (const [field, role] of [
      ['member', 'member'],
      ['employer', 'employer_manager'],
    ] as const) {
      if (a.role === role && a[field] === undefined)
        ctx.addIssue({ code: 'custom', path: [field], message: `an account of role ${role} needs its ${field}` });
      if (a.role !== role && a[field] !== undefined)
        ctx.addIssue({ code: 'custom', path: [field], message: `only an account of role ${role} has a ${field}` });
    }
  })
  .meta({ title: 'account' });
export type NewAccountBody = z.infer<typeof NewAccountBody>;

/**
 * The last enabled operator cannot be disabled or demoted: 409 `conflict`. A member's or an
 * employer's manager's account keeps its role, and no other becomes one (its link would be
 * missing): 400 at `role`.
 */
export const AccountPatch = z
  .strictObject({ role: Role.optional(), sites: SiteList.optional(), disabled: z.boolean().optional() })
  .meta({ title: 'account change' });
export type AccountPatch = z.infer<typeof AccountPatch>;

/** A new password for someone else's account (one-time by default); it ends their sessions. Answered 204. */
export const PasswordReset = z
  .strictObject({ password: NewPassword, mustChangePassword: z.boolean().default(true) })
  .meta({ title: 'password reset' });
export type PasswordReset = z.infer<typeof PasswordReset>;

/** `GET /accounts`. */
export const AccountPage = pageOf(AccountRecord);
export type AccountPage = z.infer<typeof AccountPage>;

/** `GET` and `PATCH /accounts/:id`, and `POST /accounts` (201). */
export const AccountAnswer = z.strictObject({ account: AccountRecord });
export type AccountAnswer = z.infer<typeof AccountAnswer>;

/** Every account route is the operator's: anyone else is refused 403 before their input is read. */
export const HubAccountRoutes = {
  list: defineRoute({
    method: 'GET',
    url: '/accounts',
    operationId: 'listAccounts',
    tags: ['accounts'],
    summary: 'Accounts (operator)',
    querystring: AccountListQuery,
    response: { 200: AccountPage },
    errors: ['auth.forbidden'],
  }),
  get: defineRoute({
    method: 'GET',
    url: '/accounts/:id',
    operationId: 'getAccount',
    tags: ['accounts'],
    summary: 'One account (operator)',
    params: AccountParams,
    response: { 200: AccountAnswer },
    errors: ['auth.forbidden', 'not_found'],
  }),
  create: defineRoute({
    method: 'POST',
    url: '/accounts',
    operationId: 'createAccount',
    tags: ['accounts'],
    summary: 'Create an account (operator)',
    body: NewAccountBody,
    response: { 201: AccountAnswer },
    errors: ['conflict'],
  }),
  update: defineRoute({
    method: 'PATCH',
    url: '/accounts/:id',
    operationId: 'updateAccount',
    tags: ['accounts'],
    summary: 'Change role, sites or disabled (operator)',
    params: AccountParams,
    body: AccountPatch,
    response: { 200: AccountAnswer },
    errors: ['not_found', 'conflict'],
  }),
  resetPassword: defineRoute({
    method: 'POST',
    url: '/accounts/:id/password',
    operationId: 'resetAccountPassword',
    tags: ['accounts'],
    summary: 'Reset a password, one-time by default (operator)',
    params: AccountParams,
    body: PasswordReset,
    response: { 204: null },
    errors: ['not_found'],
  }),
};
