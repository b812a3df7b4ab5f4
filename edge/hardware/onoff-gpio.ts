// A default import on purpose: calls go through the `fs` object at run time (see gpiochip.ts).
import fs from 'node:fs';
import { TesseraError } from '../../shared/platform/errors.js';
import { GPIO_SYSFS_ROOT, listGpioChips, PI_GPIO_LABELS, pickGpioChip, type GpioChipInfo } from './gpiochip.js';
import { reportListenerError, type ListenerErrorSink } from './listener-errors.js';
import type { Gpio, InputLine, OutputLine } from './types.js';

type Bit = 0 | 1;

/** The part of onoff's `Gpio` (one exported line) this adapter uses. */
export interface OnoffPin {
  readSync(): Bit;
  writeSync(value: Bit): void;
  watch(callback: (err: Error | null | undefined, value: Bit) => void): void;
  unwatchAll(): void;
  unexport(): void;
}

export interface OnoffPinOptions {
  debounceTimeout?: number;
  activeLow?: boolean;
  reconfigureDirection?: boolean;
}

/** onoff's module as far as this adapter needs it; typed here because onoff is optional. */
export interface OnoffModule {
  Gpio: {
    new (gpio: number, direction: 'out' | 'high' | 'low', options?: OnoffPinOptions): OnoffPin;
    new (
      gpio: number,
      direction: 'in',
      edge: 'none' | 'rising' | 'falling' | 'both',
      options?: OnoffPinOptions,
    ): OnoffPin;
    readonly accessible?: boolean;
  };
}

export type OnoffGpioOptions = ListenerErrorSink & {
  /** Kernel number of BCM line 0 (config `hardware.gpioChipBase`); found from the chip labels when absent. */
  base?: number;
  /** How onoff is imported: the factory passes the module it loaded, tests one bound to a fake kernel. */
  loadOnoff?: () => Promise<unknown>;
};

interface OutputClaim {
  kind: 'output';
  line: number;
  activeLow: boolean;
  pin: OnoffPin;
  active: boolean;
  released: boolean;
}

interface InputClaim {
  kind: 'input';
  line: number;
  activeLow: boolean;
  debounceMs: number;
  pin: OnoffPin;
  /** The logical level delivered last (or read at claim): what `read()` gives. */
  debounced: boolean;
  listeners: Set<{ fn: (active: boolean) => void }>;
  released: boolean;
}

type Claim = OutputClaim | InputClaim;

/** Extra wait, beyond the longest debounce, before the inputs are unexported on close. */
const CLOSE_MARGIN_MS = 10;

/**
 * Real GPIO through onoff (sysfs). Lines are BCM numbers; the kernel line is `base + line`.
 *
 * Polarity is handled here, never by the kernel: every line is opened with `active_low` 0 and
 * the adapter reads and writes raw levels (`raw = active XOR activeLow`). The kernel applies an
 * output's initial direction (`high` / `low`) raw whatever `active_low` says, so splitting the
 * polarity between kernel and adapter is exactly how an active-low relay gets pulled in at start;
 * with one owner, the initial level and every later write go through the same line of code.
 * Passing `activeLow: false` explicitly also clears an `active_low` left by another tool.
 */
