import type { Clock } from '../../shared/platform/clock.js';

/**
 * A card held near a reader, or bouncing at the edge of its field, arrives several times in a
 * second: within `windowMs` of its last counted tap, the same card on the same reader counts once.
 */
export class RecentTaps {
  /** Reader and UID → clock time of the last counted tap. */
  private readonly last = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly windowMs: number,
  ) {}

  /** Whether this tap counts; a counted tap opens a new window. */
  count(reader: string, uid: string): boolean {
    const now = this.clock.now();
    const key = `${reader}\n${uid}`;
    const at = this.last.get(key);
    if (at !== undefined && now - at < this.windowMs) return false;
    for (const [k, t] of this.last) if (now - t >= this.windowMs) this.last.delete(k);
    this.last.set(key, now);
    return true;
  }

  clear(): void {
    this.last.clear();
  }
}
