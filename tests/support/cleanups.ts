import { afterEach } from 'vitest';

/** An undo step; a plain one may return anything (`child.kill()` says whether a signal was sent). */
export type Cleanup = (() => void) | (() => Promise<void>);

/**
 * A stack of undo steps, run after each test of the calling file or describe block, the last
 * pushed first: what a test started stops before what it stood on (a broker, a folder) goes.
 */
export function cleanupsAfterEach(): Cleanup[] {
  const cleanups: Cleanup[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return cleanups;
}