export class OnoffGpio implements Gpio {
  private readonly claims = new Map<number, Claim>();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly onoff: OnoffModule,
    /** Kernel number of BCM line 0. */
    readonly base: number,
    /** The chip the base belongs to, when one is listed under /sys/class/gpio. */
    readonly chip: GpioChipInfo | undefined,
    private readonly opts: OnoffGpioOptions,
  ) {}

  /**
   * Loads onoff and finds the chip base; claims no line. Throws TesseraError('gpio.unavailable')
   * when there is no chip to use or the sysfs interface cannot be written.
   */
  static async open(opts: OnoffGpioOptions = {}): Promise<OnoffGpio> {
    const onoff = asOnoffModule(await (opts.loadOnoff ?? importOnoff)());
    if (opts.base !== undefined && !(Number.isInteger(opts.base) && opts.base >= 0))
      throw new TesseraError('gpio.unavailable', `hardware.gpioChipBase must be a whole number >= 0, got ${opts.base}`);
    const chips = listGpioChips();
    const chip = opts.base === undefined ? pickGpioChip(chips) : chips.find((c) => c.base === opts.base);
    const base = opts.base ?? chip?.base;
    if (base === undefined) throw new TesseraError('gpio.unavailable', noChipMessage(chips));
    if (onoff.Gpio.accessible === false)
      throw new TesseraError(
        'gpio.unavailable',
        `${GPIO_SYSFS_ROOT}/export cannot be opened for writing: this user may not use sysfs GPIO (add it to the gpio group) or the kernel has none`,
      );
    opts.log?.info({ base, chip: chip?.name, label: chip?.label }, 'GPIO chip ready');
    return new OnoffGpio(onoff, base, chip, opts);
  }

  output(line: number, opts: { activeLow: boolean }): OutputLine {
    this.requireFree(line);
    // Inactive is logical false, and the kernel applies the initial level raw: raw = false XOR activeLow.
    const direction = opts.activeLow ? 'high' : 'low';
    const pin = this.openPin(
      line,
      'an output',
      () => new this.onoff.Gpio(this.base + line, direction, { activeLow: false }),
    );
    const claim: OutputClaim = { kind: 'output', line, activeLow: opts.activeLow, pin, active: false, released: false };
    this.claims.set(line, claim);
    return {
      line,
      get active() {
        return claim.active;
      },
      write: (active: boolean) => this.drive(claim, active),
    };
  }

  input(line: number, opts: { activeLow: boolean; debounceMs: number }): InputLine {
    this.requireFree(line);
    if (!(Number.isInteger(opts.debounceMs) && opts.debounceMs >= 0))
      throw new TesseraError(
        'gpio.unavailable',
        `GPIO line ${line}: debounceMs must be a whole number >= 0, got ${opts.debounceMs}`,
      );
    const pin = this.openPin(
      line,
      'an input',
      () => new this.onoff.Gpio(this.base + line, 'in', 'both', { debounceTimeout: opts.debounceMs, activeLow: false }),
    );
    let high: boolean;
    try {
      high = pin.readSync() === 1;
    } catch (error) {
      unexportQuietly(pin);
      throw this.failure(line, 'cannot be read', error);
    }
    const claim: InputClaim = {
      kind: 'input',
      line,
      activeLow: opts.activeLow,
      debounceMs: opts.debounceMs,
      pin,
      debounced: high !== opts.activeLow,
      listeners: new Set(),
      released: false,
    };
    this.claims.set(line, claim);
    // onoff calls back once the level has been quiet for debounceMs, with the level then; a bounce
    // that came back gives the level already delivered, which is dropped here.
    pin.watch((err, value) => this.settled(claim, err, value));
    return {
      line,
      read: () => claim.debounced,
      onChange: (fn) => {
        const entry = { fn };
        claim.listeners.add(entry);
        return () => {
          claim.listeners.delete(entry);
        };
      },
    };
  }

  /** Drives every output inactive with a synchronous write; never throws (docs/architecture.md, invariant 7). */
  safeState(): void {
    for (const claim of this.claims.values()) {
      if (claim.kind !== 'output' || claim.released) continue;
      try {
        claim.pin.writeSync(claim.activeLow ? 1 : 0);
        claim.active = false;
      } catch (error) {
        // Keep going: every other line must still reach its safe state.
        this.warn(error, claim.line, 'could not drive the line to its safe state');
      }
    }
  }

  /** Safe state, then unexports every line. Idempotent; writes to lines handed out earlier are ignored. */
  close(): Promise<void> {
    return (this.closing ??= this.release());
  }

  private async release(): Promise<void> {
    this.safeState();
    const claims = [...this.claims.values()];
    this.claims.clear();
    let settleMs = 0;
    for (const claim of claims) {
      claim.released = true;
      if (claim.kind === 'output') continue;
      claim.listeners.clear();
      try {
        claim.pin.unwatchAll();
      } catch (error) {
        this.warn(error, claim.line, 'could not stop watching the line');
      }
      if (claim.debounceMs > 0) settleMs = Math.max(settleMs, claim.debounceMs + CLOSE_MARGIN_MS);
    }
    // onoff's debounce timer reads the value file when it runs out, even after unwatch; unexport
    // closes that file, and a read on a closed descriptor throws from a timer: an uncaught crash.
    if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs));
    for (const claim of claims) {
      try {
        claim.pin.unexport();
      } catch (error) {
        this.warn(error, claim.line, 'could not unexport the line');
      }
    }
  }

  private requireFree(line: number): void {
    if (this.closing) throw new TesseraError('gpio.unavailable', `GPIO is closed: cannot claim line ${line}`);
    if (!(Number.isInteger(line) && line >= 0))
      throw new TesseraError('gpio.unavailable', `GPIO line must be a whole number >= 0, got ${line}`);
    const claim = this.claims.get(line);
    if (claim) throw new TesseraError('gpio.unavailable', `GPIO line ${line} is already claimed as an ${claim.kind}`);
    // Past the chip's end the kernel may accept the number for the next chip (a Pi 4's
    // raspberrypi-exp-gpio follows at 570): refuse rather than drive someone else's pin.
    const chip = this.chip;
    if (chip && line >= chip.ngpio)
      throw new TesseraError(
        'gpio.unavailable',
        `GPIO line ${line} is outside ${chip.name} "${chip.label}", which has lines 0-${chip.ngpio - 1} (kernel line ${this.base + line} is not on it)`,
      );
  }

  private openPin(line: number, role: string, open: () => OnoffPin): OnoffPin {
    try {
      return open();
    } catch (error) {
      throw this.failure(line, `cannot be claimed as ${role}`, error);
    }
  }

  private drive(claim: OutputClaim, active: boolean): void {
    if (claim.released) return;
    try {
      claim.pin.writeSync(active !== claim.activeLow ? 1 : 0);
    } catch (error) {
      throw this.failure(claim.line, `cannot be driven ${active ? 'active' : 'inactive'}`, error);
    }
    claim.active = active;
  }

  private settled(claim: InputClaim, err: Error | null | undefined, value: Bit): void {
    if (claim.released) return;
    if (err) return this.warn(err, claim.line, 'GPIO interrupt error');
    const level = (value === 1) !== claim.activeLow;
    if (level === claim.debounced) return;
    claim.debounced = level;
    for (const entry of [...claim.listeners]) {
      if (!claim.listeners.has(entry)) continue;
      try {
        entry.fn(level);
      } catch (error) {
        reportListenerError(this.opts, error, { source: 'gpio', event: 'change', target: `line ${claim.line}` });
      }
    }
  }

  /** The line, the kernel line, the chip's range when known, and onoff's (the kernel's) error. */
  private failure(line: number, what: string, cause: unknown): TesseraError {
    const kernel = this.base + line;
    const chip = this.chip
      ? `; ${this.chip.name} "${this.chip.label}" has kernel lines ${this.chip.base}-${this.chip.base + this.chip.ngpio - 1}`
      : '';
    const reason = cause instanceof Error ? cause.message : String(cause);
    const error = new TesseraError(
      'gpio.unavailable',
      `GPIO line ${line} (kernel line ${kernel} = base ${this.base} + ${line}${chip}) ${what}: ${reason}`,
    );
    error.cause = cause;
    return error;
  }

  private warn(error: unknown, line: number, message: string): void {
    try {
      this.opts.log?.error({ err: error, line }, message);
    } catch {
      // Logging is best effort: the exit path it runs on must go on.
    }
  }
}

