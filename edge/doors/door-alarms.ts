import type { Clock, TimerHandle } from '../../shared/platform/clock.js';
import type { NewEvent } from '../../shared/protocol/events.js';

export type DoorAlarm = 'forced' | 'held';
export type ContactState = 'open' | 'closed' | 'unknown';

/** How the door came to be open, as the controller judged it at the moment of opening. */
export type Opening = 'authorised' | 'forced' | 'free_access';

export interface DoorAlarmsDeps {
  door: string;
  heldOpenSeconds: number;
  clock: Clock;
  emit: (event: NewEvent) => void;
}

/**
 * The door contact's alarms: forced open, held open, and secured once it closes again. The
 * controller decides whether an opening was authorised (it knows the pulse and the free-access
 * window); this only keeps the alarm state and the held-open timer.
 */
export class DoorAlarms {
  private contactState: ContactState = 'unknown';
  private alarmState: DoorAlarm | null = null;
  private heldTimer: TimerHandle | null = null;

  constructor(private readonly deps: DoorAlarmsDeps) {}

  get contact(): ContactState {
    return this.contactState;
  }

  get alarm(): DoorAlarm | null {
    return this.alarmState;
  }

  /** `sinceMs`: how long the door has been open already (the contact's debounce delay). */
  opened(how: Opening, sinceMs = 0): void {
    this.contactState = 'open';
    if (how === 'forced') this.raise('forced');
    else if (how === 'authorised') this.startHeldTimer(sinceMs);
  }

  closed(): void {
    this.contactState = 'closed';
    this.cancelHeldTimer();
    const after = this.alarmState;
    this.alarmState = null;
    if (after) this.deps.emit({ type: 'door.secured', data: { door: this.deps.door, after } });
  }

  /** A door held unlocked may stand open as long as it likes. */
  freeAccessBegan(): void {
    this.cancelHeldTimer();
  }

  /** Free access ended with the door still open: from now on it is being held open. */
  freeAccessEnded(): void {
    if (this.contactState === 'open' && this.alarmState === null) this.startHeldTimer();
  }

  /** Forgets the contact (the controller stopped watching it) and cancels the timer. */
  stop(): void {
    this.cancelHeldTimer();
    this.contactState = 'unknown';
    this.alarmState = null;
  }

  private startHeldTimer(sinceMs = 0): void {
    this.cancelHeldTimer();
    this.heldTimer = this.deps.clock.setTimeout(
      () => {
        this.heldTimer = null;
        this.raise('held');
      },
      this.deps.heldOpenSeconds * 1000 - sinceMs,
    );
  }

  private cancelHeldTimer(): void {
    this.heldTimer?.cancel();
    this.heldTimer = null;
  }

  private raise(alarm: DoorAlarm): void {
    this.alarmState = alarm;
    const door = this.deps.door;
    if (alarm === 'forced') this.deps.emit({ type: 'door.forced', data: { door } });
    else this.deps.emit({ type: 'door.held', data: { door, seconds: this.deps.heldOpenSeconds } });
  }
}
