import { EventRetention } from '../store/retention.js';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/platform/clock.js';
import type { Directory } from '../../shared/protocol/directory.js';
import type { NewEvent } from '../../shared/protocol/events.js';
import type { SiteConfig } from '../../firmware-config/schema.js';
import { SiteCommands } from '../commands/site-commands.js';
import { DoorController } from '../doors/door-controller.js';
import type { Gpio, Reader } from '../hardware/types.js';
import { LockerBanks } from '../lockers/locker-banks.js';
import { PresenceKeeper } from '../presence/presence-keeper.js';
import type { DirectoryEdit } from '../store/directory-repo.js';
import type { EdgeStore } from '../store/store.js';
import { doorOptions, lockerBankOptions, presenceOptions } from './options.js';
import { bindReaders } from './reader-binding.js';
import type { CardVerifier, TapResult } from './tap-handler.js';
import { TapHandler } from './tap-handler.js';

/** A Pi without a real-time clock boots in the past until NTP answers: before this, the clock is not trusted. */
const EARLIEST_PLAUSIBLE_TIME = Date.parse('2026-01-01T00:00:00Z');

/** Whether a wall clock reading can be trusted (a Pi without RTC boots in the past until NTP answers). */
export const plausibleTime = (nowMs: number): boolean => nowMs >= EARLIEST_PLAUSIBLE_TIME;

export interface EdgeDeps {
  config: SiteConfig;
  clock: Clock;
  log: Logger;
  store: EdgeStore;
  reader: Reader;
  gpio: Gpio;
  /** Whether the wall clock can be trusted; defaults to a plausibility check. */
  clockSynced?: (nowMs: number) => boolean;
  /** Proves NTAG 424 badges (sites with a `secureBadges` config). */
  verifier?: CardVerifier;
  /** Monotonic milliseconds for the decision latency metric (performance.now by default). */
  elapsedMs?: () => number;
}

export type Edge = ReturnType<typeof createEdge>;

/**
 * A hub-fed directory not confirmed for longer than a role's `maxAgeHours` (or never received)
 * is stale for that role: only the roles still within their bound are admitted until the hub is
 * heard from again. No role is admitted without a bound.
 */
function stalenessOf(rules: Extract<SiteConfig['directory'], { source: 'hub' }>, store: EdgeStore) {
  const roles = Object.keys(rules.maxAgeHours) as Array<keyof typeof rules.maxAgeHours>;
  return (nowMs: number) => {
    const meta = store.directory.meta();
    const ageMs = meta ? nowMs - meta.loadedAt : Infinity;
    const trusted = roles.filter((role) => ageMs <= rules.maxAgeHours[role] * 3_600_000);
    return trusted.length === roles.length ? undefined : { roles: trusted };
  };
}

/** Rolls back a directory update that would leave a reference dangling. */
class DanglingReferences extends Error {}

