import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../shared/platform/clock.js';
import type { EventPayload } from '../../shared/protocol/events.js';
import { nextLocalTime } from '../../shared/protocol/schedule.js';
import { cachedLocalDay } from '../../shared/protocol/local-time.js';
import type { LockerBanks } from '../lockers/locker-banks.js';
import type { EdgeStore } from '../store/store.js';

export type CheckoutVia = EventPayload<'presence.out'>['via'];

const CAUSE: Record<CheckoutVia, EventPayload<'presence.out'>['cause']> = {
  exit_reader: 'badge',
  second_tap: 'badge',
  exit_button: 'exit',
  closing: 'auto',
  max_stay: 'auto',
};

/** The site's check-out rules (edge/site maps the site config's presence section to them). */
export interface PresenceOptions {
  /** Whether the exit button checks out the one person inside. */
  exitButtonChecksOut: boolean;
  /** Everyone still in is checked out at this site-local time ("HH:MM") each day. */
  closingTime?: string | undefined;
  /** Anyone in for longer is checked out. */
  maxStayHours: number;
}

/** How often overstays are looked for. */
const SWEEP_MS = 60_000;

/**
 * Who is in. Check-in and check-out write presence, day usage and their events; the caller
 * provides the transaction for taps, the keeper opens its own for automatic check-outs.
 */
export class PresenceKeeper {
  private timers: TimerHandle[] = [];

  constructor(
    private readonly deps: {
      store: EdgeStore;
      clock: Clock;
      timeZone: string;
      rules: PresenceOptions;
      lockers: LockerBanks;
      log: Logger;
    },
  ) {}

  start(): void {
    const { clock, rules } = this.deps;
    this.timers.push(clock.setInterval(() => this.sweepOverstays(clock.now()), SWEEP_MS));
    if (rules.closingTime !== undefined) this.scheduleClosing();
  }

  stop(): void {
    for (const t of this.timers) t.cancel();
    this.timers = [];
  }

  /** Inside the caller's transaction. */
  checkIn(member: string, atMs: number, door: string | undefined, reader: string | undefined): void {
    const { store, timeZone } = this.deps;
    store.presence.checkIn(member, atMs, door);
    store.presence.recordDay(member, cachedLocalDay(atMs, timeZone));
    store.events.append(
      { type: 'presence.in', data: { memberId: member, ...(door ? { door } : {}), ...(reader ? { reader } : {}) } },
      atMs,
    );
  }

  /** Inside the caller's transaction. Returns false if the member was not in. */
  checkOut(member: string, via: CheckoutVia, atMs: number, door?: string): boolean {
    const { store, lockers } = this.deps;
    const since = store.presence.checkOut(member);
    if (since === undefined) return false;
    const minutes = Math.max(0, Math.floor((atMs - since) / 60_000));
    store.events.append(
      { type: 'presence.out', data: { memberId: member, cause: CAUSE[via], via, ...(door ? { door } : {}), minutes } },
      atMs,
    );
    lockers.releaseFreeLockersOf(member, atMs);
    return true;
  }

  /**
   * The exit button cannot tell who leaves. When exactly one person is in (the 24/7 subscriber
   * alone at night) it checks them out; otherwise automatic check-out settles it later.
   */
  exitButtonPressed(door: string, atMs: number): void {
    const { store, rules } = this.deps;
    if (!rules.exitButtonChecksOut) return;
    store.transaction(() => {
      const inside = store.presence.list();
      const only = inside.length === 1 ? inside[0] : undefined;
      if (only) this.checkOut(only.member, 'exit_button', atMs, door);
    });
  }

  /** Checks out everyone in for longer than the site's maximum stay. */
  sweepOverstays(nowMs: number): number {
    const { store, rules } = this.deps;
    const limit = nowMs - rules.maxStayHours * 3_600_000;
    return store.transaction(
      () => store.presence.inSince(limit).filter((m) => this.checkOut(m, 'max_stay', nowMs)).length,
    );
  }

  /** Checks out everyone still in (the site's closing time). */
  closeDay(nowMs: number): number {
    const { store } = this.deps;
    const count = store.transaction(
      () => store.presence.list().filter((p) => this.checkOut(p.member, 'closing', nowMs)).length,
    );
    if (count > 0) this.deps.log.info({ count }, 'closing time: checked out everyone still in');
    return count;
  }

  private scheduleClosing(): void {
    const { clock, timeZone, rules } = this.deps;
    if (rules.closingTime === undefined) return;
    const now = clock.now();
    const at = nextLocalTime(now, timeZone, rules.closingTime);
    const timer = clock.setTimeout(() => {
      this.timers = this.timers.filter((t) => t !== timer);
      this.closeDay(clock.now());
      this.scheduleClosing();
    }, at - now);
    this.timers.push(timer);
  }
}
