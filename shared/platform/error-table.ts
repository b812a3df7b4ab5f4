import type { ErrorCode } from './errors.js';

export interface ErrorMeaning {
  /** The HTTP status every API answers this code with. */
  status: number;
  /** Seconds after which the same request may succeed (sent as Retry-After), or null when repeating it as is cannot help. */
  retryAfterSeconds: number | null;
  /** What the code means, in one line (shown in the API documents). */
  meaning: string;
}

/**
 * The one place an error code gets its HTTP status: routes throw `TesseraError(code, ...)` and
 * the API's error handler (json-api.ts) answers with the status and Retry-After found here.
 * Codes that never reach HTTP (a config file at start-up, a reader) still have an entry, so a
 * new code cannot be forgotten: the type demands one for each.
 */
export const ERROR_TABLE: Readonly<Record<ErrorCode, ErrorMeaning>> = {
  'config.invalid': {
    status: 500,
    retryAfterSeconds: null,
    meaning: 'a configuration file or setting of this process is wrong',
  },
  'config.unreadable': {
    status: 500,
    retryAfterSeconds: null,
    meaning: 'a configuration file of this process cannot be read',
  },
  'directory.invalid': { status: 400, retryAfterSeconds: null, meaning: 'a directory document is not valid' },
  'directory.unreadable': { status: 500, retryAfterSeconds: null, meaning: 'the directory file cannot be read' },
  'request.invalid': {
    status: 400,
    retryAfterSeconds: null,
    meaning: 'the request (path, query or body) is not valid: details say where',
  },
  'request.too_large': {
    status: 413,
    retryAfterSeconds: null,
    meaning: 'the request body is larger than this route takes',
  },
  'request.unsupported_type': {
    status: 415,
    retryAfterSeconds: null,
    meaning: 'the request body is of a content type this route does not take',
  },
  not_found: {
    status: 404,
    retryAfterSeconds: null,
    meaning: 'no such route or resource (or not one this account may see)',
  },
  'reader.unavailable': { status: 503, retryAfterSeconds: 5, meaning: 'a badge reader cannot be used now' },
  'gpio.unavailable': { status: 503, retryAfterSeconds: 5, meaning: 'the door and locker lines cannot be used now' },
  'hardware.unavailable': { status: 503, retryAfterSeconds: 5, meaning: 'hardware this process needs is missing' },
  'store.corrupt': {
    status: 500,
    retryAfterSeconds: null,
    meaning: 'the database holds what this program cannot read: an operator must act',
  },
  'store.unavailable': {
    status: 503,
    retryAfterSeconds: 2,
    meaning: 'the database cannot be reached now; nothing was changed',
  },
  'sync.rejected': { status: 503, retryAfterSeconds: 5, meaning: 'the message broker did not take a message' },
  'auth.required': { status: 401, retryAfterSeconds: null, meaning: 'no session or token was sent' },
  'auth.invalid': {
    status: 401,
    retryAfterSeconds: null,
    meaning: 'the credentials, session or token are wrong or expired',
  },
  'auth.forbidden': { status: 403, retryAfterSeconds: null, meaning: 'this account or caller may not do this' },
  'auth.rate_limited': {
    status: 429,
    retryAfterSeconds: 1,
    meaning: 'too many attempts or open streams: wait, or close one',
  },
  'auth.password_change_required': {
    status: 403,
    retryAfterSeconds: null,
    meaning: 'the account must set its own password first',
  },
  conflict: {
    status: 409,
    retryAfterSeconds: null,
    meaning: 'the request contradicts the current state (taken name, import under way, erased id)',
  },
  'import.invalid': {
    status: 400,
    retryAfterSeconds: null,
    meaning: 'an imported file has errors: nothing was imported',
  },
  'billing.unpriced': {
    status: 422,
    retryAfterSeconds: null,
    meaning: 'the month has usage the price list does not price',
  },
  'billing.period_closed': {
    status: 409,
    retryAfterSeconds: null,
    meaning: 'the billing month is closed: its invoices are frozen',
  },
  'billing.out_of_order': { status: 409, retryAfterSeconds: null, meaning: 'billing months must be closed in order' },
  'billing.contradicts_directory': {
    status: 409,
    retryAfterSeconds: null,
    meaning: 'the price list contradicts what the doors allow',
  },
  'billing.pruned': { status: 409, retryAfterSeconds: null, meaning: 'the events this needs were pruned by retention' },
  'billing.not_en16931': {
    status: 422,
    retryAfterSeconds: null,
    meaning: 'the invoice lacks what a legal invoice needs (EN 16931 rules): no document is made from it',
  },
  'billing.not_exportable': {
    status: 422,
    retryAfterSeconds: null,
    meaning: 'the documents cannot be written in this format as they are (another currency, a clash to resolve)',
  },
  internal: { status: 500, retryAfterSeconds: null, meaning: 'a fault of the server: it was logged' },
};

export const statusOf = (code: ErrorCode): number => ERROR_TABLE[code].status;
