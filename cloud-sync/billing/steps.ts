import type { Slices } from '../hub/slices.js';

/**
 * Long pure work (rating a month of a million events) written once, as a generator that yields
 * between units of work: run at once where nothing else waits (tests, a rating of a few
 * events), or in slices in the hub, which keeps answering between them.
 */
export type Steps<T> = Generator<void, T, void>;

/** Units of work (events, members) between two yields: a few milliseconds at most. */
export const STEP = 1_000;

export function runAtOnce<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** Runs `steps`, giving the event loop a turn each time the work has gone on for its budget. */
export async function runInSlices<T>(steps: Steps<T>, slices: Slices): Promise<T> {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await slices.tick();
  }
}
