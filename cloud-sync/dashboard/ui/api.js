/** The hub API, same origin; the session cookie (HttpOnly) goes with every call. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.code ?? 'internal';
    this.details = body?.details ?? [];
    this.retryAfter = body?.retryAfter;
  }
}

/** Called when a call answers 401: the session ended, the app shows the login page. */
let onUnauthorized = () => {};
export const whenUnauthorized = (fn) => (onUnauthorized = fn);

export async function api(method, path, body, { raw = false } = {}) {
  const init = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    init.headers['content-type'] = raw ? 'text/csv' : 'application/json';
    init.body = raw ? body : JSON.stringify(body);
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

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body);
export const put = (path, body) => api('PUT', path, body);
