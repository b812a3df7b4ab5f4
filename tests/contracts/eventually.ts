import { sleep } from '../support/sleep.js';

/**
 * Waiting that works for simulators on a ManualClock and for real adapters in real time alike:
 * the harness says what waiting means (advance the clock, or sleep).
 */
export interface Waits {
  wait(ms: number): Promise<void>;
}

/** Waiting for real adapters and processes: the wall clock. */
export const realTime: Waits = { wait: sleep };

/** Polls `check` until it holds, waiting `stepMs` between tries; fails after `timeoutMs`. */
export async function eventually(
  h: Waits,
  check: () => boolean,
  what: string,
  timeoutMs = 3000,
  stepMs = 10,
): Promise<void> {
  for (let waited = 0; !check(); waited += stepMs) {
    if (waited >= timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await h.wait(stepMs);
  }
}
