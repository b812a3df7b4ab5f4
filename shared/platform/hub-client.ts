import { TesseraError } from './errors.js';

/** A logged-in session with a hub's API, for the CLI commands that talk to it. */
export interface HubSession {
  url: string;
  /** Calls the API with the session; answers the raw Response. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  logout(): Promise<void>;
}

/** Reads an error answer `{code, message, details}` into one TesseraError-like line set. */
export async function errorOf(
  res: Response,
): Promise<{ code: string; message: string; details: Array<{ path: string; message: string }> }> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as {
      code?: string;
      message?: string;
      details?: Array<{ path: string; message: string }>;
    };
    return { code: body.code ?? `http.${res.status}`, message: body.message ?? text, details: body.details ?? [] };
  } catch {
    return { code: `http.${res.status}`, message: text.slice(0, 200), details: [] };
  }
}

/** Logs in at `url`; a refusal is a TesseraError with the hub's code (auth.invalid, auth.rate_limited...). */
export async function openHubSession(url: string, username: string, password: string): Promise<HubSession> {
  const base = url.replace(/\/+$/, '');
  let res: Response;
  try {
    res = await fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
  } catch (err) {
    throw new TesseraError(
      'request.invalid',
      `cannot reach the hub at ${base}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`,
    );
  }
  if (!res.ok) {
    const e = await errorOf(res);
    const retry = res.headers.get('retry-after');
    throw new TesseraError(
      e.code === 'auth.rate_limited' ? 'auth.rate_limited' : 'auth.invalid',
      retry ? `${e.message} (Retry-After ${retry} s)` : e.message,
    );
  }
  const { token } = (await res.json()) as { token: string };
  const authorization = `Bearer ${token}`;
  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${base}${path}`, {
      ...init,
      headers: { ...(init.headers as Record<string, string> | undefined), authorization },
    });
  return {
    url: base,
    fetch: call,
    async logout() {
      await call('/auth/logout', { method: 'POST' }).catch(() => undefined);
    },
  };
}

/** The password: `TESSERA_PASSWORD`, or asked on the terminal without echo. */
export async function readPassword(username: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const given = env.TESSERA_PASSWORD;
  if (given) return given;
  const stdin = process.stdin;
  if (!stdin.isTTY)
    throw new TesseraError('request.invalid', 'no password: set TESSERA_PASSWORD, or run on a terminal to be asked');
  process.stderr.write(`password for ${username}: `);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let typed = '';
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\u0003') return done(new TesseraError('request.invalid', 'cancelled'));
        if (ch === '\r' || ch === '\n') return done();
        typed = ch === '\u007f' || ch === '\b' ? typed.slice(0, -1) : typed + ch;
      }
    };
    const done = (err?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    stdin.on('data', onData);
  });
}
