/**
 * Time as a dependency (docs/decisions/0007-pure-core-clock.md). Everything that reads the time or sets a timer takes a
 * Clock, so tests and the compressed-day demo can move time by hand.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds of this clock's time. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Runs `fn` every `ms` milliseconds of this clock's time. */
  setInterval(fn: () => void, ms: number): TimerHandle;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    return { cancel: () => clearInterval(t) };
  },
};

interface ManualTimer {
  due: number;
  order: number;
  fn: () => void;
  every: number | null;
  cancelled: boolean;
}

/**
 * A clock that only moves when told to. Timers fire in due order while `advance` walks time
 * forward, each seeing `now()` equal to its own due time.
 */
export class ManualClock implements Clock {
  private current: number;
  private timers: ManualTimer[] = [];
  private counter = 0;

  constructor(start: number | Date | string = 0) {
    this.current = typeof start === 'number' ? start : new Date(start).getTime();
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.schedule(fn, ms, null);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.schedule(fn, ms, Math.max(1, ms));
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    this.advanceTo(this.current + ms);
  }

  /** Moves time forward to an absolute instant (never backwards). */
  advanceTo(target: number | Date | string): void {
    const end = typeof target === 'number' ? target : new Date(target).getTime();
    for (;;) {
      const next = this.nextDue(end);
      if (!next) break;
      this.current = next.due;
      if (next.every === null) next.cancelled = true;
      else next.due += next.every;
      next.fn();
    }
    this.current = Math.max(this.current, end);
    this.timers = this.timers.filter((t) => !t.cancelled);
  }

  /** Number of timers still waiting: lets tests check that components cleaned up. */
  pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  private nextDue(end: number): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const t of this.timers) {
      if (t.cancelled || t.due > end) continue;
      if (!best || t.due < best.due || (t.due === best.due && t.order < best.order)) best = t;
    }
    return best;
  }

  private schedule(fn: () => void, ms: number, every: number | null): TimerHandle {
    const timer: ManualTimer = {
      due: this.current + Math.max(0, ms),
      order: this.counter++,
      fn,
      every,
      cancelled: false,
    };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }
}

/** A task run at start and then every `everyMs` of a clock's time, until stopped. Idempotent start and stop. */
export class Recurring {
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly everyMs: number,
    private readonly task: () => void,
  ) {}

  start(): void {
    if (this.timer) return;
    this.task();
    this.timer = this.clock.setInterval(this.task, this.everyMs);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}
