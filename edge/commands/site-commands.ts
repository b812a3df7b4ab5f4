import type { Logger } from 'pino';
import type { Clock } from '../../shared/platform/clock.js';
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

/**
 * Carries out the hub's commands once checked (edge/commands/check.ts): the nonce, the state
 * change (the lockdown in force) and the `command.executed` receipt commit in one transaction
 * (a state change and its event never part), then the doors move. The lockdown is stored, so a restart keeps it.
 */
export class SiteCommands {
  private active: boolean;

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
      { command: command.nonce, kind: command.kind, ...('door' in command ? { door: command.door } : {}) },
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
    }
  }
}

function receipt(command: CommandBody): EventPayload<'command.executed'> {
  const base = { command: command.nonce, kind: command.kind };
  if (command.kind === 'unlock') return { ...base, door: command.door };
  if (command.kind === 'resend') return { ...base, fromSeq: command.fromSeq };
  return base;
}
