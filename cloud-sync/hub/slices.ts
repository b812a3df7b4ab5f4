import { TesseraError } from '../../shared/platform/errors.js';

/** Rows read, or written in one transaction, at a time in long hub work. */
export const SLICE = 250;
/** The longest the hub works on before giving the event loop a turn. */
const BUDGET_MS = 20;

/** Lets timers, sockets and other requests run before long work goes on. */
export const breathe = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Long work in slices (a big import, a site's snapshot): `tick()` between units of work gives
 * the event loop a turn once the work has run for `budgetMs`, so the hub keeps answering
 * (`/health`, heartbeats, acks), and stops the work with `store.unavailable` once `signal` is
 * aborted (the hub stopping).
 */
export class Slices {
  private since = performance.now();

  constructor(
    private readonly signal?: AbortSignal,
    private readonly budgetMs = BUDGET_MS,
  ) {}

  async tick(): Promise<void> {
    if (performance.now() - this.since < this.budgetMs) return;
    await breathe();
    this.since = performance.now();
    this.check();
  }

  /** When the current slice should end (performance.now()): for work that cannot stop at a tick, like one transaction. */
  deadline(): number {
    return this.since + this.budgetMs;
  }

  /** Throws once the hub is stopping. */
  check(): void {
    if (this.signal?.aborted)
      throw new TesseraError('store.unavailable', 'the hub is stopping: the work was abandoned');
  }
}
