/** The hub API, same origin; the session cookie (HttpOnly) goes with every call. */

/**
 * @typedef {import('../../../shared/protocol/api/common.js').ErrorEnvelope} ErrorBody The hub's answer to a refused call.
 * @typedef {ErrorBody['code']} ErrorCode
 * @typedef {ErrorBody['details'][number]} ErrorDetail
 */

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {Partial<ErrorBody> | null} body
   */
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    /** @type {ErrorCode} */
    this.code = body?.code ?? 'internal';
    this.details = body?.details ?? [];
    /** Seconds to wait, from the Retry-After header of a 429. @type {number | undefined} */
    this.retryAfter = undefined;
  }
}

/**
 * What a call rejects with: an ApiError, or the browser's own error when the hub could not be
 * reached or answered something that is not JSON (no status, no details then).
 * @typedef {Error & Partial<Pick<ApiError, 'status' | 'code' | 'details' | 'retryAfter'>>} Failure
 */

/** Called when a call answers 401: the session ended, the app shows the login page. */
let onUnauthorized = () => {};
/** @param {() => void} fn */
export const whenUnauthorized = (fn) => (onUnauthorized = fn);

/**
 * One call; its JSON answer, typed by the caller from the hub's schemas (shared/protocol/api).
 * @template T
 * @param {'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'} method
 * @param {string} path
 * @param {unknown} [body] JSON; with `raw`, the CSV itself: its text, or the file chosen (sent as its bytes)
 * @param {{ raw?: boolean }} [options]
 * @returns {Promise<T>}
 */
export async function api(method, path, body, { raw = false } = {}) {
  /** @type {RequestInit & { headers: Record<string, string> }} */
  const init = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    init.headers['content-type'] = raw ? 'text/csv' : 'application/json';
    init.body = raw ? /** @type {string | Blob} */ (body) : JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const err = new ApiError(res.status, json);
    err.retryAfter = Number(res.headers.get('retry-after') ?? 0);
    if (res.status === 401 && path !== '/auth/login') onUnauthorized();
    throw err;
  }
  return json;
}

/**
 * GET `path`; the caller gives the answer's type, by a JSDoc type on the variable or a cast.
 * @template T
 * @param {string} path
 * @returns {Promise<T>}
 */
export const get = (path) => api('GET', path);
/**
 * @template T
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<T>}
 */
export const post = (path, body) => api('POST', path, body);
/**
 * @template T
 * @param {string} path
 * @param {unknown} body
 * @returns {Promise<T>}
 */
export const put = (path, body) => api('PUT', path, body);
/**
 * @template T
 * @param {string} path
 * @param {unknown} body
 * @returns {Promise<T>}
 */
export const patch = (path, body) => api('PATCH', path, body);
/**
 * DELETE `path`: most answer 204, nothing.
 * @param {string} path
 * @returns {Promise<unknown>}
 */
export const remove = (path) => api('DELETE', path);

/** @type {Map<string, unknown> | undefined} */
let answers;
/**
 * The hub's answer to GET `path` as it came with the page, once: the hub serves the page to a
 * signed-in visitor with its answers to the reads the first view needs (the JSON of the
 * `#answers` element), so that the first view is drawn without asking again. Each is given once,
 * as it was when the page was sent; a later read asks the hub. Undefined when the page did not
 * carry it (no session, or the hub refused that read to this account).
 * @template T
 * @param {string} path
 * @returns {T | undefined}
 */
export function carried(path) {
  answers ??= new Map(Object.entries(JSON.parse(document.getElementById('answers')?.textContent || '{}')));
  const answer = answers.get(path);
  answers.delete(path);
  return /** @type {T | undefined} */ (answer);
}