/** The site's composition root: everything passed in, `start` and `stop` out. */
export function createEdge(deps: EdgeDeps) {
  const { config, clock, log, store, reader, gpio } = deps;
  const zone = config.site.timeZone;
  /** Device faults by kind since start, for /health and /metrics: counted even if recording the event fails. */
  const faults = new Map<string, number>();
  const record = (event: NewEvent) => {
    if (event.type === 'device.fault') faults.set(event.data.kind, (faults.get(event.data.kind) ?? 0) + 1);
    return store.transaction(() => store.events.append(event, clock.now()));
  };
  const lockers = new LockerBanks({ banks: config.lockers.map(lockerBankOptions), gpio, clock, store });
  const presence = new PresenceKeeper({
    store,
    clock,
    timeZone: zone,
    rules: presenceOptions(config.presence),
    lockers,
    log: log.child({ module: 'presence' }),
  });
  const doors = new Map(
    config.doors.map((door) => [
      door.id,
      new DoorController({
        door: doorOptions(door),
        gpio,
        clock,
        timeZone: zone,
        hours: config.hours,
        closures: config.closures,
        emit: record,
        log,
      }),
    ]),
  );
  const commands = new SiteCommands({ store, clock, doors, log: log.child({ module: 'commands' }) });
  const bind = bindReaders(config.readers);
  const taps = new TapHandler({
    store,
    clock,
    log: log.child({ module: 'access' }),
    rules: {
      id: config.site.id,
      timeZone: zone,
      capacity: config.site.capacity,
      hours: config.hours,
      closures: config.closures,
      antiPassback: config.presence.antiPassback,
      secondTapChecksOut: config.presence.checkout.includes('second_tap'),
      bookingRequired: config.site.bookingRequired,
    },
    checkoutByExitReader: config.presence.checkout.includes('exit_reader'),
    bind,
    doors,
    lockers,
    presence,
    reader,
    clockSynced: deps.clockSynced ?? plausibleTime,
    lockdown: () => commands.lockdown,
    enrolment: (readerId) => commands.takeEnrolment(readerId),
    unreadable: (readerId, inARow) =>
      record({
        type: 'device.fault',
        data: {
          device: readerId,
          kind: 'uid.unreadable',
          detail: `${inARow} cards in a row whose UID could not be read`,
        },
      }),
    ...(deps.verifier ? { verifier: deps.verifier } : {}),
    ...(deps.elapsedMs ? { elapsedMs: deps.elapsedMs } : {}),
    ...(config.directory.source === 'hub' ? { staleDirectory: stalenessOf(config.directory, store) } : {}),
  });
  const listeners = new Set<(r: TapResult) => void>();
  const lostReaders = new Set<string>();
  const unsubscribers: Array<() => void> = [];
  let state: 'new' | 'running' | 'stopped' = 'new';

  const publish = (result: TapResult) => {
    for (const fn of listeners) fn(result);
  };
  const retention = new EventRetention(
    store.db,
    clock,
    log.child({ module: 'retention' }),
    config.storage.retentionDays,
  );

  function onCard(card: Parameters<TapHandler['handle']>[0]): void {
    const result = taps.handle(card);
    if (result instanceof Promise) result.then(publish, (err: unknown) => log.error({ err }, 'secure tap failed'));
    else if (result) publish(result);
  }

  return {
    config,
    store,
    doors,
    lockers,
    presence,
    taps,
    /** The hub's commands, once checked: remote unlock, lockdown (stored), its lift. */
    commands,
    faults: faults as ReadonlyMap<string, number>,

    async start(): Promise<void> {
      if (state !== 'new') throw new Error(`edge cannot start: it is ${state}`);
      state = 'running';
      lockers.start();
      commands.restore();
      for (const [id, door] of doors) {
        door.start();
        unsubscribers.push(door.onExitRequest(() => presence.exitButtonPressed(id, clock.now())));
      }
      presence.start();
      retention.start();
      unsubscribers.push(
        reader.subscribe({
          card: onCard,
          lost: (name, detail) => {
            lostReaders.add(name);
            record({
              type: 'device.fault',
              data: { device: name.slice(0, 64), kind: 'reader.lost', detail: detail.slice(0, 500) },
            });
          },
          // A reader seen at start-up is not news; one coming back after a loss is.
          found: (name) => {
            if (lostReaders.delete(name))
              record({ type: 'device.fault', data: { device: name.slice(0, 64), kind: 'reader.found' } });
          },
        }),
      );
      await reader.start();
      log.info(
        { site: config.site.id, doors: doors.size, readers: config.readers.length, lockerBanks: config.lockers.length },
        'edge started',
      );
    },

    /** Readers first, then relays to their safe state. Idempotent; the caller closes the store. */
    async stop(): Promise<void> {
      if (state === 'stopped') return;
      state = 'stopped';
      for (const off of unsubscribers.splice(0)) off();
      await reader.stop();
      retention.stop();
      commands.stop();
      presence.stop();
      for (const door of doors.values()) door.stop();
      lockers.stop();
      await gpio.close();
      log.info('edge stopped: relays in their safe state');
    },

    /** Replaces the directory and the lockers it assigns, in one transaction. */
    applyDirectory(dir: Directory, source: string, issuedAt: number | null = null): void {
      store.transaction(() => {
        store.directory.replace(dir, source, clock.now(), issuedAt);
        lockers.syncAssigned(clock.now());
      });
      log.info(
        { revision: dir.revision, members: dir.members.length, badges: dir.badges.length, source },
        'directory loaded',
      );
    },

    /**
     * Applies directory edits and moves to `revision`, in one transaction with the lockers they
     * assign. Refused whole, changing nothing, if it leaves a reference dangling.
     */
    applyDirectoryChanges(
      edits: readonly DirectoryEdit[],
      revision: number,
      source: string,
      issuedAt: number,
    ): string[] {
      let dangling: string[] = [];
      try {
        store.transaction(() => {
          store.directory.applyChanges(edits);
          // An empty delta (the hub confirming the directory) cannot break a reference: skip the scan.
          dangling = edits.length > 0 ? store.directory.dangling() : [];
          if (dangling.length > 0) throw new DanglingReferences();
          store.directory.setMeta(revision, source, clock.now(), issuedAt);
          lockers.syncAssigned(clock.now());
        });
      } catch (err) {
        if (!(err instanceof DanglingReferences)) throw err;
        return dangling;
      }
      if (edits.length > 0) log.info({ revision, edits: edits.length, source }, 'directory updated');
      return [];
    },

    /** Records that a directory update was refused; the directory in force stays. */
    rejectDirectory(source: string, detail: string): void {
      record({
        type: 'device.fault',
        data: { device: source.slice(-64) || 'directory', kind: 'directory.rejected', detail: detail.slice(0, 500) },
      });
    },

    /** Records that a hub command was refused (edge/commands/hub-commands.ts): nothing else changes. */
    rejectCommand(detail: string): void {
      record({
        type: 'device.fault',
        data: { device: 'commands', kind: 'command.rejected', detail: detail.slice(0, 500) },
      });
    },

    /** Each configured reader, and the PC/SC reader bound to it now (none: unplugged or pcscd down). */
    readers(): Array<{ id: string; role: string; attached: string | null }> {
      const attached = reader.attached();
      return config.readers.map((r) => ({
        id: r.id,
        role: r.role,
        attached: attached.find((name) => bind(name)?.id === r.id) ?? null,
      }));
    },

    /** Every relay to its safe state, synchronously: for exit paths where nothing else may run. */
    safeState(): void {
      gpio.safeState();
    },

    /** Listens to every tap's result; returns the function that stops listening. */
    onTap(fn: (r: TapResult) => void): () => void {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}
