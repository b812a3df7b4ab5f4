/**
 * Errors with a stable code. API and MQTT answers carry `code`; the message is for people and
 * may change. What each code means over HTTP (its status, whether a retry helps) is in
 * error-table.ts.
 */
export const ERROR_CODES = [
  'config.invalid',
  'config.unreadable',
  'directory.invalid',
  'directory.unreadable',
  'request.invalid',
  'request.too_large',
  'request.unsupported_type',
  'not_found',
  'reader.unavailable',
  'gpio.unavailable',
  'hardware.unavailable',
  'store.corrupt',
  'store.unavailable',
  'sync.rejected',
  'auth.required',
  'auth.invalid',
  'auth.forbidden',
  'auth.rate_limited',
  'auth.password_change_required',
  'conflict',
  'import.invalid',
  'billing.unpriced',
  'billing.period_closed',
  'billing.out_of_order',
  'billing.contradicts_directory',
  'billing.pruned',
  'billing.not_en16931',
  'billing.not_exportable',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorDetail {
  /** Dotted path of the offending value, e.g. `doors[0].relay.line`. */
  path: string;
  message: string;
}

export class TesseraError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
    /** When the caller knows better than the code's default how long a retry must wait (a login throttle). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'TesseraError';
  }
}
