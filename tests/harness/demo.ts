import { expect } from 'vitest';
import { finished, spawnCli, waitForOutput, type Finished } from './process.js';
import { loginOver, type AuthHeaders } from './hub-auth.js';
import { eventuallyWithin } from '../support/eventually.js';

/** `tessera demo` as a visitor meets it: started from the CLI (dist/), its banner read, logged in at the hub. */

export interface RunningDemo {
  child: ReturnType<typeof spawnCli>;
  /** The banner and all printed since. */
  stdout(): string;
  apiUrl: string;
  mqttUrl: string;
  /** The admin's one-time password, as printed. */
  password: string;
  /** The three site processes. */
  pids: number[];
  /** Ctrl-C; resolves with how the demo ended (bounded). */
  stop(): Promise<Finished>;
}

/** Starts `tessera demo ARGS` and waits for its banner (bounded). */
export async function startDemo(args: string[]): Promise<RunningDemo> {
  const child = spawnCli(['demo', ...args]);
  try {
    await waitForOutput(child, /Ctrl-C stops everything/, 60_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const out = child.output.stdout;
  return {
    child,
    stdout: () => child.output.stdout,
    apiUrl: /Dashboard:\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(out)?.[1] ?? '',
    mqttUrl: /MQTT broker:\s+(mqtts?:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] ?? '',
    password: /Log in as:\s+admin \/ (\S+)/.exec(out)?.[1] ?? '',
    pids: [...out.matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1])),
    stop: () => {
      child.kill('SIGINT');
      return finished(child, 30_000);
    },
  };
}

/** The visitor's path: the one-time password, then one's own. */
export async function logInAsVisitor(demo: RunningDemo): Promise<AuthHeaders> {
  const auth = await loginOver(demo.apiUrl, 'admin', demo.password);
  const changed = await fetch(`${demo.apiUrl}/auth/password`, {
    method: 'POST',
    headers: { authorization: auth.authorization, 'content-type': 'application/json' },
    body: JSON.stringify({ currentPassword: demo.password, newPassword: 'demo-visitor-password' }),
  });
  expect(changed.ok).toBe(true);
  return auth;
}

export async function hubGet<T>(apiUrl: string, path: string, auth: AuthHeaders): Promise<T> {
  const res = await fetch(`${apiUrl}${path}`, {
    headers: { authorization: auth.authorization },
    signal: AbortSignal.timeout(10_000),
  });
  expect(res.status, `GET ${path}`).toBe(200);
  return (await res.json()) as T;
}

/** Polls until `check` holds, bounded in time: a demo starts processes, so its waits are long and its polls sparse. */
export const eventually = eventuallyWithin(30_000, 200);

export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
