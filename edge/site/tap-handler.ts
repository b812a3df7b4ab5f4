import type { Logger } from 'pino';
import type { Clock } from '../../shared/platform/clock.js';
import { maskUid, normalizeUid } from '../../shared/protocol/badge.js';
import { cachedLocalWeekStart } from '../../shared/protocol/local-time.js';
import type { DecisionReason } from '../../shared/protocol/reasons.js';
import { decideAccess } from '../access/decide.js';
import { Histogram } from '../../shared/platform/metrics.js';
import type { Role } from '../../shared/protocol/directory.js';
import type { CardCheck, Decision, SiteRules } from '../access/types.js';
import type { DoorController } from '../doors/door-controller.js';
import type { CardEvent, Reader } from '../hardware/types.js';
import type { LockerBanks, LockerOpening } from '../lockers/locker-banks.js';
import type { PresenceKeeper } from '../presence/presence-keeper.js';
import type { BadgeHolder, HolderAtTap } from '../store/directory-repo.js';
import type { EdgeStore } from '../store/store.js';
import type { ReaderBinding } from './reader-binding.js';
import { bookingsForTap } from './tap-bookings.js';

/** A decision's reason, or `enrolment`: the card was tapped on a reader in enrol mode and not decided. */
export type TapReason = DecisionReason | 'enrolment';

/** What a tap came to: the API's answer to `POST /simulate/tap`, and what listeners see. */
export interface TapResult {
  granted: boolean;
  reason: TapReason;
  reader: string;
  door: string | null;
  locker: { bank: string; number: number } | null;
  memberId: string | null;
  /** Check-in, check-out, or neither (a refusal, a locker, a re-entry). */
  presence: 'in' | 'out' | null;
}

export interface TapDeps {
  store: EdgeStore;
  clock: Clock;
  log: Logger;
  rules: SiteRules;
  checkoutByExitReader: boolean;
  bind: (pcscName: string) => ReaderBinding | undefined;
  doors: ReadonlyMap<string, DoorController>;
  lockers: LockerBanks;
  presence: PresenceKeeper;
  reader: Reader;
  clockSynced: (nowMs: number) => boolean;
  /** Whether the hub put the site in lockdown (edge/commands/site-commands.ts). */
  lockdown?: () => boolean;
  /** Proves NTAG 424 badges; absent when the site has no `secureBadges` config. */
  verifier?: CardVerifier;
  /** For a hub-fed site: the roles still admitted when the directory is too old, or undefined while it is fresh. */
  staleDirectory?: (nowMs: number) => { roles: readonly Role[] } | undefined;
  /** Monotonic milliseconds for the decision latency (performance.now by default): real time even when the Clock is simulated. */
  elapsedMs?: () => number;
  /**
   * Ends the reader's enrol mode (an `enrol` command, edge/commands/site-commands.ts) for the card
   * tapped now and gives the command's nonce; undefined when the reader decides taps as usual.
   */
  enrolment?: (readerId: string) => string | undefined;
  /** Told once a reader has read UNREADABLE_FAULT_AFTER cards in a row whose UID is unreadable (a failing reader, or someone probing it). */
  unreadable?: (readerId: string, inARow: number) => void;
}

/** Unreadable UIDs in a row on one reader before it is a fault: one is a card pulled away too soon. */
export const UNREADABLE_FAULT_AFTER = 3;

/** Seconds from a card presented to its decision and relay: 1 ms to 2.5 s (an NTAG 424 proof talks to the card). */
const DECISION_LATENCY_BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** What a secure card proved about itself: the check, and for SUN the counter it showed. */
export interface CardProof {
  check: CardCheck;
  sunCounter?: number;
}

export interface CardVerifier {
  /** Asks the card on the reader to prove it is the genuine NTAG 424 with this UID. Never throws. */
  verify(card: CardEvent, uid: string): Promise<CardProof>;
}

