import { z } from 'zod';
import { SITE_ID_PATTERN } from '../topics.js';
import { isCommonPassword } from './common-passwords.js';
import { defineRoute } from './common.js';

/** Accounts as the hub API shows them, logging in and out, one's own password (cloud-sync/hub/auth/). */

export const Username = z
  .string()
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9._@-]{1,63}$/, { error: 'expected 2-64 letters, digits, ".", "_", "@" or "-"' });
export const ACCOUNT_ROLES = ['operator', 'site_manager', 'member', 'employer_manager'] as const;
/** The roles that see only what is their own (a member) or their employer's (a manager): the self-service pages. */
export const SELF_SERVICE_ROLES = ['member', 'employer_manager'] as const;
export const Role = z.enum(ACCOUNT_ROLES);
export const SiteList = z.array(z.string().regex(SITE_ID_PATTERN)).max(500);

/**
 * Who is asking: a network operator may do everything, a site manager only what concerns
 * `sites`; a member only what is their own (`member`, their directory entry), an employer's
 * manager only what is their employer's (`employer`).
 */
export const Account = z.object({
  id: z.string(),
  username: z.string(),
  role: Role,
  /** The sites a site manager manages; empty (and ignored) for every other role. */
  sites: z.array(z.string()),
  /** A member's account: their directory entry's id. */
  member: z.string().optional(),
  /** An employer's manager: the employer's id. */
  employer: z.string().optional(),
});
export type Account = z.infer<typeof Account>;

/** An account as the API shows it: never its password. */
export const AccountRecord = Account.extend({
  /** A one-time password is in force: the account must set its own before anything else. */
  mustChangePassword: z.boolean(),
  disabled: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type AccountRecord = z.infer<typeof AccountRecord>;

export const MIN_PASSWORD_LENGTH = 12;

/**
 * What an account's password must be: long rather than clever (NIST SP 800-63B), not one of the
 * passwords every guesser tries first, and not a single character repeated. Not the username
 * either: checked where the username is known (`passwordIsUsername`).
 */
export const NewPassword = z
  .string()
  .min(MIN_PASSWORD_LENGTH, { error: `a password needs at least ${MIN_PASSWORD_LENGTH} characters` })
  .max(200)
  .refine((p) => new Set(p).size >= 3, { error: 'a password needs more than one or two different characters' })
  .refine((p) => !isCommonPassword(p), { error: 'this password is among the most common ones: choose another' });

/**
 * The detail to answer when a new password is the account's username (ignoring case), else none.
 * Here with the rule it completes: a new account's body checks it (hub-admin-accounts.ts).
 */
export function passwordIsUsername(
  password: string,
  username: string,
  path: string,
): Array<{ path: string; message: string }> {
  return password.trim().toLowerCase() === username.toLowerCase()
    ? [{ path, message: 'a password must not be the username' }]
    : [];
}

export const Login = z.strictObject({ username: z.string().min(1).max(64), password: z.string().min(1).max(200) });
export const PasswordChange = z.strictObject({ currentPassword: z.string().min(1).max(200), newPassword: NewPassword });

export const LoginAnswer = z.object({ account: AccountRecord, token: z.string(), expiresAt: z.string() });
export type LoginAnswer = z.infer<typeof LoginAnswer>;

export const MyAccount = z.object({ account: AccountRecord });
export type MyAccount = z.infer<typeof MyAccount>;

export const AuthRoutes = {
  login: defineRoute({
    method: 'POST',
    url: '/auth/login',
    operationId: 'login',
    tags: ['auth'],
    summary: 'Log in: the account, a token, and the session cookie',
    body: Login,
    response: { 200: LoginAnswer },
    errors: ['auth.invalid', 'auth.rate_limited', 'store.unavailable'],
    public: true,
  }),
  logout: defineRoute({
    method: 'POST',
    url: '/auth/logout',
    operationId: 'logout',
    tags: ['auth'],
    summary: 'End this session',
    response: { 204: null },
  }),
  me: defineRoute({
    method: 'GET',
    url: '/auth/me',
    operationId: 'getMyAccount',
    tags: ['auth'],
    summary: 'The account of this session',
    response: { 200: MyAccount },
  }),
  password: defineRoute({
    method: 'POST',
    url: '/auth/password',
    operationId: 'changeMyPassword',
    tags: ['auth'],
    summary: 'Set your own password (ends your other sessions)',
    body: PasswordChange,
    response: { 204: null },
    errors: ['auth.rate_limited'],
  }),
};
