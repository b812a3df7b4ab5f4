import { z } from 'zod';
import { isCommonPassword } from './common-passwords.js';

export const MIN_PASSWORD_LENGTH = 12;

/**
 * What an account's password must be: long rather than clever (NIST SP 800-63B), not one of the
 * passwords every guesser tries first, and not a single character repeated. Not the username
 * either: checked where the username is known (`passwordIsUsername`). Part of the API's request
 * schemas (a new account, a reset, a change of one's own), so it lives with them.
 */
export const NewPassword = z
  .string()
  .min(MIN_PASSWORD_LENGTH, { error: `a password needs at least ${MIN_PASSWORD_LENGTH} characters` })
  .max(200)
  .refine((p) => new Set(p).size >= 3, { error: 'a password needs more than one or two different characters' })
  .refine((p) => !isCommonPassword(p), { error: 'this password is among the most common ones: choose another' });

/** The detail to answer when a new password is the account's username (ignoring case), else none. */
export function passwordIsUsername(password: string, username: string, path: string): Array<{ path: string; message: string }> {
  return password.trim().toLowerCase() === username.toLowerCase() ? [{ path, message: 'a password must not be the username' }] : [];
}