/** What is known of a tap before deciding: the directory's entry, and what the card proved. */
interface Known {
  holder: BadgeHolder | undefined;
  /** Whether the holder's member is checked in, read with the holder. */
  inside: boolean;
  proof?: CardProof;
}

function knownOf(found: HolderAtTap | undefined): Known {
  return { holder: found?.holder, inside: found?.inside ?? false };
}

interface Decided {
  decision: Decision;
  memberId: string | undefined;
  inside: boolean;
  locker: ReturnType<LockerBanks['choose']> | undefined;
  badgeType: 'uid' | 'ntag424' | undefined;
}

/** A SUN counter not newer than the last one accepted for this card is a replay. */
function cardCheck(proof: CardProof | undefined, lastSunCounter: number | undefined): CardCheck | undefined {
  if (!proof) return undefined;
  if (
    proof.check === 'genuine' &&
    proof.sunCounter !== undefined &&
    lastSunCounter !== undefined &&
    proof.sunCounter <= lastSunCounter
  )
    return 'replayed';
  return proof.check;
}

/**
 * The path from a card to a relay (docs/architecture.md, invariant 1): one transaction for the
 * lookup, a pure decision, the state change and its events; then the relay. Nothing here waits on
 * the network (a secure badge's card is asked before the transaction begins). A room's reader
 * changes no presence: its tap is recorded as access, with its reader.
 */
export class TapHandler {
  readonly counts = { taps: 0, rejectedCards: 0, unboundReaders: 0 };
  private readonly unreadableInARow = new Map<string, number>();
  readonly byReason = new Map<TapReason, number>();
  /** Card presented to decision recorded, relay moved and reader told, per decided tap. */
  readonly latency = new Histogram(DECISION_LATENCY_BOUNDS);
  private readonly elapsedMs: () => number;

  constructor(private readonly deps: TapDeps) {
    this.elapsedMs = deps.elapsedMs ?? (() => performance.now());
  }

  /**
   * Decides a tap. UID badges are decided synchronously; an NTAG 424 badge first talks to the card
   * (APDUs), so its result comes as a promise. Undefined when the card is refused before any
   * decision (unbound reader, unreadable UID).
   */
  handle(card: CardEvent): TapResult | Promise<TapResult> | undefined {
    const { log, bind } = this.deps;
    const presentedMs = this.elapsedMs();
    const binding = bind(card.reader);
    if (!binding) {
      this.counts.unboundReaders++;
      log.warn({ reader: card.reader }, 'card on a reader that no config entry matches: ignored');
      return undefined;
    }
    const uid = normalizeUid(card.uid);
    if (uid === undefined) {
      this.counts.rejectedCards++;
      const inARow = (this.unreadableInARow.get(binding.id) ?? 0) + 1;
      this.unreadableInARow.set(binding.id, inARow);
      log.warn({ reader: binding.id, length: card.uid.length, inARow }, 'card with an unreadable UID: refused');
      if (inARow === UNREADABLE_FAULT_AFTER) this.deps.unreadable?.(binding.id, inARow);
      return undefined;
    }
    this.unreadableInARow.delete(binding.id);
    this.counts.taps++;
    const at = card.at ?? this.deps.clock.now();
    const enrolment = this.deps.enrolment?.(binding.id);
    if (enrolment !== undefined) return this.present(card, binding, uid, enrolment, at);
    const { store } = this.deps;
    // A UID badge: its lookup, decision and record in one transaction. A secure badge talks to the
    // card first, outside any transaction.
    const decided = store.readThenWrite(() => {
      const found = store.directory.lookupAtTap(uid);
      return found?.holder.badge.type === 'ntag424'
        ? undefined
        : this.decideAndRecord(binding, uid, at, knownOf(found));
    });
    if (decided) return this.finish(card, binding, uid, presentedMs, decided);
    // Read the directory (and presence) again after talking to the card: a revocation may have landed meanwhile.
    return this.proveCard(card, uid).then((proof) =>
      this.finish(
        card,
        binding,
        uid,
        presentedMs,
        store.readThenWrite(() =>
          this.decideAndRecord(binding, uid, at, { ...knownOf(store.directory.lookupAtTap(uid)), proof }),
        ),
      ),
    );
  }

