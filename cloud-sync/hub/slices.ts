import { TesseraError } from '../../shared/errors.js';

/** Rows (or messages) handled between two turns of the event loop in long hub work. */
export const SLICE = 2000;

/** Lets timers, sockets and other requests run before long work goes on. */
export const breathe = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Long work in slices (a big import, a site's snapshot): `tick()` after each unit of work gives
 * the event loop a turn every `size` units, so the hub keeps answering (`/health`, heartbeats,
 * acks), and stops the work with `store.unavailable` once `signal` is aborted (the hub stopping).
 */
export class Slices {
  private done = 0;

  constructor(
    private readonly signal?: AbortSignal,
    readonly size = SLICE,
  ) {}

  async tick(units = 1): Promise<void> {
    const before = Math.floor(this.done / this.size);
    this.done += units;
    if (Math.floor(this.done / this.size) === before) return;
    await breathe();
    this.check();
  }

  /** Throws once the hub is stopping. */
  check(): void {
    if (this.signal?.aborted) throw new TesseraError('store.unavailable', 'the hub is stopping: the work was abandoned');
  }
}
