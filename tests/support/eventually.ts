import { sleep } from './sleep.js';

/** What `eventually` waits for: a plain test of state, or one that asks a server. */
export type Check = () => Promise<boolean> | boolean;

/**
 * Polls `check` every `everyMs` until it holds, and fails naming `what` once `ms` have passed:
 * the liveness bound of a test, not a performance threshold. Resolves with the time it took.
 */
export async function eventually(check: Check, what: string, ms = 10_000, everyMs = 20): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(everyMs);
  }
  return Date.now() - start;
}

/** `eventually` with other defaults, for a file whose waits are all longer or polled less often (a big import, a browser). */
export function eventuallyWithin(defaultMs: number, defaultEveryMs: number): typeof eventually {
  return (check, what, ms = defaultMs, everyMs = defaultEveryMs) => eventually(check, what, ms, everyMs);
}