  /**
   * A card on a reader in enrol mode: recorded in a `badge.presented` event for the operator who
   * asked, and nothing else. No decision, no relay, no presence, no reader feedback: whatever the
   * card is, the door stays shut.
   */
  private present(card: CardEvent, binding: ReaderBinding, uid: string, command: string, at: number): TapResult {
    const { store, log } = this.deps;
    const holder = store.directory.lookup(uid);
    store.transaction(() =>
      store.events.append(
        {
          type: 'badge.presented',
          data: {
            reader: binding.id,
            command,
            uid,
            badge: maskUid(uid),
            card: card.transmit ? 'iso14443-4' : 'iso14443-3',
            known: holder !== undefined,
            ...(holder?.member ? { memberId: holder.member.id } : {}),
          },
        },
        at,
      ),
    );
    this.byReason.set('enrolment', (this.byReason.get('enrolment') ?? 0) + 1);
    log.warn(
      { reader: binding.id, badge: maskUid(uid), command, known: holder !== undefined },
      'card presented in enrol mode: not decided, offered to the operator',
    );
    return {
      granted: false,
      reason: 'enrolment',
      reader: binding.id,
      door: binding.door ?? null,
      locker: null,
      memberId: holder?.member?.id ?? null,
      presence: null,
    };
  }

  private async proveCard(card: CardEvent, uid: string): Promise<CardProof> {
    const { verifier, log } = this.deps;
    if (!verifier) {
      log.error(
        { badge: maskUid(uid) },
        'an NTAG 424 badge was tapped but the site config has no secureBadges block: refused',
      );
      return { check: 'not_genuine' };
    }
    return verifier.verify(card, uid).catch((err: unknown) => {
      log.warn({ err, badge: maskUid(uid) }, 'secure badge check failed');
      return { check: 'not_genuine' as const };
    });
  }

  private finish(
    card: CardEvent,
    binding: ReaderBinding,
    uid: string,
    presentedMs: number,
    result: TapResult,
  ): TapResult {
    const { log } = this.deps;
    this.byReason.set(result.reason, (this.byReason.get(result.reason) ?? 0) + 1);
    this.actuate(result);
    this.deps.reader
      .feedback(card.reader, result.granted)
      .catch((err: unknown) => log.debug({ err }, 'reader feedback failed'));
    this.latency.observe(Math.max(0, this.elapsedMs() - presentedMs) / 1000);
    log.info(
      {
        reader: binding.id,
        badge: maskUid(uid),
        member: result.memberId,
        granted: result.granted,
        reason: result.reason,
      },
      'tap',
    );
    return result;
  }

  private decide(binding: ReaderBinding, uid: string, at: number, known: Known): Decided {
    const { store, rules } = this.deps;
    const { holder, proof } = known;
    const card = cardCheck(proof, proof?.sunCounter === undefined ? undefined : store.sunCounters.last(uid));
    const member = holder?.member;
    const inside = member ? known.inside : false;
    const decision = decideAccess({
      now: at,
      site: rules,
      role: binding.role,
      badge: holder?.badge,
      member,
      plan: holder?.plan,
      // Counted only if asked: the capacity rule reads it for someone entering, not for an exit.
      presence: {
        inside,
        get occupancy() {
          return store.presence.occupancy();
        },
      },
      // Read only for a plan that counts days: the only rule that looks at them.
      daysUsedThisWeek:
        member && holder?.plan?.daysPerWeek !== undefined
          ? this.daysUsed(member.id, cachedLocalWeekStart(at, rules.timeZone))
          : [],
      clockSynced: this.deps.clockSynced(at),
      lockdown: this.deps.lockdown?.() ?? false,
      ...bookingsForTap(store.bookings, binding, holder, at, rules),
      ...(card ? { card } : {}),
      ...this.staleness(at),
    });
    let locker: ReturnType<LockerBanks['choose']> | undefined;
    if (decision.granted && binding.role === 'locker-bank' && member && binding.bank) {
      locker = this.deps.lockers.choose(binding.bank, member.id, holder?.plan, member.locker);
      if ('denied' in locker)
        return {
          decision: { granted: false, reason: locker.denied },
          memberId: member.id,
          inside,
          locker,
          badgeType: holder?.badge.type,
        };
    }
    return { decision, memberId: member?.id, inside, locker, badgeType: holder?.badge.type };
  }

