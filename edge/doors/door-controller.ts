import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../shared/platform/clock.js';
import type { NewEvent } from '../../shared/protocol/events.js';
import type { Closure, WeeklyWindow } from '../../shared/protocol/schedule.js';
import type { Gpio, InputLine, OutputLine } from '../hardware/types.js';
import type { DoorOptions } from './door-options.js';
import { DoorAlarms, type ContactState, type DoorAlarm, type Opening } from './door-alarms.js';
import { everyAligned, isFreeAccessAt } from './free-access.js';

export type { ContactState, DoorAlarm } from './door-alarms.js';
export type { DoorOptions } from './door-options.js';
export type DoorMode = 'locked' | 'unlocked' | 'free_access';
export type UnlockReason = 'granted' | 'exit' | 'remote';
/** What `door.mode` events announce. */
type AnnouncedMode = 'locked' | 'free_access' | 'lockdown';

export interface DoorState {
  id: string;
  mode: DoorMode;
  contact: ContactState;
  alarm: DoorAlarm | null;
  /** Whether the door is inside its free-access window now (held unlocked by schedule). */
  freeAccess: boolean;
  /** Held locked by a hub lockdown: free access suspended, only exits and remote unlocks pulse it. */
  lockdown: boolean;
}

export interface ExitRequest {
  door: string;
  /** Clock time of the press. */
  at: number;
}

export interface DoorControllerDeps {
  door: DoorOptions;
  gpio: Gpio;
  clock: Clock;
  /** The site's IANA time zone: free-access windows are site-local. */
  timeZone: string;
  /** Staffed hours, for `freeAccess: 'staffed'`. */
  hours: readonly WeeklyWindow[];
  closures: readonly Closure[];
  emit: (event: NewEvent) => void;
  log?: Logger;
}

/** Free access is re-checked this often (and on every door event), on whole half-minutes. */
export const FREE_ACCESS_TICK_MS = 30_000;

/**
 * One door: its relay (pulse and free access, either fail mode), its contact (forced and
 * held-open alarms) and its exit button. Every timer runs on the injected Clock.
 */
export class DoorController {
  private readonly log: Logger | undefined;
  private readonly alarms: DoorAlarms;
  private readonly exitListeners = new Set<{ fn: (request: ExitRequest) => void }>();
  private relay: OutputLine | null = null;
  private contact: InputLine | null = null;
  private exitButton: InputLine | null = null;
  private started = false;
  private unsubscribes: (() => void)[] = [];
  private ticks: TimerHandle | null = null;
  private pulse: TimerHandle | null = null;
  private pulseEndedAt = Number.NEGATIVE_INFINITY;
  private freeAccess = false;
  private lockdown = false;
  private announced: AnnouncedMode = 'locked';

  constructor(private readonly deps: DoorControllerDeps) {
    this.log = deps.log?.child({ module: 'door', door: deps.door.id });
    const { id, heldOpenSeconds } = deps.door;
    this.alarms = new DoorAlarms({ door: id, heldOpenSeconds, clock: deps.clock, emit: (e) => this.emit(e) });
  }

  /** Claims the lines (once), locks the door, and starts watching contact, button and schedule. */
  start(): void {
    if (this.started) return;
    this.claimLines();
    this.started = true;
    if (this.contact) this.unsubscribes.push(this.contact.onChange((open) => this.onContact(open)));
    if (this.exitButton) this.unsubscribes.push(this.exitButton.onChange((pressed) => this.onExitButton(pressed)));
    this.ticks = everyAligned(this.deps.clock, FREE_ACCESS_TICK_MS, () => this.refresh());
    this.refresh();
    this.applyRelay();
    // A door already open at start has no known history: treat it as held open, not forced.
    if (this.contact) {
      if (!this.contact.read()) this.alarms.closed();
      else this.alarms.opened(this.freeAccess ? 'free_access' : 'authorised');
    }
    this.log?.info({ failMode: this.deps.door.failMode, freeAccess: this.freeAccess }, 'door started');
  }

  /** Idempotent: cancels every timer and leaves the relay inactive (its safe state). */
  stop(): void {
    for (const off of this.unsubscribes.splice(0)) off();
    this.ticks?.cancel();
    this.ticks = null;
    this.pulse?.cancel();
    this.pulse = null;
    this.alarms.stop();
    this.freeAccess = false;
    this.announced = 'locked';
    this.writeRelay(false);
    if (this.started) this.log?.info('door stopped');
    this.started = false;
  }

  /** Unlocks for `pulseMs`; a pulse during a pulse extends it to `pulseMs` from now. */
  unlock(reason: UnlockReason): void {
    if (!this.started) {
      this.log?.warn({ reason }, 'unlock ignored: the door controller is not started');
      return;
    }
    this.pulse?.cancel();
    this.pulse = this.deps.clock.setTimeout(() => this.endPulse(), this.deps.door.pulseMs);
    this.refresh();
    this.applyRelay();
    this.log?.debug({ reason }, 'door unlocked');
  }

