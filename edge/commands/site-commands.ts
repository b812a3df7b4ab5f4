import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../shared/platform/clock.js';
import { MAX_COMMAND_TTL_MS, type CommandBody } from '../../shared/protocol/commands.js';
import type { EventPayload } from '../../shared/protocol/events.js';
import type { DoorController } from '../doors/door-controller.js';
import type { EdgeStore } from '../store/store.js';

export interface SiteCommandsDeps {
  store: EdgeStore;
  clock: Clock;
  doors: ReadonlyMap<string, DoorController>;
  log: Logger;
}

/** A reader waiting for the card to enrol: the command's nonce, until when. */
interface Enrolment {
  command: string;
  expiresAt: number;
  timer: TimerHandle;
}

/**
 * Carries out the hub's commands once checked (edge/commands/check.ts): the nonce, the state
 * change (the lockdown in force) and the `command.executed` receipt commit in one transaction
 * (a state change and its event never part), then the doors move. The lockdown is stored, so a restart keeps it.
 * An enrol puts its reader in enrol mode in memory only, for at most 60 s: a restart ends it.
 */
export class SiteCommands {
  private active: boolean;
  private readonly enrolments = new Map<string, Enrolment>();

  constructor(private readonly deps: SiteCommandsDeps) {
    this.active = deps.store.commands.lockdown() !== undefined;
  }

  /** Whether the site is in lockdown: entry and locker taps are refused. */
  get lockdown(): boolean {
    return this.active;
  }

  /** Puts the doors in the stored lockdown state: before they start, so that none opens for free access first. */
  restore(): void {
    if (!this.active) return;
    for (const door of this.deps.doors.values()) door.setLockdown(true);
    this.deps.log.warn(
      { since: this.deps.store.commands.lockdown()?.since },
      'the site is in lockdown (stored): every entry is refused until the hub lifts it',
    );
  }

  /** Whether the reader waits for a card to enrol (an `enrol` command, not yet expired). */
  enrolling(reader: string): boolean {
    const e = this.enrolments.get(reader);
    return e !== undefined && this.deps.clock.now() < e.expiresAt;
  }

  /**
   * Ends the reader's enrol mode for the card tapped now: the nonce of its command, or undefined
   * when the reader is not in enrol mode (the tap is decided as usual).
   */
  takeEnrolment(reader: string): string | undefined {
    const e = this.enrolments.get(reader);
    if (!e) return undefined;
    this.enrolments.delete(reader);
    e.timer.cancel();
    if (this.deps.clock.now() >= e.expiresAt) {
      this.expired(reader, e.command);
      return undefined;
    }
    return e.command;
  }

  /** Ends every enrol mode without a trace: the site stops. */
  stop(): void {
    for (const e of this.enrolments.values()) e.timer.cancel();
    this.enrolments.clear();
  }

  carryOut(command: CommandBody): void {
    const { store, clock } = this.deps;
    const now = clock.now();
    store.transaction(() => {
      // Kept longer than the validity: a clock set back after a restart must not reopen a replay.
      store.commands.use(command.nonce, Date.parse(command.expiresAt) + MAX_COMMAND_TTL_MS, now);
      if (command.kind === 'lockdown') store.commands.startLockdown(now, command.nonce);
      if (command.kind === 'lift_lockdown') store.commands.liftLockdown();
      store.events.append({ type: 'command.executed', data: receipt(command) }, now);
    });
    this.deps.log.warn(
      {
        command: command.nonce,
        kind: command.kind,
        ...('door' in command ? { door: command.door } : {}),
        ...('reader' in command ? { reader: command.reader } : {}),
      },
      'hub command carried out',
    );
    this.actuate(command);
  }

  /** After the commit: a relay never moves for a command that left no trace. */
  private actuate(command: CommandBody): void {
    switch (command.kind) {
      case 'unlock':
        this.deps.doors.get(command.door)?.unlock('remote');
        return;
      case 'lockdown':
      case 'lift_lockdown':
        this.active = command.kind === 'lockdown';
        for (const door of this.deps.doors.values()) door.setLockdown(this.active);
        return;
      case 'resend':
        // The sync worker re-sends: it holds the stream.
        return;
      case 'enrol':
        this.enrol(command.reader, command.nonce, Date.parse(command.expiresAt));
        return;
    }
  }

  /** The reader's next card, until `expiresAt`, is offered for enrolment; a newer enrol replaces an older one. */
  private enrol(reader: string, command: string, expiresAt: number): void {
    this.enrolments.get(reader)?.timer.cancel();
    const timer = this.deps.clock.setTimeout(
      () => {
        if (this.enrolments.get(reader)?.command !== command) return;
        this.enrolments.delete(reader);
        this.expired(reader, command);
      },
      Math.max(0, expiresAt - this.deps.clock.now()),
    );
    this.enrolments.set(reader, { command, expiresAt, timer });
  }

  private expired(reader: string, command: string): void {
    const { store, clock, log } = this.deps;
    store.transaction(() => store.events.append({ type: 'enrol.expired', data: { reader, command } }, clock.now()));
    log.info({ reader, command }, 'enrol mode ended with no card: the reader decides taps again');
  }
}

function receipt(command: CommandBody): EventPayload<'command.executed'> {
  const base = { command: command.nonce, kind: command.kind };
  if (command.kind === 'unlock') return { ...base, door: command.door };
  if (command.kind === 'resend') return { ...base, fromSeq: command.fromSeq };
  if (command.kind === 'enrol') return { ...base, reader: command.reader };
  return base;
}