  /** The decision and what it changes, with its event; inside the tap's transaction (`readThenWrite`). */
  private decideAndRecord(binding: ReaderBinding, uid: string, at: number, known: Known): TapResult {
    const { store } = this.deps;
    const { proof } = known;
    const { decision, memberId, inside, locker, badgeType } = this.decide(binding, uid, at, known);
    const opening: LockerOpening | null = locker && 'open' in locker ? locker.open : null;
    const data = {
      reader: binding.id,
      role: binding.role,
      ...(binding.door ? { door: binding.door } : {}),
      ...(binding.bank ? { bank: binding.bank } : {}),
      ...(binding.resource ? { resource: binding.resource } : {}),
      badge: maskUid(uid),
      ...(memberId ? { memberId } : {}),
      ...(badgeType === 'uid' ? { cloneable: true } : {}),
    };
    if (decision.granted)
      store.events.append({ type: 'access.granted', data: { ...data, reason: decision.reason } }, at);
    else store.events.append({ type: 'access.denied', data: { ...data, reason: decision.reason } }, at);
    if (decision.granted && proof?.sunCounter !== undefined) store.sunCounters.accept(uid, proof.sunCounter, at);
    const presenceChange =
      decision.granted && memberId ? this.recordGrant(binding, memberId, at, inside, opening) : null;
    return {
      granted: decision.granted,
      reason: decision.reason,
      reader: binding.id,
      door: binding.door ?? null,
      locker: opening ? { bank: opening.bank, number: opening.number } : null,
      memberId: memberId ?? null,
      presence: presenceChange,
    };
  }

  /** What a granted tap changes besides its event: a locker claimed, a check-in or a check-out. */
  private recordGrant(
    binding: ReaderBinding,
    memberId: string,
    at: number,
    inside: boolean,
    opening: LockerOpening | null,
  ): TapResult['presence'] {
    const { presence, rules } = this.deps;
    if (opening) {
      this.deps.lockers.record(opening, memberId, at);
      return null;
    }
    if (binding.role === 'entry' && !inside) {
      presence.checkIn(memberId, at, binding.door, binding.id);
      return 'in';
    }
    if (binding.role === 'entry' && rules.secondTapChecksOut)
      return presence.checkOut(memberId, 'second_tap', at, binding.door) ? 'out' : null;
    if (binding.role === 'exit' && this.deps.checkoutByExitReader)
      return presence.checkOut(memberId, 'exit_reader', at, binding.door) ? 'out' : null;
    return null;
  }

  /**
   * The member's days of the week from `weekStart`: those at this site, and those at the other
   * sites as the hub last said (a site offline counts what it last heard).
   */
  private daysUsed(member: string, weekStart: string): string[] {
    const { store } = this.deps;
    return [...store.presence.daysFrom(member, weekStart), ...store.daysElsewhere.daysFrom(member, weekStart)];
  }

  private staleness(at: number): { staleDirectory?: { roles: readonly Role[] } } {
    const stale = this.deps.staleDirectory?.(at);
    return stale ? { staleDirectory: stale } : {};
  }

  /** Relays move only after the transaction committed. */
  private actuate(result: TapResult): void {
    if (!result.granted) return;
    if (result.locker) this.deps.lockers.pulse(result.locker.bank, result.locker.number);
    else if (result.door) this.deps.doors.get(result.door)?.unlock('granted');
  }
}