  /**
   * A lockdown holds the door locked now (a pulse in progress ends) and suspends free access; the
   * exit button and a remote unlock still pulse it: nobody is ever locked in. Kept across stop/start.
   */
  setLockdown(on: boolean): void {
    if (this.lockdown === on) return;
    this.lockdown = on;
    if (!this.started) return;
    if (on) {
      this.pulse?.cancel();
      this.pulse = null;
    }
    this.refresh();
    this.applyRelay();
    this.log?.warn({ lockdown: on }, on ? 'door in lockdown' : 'lockdown lifted');
  }

  state(): DoorState {
    const { failMode, id } = this.deps.door;
    const energised = this.relay?.active ?? false;
    const unlocked = failMode === 'fail-secure' ? energised : !energised;
    const mode: DoorMode = this.freeAccess ? 'free_access' : unlocked ? 'unlocked' : 'locked';
    return {
      id,
      mode,
      contact: this.alarms.contact,
      alarm: this.alarms.alarm,
      freeAccess: this.freeAccess,
      lockdown: this.lockdown,
    };
  }

  /** Called on each press of the exit button, so the edge can check someone out. */
  onExitRequest(fn: (request: ExitRequest) => void): () => void {
    const entry = { fn };
    this.exitListeners.add(entry);
    return () => {
      this.exitListeners.delete(entry);
    };
  }

  /** Gpio has no per-line release, so lines are claimed once and kept across stop/start. */
  private claimLines(): void {
    const { relay, contact, exitButton } = this.deps.door;
    this.relay ??= this.deps.gpio.output(relay.line, { activeLow: relay.activeLow });
    if (contact) this.contact ??= this.deps.gpio.input(contact.line, contact);
    if (exitButton) this.exitButton ??= this.deps.gpio.input(exitButton.line, exitButton);
  }

  private endPulse(): void {
    this.pulse = null;
    this.pulseEndedAt = this.deps.clock.now();
    this.applyRelay();
  }

  private onContact(open: boolean): void {
    this.refresh();
    if (!open) return this.alarms.closed();
    // Debounced: the door opened `debounceMs` before we heard it, and the held-open time counts from then.
    this.alarms.opened(this.judgeOpening(), this.deps.door.contact?.debounceMs ?? 0);
    if (this.alarms.alarm === 'forced') this.log?.warn('door forced open');
  }

  /**
   * The contact is debounced, so the door physically opened `debounceMs` before we hear it: an
   * opening heard within that long after a pulse ended still belongs to the pulse.
   */
  private judgeOpening(): Opening {
    if (this.freeAccess) return 'free_access';
    const grace = this.deps.door.contact?.debounceMs ?? 0;
    if (this.pulse || this.deps.clock.now() - this.pulseEndedAt <= grace) return 'authorised';
    return 'forced';
  }

  private onExitButton(pressed: boolean): void {
    if (!pressed) return;
    const door = this.deps.door.id;
    this.emit({ type: 'door.exit_requested', data: { door } });
    this.unlock('exit');
    const request: ExitRequest = { door, at: this.deps.clock.now() };
    for (const entry of [...this.exitListeners]) {
      try {
        entry.fn(request);
      } catch (error) {
        this.log?.error({ err: error }, 'an exit-request listener threw');
      }
    }
  }

  /** Re-evaluates the free-access window (suspended by a lockdown); announces and applies a change. */
  private refresh(): void {
    const { door, timeZone, hours, closures, clock } = this.deps;
    const within = !this.lockdown && isFreeAccessAt(door.freeAccess, { timeZone, hours, closures }, clock.now());
    const mode: AnnouncedMode = this.lockdown ? 'lockdown' : within ? 'free_access' : 'locked';
    if (mode !== this.announced) {
      this.announced = mode;
      this.emit({ type: 'door.mode', data: { door: door.id, mode } });
    }
    if (within === this.freeAccess) return;
    this.freeAccess = within;
    if (within) this.alarms.freeAccessBegan();
    else this.alarms.freeAccessEnded();
    this.applyRelay();
  }

  /** fail-secure: relay energised = unlocked; fail-safe (maglock): relay energised = locked. */
  private applyRelay(): void {
    if (!this.started) return;
    const unlocked = this.freeAccess || this.pulse !== null;
    this.writeRelay(this.deps.door.failMode === 'fail-secure' ? unlocked : !unlocked);
  }

  private writeRelay(active: boolean): void {
    if (!this.relay || this.relay.active === active) return;
    try {
      this.relay.write(active);
    } catch (error) {
      this.log?.error({ err: error, active }, 'relay write failed');
      this.emit({
        type: 'device.fault',
        data: { device: this.deps.door.id, kind: 'gpio.error', detail: String(error).slice(0, 500) },
      });
    }
  }

  /** The door keeps working when recording fails: an event lost is bad, a door stuck is worse. */
  private emit(event: NewEvent): void {
    try {
      this.deps.emit(event);
    } catch (error) {
      this.log?.error({ err: error, type: event.type }, 'emitting a door event failed');
    }
  }
}
