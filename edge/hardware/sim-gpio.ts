import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock, TimerHandle } from '../../shared/platform/clock.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { reportListenerError, type ListenerErrorSink } from './listener-errors.js';
import type { Gpio, InputLine, OutputLine } from './types.js';

export type SimGpioOptions = ListenerErrorSink & {
  /**
   * Mirrors each pin's physical level to `<dir>/gpio<N>` ("1" high, "0" low), as sysfs shows a
   * real board, so another process can watch the simulated relays (tests of exit paths, a demo).
   */
  mirrorDir?: string;
};

/** One change of an output's logical level, at clock time `at`. */
export interface LevelChange {
  at: number;
  active: boolean;
}

/** A diagnostic, not an event log: the oldest entries go so a long demo cannot grow forever. */
const HISTORY_LIMIT = 10_000;

interface SimOutput {
  kind: 'output';
  line: number;
  activeLow: boolean;
  active: boolean;
  released: boolean;
}

interface SimInput {
  kind: 'input';
  line: number;
  activeLow: boolean;
  debounceMs: number;
  /** The level software sees, after debounce. */
  debounced: boolean;
  pending: TimerHandle | null;
  listeners: Set<{ fn: (active: boolean) => void }>;
}

/**
 * Simulated GPIO: product code behind `--simulate`, the demo and the tests. It models the
 * physical (raw) level of each pin, so polarity mistakes show up as they would on a relay board:
 * raw = active XOR activeLow, and an active-low output starts high (relay not pulled in).
 *
 * After `close()`, writes to a line handed out earlier are ignored rather than thrown: a timer
 * that fires late during shutdown must not turn an orderly exit into a crash, and the line is
 * already in its safe state. Claiming a line after `close()` is refused.
 */
export class SimGpio implements Gpio {
  private readonly claims = new Map<number, SimOutput | SimInput>();
  /** Physical pin levels, true = high. Kept after close so tests can inspect the end state. */
  private readonly levels = new Map<number, boolean>();
  private readonly histories = new Map<number, LevelChange[]>();
  private closed = false;

  constructor(
    private readonly clock: Clock,
    private readonly opts: SimGpioOptions = {},
  ) {
    if (opts.mirrorDir !== undefined) mkdirSync(opts.mirrorDir, { recursive: true });
  }

  output(line: number, opts: { activeLow: boolean }): OutputLine {
    this.requireFree(line);
    const out: SimOutput = { kind: 'output', line, activeLow: opts.activeLow, active: false, released: false };
    this.claims.set(line, out);
    this.setLevel(line, opts.activeLow);
    this.record(line, false);
    return {
      line,
      get active() {
        return out.active;
      },
      write: (active: boolean) => this.drive(out, active),
    };
  }

  input(line: number, opts: { activeLow: boolean; debounceMs: number }): InputLine {
    this.requireFree(line);
    // An input nobody drove yet rests at its inactive level: door closed, button up.
    const high = this.levels.get(line) ?? opts.activeLow;
    this.setLevel(line, high);
    const input: SimInput = {
      kind: 'input',
      line,
      activeLow: opts.activeLow,
      debounceMs: opts.debounceMs,
      debounced: high !== opts.activeLow,
      pending: null,
      listeners: new Set(),
    };
    this.claims.set(line, input);
    return {
      line,
      read: () => input.debounced,
      onChange: (fn) => {
        const entry = { fn };
        input.listeners.add(entry);
        return () => {
          input.listeners.delete(entry);
        };
      },
    };
  }

  /** Drives every output inactive; synchronous and never throws (docs/architecture.md, invariant 7). */
  safeState(): void {
    for (const claim of this.claims.values()) {
      try {
        if (claim.kind === 'output') this.drive(claim, false);
      } catch {
        // Keep going: every other line must still reach its safe state.
      }
    }
  }

  /** Safe state, then releases every line. Idempotent. */
  close(): Promise<void> {
    this.safeState();
    for (const claim of this.claims.values()) {
      if (claim.kind === 'output') claim.released = true;
      else {
        claim.pending?.cancel();
        claim.pending = null;
        claim.listeners.clear();
      }
    }
    this.claims.clear();
    this.closed = true;
    return Promise.resolve();
  }