function importOnoff(): Promise<unknown> {
  const name = 'onoff';
  // A non-literal specifier: onoff is optional and untyped for TypeScript's resolution.
  return import(name) as Promise<unknown>;
}

/** `import('onoff')` gives a namespace with `Gpio` (and `default`); a require gives `{ Gpio }`. */
function asOnoffModule(loaded: unknown): OnoffModule {
  for (const candidate of [loaded, (loaded as { default?: unknown } | null)?.default]) {
    if (typeof (candidate as Partial<OnoffModule> | null | undefined)?.Gpio === 'function')
      return candidate as OnoffModule;
  }
  throw new TesseraError('gpio.unavailable', 'the onoff module loaded has no Gpio class (is it onoff 6?)');
}

function noChipMessage(chips: GpioChipInfo[]): string {
  // No override can help there: say so rather than send someone after hardware.gpioChipBase.
  if (!fs.existsSync(GPIO_SYSFS_ROOT))
    return `${GPIO_SYSFS_ROOT} does not exist: this kernel has no sysfs GPIO, which onoff needs (not a Raspberry Pi, or an image built without it)`;
  const found =
    chips.length === 0
      ? 'there is no gpiochip* there'
      : `found ${chips.map((c) => `${c.name} "${c.label}"`).join(', ')}`;
  return (
    `no Raspberry Pi GPIO chip under ${GPIO_SYSFS_ROOT}: looked for a gpiochip*/label of ${PI_GPIO_LABELS.join(', ')}, ${found}; ` +
    `set hardware.gpioChipBase in the site config to the base of the chip that drives the BCM lines (see ${GPIO_SYSFS_ROOT}/gpiochip*/label and base)`
  );
}

function unexportQuietly(pin: OnoffPin): void {
  try {
    pin.unexport();
  } catch {
    // Already failing: the first error is the one to report.
  }
}