  /** False once closed: the simulation's own timers (a button's release) check it first. */
  isOpen(): boolean {
    return !this.closed;
  }

  /** Physical level of a line: true = high. */
  raw(line: number): boolean {
    const high = this.levels.get(line);
    if (high === undefined)
      throw new TesseraError('gpio.unavailable', `GPIO line ${line} was never claimed nor driven`);
    return high;
  }

  /**
   * Logical level of a claimed line now: an output's level, or an input pin's level before
   * debounce (`read()` gives the debounced one).
   */
  isActive(line: number): boolean {
    const claim = this.claims.get(line);
    if (!claim) throw new TesseraError('gpio.unavailable', `GPIO line ${line} is not claimed`);
    return claim.kind === 'output' ? claim.active : this.raw(line) !== claim.activeLow;
  }

  /** Output changes since the line was claimed, its initial (inactive) level first. */
  history(line: number): LevelChange[] {
    return [...(this.histories.get(line) ?? [])];
  }

  /**
   * Sets the physical level of an input pin, as the wiring would. Allowed before the line is
   * claimed (a door already open when the service starts).
   */
  setRaw(line: number, high: boolean): void {
    const claim = this.claims.get(line);
    if (claim?.kind === 'output')
      throw new TesseraError('gpio.unavailable', `GPIO line ${line} is an output: drive it with write()`);
    const before = this.levels.get(line);
    this.setLevel(line, high);
    if (claim && before !== high) this.settle(claim);
  }

  /** Drives a claimed input to a logical level (true = contact open / button pressed). */
  setInput(line: number, active: boolean): void {
    const claim = this.claims.get(line);
    if (claim?.kind !== 'input')
      throw new TesseraError('gpio.unavailable', `GPIO line ${line} is not claimed as an input`);
    this.setRaw(line, active !== claim.activeLow);
  }

  /** `setInput` under the name that reads best for a button: `press(line, true)` then `false`. */
  press(line: number, active: boolean): void {
    this.setInput(line, active);
  }

  private requireFree(line: number): void {
    if (this.closed) throw new TesseraError('gpio.unavailable', `GPIO is closed: cannot claim line ${line}`);
    const claim = this.claims.get(line);
    if (claim) throw new TesseraError('gpio.unavailable', `GPIO line ${line} is already claimed as an ${claim.kind}`);
  }

  private setLevel(line: number, high: boolean): void {
    this.levels.set(line, high);
    if (this.opts.mirrorDir !== undefined) writeFileSync(join(this.opts.mirrorDir, `gpio${line}`), high ? '1' : '0');
  }

  private drive(out: SimOutput, active: boolean): void {
    if (out.released || out.active === active) return;
    out.active = active;
    this.setLevel(out.line, active !== out.activeLow);
    this.record(out.line, active);
  }

  private record(line: number, active: boolean): void {
    const list = this.histories.get(line) ?? [];
    list.push({ at: this.clock.now(), active });
    if (list.length > HISTORY_LIMIT) list.splice(0, list.length - HISTORY_LIMIT);
    this.histories.set(line, list);
  }

  /** Debounce: a level reaches listeners only once it has held for `debounceMs`. */
  private settle(input: SimInput): void {
    const level = this.raw(input.line) !== input.activeLow;
    input.pending?.cancel();
    input.pending = null;
    // Back to the delivered level before the timer ran out: a bounce, nothing to tell.
    if (level === input.debounced) return;
    if (input.debounceMs === 0) return this.deliver(input, level);
    input.pending = this.clock.setTimeout(() => {
      input.pending = null;
      this.deliver(input, level);
    }, input.debounceMs);
  }

  private deliver(input: SimInput, level: boolean): void {
    input.debounced = level;
    for (const entry of [...input.listeners]) {
      if (!input.listeners.has(entry)) continue;
      try {
        entry.fn(level);
      } catch (error) {
        reportListenerError(this.opts, error, { source: 'gpio', event: 'change', target: `line ${input.line}` });
      }
    }
  }
}
